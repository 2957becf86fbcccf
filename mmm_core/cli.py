"""The ``mmm`` command line: a demo with known truth, fitting a model on a file, predicting.

Subcommands (``mmm <command> --help`` explains each)::

    mmm demo    [--weeks 156] [--channels 5] [--seed 0] [--noise 0.03] [--home DIR]
    mmm fit     --data FILE --target COL --spend A,B,C [--controls X,Y] [--date-column COL]
                [--synergies] [--alpha auto|0.1] [--home DIR] [--output results.json]
    mmm predict --model PATH|MODEL_ID --data FILE [--output preds.csv] [--home DIR]

Fitted models go to ``<home>/models/<model_id>/`` (``model.json`` and ``results.json``), where
home is ``--home``, else the ``MMM_HOME`` environment variable, else ``./.mmm``. Every file is
written atomically (a temporary file in the same folder, then ``os.replace``).

Results go to stdout, short progress lines to stderr. A problem with the input (a
:class:`~mmm_core.errors.MMModelError`, a missing or unreadable file, a bad argument) prints one
line ``error [MMM_xxx]: message How to fix: hint`` to stderr and exits with status 2; an
unexpected internal error prints one line and exits with status 1 (set ``MMM_DEBUG=1`` to see
the traceback).

Examples
--------
>>> main(["--version"])  # doctest: +SKIP
mmm 0.1.0
0
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

import pandas as pd

from mmm_core.errors import Codes, DataIntegrationError, DeploymentError, MMModelError, suggest_name

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "UsageError",
    "build_parser",
    "demo_rows",
    "fit_rows",
    "format_table",
    "main",
    "misattribution",
    "new_model_id",
    "read_table",
    "resolve_home",
    "run_demo",
    "run_fit",
    "run_predict",
    "write_atomic",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_ERROR = 2
HOME_ENV = "MMM_HOME"
DEFAULT_HOME = ".mmm"
COMMANDS = ("demo", "fit", "predict")

Row = list[str]


# --------------------------------------------------------------------------------------------
# Errors and argument parsing.
# --------------------------------------------------------------------------------------------


class UsageError(MMModelError):
    """A command-line usage problem (unknown subcommand, missing or malformed option)."""

    default_code = Codes.INVALID_PARAMETER


class _Parser(argparse.ArgumentParser):
    """``ArgumentParser`` that raises :class:`UsageError` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(
            Codes.INVALID_PARAMETER,
            f"{self.prog}: {message}.",
            hint=f"run '{self.prog} --help' for the usage.",
        )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mmm-platform")
    except PackageNotFoundError:  # running from a source tree that is not installed
        from mmm_core import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    """The ``mmm`` argument parser with its ``demo``, ``fit`` and ``predict`` subcommands.

    Returns
    -------
    argparse.ArgumentParser
        Its ``error`` raises :class:`UsageError` rather than exiting.
    """
    parser = _Parser(
        prog="mmm",
        description="Media mix modeling: fit an econometric MMM, read channel ROIs with "
        "intervals, and predict. Run 'mmm <command> --help' for a command's options.",
        epilog=f"Models are saved under --home, else ${HOME_ENV}, else ./{DEFAULT_HOME}. "
        "Errors print one line 'error [MMM_xxx]: ...' and exit with status 2.",
    )
    parser.add_argument("--version", action="version", version=f"mmm {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    _add_demo(sub)
    _add_fit(sub)
    _add_predict(sub)
    return parser


def _add_home(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--home",
        metavar="DIR",
        help=f"where models are stored (default: ${HOME_ENV}, else ./{DEFAULT_HOME})",
    )


def _add_demo(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="fit the model on synthetic data with a known truth and score it",
        description="Generate weekly marketing data whose true ROIs are known, fit "
        "EconometricMMM (hyperparameters searched automatically) and print, per channel, the "
        "true and estimated ROI, the 90% interval and whether it covers the truth, the true "
        "and estimated share of media revenue; then the share of media revenue attributed to "
        "the wrong channel, R² and hold-out MAPE, the fit time and where the model was saved "
        "(<home>/models/<model_id>/; the data go to <home>/raw/demo.csv).",
    )
    p.add_argument("--weeks", type=int, default=156, help="weeks of data, >= 52 (default 156)")
    p.add_argument(
        "--channels",
        type=_channels_arg,
        default=5,
        help="how many media channels (1-10, default 5) or their names, e.g. "
        "tv,display,radio,video,podcast (channels that vary on their own)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the data (default 0)")
    p.add_argument(
        "--noise",
        type=float,
        default=0.03,
        help="noise sd as a fraction of mean revenue (default 0.03)",
    )
    _add_home(p)
    p.set_defaults(handler=run_demo)


def _channels_arg(text: str) -> int | list[str]:
    """``--channels``: a count, or comma-separated preset names."""
    text = text.strip()
    return int(text) if text.isdigit() else [name.strip() for name in text.split(",") if name]


def _add_fit(sub: Any) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a model on a CSV or Parquet file and save it",
        description="Fit EconometricMMM (adstock and saturation searched per channel) on one "
        "row per period, save it to <home>/models/<model_id>/model.json with its results "
        "(results.json), and print each channel's ROI with its 90% interval, its share of "
        "media revenue and its marginal ROI (mROI: revenue of one more unit of spend per "
        "period at the mean spend).",
    )
    p.add_argument("--data", required=True, metavar="FILE", help="a .csv or .parquet file")
    p.add_argument("--target", required=True, metavar="COL", help="the KPI column, e.g. revenue")
    p.add_argument(
        "--spend",
        required=True,
        metavar="A,B,C",
        help="comma-separated media spend columns",
    )
    p.add_argument(
        "--controls",
        metavar="X,Y",
        default="",
        help="comma-separated non-media driver columns (price, promotions...)",
    )
    p.add_argument(
        "--date-column",
        metavar="COL",
        help="the date column (default: detected; 'none' to fit without dates)",
    )
    p.add_argument(
        "--synergies",
        action="store_true",
        help="add pairwise interactions between channels",
    )
    p.add_argument(
        "--alpha",
        default="0.1",
        metavar="auto|FLOAT",
        help="ridge strength on standardised columns, or 'auto' to choose it by "
        "cross-validation (default 0.1)",
    )
    _add_home(p)
    p.add_argument(
        "--output",
        metavar="FILE",
        help="also write the results JSON to FILE",
    )
    p.set_defaults(handler=run_fit)


