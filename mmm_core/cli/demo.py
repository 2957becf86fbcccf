"""``mmm demo``: the main job end to end, on data whose truth is known.

Synthetic weekly data with known true ROIs (or ``--data FILE``) -> :class:`EconometricMMM`
with its hyperparameters searched -> :class:`BudgetOptimizer` re-planning the observed budget
over the fitted period -> :class:`ExecutiveReporting` -> the model, results, plan and report
under ``<home>``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from mmm_core.cli.fit import FIT_HEADERS, date_option, fit_rows, print_notes, summary_lines
from mmm_core.cli.optimize import fitted_spend, make_plan, period_unit, plan_notes, print_plan
from mmm_core.cli.options import add_home, split_names, usage_error
from mmm_core.cli.report import write_report
from mmm_core.cli.store import (
    PLAN_FILE,
    RESULTS_FILE,
    resolve_home,
    save_fit,
    write_atomic,
    write_json,
)
from mmm_core.cli.tables import (
    Row,
    format_table,
    interval,
    num,
    pct,
    plural,
    progress,
    signed_money,
    signed_pct,
)
from mmm_core.cli.track import track_fit

if TYPE_CHECKING:
    import pandas as pd

    from mmm_core.data.synthetic import SyntheticTruth

__all__ = ["add_parser", "demo_rows", "misattribution", "run_demo", "true_uplift"]

#: Defaults of the synthetic data's options (``None`` in the parser, to spot them with --data).
SYNTHETIC_DEFAULTS = {"weeks": 156, "channels": 5, "seed": 0, "noise": 0.03}
FILE_OPTIONS = ("target", "spend", "controls", "date_column")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``demo`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "demo",
        help="the main job: synthetic data with a known truth -> fit -> budget plan -> report",
        description="Generate weekly marketing data whose true ROIs are known (or read --data), "
        "fit EconometricMMM (hyperparameters searched automatically), re-plan the observed "
        "budget and write the executive report. Prints, per channel, the true and estimated "
        "ROI (revenue per unit of spend over the fitted period) with the 90% interval and "
        "whether it covers the truth (or the ROI with its interval for --data), the share of "
        "media revenue attributed to the wrong channel, R² and hold-out MAPE; then the "
        "recommended reallocation of the observed total spend over the fitted period "
        "(current -> recommended spend per channel, change, marginal ROI at the optimum; "
        "amounts are money over the whole period), the expected revenue uplift with its 90% "
        "interval and the probability of beating the current mix (and, with synthetic data, "
        "the true uplift), the notes and where everything went: <home>/raw/demo.csv, "
        "<home>/models/<model_id>/{model,results,optimization}.json and <home>/reports/.",
    )
    synthetic = p.add_argument_group("synthetic data (default)")
    synthetic.add_argument(
        "--weeks", type=int, metavar="N", help="weeks of data, >= 52 (default 156)"
    )
    synthetic.add_argument(
        "--channels",
        type=_channels_arg,
        metavar="N|A,B",
        help="how many media channels (1-10, default 5) or their names, e.g. "
        "tv,display,radio,video,podcast (channels that vary on their own)",
    )
    synthetic.add_argument(
        "--seed", type=int, metavar="N", help="random seed of the data (default 0)"
    )
    synthetic.add_argument(
        "--noise",
        type=float,
        metavar="F",
        help="noise sd as a fraction of mean revenue (default 0.03)",
    )
    own = p.add_argument_group("your data instead (no truth to compare with)")
    own.add_argument("--data", metavar="FILE", help="a .csv or .parquet file, one row per period")
    own.add_argument("--target", metavar="COL", help="the revenue column (default: detected)")
    own.add_argument(
        "--spend", metavar="A,B,C", help="media spend columns, money per period (default: detected)"
    )
    own.add_argument("--controls", metavar="X,Y", help="non-media driver columns")
    own.add_argument(
        "--date-column", metavar="COL", help="the date column (default: detected; 'none')"
    )
    add_home(p)
    p.set_defaults(command="demo")
    return p


def _channels_arg(text: str) -> int | list[str]:
    """``--channels``: a count, or comma-separated preset names."""
    text = text.strip()
    return int(text) if text.isdigit() else [name.strip() for name in text.split(",") if name]


# --------------------------------------------------------------------------------------------
# Scoring against the truth.
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
                num(true["roi"]),
                num(est["roi"]),
                interval(bounds),
                pct(true["share"]),
                pct(est["share"]),
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


def true_uplift(plan: Mapping[str, Any], truth: SyntheticTruth) -> tuple[float, float]:
    """The plan's true media revenue gain over the current mix (amount, percent).

    Both mixes are held steady over the horizon and scored on the true response curves
    (:meth:`SyntheticTruth.steady_state_response`), as the optimizer scores them on the fitted
    ones.
    """
    H = int(plan["horizon"])

    def revenue(allocation: Mapping[str, float]) -> float:
        x = np.array([float(allocation[c]) for c in truth.spend_columns]) / H
        return H * float(truth.steady_state_response(x))

    current = revenue(plan["current"]["allocation"])
    gain = revenue(plan["allocation"]) - current
    return gain, 100.0 * gain / current if current > 0 else math.nan


# --------------------------------------------------------------------------------------------
# The command.
# --------------------------------------------------------------------------------------------


def _synthetic(args: argparse.Namespace, home: Path) -> tuple[pd.DataFrame, dict, Any, Path]:
    from mmm_core.data.synthetic import generate_mmm_data

    given = [f"--{name.replace('_', '-')}" for name in FILE_OPTIONS if getattr(args, name)]
    if given:
        verb = (
            "describes your own data and needs"
            if len(given) == 1
            else "describe your own data and need"
        )
        raise usage_error(
            f"{', '.join(given)} {verb} --data FILE.",
            "pass --data FILE too, or drop them to run on synthetic data.",
        )
    settings = {
        name: default if getattr(args, name) is None else getattr(args, name)
        for name, default in SYNTHETIC_DEFAULTS.items()
    }
    channels = settings["channels"]
    named = channels if isinstance(channels, int) else ", ".join(channels)
    progress(
        f"generating {settings['weeks']} weeks of synthetic data for {named} channels "
        f"(seed {settings['seed']}, noise {settings['noise']:g})…"
    )
    frame, truth = generate_mmm_data(
        weeks=settings["weeks"], channels=channels, seed=settings["seed"], noise=settings["noise"]
    )
    data_path = write_atomic(home / "raw" / "demo.csv", frame.to_csv(index=False))
    return frame, truth.fit_arguments(), truth, data_path


def _from_file(args: argparse.Namespace) -> tuple[pd.DataFrame, dict, None, Path]:
    from mmm_core.data.media_data_client import MediaDataClient

    given = [f"--{name}" for name in SYNTHETIC_DEFAULTS if getattr(args, name) is not None]
    if given:
        verb = "shapes" if len(given) == 1 else "shape"
        raise usage_error(
            f"{', '.join(given)} {verb} the synthetic data and cannot go with --data.",
            "drop them, or drop --data to run on synthetic data.",
        )
    spend = split_names(args.spend, "--spend", required=False) or None
    controls = split_names(args.controls, "--controls", required=False)
    progress(f"reading {args.data}…")
    frame, info = MediaDataClient().load(
        args.data,
        target=args.target,
        spend_columns=spend,
        date_column=date_option(args.date_column),
    )
    arguments = dict(info["fit_arguments"])
    mapping = info.get("column_mapping") or {}
    arguments["control_columns"] = [mapping.get(name, name) for name in controls]
    return frame, arguments, None, Path(args.data)


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm demo``: data -> fit -> budget plan -> report, printed and saved under home."""
    from mmm_core.models.econometric_mmm import EconometricMMM

    home = resolve_home(args.home)
    frame, arguments, truth, data_path = _from_file(args) if args.data else _synthetic(args, home)
    spend_columns = arguments["spend_columns"]
    rows = plural(len(frame), "week" if truth is not None else "period")
    progress(f"fitting {plural(len(spend_columns), 'channel')} on {rows}…")
    started = time.perf_counter()
    model = EconometricMMM()
    results = model.fit(frame, **arguments)
    seconds = time.perf_counter() - started
    progress("saving the model…")
    model_path = save_fit(model, results, home)
    folder = model_path.parent
    if truth is not None:
        write_json(folder / "truth.json", truth.to_dict())

    unit = period_unit(model)
    budget = fitted_spend(results)
    periods = int(model.baseline_.n_train)
    progress(
        f"optimizing the observed budget of {budget:,.0f} over {plural(periods, unit)} "
        "(objective revenue)…"
    )
    plan = make_plan(model, budget)
    plan_path = write_json(folder / PLAN_FILE, plan)

    if truth is not None:
        _print_truth_table(results, truth.channels, out)
    else:
        print(format_table(FIT_HEADERS, fit_rows(results)), file=out)
        print("", file=out)
    for text in summary_lines(results, seconds):
        print(text, file=out)
    print("", file=out)
    true_lines = []
    if truth is not None:
        gain, gain_pct = true_uplift(plan, truth)
        true_lines.append(
            f"true uplift {signed_money(gain)} revenue ({signed_pct(gain_pct)}): known here "
            "because the data are synthetic (both mixes on the true response curves)"
        )
    print_plan(
        plan,
        out,
        unit=unit,
        budget_note="the observed total spend",
        frontier=False,
        uplift_lines=true_lines,
    )
    print("", file=out)
    print_notes(results, out)
    for text in plan_notes(plan, option_hint=False):
        print(f"note: {text}", file=out)
    if truth is not None:
        print(
            "read wide intervals as 'this data cannot tell': the default mix is realistic, with "
            "search spend following demand and social following search (try --noise 0.01 "
            "--channels tv,display,radio,video,podcast to see the truth recovered closely).",
            file=out,
        )
    print("", file=out)
    print(f"data:    {data_path}", file=out)
    print(f"model:   {model_path}", file=out)
    print(f"results: {folder / RESULTS_FILE}", file=out)
    print(f"plan:    {plan_path}", file=out)
    out.flush()
    progress(f"writing the report to {home / 'reports'}…")
    paths = write_report(results, plan, home / "reports", folder.name)
    print(f"report:  {paths['html']}", file=out)
    track_fit(model, results, model_path, out, {"plan": plan_path, "report": paths["html"]})
    return 0


def _print_truth_table(
    results: dict[str, Any], truth_channels: dict[str, dict[str, Any]], out: TextIO
) -> None:
    headers = ["channel", "true ROI", "est. ROI", "90% interval", "true share", "est. share"]
    rows = demo_rows(results, truth_channels)
    covered = sum(r[-1] == "yes" for r in rows)
    print(format_table([*headers, "covered?"], rows), file=out)
    print("", file=out)
    print(
        f"media misattribution {pct(misattribution(results, truth_channels))} of media revenue "
        "(sum |est - true contribution| / sum true contribution)",
        file=out,
    )
    print(f"ROI coverage {covered}/{len(rows)} true ROIs inside their 90% interval", file=out)
