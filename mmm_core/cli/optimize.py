"""``mmm optimize``: re-plan a budget across channels on a saved model's response curves.

Amounts are money over the planning horizon (``--horizon`` periods, default the fitted
period): the budget, every channel's current and recommended spend, the constraints and the
uplift. The plan is :meth:`BudgetOptimizer.optimize`'s dict, saved as JSON.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mmm_core.cli.options import (
    add_home,
    add_model,
    parse_amount,
    parse_fraction,
    split_names,
    usage_error,
)
from mmm_core.cli.store import PLAN_FILE, load_model, read_json, write_json
from mmm_core.cli.tables import (
    Row,
    compact,
    format_table,
    money,
    num,
    pct,
    plural,
    progress,
    signed_money,
    signed_pct,
)

if TYPE_CHECKING:
    from mmm_core.models.econometric_mmm import EconometricMMM

__all__ = [
    "OBJECTIVES",
    "add_parser",
    "constraints_from_args",
    "fitted_spend",
    "frontier_table",
    "make_plan",
    "period_unit",
    "print_plan",
    "reallocation_rows",
    "run_optimize",
]

OBJECTIVES = ("revenue", "roi", "target_roas")
SAFETY = "safety limit (thin data)"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``optimize`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "optimize",
        help="recommend how to split a budget across channels with a saved model",
        description="Allocate a budget across the model's channels on its fitted response "
        "curves, scored on the expected revenue over the model's uncertainty (bootstrap "
        "draws). Every amount is money over the planning horizon: the budget, each channel's "
        "current and recommended spend, the constraints and the uplift. By default the budget "
        "is what the fitted period spent and the horizon is the fitted period, so the plan "
        "re-plans history; 'current' is the fitted period's mix scaled to the budget. Unless "
        "told otherwise each channel moves at most a safety limit from its current spend "
        "(±15%, ±30% or ±50%, the wider the better the data pin its ROI down). Prints the "
        "reallocation, the expected uplift with its 90% interval and the probability of "
        "beating the current mix, the binding constraints, unspent money (objective roi) and "
        "the efficient frontier; saves the plan as JSON (default: optimization.json next to "
        "the model, which 'mmm report' picks up).",
    )
    add_model(p)
    p.add_argument(
        "--budget",
        metavar="X",
        help="money to allocate over the horizon, e.g. 2500000 or 2.5M (default: the fitted "
        "period's total spend, scaled to --horizon when given)",
    )
    p.add_argument(
        "--horizon",
        type=int,
        metavar="N",
        help="periods the budget covers, e.g. 13 for a quarter of weeks (default: the number "
        "of periods the model was fitted on)",
    )
    p.add_argument(
        "--objective",
        choices=OBJECTIVES,
        help="revenue: spend the whole budget for the most revenue (default); roi: the most "
        "net return (revenue - spend), leaving money unspent where the next unit returns less "
        "than itself; target_roas: the largest spend whose revenue / spend stays >= "
        "--target-roas",
    )
    p.add_argument(
        "--target-roas",
        type=float,
        metavar="R",
        help="revenue per unit of spend to keep, e.g. 2.0 (implies --objective target_roas)",
    )
    p.add_argument(
        "--constraints",
        metavar="FILE.json",
        help='a JSON object of constraints (amounts over the horizon), e.g. {"tv_spend": '
        '{"min": 5000, "max": 50000}, "radio_spend": {"max_change": 0.2}, "locked": '
        '["search_spend"], "min_channel_spend": 1000, "max_change": 0.3}; instead of the '
        "three options below",
    )
    p.add_argument(
        "--min-channel-spend",
        metavar="X",
        help="every channel spends at least X over the horizon",
    )
    p.add_argument(
        "--max-change",
        metavar="F",
        help="every channel stays within ±F of its current spend (0.3 = ±30%%); 'none' "
        "removes the default safety limits",
    )
    p.add_argument(
        "--lock",
        metavar="A,B",
        help="channels kept at their current spend",
    )
    p.add_argument(
        "--output",
        metavar="FILE",
        help=f"where to save the plan JSON (default: {PLAN_FILE} next to the model)",
    )
    add_home(p)
    p.set_defaults(command="optimize")
    return p


# --------------------------------------------------------------------------------------------
# Inputs.
# --------------------------------------------------------------------------------------------


def objective_from_args(args: argparse.Namespace) -> tuple[str, float | None]:
    """``--objective`` and ``--target-roas``, checked against each other."""
    objective, target = args.objective, args.target_roas
    if target is not None:
        if not (math.isfinite(target) and target > 0):
            raise usage_error(
                f"--target-roas must be a number > 0, got {target!r}.",
                "pass e.g. --target-roas 2.0 for 2 of revenue per 1 of spend.",
            )
        if objective not in (None, "target_roas"):
            raise usage_error(
                f"--target-roas applies to --objective target_roas, not {objective}.",
                "drop --target-roas, or use --objective target_roas.",
            )
        return "target_roas", target
    if objective == "target_roas":
        raise usage_error(
            "--objective target_roas needs --target-roas R.",
            "pass e.g. --target-roas 2.0 (revenue per unit of spend to keep).",
        )
    return objective or "revenue", None


def constraints_from_args(args: argparse.Namespace) -> dict[str, Any] | None:
    """The constraints dict from ``--constraints`` or the three shortcut options."""
    flags = {
        "--min-channel-spend": args.min_channel_spend,
        "--max-change": args.max_change,
        "--lock": args.lock,
    }
    given = [name for name, value in flags.items() if value is not None]
    if args.constraints:
        if given:
            raise usage_error(
                f"--constraints and {', '.join(given)} are alternatives.",
                "put every constraint in the JSON file, or use the options without a file.",
            )
        return read_json(Path(args.constraints), "constraints file")
    if not given:
        return None
    constraints: dict[str, Any] = {}
    if args.min_channel_spend is not None:
        constraints["min_channel_spend"] = parse_amount(
            args.min_channel_spend, "--min-channel-spend"
        )
    if args.max_change is not None:
        constraints["max_change"] = parse_fraction(args.max_change, "--max-change", allow_none=True)
    if args.lock is not None:
        constraints["locked"] = split_names(args.lock, "--lock", required=True)
    return constraints


def fitted_spend(results: Mapping[str, Any]) -> float:
    """Total spend over the fitted period: the sum of ``channels[*].spend``."""
    return float(sum(float(entry["spend"]) for entry in results["channels"].values()))


def period_unit(model: EconometricMMM) -> str:
    """``week``, ``day``, ``month`` or ``quarter`` from the model's dates, else ``period``."""
    step = (getattr(model, "time_", None) or {}).get("step_days")
    if not isinstance(step, int | float):
        return "period"
    for unit, low, high in (("day", 0.9, 1.1), ("week", 6.5, 7.5), ("month", 28, 31.5)):
        if low <= step <= high:
            return unit
    return "quarter" if 89 <= step <= 92.5 else "period"