def _add_predict(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="predict the target with a saved model",
        description="Load a model saved by 'mmm fit' or 'mmm demo' and write, per row of the "
        "data, the predicted target and its decomposition (baseline, each control, each "
        "channel) as CSV. The data need the model's spend and control columns; adstock starts "
        "from zero spend before the first row. Rows come out in the input file's order.",
    )
    p.add_argument(
        "--model",
        required=True,
        metavar="PATH",
        help="model.json, its folder, or a model id under <home>/models",
    )
    p.add_argument("--data", required=True, metavar="FILE", help="a .csv or .parquet file")
    p.add_argument("--output", metavar="FILE", help="CSV to write (default: stdout)")
    _add_home(p)
    p.set_defaults(handler=run_predict)


def _split_names(text: str | None, option: str, *, required: bool) -> list[str]:
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    if required and not names:
        raise UsageError(
            Codes.INVALID_PARAMETER,
            f"{option} names no column.",
            hint=f"pass column names separated by commas, e.g. {option} tv_spend,search_spend.",
        )
    return names


def _parse_alpha(text: str) -> float | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise UsageError(
            Codes.INVALID_PARAMETER,
            f"--alpha must be 'auto' or a number >= 0, got {text!r}.",
            hint="pass e.g. --alpha 0.1, or --alpha auto to choose it by cross-validation.",
        )
    return value


def _check_command(argv: Sequence[str]) -> None:
    """Reject an unknown subcommand with a suggestion (argparse gives none)."""
    if not argv or argv[0].startswith("-") or argv[0] in COMMANDS:
        return
    close = suggest_name(argv[0], COMMANDS)
    guess = f"did you mean 'mmm {close}'? " if close else ""
    raise UsageError(
        Codes.INVALID_PARAMETER,
        f"unknown command {argv[0]!r}; the commands are {', '.join(COMMANDS)}.",
        hint=f"{guess}run 'mmm --help' for the usage.",
    )


