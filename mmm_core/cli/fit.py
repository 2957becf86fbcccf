"""``mmm fit``: fit a model on a CSV or Parquet file, save it and print its channel table."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any, TextIO

from mmm_core.cli.options import add_data_options, add_home, split_names, usage_error
from mmm_core.cli.store import read_table, resolve_home, save_fit, write_json
from mmm_core.cli.tables import Row, format_table, interval, num, pct, plural, progress
from mmm_core.cli.track import track_fit

__all__ = [
    "add_parser",
    "date_option",
    "fit_rows",
    "parse_alpha",
    "print_notes",
    "run_fit",
    "summary_lines",
]

FIT_HEADERS = ["channel", "ROI", "90% interval", "share", "mROI"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``fit`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "fit",
        help="fit a model on a CSV or Parquet file and save it",
        description="Fit EconometricMMM (adstock and saturation searched per channel) on one "
        "row per period, save it to <home>/models/<model_id>/model.json with its results "
        "(results.json), and print each channel's ROI (revenue per unit of spend over the "
        "fitted period) with its 90% interval, its share of media revenue and its marginal ROI "
        "(mROI: revenue of one more unit of spend per period at the mean spend).",
    )
    add_data_options(
        p,
        target_help="the KPI column, e.g. revenue",
        controls_help="comma-separated non-media driver columns (price, promotions...)",
        dates_help="the date column (default: detected; 'none' to fit without dates)",
        required=False,
    )
    p.add_argument(
        "--from-dbt",
        action="store_true",
        help="fit on the weekly modelling table dbt built under <home>/curated (instead of "
        "--data; --target/--spend/--controls default to the table's columns)",
    )
    p.add_argument("--market", help="with --from-dbt: the market to fit (one model per market)")
    p.add_argument(
        "--dbt-build",
        action="store_true",
        help="with --from-dbt: run dbt build (models and data tests) first",
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
    add_home(p)
    p.add_argument("--output", metavar="FILE", help="also write the results JSON to FILE")
    p.set_defaults(command="fit")
    return p


def parse_alpha(text: str) -> float | str:
    """``--alpha``: ``auto`` or a number ``>= 0``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise usage_error(
            f"--alpha must be 'auto' or a number >= 0, got {text!r}.",
            "pass e.g. --alpha 0.1, or --alpha auto to choose it by cross-validation.",
        )
    return value


def date_option(text: str | None) -> str | bool | None:
    """``--date-column``: a name, ``None`` (detect) or ``False`` (``none``: undated)."""
    if isinstance(text, str) and text.strip().lower() == "none":
        return False
    return text


def fit_rows(results: dict[str, Any]) -> list[Row]:
    """Rows of the fit table: channel, ROI, 90% interval, share, mROI."""
    return [
        [
            col,
            num(est["roi"]),
            interval(est.get("roi_interval")),
            pct(est["share"]),
            num(est["mroi"]),
        ]
        for col, est in results["channels"].items()
    ]


def summary_lines(results: dict[str, Any], seconds: float) -> list[str]:
    """Fit quality and speed: R², hold-out MAPE, fit time and candidates searched."""
    perf = results["performance"]
    holdout = perf.get("holdout")
    hold = "no hold-out (too few periods)"
    if holdout:
        # Not blind: the hold-out periods also took part in choosing the hyperparameters.
        blind = "" if holdout.get("blind", True) else ", not blind to the search"
        hold = f"hold-out MAPE {num(holdout['mape'])}% (last {holdout['periods']} periods{blind})"
    search = results["diagnostics"]["search"]
    return [
        f"R² in-sample {num(perf['r2_score'], 3)}, {hold}",
        f"fit time {seconds:.1f} s, {search['candidates_evaluated']} candidates evaluated "
        f"({search['candidates_per_second']:.0f}/s)",
    ]


def print_notes(results: dict[str, Any], out: TextIO) -> None:
    """The model's warnings, one ``note:`` line each."""
    for warning in results["diagnostics"]["warnings"]:
        print(f"note: {warning}", file=out)


def run_fit(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm fit``: fit on a file, save the model and print the channel table."""
    from mmm_core.models.econometric_mmm import EconometricMMM

    alpha = parse_alpha(args.alpha)
    home = resolve_home(args.home)
    if args.from_dbt:
        data, args = _from_dbt(args, home)
    elif not (args.data and args.target and args.spend):
        raise usage_error(
            "mmm fit needs --data, --target and --spend (or --from-dbt).",
            "e.g. mmm fit --data sales.csv --target revenue --spend tv_spend,search_spend",
        )
    else:
        progress(f"reading {args.data}…")
        data = read_table(args.data)
    spend = split_names(args.spend, "--spend", required=True)
    controls = split_names(args.controls, "--controls", required=False)
    progress(f"fitting {plural(len(spend), 'channel')} on {plural(len(data), 'period')}…")
    started = time.perf_counter()
    model = EconometricMMM(regularization_alpha=alpha)
    results = model.fit(
        data,
        args.target,
        spend,
        include_synergies=args.synergies,
        control_columns=controls,
        date_column=date_option(args.date_column),
    )
    seconds = time.perf_counter() - started
    progress("saving the model…")
    model_path = save_fit(model, results, home)
    if args.output:
        write_json(Path(args.output), results)

    print(format_table(FIT_HEADERS, fit_rows(results)), file=out)
    print("", file=out)
    for text in summary_lines(results, seconds):
        print(text, file=out)
    print_notes(results, out)
    if args.output:
        print(f"results: {args.output}", file=out)
    print(f"model: {model_path}", file=out)
    track_fit(model, results, model_path, out)
    return 0


def _from_dbt(args: argparse.Namespace, home: Path) -> tuple[Any, argparse.Namespace]:
    """The dbt modelling table for one market, and the column options it implies."""
    from mmm_core.dbt_integration import DBTIntegration, modelling_fit_arguments

    if args.data:
        raise usage_error("--from-dbt and --data both name the data.", "give one of them.")
    dbt = DBTIntegration(home=str(home))
    if args.dbt_build:
        progress("running dbt build (models and data tests)…")
        dbt.build()
    table = dbt.read_modelling_table()
    markets = sorted(table["market"].unique()) if "market" in table else []
    if args.market is None and len(markets) > 1:
        raise usage_error(
            f"the modelling table holds {len(markets)} markets: {', '.join(markets)}.",
            "choose one with --market (a model per market).",
        )
    market = args.market or (markets[0] if markets else None)
    progress(f"reading the dbt modelling table{f' for {market}' if market else ''}…")
    frame = dbt.read_modelling_table(market=market)
    implied = modelling_fit_arguments(frame)
    args.target = args.target or implied["target_column"]
    args.spend = args.spend or ",".join(implied["spend_columns"])
    args.controls = args.controls or ",".join(implied.get("control_columns") or [])
    args.date_column = args.date_column or implied.get("date_column")
    return frame, args