def make_plan(
    model: EconometricMMM,
    budget: float | None,
    *,
    horizon: int | None = None,
    objective: str = "revenue",
    target_roas: float | None = None,
    constraints: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """:meth:`BudgetOptimizer.optimize` with the library's default settings."""
    from mmm_core.optimize import BudgetOptimizer

    return BudgetOptimizer(objective=objective).optimize(
        model, budget, constraints, horizon=horizon, target_roas=target_roas
    )


# --------------------------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------------------------


def reallocation_rows(plan: Mapping[str, Any]) -> list[Row]:
    """Channel, current and recommended spend over the horizon, change, mROI at the optimum;
    then a total row."""
    rows = [
        [
            col,
            money(entry["current"]),
            money(entry["optimal"]),
            signed_pct(entry["change_pct"]) if entry["current"] > 0 else "new",
            num(entry["marginal_roi"]),
        ]
        for col, entry in plan["channels"].items()
    ]
    current = sum(entry["current"] for entry in plan["channels"].values())
    spent = float(plan["spent"])
    change = signed_pct(100.0 * (spent - current) / current) if current > 0 else "n/a"
    rows.append(["total", money(current), money(spent), change, ""])
    return rows


def _binding(plan: Mapping[str, Any]) -> str:
    by_reason: dict[str, list[str]] = {}
    for item in plan.get("binding_constraints", []):
        if item.get("channel") is None:
            by_reason.setdefault(str(item.get("constraint")), [])
        else:
            by_reason.setdefault(str(item.get("constraint")), []).append(str(item["channel"]))
    parts = [
        f"{reason}: {', '.join(channels)}" if channels else reason.replace("_", " ")
        for reason, channels in by_reason.items()
    ]
    return "; ".join(parts) if parts else "none"


def frontier_table(plan: Mapping[str, Any]) -> str | None:
    """The efficient frontier as a compact table: one column per budget."""
    points = plan.get("frontier") or []
    if not points:
        return None
    rows = [
        ["budget", *(compact(p["total_budget"]) for p in points)],
        ["revenue", *(compact(p["revenue"]) for p in points)],
        ["ROI", *(num(p["roi"]) for p in points)],
        ["mROI", *(num(p["marginal_roi"]) for p in points)],
    ]
    return format_table(rows[0], rows[1:])


def print_plan(
    plan: Mapping[str, Any],
    out: TextIO,
    *,
    unit: str = "period",
    budget_note: str | None = None,
    frontier: bool = True,
    uplift_lines: Sequence[str] = (),
) -> None:
    """The reallocation table, uplift, unspent money, binding constraints and frontier.

    ``budget_note`` says where the budget came from; ``uplift_lines`` are printed after the
    expected uplift (the demo's true uplift).
    """
    horizon = plural(int(plan["horizon"]), unit)
    objective = plan["optimization_objective"]
    print(
        f"recommended reallocation of {money(plan['total_budget'])} over {horizon}"
        f"{' (' + budget_note + ')' if budget_note else ''}, objective {objective}; "
        f"spend per channel over the {horizon}:",
        file=out,
    )
    headers = ["channel", "current", "recommended", "change", "mROI at optimum"]
    print(format_table(headers, reallocation_rows(plan)), file=out)
    print("", file=out)

    uplift = plan["uplift"]
    lo, hi = uplift["interval"]
    revenue = (
        f"{signed_money(uplift['revenue'])} revenue ({signed_pct(uplift['revenue_pct'])}) over "
        f"{horizon}, 90% interval [{signed_money(lo)}, {signed_money(hi)}]"
    )
    current_total = sum(entry["current"] for entry in plan["channels"].values())
    if abs(float(plan["spent"]) - current_total) <= 1e-6 * float(plan["total_budget"]):
        print(f"expected uplift {revenue}", file=out)
    else:
        print(
            f"expected uplift {revenue}; net return (revenue change minus spend change) "
            f"{signed_money(uplift['net_return'])}",
            file=out,
        )
    what = "net return" if objective == "roi" else "revenue"
    print(
        f"probability the plan beats the current mix ({what}): {pct(uplift['probability_better'])}",
        file=out,
    )
    for line in uplift_lines:
        print(line, file=out)
    print(
        f"projected revenue from media {money(plan['projected_revenue'])}, ROI "
        f"{num(plan['projected_roi'])} (current mix {money(plan['current']['revenue'])}, ROI "
        f"{num(plan['current']['roi'])})",
        file=out,
    )
    unspent = float(plan["unspent"])
    if unspent > 1e-6 * float(plan["total_budget"]):
        why = (
            "the next unit of spend would return less than itself"
            if objective == "roi"
            else "spending more would take revenue / spend below the target"
        )
        print(
            f"unspent {money(unspent)} of the budget ({pct(unspent / plan['total_budget'])}): "
            f"{why}",
            file=out,
        )
    print(f"binding constraints: {_binding(plan)}", file=out)
    table = frontier_table(plan) if frontier else None
    if table:
        print("", file=out)
        print(
            f"efficient frontier (the best revenue plan at each budget over {horizon}, same "
            "limits):",
            file=out,
        )
        print(table, file=out)


def plan_notes(plan: Mapping[str, Any], *, option_hint: bool) -> list[str]:
    """Caveats about a plan, in plain English."""
    notes = []
    lo, _ = plan["uplift"]["interval"]
    if lo < 0 < plan["uplift"]["revenue"]:
        notes.append(
            "the uplift's 90% interval includes a loss: the data cannot promise this plan pays; "
            "test the move (e.g. on part of the budget) before committing to it."
        )
    if any(b.get("constraint") == SAFETY for b in plan.get("binding_constraints", [])):
        how = (
            " (--max-change, or 'none' to remove them)"
            if option_hint
            else " ('mmm optimize --max-change' changes them)"
        )
        notes.append(
            "safety limits hold channels whose ROI the data pin down poorly within ±15%, ±30% "
            f"or ±50% of current spend{how}: response curves are only known near the spend the "
            "data saw."
        )
    message = str(plan.get("convergence", {}).get("message", ""))
    if "current mix, which is kept" in message:
        notes.append("no allocation beat the current mix, which the plan keeps.")
    return notes


# --------------------------------------------------------------------------------------------
# The command.
# --------------------------------------------------------------------------------------------


def run_optimize(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm optimize``: plan a budget, print it and save it."""
    objective, target_roas = objective_from_args(args)
    if args.horizon is not None and args.horizon < 1:
        raise usage_error(
            f"--horizon must be a whole number of periods >= 1, got {args.horizon}.",
            "pass e.g. --horizon 13 for a quarter of weeks.",
        )
    constraints = constraints_from_args(args)
    budget = parse_amount(args.budget, "--budget") if args.budget is not None else None
    progress(f"loading the model {args.model}…")
    model, folder = load_model(args.model, args.home)
    periods = int(model.baseline_.n_train)
    unit = period_unit(model)
    horizon = args.horizon or periods
    note = "current: the fitted period's mix scaled to this budget"
    if budget is None and not (constraints and "total_budget" in constraints):
        spent = fitted_spend(model.results_)
        budget = spent * horizon / periods
        note = (
            "the fitted period's total spend"
            if horizon == periods
            else f"the fitted period's spend per {unit}, times {horizon}"
        )
    shown = money(budget) if budget is not None else "the constraints' total_budget"
    progress(
        f"optimizing {shown} over {plural(horizon, unit)} across "
        f"{plural(len(model.spend_columns_), 'channel')} (objective {objective})…"
    )
    plan = make_plan(
        model,
        budget,
        horizon=horizon,
        objective=objective,
        target_roas=target_roas,
        constraints=constraints,
    )
    target = Path(args.output) if args.output else folder / PLAN_FILE
    write_json(target, plan)

    print_plan(plan, out, unit=unit, budget_note=note)
    print("", file=out)
    for text in plan_notes(plan, option_hint=True):
        print(f"note: {text}", file=out)
    print(f"plan: {target}", file=out)
    return 0