# --------------------------------------------------------------------------------------------
# Files.
# --------------------------------------------------------------------------------------------


def resolve_home(home: str | None) -> Path:
    """The folder models are stored under.

    Parameters
    ----------
    home : str or None
        ``--home``; when ``None`` the ``MMM_HOME`` environment variable, else ``./.mmm``.

    Returns
    -------
    pathlib.Path
    """
    return Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME)


def new_model_id(now: datetime | None = None) -> str:
    """A new model id ``mmm-YYYYmmdd-HHMMSS-<6 hex>`` (UTC time, random suffix).

    Examples
    --------
    >>> new_model_id(datetime(2024, 1, 2, 3, 4, 5))[:20]
    'mmm-20240102-030405-'
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"mmm-{stamp}-{secrets.token_hex(3)}"


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Parameters
    ----------
    path : pathlib.Path
        Destination; missing parent folders are created.
    text : str
        UTF-8 content.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DeploymentError
        ``MMM_300`` when the folder or file cannot be written.
    """
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # os.open with 0o666 honours the umask (mkstemp would make the file private, 0o600).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_error(path, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_error(path: Path, exc: OSError) -> DeploymentError:
    return DeploymentError(
        Codes.DEPLOYMENT_ERROR,
        f"cannot write {str(path)!r} ({exc.strerror or exc}).",
        hint="check that the folder exists and is writable, or choose another --home/--output.",
    )


def _write_json(path: Path, doc: Any) -> Path:
    return write_atomic(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")


def read_table(path: str) -> pd.DataFrame:
    """Read a ``.csv`` (or ``.txt``) or ``.parquet`` file into a DataFrame.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataIntegrationError
        ``MMM_100`` when the file is missing, of another type or unreadable, ``MMM_110`` when it
        is empty.
    """
    source = Path(path)
    if not source.is_file():
        what = "is a folder, not a file" if source.is_dir() else "does not exist"
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"the data file {path!r} {what}.",
            hint="check the path (relative paths start from the current folder).",
        )
    suffix = source.suffix.lower()
    readers: dict[str, Callable[[Path], pd.DataFrame]] = {
        ".csv": pd.read_csv,
        ".txt": pd.read_csv,
        ".parquet": pd.read_parquet,
        ".pq": pd.read_parquet,
    }
    if suffix not in readers:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {path!r}: unknown file type {suffix or '(none)'!r}.",
            hint="give a .csv or .parquet file.",
        )
    try:
        return readers[suffix](source)
    except pd.errors.EmptyDataError as exc:
        raise DataIntegrationError(
            Codes.EMPTY_DATA,
            f"the data file {path!r} is empty.",
            hint="give a file with a header row and one row per period.",
        ) from exc
    except ImportError as exc:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {path!r}: no Parquet engine (pyarrow or fastparquet) is installed.",
            hint="install pyarrow, or save the data as CSV.",
        ) from exc
    except (OSError, ValueError, UnicodeDecodeError) as exc:  # ParserError is a ValueError
        detail = " ".join(str(exc).split())[:200]
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {path!r} ({type(exc).__name__}: {detail}).",
            hint=f"check that it is a valid {suffix.lstrip('.')} file (UTF-8 text for CSV).",
        ) from exc


