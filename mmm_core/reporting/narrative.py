"""The executive summary in plain English: what a CMO reads in a minute.

Written from :func:`summary.executive_summary` only, so it says what the JSON says. Sections:
what media earned, which channels return most (with intervals; uncertain ones named), what the
optimizer recommends (when there is an optimization), how far to trust it (fit and caveats).
The HTML report shows the same sentences (:func:`sections`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from mmm_core.reporting import formatting as fmt

WIDTH = 92
NAME_WIDTH = 28
ROI_MEANING = (
    "ROI here is revenue per unit of spend over the period (1.00 = the spend came back as "
    "revenue), before margins and costs; mROI is the revenue the next unit of spend would "
    "bring at today's level."
)


def sections(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The summary's sentences by section title.

    Each section has ``lead`` and ``notes`` (sentences before and after its table), and may have
    ``table_title`` and ``table`` (fixed-width text lines, for the text file; the HTML draws its
    own tables) and ``bullets``. ``What the optimizer recommends`` comes only with an
    optimization.
    """
    trust = _trust(summary)
    out = {
        "What media earned": {"lead": _earned(summary), "notes": []},
        "Which channels return most": {
            "lead": [],
            "table_title": "Revenue per unit of spend over the period, best first, with its 90% "
            "interval:",
            "table": _channel_lines(summary),
            "notes": _returns(summary),
        },
    }
    if summary.get("optimization"):
        plan, *notes = _recommendation(summary)
        out["What the optimizer recommends"] = {
            "lead": [plan],
            "table_title": "Spend over the horizon, current -> recommended:",
            "table": _move_lines(summary),
            "notes": notes,
        }
    out["How far to trust it"] = {"lead": trust[:1], "notes": [], "bullets": trust[1:]}
    return out


def executive_text(summary: Mapping[str, Any]) -> str:
    """The summary as plain text, wrapped at 92 characters.

    Parameters
    ----------
    summary : dict
        :func:`summary.executive_summary` output.

    Returns
    -------
    str
    """
    lines = ["MEDIA MIX MODEL - EXECUTIVE SUMMARY", _subtitle(summary), ""]
    for title, body in sections(summary).items():
        lines += [title.upper(), *_wrap(body["lead"])]
        if body.get("table"):
            lines += [""] if body["lead"] else []
            lines += [*_wrap([body["table_title"]]), *body["table"], ""]
        lines += _wrap(body["notes"])
        if body.get("bullets"):
            lines += ["", "Caveats:"]
            lines += [line for item in body["bullets"] for line in _bullet(item)]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _subtitle(summary: Mapping[str, Any]) -> str:
    period = summary["period"]
    count = period["periods"]
    span = f"{count:.0f} {period['unit']}s" if count is not None else "the fitted period"
    if period["start"] and period["end"]:
        span += f", {period['start']} to {period['end']}"
    target = f"; target: {summary['target']}" if summary.get("target") else ""
    return f"{span}{target}. Generated {summary['generated_at']}."


def _earned(summary: Mapping[str, Any]) -> list[str]:
    media, revenue = summary["media"], summary["revenue"]
    sentence = (
        f"Media spend of {fmt.amount(media['spend'])} brought in "
        f"{fmt.amount(media['contribution'])} of revenue: {fmt.ratio(media['roi'])} per unit spent"
    )
    if media["share_of_revenue"] is not None:
        sentence += f", {fmt.share(media['share_of_revenue'])} of all revenue"
        if revenue["total"] is not None:
            sentence += f" ({fmt.amount(revenue['total'])})"
    out = [sentence + "."]
    if revenue["baseline"] is not None:
        rest = (
            f"The rest is the baseline, {fmt.amount(revenue['baseline'])} that would have come "
            "without media (brand, trend, season)"
        )
        controls = {k: v for k, v in revenue["controls"].items() if v is not None}
        if controls:
            parts = ", ".join(f"{k} {fmt.signed_amount(v)}" for k, v in controls.items())
            rest += f", adjusted for other factors ({parts})"
        out.append(rest + ".")
    return out


def _returns(summary: Mapping[str, Any]) -> list[str]:
    best, worst = summary["best_channel_by_roi"], summary["worst_channel_by_roi"]
    out = []
    if best and worst and best["channel"] != worst["channel"]:
        caution = ", though uncertain" if best["uncertain"] else ""
        out.append(
            f"{best['channel']} returns most ({fmt.ratio(best['roi'])} per unit{caution}), "
            f"{worst['channel']} least ({fmt.ratio(worst['roi'])})."
        )
    top, bottom = summary["best_channel_by_mroi"], summary["worst_channel_by_mroi"]
    if top and bottom and top["channel"] != bottom["channel"]:
        out.append(
            f"At today's spend, the next unit earns most in {top['channel']} "
            f"({fmt.ratio(top['mroi'])}) and least in {bottom['channel']} "
            f"({fmt.ratio(bottom['mroi'])}): the place to add budget first and to cut first."
        )
    uncertain = summary["uncertain_channels"]
    if uncertain:
        out.append(
            f"Uncertain: {', '.join(uncertain)}. The data cannot pin "
            f"{'their returns' if len(uncertain) > 1 else 'its return'} down (the interval is "
            "wide or reaches zero): rank them provisionally and test (e.g. a geo holdout) before "
            "moving large budgets on this evidence."
        )
    elif all(c["roi_interval"] is None for c in summary["channels"]):
        out.append("The fit has no intervals (no bootstrap): the ranking's certainty is unknown.")
    return out


