"""``mmm attribution``: five attribution methods side by side on the same data."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from mmm_core.cli.fit import date_option
from mmm_core.cli.options import add_data_options, add_home, split_names, usage_error
from mmm_core.cli.store import load_results, read_table, write_json
from mmm_core.cli.tables import Row, format_table, num, pct, plural, progress

__all__ = ["METHODS", "add_parser", "attribution_rows", "run_attribution"]

METHODS = ("last_touch", "first_touch", "linear", "time_decay", "data_driven")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``attribution`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "attribution",
        help="compare last-touch, first-touch, linear, time-decay and the MMM's attribution",
        description="Split the media revenue of per-period data among the channels by five "
        "methods and print each channel's share under each (shares of attributed revenue, "
        "each method's column sums to 100%), the spread (largest minus smallest share) and "
        "notes on reading them. last_touch, first_touch, linear and time_decay are rebuilt "
        "from when and how much each channel spent within a lookback window (the data have "
        "no user paths) and have no baseline; data_driven is the econometric MMM's share of "
        "the media contribution, from --model when given (no refit), else fitted here.",
    )
    add_data_options(
        p,
        target_help="the revenue column",
        controls_help="comma-separated non-media drivers, used when the MMM is fitted here",
        dates_help="the date column (default: detected; 'none' for rows in period order)",
    )
    p.add_argument(
        "--model",
        metavar="PATH|ID",
        help="use this saved model's results for data_driven (model.json, its folder, or a "
        "model id under <home>/models) instead of fitting one",
    )
    p.add_argument(
        "--window",
        type=int,
        default=4,
        metavar="N",
        help="periods in the lookback window, the current one included (default 4)",
    )
    p.add_argument(
        "--half-life",
        type=float,
        default=2.0,
        metavar="H",
        help="periods over which a touch's weight halves under time_decay (default 2)",
    )
    p.add_argument("--output", metavar="FILE", help="also write the whole analysis as JSON")
    add_home(p)
    p.set_defaults(command="attribution")
    return p


def attribution_rows(analysis: Mapping[str, Any]) -> list[Row]:
    """Channel, spend share, each method's share, the MMM's 90% share interval, spread."""
    table = analysis["table"]
    spend_total = sum(row["spend"] for row in table)
    intervals = analysis["methods"]["data_driven"].get("share_interval") or {}
    return [
        [
            row["channel"],
            pct(row["spend"] / spend_total) if spend_total > 0 else "n/a",
            *(pct(row[f"{method}_share"]) for method in METHODS),
            _pct_interval(intervals.get(row["channel"])),
            pct(row["spread"]),
        ]
        for row in table
    ]


def _pct_interval(bounds: list[float] | None) -> str:
    if not bounds:
        return "n/a"
    return f"[{pct(bounds[0])}, {pct(bounds[1])}]"


def run_attribution(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm attribution``: run the analysis and print the comparison."""
    from mmm_core.attribution import AttributionAnalyzer
    from mmm_core.models.econometric_mmm import EconometricMMM

    spend = split_names(args.spend, "--spend", required=True)
    controls = split_names(args.controls, "--controls", required=False)
    if args.window < 1 or not args.half_life > 0:
        raise usage_error(
            f"--window must be >= 1 and --half-life > 0, got {args.window} and {args.half_life:g}.",
            "pass e.g. --window 4 --half-life 2 for weekly data.",
        )
    options: dict[str, Any] = {}
    if args.model:
        results, folder = load_results(args.model, args.home)
        options["mmm_results"] = results
        source = f"the model in {folder}"
    else:
        options["mmm_model"] = EconometricMMM()
        source = "an MMM fitted on these data"
    progress(f"reading {args.data}…")
    data = read_table(args.data)
    step = "" if args.model else ", fitting the MMM for data_driven"
    progress(f"attributing {plural(len(data), 'period')} by five methods{step}…")
    analysis = AttributionAnalyzer().run_attribution_analysis(
        data,
        spend,
        args.target,
        control_columns=controls,
        date_column=date_option(args.date_column),
        half_life=args.half_life,
        window=args.window,
        **options,
    )
    if args.output:
        write_json(Path(args.output), analysis)

    headers = ["channel", "spend", *METHODS, "data_driven 90%", "spread"]
    print(
        "share of attributed revenue by method (each method's column sums to 100%; spend: "
        "share of spend)",
        file=out,
    )
    print(format_table(headers, attribution_rows(analysis)), file=out)
    print("", file=out)
    mmm = analysis["mmm"]
    print(
        f"data_driven from {source} (R² {num(mmm['r2_score'], 3)}; media drives "
        f"{pct(mmm['media_share_of_revenue'])} of revenue)",
        file=out,
    )
    print(
        f"mean spread {pct(analysis['disagreement'])} per channel "
        f"(largest minus smallest share across the five methods)",
        file=out,
    )
    for note in analysis["notes"]:
        print(f"note: {note}", file=out)
    if args.output:
        print(f"analysis: {args.output}", file=out)
    return 0