# --------------------------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain fixed-width table: first column left-aligned, the others right-aligned.

    Examples
    --------
    >>> print(format_table(["channel", "roi"], [["tv", "1.50"], ["search", "3.00"]]))
    channel   roi
    -------  ----
    tv       1.50
    search   3.00
    """
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100.0 * value:.1f}%"


def _interval(bounds: Sequence[float] | None) -> str:
    if not bounds:
        return "n/a"
    return f"[{_num(bounds[0])}, {_num(bounds[1])}]"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _summary_lines(results: dict[str, Any], seconds: float) -> list[str]:
    perf = results["performance"]
    holdout = perf.get("holdout")
    hold = "no hold-out (too few periods)"
    if holdout:
        # Not blind: the hold-out periods also took part in choosing the hyperparameters.
        blind = "" if holdout.get("blind", True) else ", not blind to the search"
        hold = f"hold-out MAPE {_num(holdout['mape'])}% (last {holdout['periods']} periods{blind})"
    search = results["diagnostics"]["search"]
    return [
        f"R² in-sample {_num(perf['r2_score'], 3)}, {hold}",
        f"fit time {seconds:.1f} s, {search['candidates_evaluated']} candidates evaluated "
        f"({search['candidates_per_second']:.0f}/s)",
    ]


def _save_fit(model: Any, results: dict[str, Any], home: Path) -> Path:
    folder = home / "models" / new_model_id()
    try:
        model_path = model.save(folder / "model.json")
    except OSError as exc:
        raise _write_error(folder / "model.json", exc) from exc
    _write_json(folder / "results.json", results)
    return model_path


# --------------------------------------------------------------------------------------------
# Subcommands.
# --------------------------------------------------------------------------------------------


def demo_rows(results: dict[str, Any], truth_channels: dict[str, dict[str, Any]]) -> list[Row]:
    """Rows of the demo table: channel, true/estimated ROI, interval, shares, covered.

    Parameters
    ----------
    results : dict
        What :meth:`EconometricMMM.fit` returned.
    truth_channels : dict
        ``SyntheticTruth.channels``.

    Returns
    -------
    list of list of str
    """
    rows = []
    for col, true in truth_channels.items():
        est = results["channels"][col]
        bounds = est.get("roi_interval")
        covered = "n/a" if not bounds else "yes" if bounds[0] <= true["roi"] <= bounds[1] else "NO"
        rows.append(
            [
                col,
                _num(true["roi"]),
                _num(est["roi"]),
                _interval(bounds),
                _pct(true["share"]),
                _pct(est["share"]),
                covered,
            ]
        )
    return rows


def misattribution(results: dict[str, Any], truth_channels: dict[str, dict[str, Any]]) -> float:
    """Share of the true media revenue credited to the wrong channel.

    ``sum_c |estimated_c - true_c| / sum_c true_c`` over the channels' total contributions
    (0 is perfect; a model that moves x of revenue from one channel to another scores
    ``2x / total``).
    """
    error = sum(
        abs(results["channels"][c]["contribution"] - t["contribution"])
        for c, t in truth_channels.items()
    )
    total = sum(t["contribution"] for t in truth_channels.values())
    return error / total if total > 0 else math.nan


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm demo``: fit on synthetic data with known truth and print the comparison."""
    from mmm_core.data.synthetic import generate_mmm_data
    from mmm_core.models.econometric_mmm import EconometricMMM

    home = resolve_home(args.home)
    _progress(
        f"generating {args.weeks} weeks of synthetic data for "
        f"{args.channels if isinstance(args.channels, int) else ', '.join(args.channels)} channels "
        f"(seed {args.seed}, noise {args.noise:g})…"
    )
    frame, truth = generate_mmm_data(
        weeks=args.weeks, channels=args.channels, seed=args.seed, noise=args.noise
    )
    data_path = write_atomic(home / "raw" / "demo.csv", frame.to_csv(index=False))
    _progress(f"fitting {_plural(len(truth.spend_columns), 'channel')} on {len(frame)} weeks…")
    started = time.perf_counter()
    model = EconometricMMM()
    results = model.fit(frame, **truth.fit_arguments())
    seconds = time.perf_counter() - started
    _progress("saving the model…")
    model_path = _save_fit(model, results, home)
    _write_json(model_path.parent / "truth.json", truth.to_dict())
    _print_demo(results, truth.channels, seconds, out)
    print(f"data:  {data_path}", file=out)
    print(f"model: {model_path}", file=out)
    return EXIT_OK


