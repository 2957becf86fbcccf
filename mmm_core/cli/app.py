"""The ``mmm`` entry point: the argument parser, dispatch to a subcommand, error handling.

Subcommands (``mmm <command> --help`` explains each)::

    mmm demo        [--weeks 156] [--channels 5] [--seed 0] [--noise 0.03] [--home DIR]
                    [--data FILE [--target COL] [--spend A,B,C] [--controls X,Y]]
    mmm fit         --data FILE --target COL --spend A,B,C [--controls X,Y] [--date-column COL]
                    [--synergies] [--alpha auto|0.1] [--home DIR] [--output results.json]
    mmm predict     --model PATH|ID --data FILE [--output preds.csv] [--home DIR]
    mmm optimize    --model PATH|ID [--budget X] [--horizon N] [--objective revenue|roi|target_roas]
                    [--target-roas R] [--constraints FILE.json | --min-channel-spend X
                    --max-change F --lock A,B] [--output plan.json] [--home DIR]
    mmm report      --model PATH|ID [--plan plan.json] [--output-dir DIR] [--prefix P] [--home DIR]
    mmm attribution --data FILE --target COL --spend A,B,C [--controls X,Y] [--model PATH|ID]
                    [--output FILE] [--home DIR]

Fitted models go to ``<home>/models/<model_id>/`` (``model.json``, ``results.json`` and, after
``demo``/``optimize``, ``optimization.json``), reports to ``<home>/reports/``, where home is
``--home``, else the ``MMM_HOME`` environment variable, else ``./.mmm``. Every file is written
atomically (a temporary file in the same folder, then ``os.replace``).

Results go to stdout, short progress lines to stderr. A problem with the input (a
:class:`~mmm_core.errors.MMModelError`, a missing or unreadable file, a bad argument, an
infeasible constraint) prints one line ``error [MMM_xxx]: message How to fix: hint`` to stderr
and exits with status 2; an unexpected internal error prints one line and exits with status 1
(set ``MMM_DEBUG=1`` to see the traceback).

Examples
--------
>>> main(["--version"])  # doctest: +SKIP
mmm 0.1.0
0
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from mmm_core.cli import attribution, dbt, demo, fit, optimize, predict, report
from mmm_core.cli.options import DEFAULT_HOME, HOME_ENV, usage_error
from mmm_core.errors import Codes, MMModelError, suggest_name

__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "build_parser",
    "handler",
    "main",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_ERROR = 2
#: Subcommand -> its module (``mmm_core.cli.<module>``), in the order of ``mmm --help``.
COMMANDS = {
    "demo": "demo",
    "fit": "fit",
    "predict": "predict",
    "optimize": "optimize",
    "report": "report",
    "attribution": "attribution",
    "dbt": "dbt",
}
_MODULES = (demo, fit, predict, optimize, report, attribution, dbt)


class _Parser(argparse.ArgumentParser):
    """``ArgumentParser`` that raises :class:`UsageError` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise usage_error(f"{self.prog}: {message}.", f"run '{self.prog} --help' for the usage.")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mmm-platform")
    except PackageNotFoundError:  # running from a source tree that is not installed
        from mmm_core import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    """The ``mmm`` argument parser with one subparser per command.

    Returns
    -------
    argparse.ArgumentParser
        Its ``error`` raises :class:`UsageError` rather than exiting.
    """
    parser = _Parser(
        prog="mmm",
        description="Media mix modeling: fit an econometric MMM, read channel ROIs with "
        "intervals, re-plan the budget, compare attribution methods and write executive "
        "reports. Run 'mmm <command> --help' for a command's options.",
        epilog=f"Models are saved under --home, else ${HOME_ENV}, else ./{DEFAULT_HOME}. "
        "Errors print one line 'error [MMM_xxx]: ...' and exit with status 2.",
    )
    parser.add_argument("--version", action="version", version=f"mmm {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for module in _MODULES:
        module.add_parser(sub)
    return parser


def handler(command: str) -> Callable[[argparse.Namespace, TextIO], int]:
    """The function running ``command``: ``run_<command>`` of its module, looked up when
    called (so it can be replaced in tests)."""
    module = importlib.import_module(f"mmm_core.cli.{COMMANDS[command]}")
    return getattr(module, f"run_{command}")


def _check_command(argv: Sequence[str]) -> None:
    """Reject an unknown subcommand with a suggestion (argparse gives none)."""
    if not argv or argv[0].startswith("-") or argv[0] in COMMANDS:
        return
    close = suggest_name(argv[0], list(COMMANDS))
    guess = f"did you mean 'mmm {close}'? " if close else ""
    raise usage_error(
        f"unknown command {argv[0]!r}; the commands are {', '.join(COMMANDS)}.",
        f"{guess}run 'mmm --help' for the usage.",
    )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _report(exc: MMModelError) -> None:
    text = f"error [{exc.code}]: {exc.message}"
    if exc.hint:
        text += f" How to fix: {exc.hint}"
    print(_one_line(text), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the ``mmm`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success (and for ``--help``/``--version``), 2 for a usage or data problem, 1 for
        an unexpected internal error, 130 when interrupted.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        _check_command(args_list)
        args = build_parser().parse_args(args_list)
        return int(handler(args.command)(args, sys.stdout))
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except MMModelError as exc:
        _report(exc)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("MMM_DEBUG"):
            raise
        print(
            _one_line(
                f"error [{Codes.MODEL_ERROR}]: unexpected {type(exc).__name__}: {exc} "
                "How to fix: this is a bug in mmm; rerun with MMM_DEBUG=1 for the traceback "
                "and report it."
            ),
            file=sys.stderr,
        )
        return EXIT_INTERNAL