def _channel_lines(summary: Mapping[str, Any]) -> list[str]:
    width = min(NAME_WIDTH, max(len(c["channel"]) for c in summary["channels"]))
    lines = []
    for c in summary["channels"]:
        name = c["channel"] if len(c["channel"]) <= width else c["channel"][: width - 1] + "~"
        line = (
            f"  {name:<{width}}  ROI {fmt.ratio(c['roi']):>6}  "
            f"({fmt.interval(c['roi_interval'], fmt.ratio)})  mROI {fmt.ratio(c['mroi'])}"
        )
        lines.append(line + ("  uncertain" if c["uncertain"] else ""))
    return lines


def _recommendation(summary: Mapping[str, Any]) -> list[str]:
    opt = summary["optimization"]
    unit = summary["period"]["unit"]
    plan = "The optimizer recommends a new split of the budget"
    if opt["horizon"] is not None:
        plan += f" over the next {opt['horizon']:.0f} {unit}s"
    if opt["total_budget"] is not None:
        plan += f" for a budget of {fmt.amount(opt['total_budget'])}"
    if opt["objective"]:
        plan += f" (objective: {opt['objective']})"
    out = [plan + "."]
    up = opt["uplift"]
    if opt["projected_revenue"] is not None:
        sentence = f"Expected revenue from media {fmt.amount(opt['projected_revenue'])}"
        if opt["current_revenue"] is not None:
            sentence += f" against {fmt.amount(opt['current_revenue'])} with the current plan"
        if up["revenue"] is not None:
            sentence += f": {fmt.signed_amount(up['revenue'])}"
            if up["revenue_pct"] is not None:
                sentence += f" ({fmt.percent(up['revenue_pct'], signed=True)})"
        if up["interval"] is not None:
            sentence += f", 90% interval {fmt.interval(up['interval'], fmt.signed_amount)}"
        out.append(sentence + ".")
    if up["probability_better"] is not None:
        out.append(
            f"Probability that the new plan beats the current one: "
            f"{fmt.share(up['probability_better'])}."
        )
    if opt["projected_roi"] is not None:
        roi = f"ROI of the plan: {fmt.ratio(opt['projected_roi'])}"
        if opt["current_roi"] is not None:
            roi += f" (now {fmt.ratio(opt['current_roi'])})"
        out.append(roi + ".")
    if opt["unspent"] and opt["unspent"] > 0.005 * (opt["total_budget"] or 0.0):
        out.append(
            f"{fmt.amount(opt['unspent'])} of the budget is left unspent: beyond that, the next "
            "unit would not pay back under this objective."
        )
    limits = [
        f"{c['channel']}: {c['constraint']}" if c["channel"] else str(c["constraint"])
        for c in opt["binding_constraints"]
    ]
    if limits:
        out.append("Limits that shape the plan: " + "; ".join(limits) + ".")
    return out


def _move_lines(summary: Mapping[str, Any]) -> list[str]:
    moves = summary["optimization"]["channels"]
    if not moves:
        return ["  (no per-channel allocation given)"]
    width = min(NAME_WIDTH, max(len(m["channel"]) for m in moves))
    lines = []
    for m in moves:
        name = m["channel"] if len(m["channel"]) <= width else m["channel"][: width - 1] + "~"
        change = (
            f"({fmt.percent(m['change_pct'], signed=True)})" if m["change_pct"] is not None else ""
        )
        amounts = f"{fmt.amount(m['current']):>8} -> {fmt.amount(m['optimal']):>8}"
        lines.append(f"  {name:<{width}}  {amounts}  {change}")
    return lines


def _trust(summary: Mapping[str, Any]) -> list[str]:
    fit, unit = summary["fit"], summary["period"]["unit"]
    inside = fit["in_sample"]
    sentence = (
        f"The model explains {fmt.share(inside['r2'])} of the {unit}-to-{unit} movement in "
        f"revenue (R² {fmt.ratio(inside['r2'])}), with a typical error of "
        f"{fmt.percent(inside['mape'])}"
    )
    holdout = fit["holdout"]
    if holdout and holdout["r2"] is not None:
        count = f"{holdout['periods']:.0f} " if holdout["periods"] is not None else ""
        sentence += (
            f". On the last {count}{unit}s, predicted by a refit that did not see them: "
            f"R² {fmt.ratio(holdout['r2'])}, typical error {fmt.percent(holdout['mape'])}"
        )
    caveats = [*summary["warnings"], ROI_MEANING]
    return [sentence + ".", *caveats]


def _wrap(body: list[str]) -> list[str]:
    return [line for sentence in body for line in textwrap.wrap(sentence, WIDTH)]


def _bullet(item: str) -> list[str]:
    return textwrap.wrap(item, WIDTH, initial_indent="  - ", subsequent_indent="    ")
