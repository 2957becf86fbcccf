"""``mmm report``: the executive report of a saved model (and its budget plan)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from mmm_core.cli.options import add_home, add_model, usage_error
from mmm_core.cli.store import PLAN_FILE, load_results, read_json, resolve_home
from mmm_core.errors import Codes, MMModelError

__all__ = ["REPORT_LABELS", "add_parser", "check_plan", "run_report", "write_report"]

#: How each report file is named in the output, in the order printed.
REPORT_LABELS = {
    "executive_summary_json": "executive summary (JSON)",
    "detailed_csv": "detailed table (CSV)",
    "executive_text": "executive summary (text)",
    "html": "report (HTML)",
}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``report`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "report",
        help="write the executive report of a saved model",
        description="Write the executive report of a model saved by 'mmm fit' or 'mmm demo' "
        "from its results (results.json next to model.json, else the results inside the model "
        "file): a JSON summary of the headline numbers, a CSV with one row per channel, a "
        "plain-English text summary and a self-contained HTML page with the figures. With a "
        "budget plan (--plan, or optimization.json next to the model as 'mmm optimize' "
        "writes it) the report also shows the recommended reallocation and the efficient "
        "frontier; amounts in the plan are money over its planning horizon. Prints the four "
        "paths.",
    )
    add_model(p)
    p.add_argument(
        "--plan",
        metavar="FILE",
        help=f"a plan JSON written by 'mmm optimize' (default: {PLAN_FILE} next to the model, "
        "when there is one)",
    )
    p.add_argument(
        "--output-dir",
        metavar="DIR",
        help="folder for the report files (default: <home>/reports)",
    )
    p.add_argument(
        "--prefix",
        metavar="P",
        help="start of the file names (default: the model's folder name, e.g. its id; an "
        "earlier report with that name is replaced)",
    )
    add_home(p)
    p.set_defaults(command="report")
    return p


def check_plan(plan: Mapping[str, Any], results: Mapping[str, Any], source: Path) -> None:
    """Raise unless ``plan`` is a budget plan for the channels of ``results``."""
    allocation = plan.get("allocation")
    if not isinstance(allocation, Mapping) or not isinstance(plan.get("channels"), Mapping):
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"{str(source)!r} is not a budget plan (no 'allocation' and 'channels').",
            hint="pass the JSON that 'mmm optimize' writes (optimization.json by default).",
        )
    if set(allocation) != set(results["channels"]):
        raise MMModelError(
            Codes.COLUMNS_MISMATCH,
            f"the plan {str(source)!r} is for channels {sorted(allocation)}, the model has "
            f"{sorted(results['channels'])}.",
            hint="make the plan from this model: 'mmm optimize --model <this model>'.",
        )


def write_report(
    results: Mapping[str, Any],
    plan: Mapping[str, Any] | None,
    output_dir: Path,
    prefix: str | None,
) -> dict[str, str]:
    """Write the four report files; returns their paths keyed like :data:`REPORT_LABELS`."""
    from mmm_core.reporting import ExecutiveReporting

    doc = {**results, "optimization": dict(plan)} if plan is not None else results
    return ExecutiveReporting(output_dir=output_dir).generate_mmm_report(doc, prefix)


def print_paths(paths: Mapping[str, str], out: TextIO) -> None:
    """One ``label: path`` line per report file."""
    width = max(len(label) for label in REPORT_LABELS.values()) + 1
    for key, label in REPORT_LABELS.items():
        print(f"{label + ':':<{width}} {paths[key]}", file=out)


def run_report(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm report``: write the report files and print their paths."""
    from mmm_core.cli.tables import progress

    if args.prefix is not None and (
        not args.prefix.strip()
        or args.prefix.startswith(".")
        or any(c in args.prefix for c in "/\\")
    ):
        raise usage_error(
            f"--prefix must be a plain file name, got {args.prefix!r}.",
            "use letters, digits, '-' and '_' (e.g. q3_review); choose the folder with "
            "--output-dir.",
        )
    results, folder = load_results(args.model, args.home)
    plan_path = Path(args.plan) if args.plan else folder / PLAN_FILE
    plan = None
    if args.plan or plan_path.is_file():
        plan = read_json(plan_path, "plan")
        check_plan(plan, results, plan_path)
        progress(f"including the budget plan {plan_path}")
    output_dir = Path(args.output_dir) if args.output_dir else resolve_home(args.home) / "reports"
    prefix = args.prefix if args.prefix is not None else (folder.resolve().name or None)
    progress(f"writing the report to {output_dir}…")
    paths = write_report(results, plan, output_dir, prefix)
    print_paths(paths, out)
    return 0