def _print_demo(
    results: dict[str, Any], truth_channels: dict[str, dict[str, Any]], seconds: float, out: TextIO
) -> None:
    headers = ["channel", "true ROI", "est. ROI", "90% interval", "true share", "est. share"]
    rows = demo_rows(results, truth_channels)
    covered = sum(r[-1] == "yes" for r in rows)
    print(format_table([*headers, "covered?"], rows), file=out)
    print("", file=out)
    print(
        f"media misattribution {_pct(misattribution(results, truth_channels))} of media revenue "
        "(sum |est - true contribution| / sum true contribution)",
        file=out,
    )
    print(f"ROI coverage {covered}/{len(rows)} true ROIs inside their 90% interval", file=out)
    for text in _summary_lines(results, seconds):
        print(text, file=out)
    _print_notes(results, out)
    print(
        "read wide intervals as 'this data cannot tell': the default mix is realistic, with "
        "search spend following demand and social following search (try --noise 0.01 "
        "--channels tv,display,radio,video,podcast to see the truth recovered closely).",
        file=out,
    )


def _print_notes(results: dict[str, Any], out: TextIO) -> None:
    for warning in results["diagnostics"]["warnings"]:
        print(f"note: {warning}", file=out)


def fit_rows(results: dict[str, Any]) -> list[Row]:
    """Rows of the fit table: channel, ROI, 90% interval, share, mROI."""
    return [
        [
            col,
            _num(est["roi"]),
            _interval(est.get("roi_interval")),
            _pct(est["share"]),
            _num(est["mroi"]),
        ]
        for col, est in results["channels"].items()
    ]


def run_fit(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm fit``: fit on a file, save the model and print the channel table."""
    from mmm_core.models.econometric_mmm import EconometricMMM

    spend = _split_names(args.spend, "--spend", required=True)
    controls = _split_names(args.controls, "--controls", required=False)
    alpha = _parse_alpha(args.alpha)
    date_column: str | bool | None = args.date_column
    if isinstance(date_column, str) and date_column.strip().lower() == "none":
        date_column = False
    home = resolve_home(args.home)
    _progress(f"reading {args.data}…")
    data = read_table(args.data)
    _progress(f"fitting {_plural(len(spend), 'channel')} on {_plural(len(data), 'period')}…")
    started = time.perf_counter()
    model = EconometricMMM(regularization_alpha=alpha)
    results = model.fit(
        data,
        args.target,
        spend,
        include_synergies=args.synergies,
        control_columns=controls,
        date_column=date_column,
    )
    seconds = time.perf_counter() - started
    _progress("saving the model…")
    model_path = _save_fit(model, results, home)
    if args.output:
        _write_json(Path(args.output), results)

    headers = ["channel", "ROI", "90% interval", "share", "mROI"]
    print(format_table(headers, fit_rows(results)), file=out)
    print("", file=out)
    for text in _summary_lines(results, seconds):
        print(text, file=out)
    _print_notes(results, out)
    if args.output:
        print(f"results: {args.output}", file=out)
    print(f"model: {model_path}", file=out)
    return EXIT_OK


def _model_source(model: str, home: str | None) -> Path:
    path = Path(model)
    if not path.exists():
        stored = resolve_home(home) / "models" / model
        if stored.is_dir():
            return stored
    return path


def run_predict(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm predict``: predictions and their decomposition, as CSV."""
    from mmm_core.models.econometric_mmm import EconometricMMM

    model = EconometricMMM.load(_model_source(args.model, args.home))
    data = read_table(args.data)
    _progress(f"predicting {len(data)} rows…")
    parts = model.decompose(data)
    parts.insert(0, f"predicted_{model.target_column_}", parts.sum(axis=1))
    parts.index.name = (
        model.date_column_ if isinstance(parts.index, pd.DatetimeIndex) else parts.index.name
    )
    keep_index = isinstance(parts.index, pd.DatetimeIndex)
    text = parts.to_csv(index=keep_index)
    if args.output:
        write_atomic(Path(args.output), text)
        _progress(f"wrote {len(parts)} predictions to {args.output}")
    else:
        out.write(text)
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------------------------


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
        return int(args.handler(args, sys.stdout))
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


if __name__ == "__main__":
    raise SystemExit(main())
