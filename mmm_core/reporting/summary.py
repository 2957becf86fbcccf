"""The executive summary: the headline numbers of a fit (and of an optimization), as one dict.

It is the report's JSON file and the source of its text and HTML headlines, so the three
always say the same thing. Channels are ranked by ROI (revenue per unit of spend over the
fitted period); mROI is the revenue of the next unit at the mean spend per period.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mmm_core.reporting.inputs import (
    bounds,
    channel_names,
    number,
    period_dates,
    roi_uncertainty,
    section,
    text,
    time_unit,
)

SCHEMA_NAME = "mmm_core.ExecutiveSummary"
SCHEMA_VERSION = 1


def executive_summary(mmm_results: Mapping[str, Any], generated_at: datetime) -> dict[str, Any]:
    """Headline numbers of ``mmm_results`` (checked by :func:`inputs.check_results`).

    Parameters
    ----------
    mmm_results : dict
        Fit results, optionally with an ``"optimization"`` entry.
    generated_at : datetime
        When the report is made (UTC).

    Returns
    -------
    dict
        ``schema``, ``schema_version``, ``generated_at``, ``period``, ``revenue``, ``media``,
        ``channels`` (ranked by ROI), ``best_channel_by_roi``, ``worst_channel_by_roi``,
        ``best_channel_by_mroi``, ``worst_channel_by_mroi``, ``uncertain_channels``, ``fit``,
        ``warnings`` and ``optimization`` (``None`` without one). Missing numbers are ``None``.
    """
    channels = _channels(mmm_results)
    by_roi = [c for c in channels if c["roi"] is not None]
    by_mroi = sorted(
        (c for c in channels if c["mroi"] is not None), key=lambda c: c["mroi"], reverse=True
    )
    optimization = _optimization(section(mmm_results, "optimization"))
    notes = section(mmm_results, "diagnostics").get("warnings")
    warnings = [str(w) for w in notes] if isinstance(notes, list) else []
    if optimization and optimization["converged"] is False:
        warnings.append(
            "the budget optimizer did not converge"
            + (
                f" ({optimization['convergence_message']})"
                if optimization["convergence_message"]
                else ""
            )
            + ": treat its recommendation as a direction, not a plan."
        )
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": text(mmm_results, "diagnostics", "target_column"),
        "period": _period(mmm_results),
        "revenue": _revenue(mmm_results),
        "media": _media(mmm_results, channels),
        "channels": channels,
        "best_channel_by_roi": _pick(by_roi[:1], "roi"),
        "worst_channel_by_roi": _pick(by_roi[-1:], "roi"),
        "best_channel_by_mroi": _pick(by_mroi[:1], "mroi"),
        "worst_channel_by_mroi": _pick(by_mroi[-1:], "mroi"),
        "uncertain_channels": [c["channel"] for c in channels if c["uncertain"]],
        "fit": _fit(section(mmm_results, "performance")),
        "warnings": warnings,
        "optimization": optimization,
    }


def _channels(mmm_results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per channel, best ROI first (channels without an ROI last)."""
    rows = []
    for name, entry in zip(
        channel_names(mmm_results), mmm_results["channels"].values(), strict=True
    ):
        reason = roi_uncertainty(entry)
        rows.append(
            {
                "channel": name,
                "spend": number(entry, "spend"),
                "contribution": number(entry, "contribution"),
                "contribution_interval": bounds(entry, "contribution_interval"),
                "share": number(entry, "share"),
                "share_interval": bounds(entry, "share_interval"),
                "roi": number(entry, "roi"),
                "roi_interval": bounds(entry, "roi_interval"),
                "mroi": number(entry, "mroi"),
                "mroi_interval": bounds(entry, "mroi_interval"),
                "uncertain": reason is not None,
                "uncertainty": reason,
            }
        )
    return sorted(rows, key=lambda r: (r["roi"] is None, -(r["roi"] or 0.0)))


def _pick(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    if not rows:
        return None
    row = rows[0]
    return {
        "channel": row["channel"],
        key: row[key],
        f"{key}_interval": row[f"{key}_interval"],
        **({"uncertain": row["uncertain"]} if key == "roi" else {}),
    }


def _period(mmm_results: Mapping[str, Any]) -> dict[str, Any]:
    periods = section(mmm_results, "series").get("periods")
    dates = period_dates(periods)
    count = len(periods) if isinstance(periods, list) else None
    return {
        "start": dates[0].date().isoformat() if dates else None,
        "end": dates[-1].date().isoformat() if dates else None,
        "periods": count or number(mmm_results, "diagnostics", "observations"),
        "unit": time_unit(periods),
    }


def _revenue(mmm_results: Mapping[str, Any]) -> dict[str, Any]:
    actual = section(mmm_results, "series").get("actual")
    values = [number({"v": v}, "v") for v in actual] if isinstance(actual, list) else []
    controls = {
        str(name): number(section(mmm_results, "baseline", "controls"), name)
        for name in section(mmm_results, "baseline", "controls")
    }
    return {
        "total": sum(values) if values and None not in values else None,  # type: ignore[arg-type]
        "baseline": number(mmm_results, "baseline", "total"),
        "controls": controls,
    }


def _media(mmm_results: Mapping[str, Any], channels: list[dict[str, Any]]) -> dict[str, Any]:
    """The model's media totals, or their sums over the channels when the block is missing."""
    media = section(mmm_results, "media")
    spend = number(media, "spend")
    contribution = number(media, "contribution")
    if spend is None and all(c["spend"] is not None for c in channels):
        spend = sum(c["spend"] for c in channels)
    if contribution is None and all(c["contribution"] is not None for c in channels):
        contribution = sum(c["contribution"] for c in channels)
    roi = number(media, "roi")
    if roi is None and spend and contribution is not None:
        roi = contribution / spend
    return {
        "spend": spend,
        "contribution": contribution,
        "roi": roi,
        "share_of_revenue": number(media, "share_of_revenue"),
    }


def _fit(performance: Mapping[str, Any]) -> dict[str, Any]:
    holdout = section(performance, "holdout")
    return {
        "in_sample": {
            "r2": number(performance, "r2_score"),
            "mape": number(performance, "mape"),
            "rmse": number(performance, "rmse"),
        },
        "holdout": {
            "r2": number(holdout, "r2_score"),
            "mape": number(holdout, "mape"),
            "rmse": number(holdout, "rmse"),
            "periods": number(holdout, "periods"),
            "blind": holdout.get("blind") if isinstance(holdout.get("blind"), bool) else None,
        }
        if holdout
        else None,
    }


def _optimization(opt: Mapping[str, Any]) -> dict[str, Any] | None:
    """The optimizer's headline; amounts are over its horizon, percentages in percent."""
    if not opt:
        return None
    current = section(opt, "current")
    uplift = section(opt, "uplift")
    current_revenue = number(current, "revenue")
    projected_revenue = number(opt, "projected_revenue")
    gain = number(uplift, "revenue")
    if gain is None and projected_revenue is not None and current_revenue is not None:
        gain = projected_revenue - current_revenue
    gain_pct = (
        100.0 * gain / current_revenue
        if gain is not None and current_revenue
        else number(uplift, "revenue_pct")
    )
    probability = number(uplift, "probability_better")
    if probability is not None and probability > 1.0:  # given in percent
        probability /= 100.0
    convergence = section(opt, "convergence")
    converged = convergence.get("success")
    return {
        "objective": text(opt, "optimization_objective"),
        "horizon": number(opt, "horizon"),
        "total_budget": number(opt, "total_budget"),
        "spent": number(opt, "spent"),
        "unspent": number(opt, "unspent"),
        "current_revenue": current_revenue,
        "projected_revenue": projected_revenue,
        "current_roi": number(current, "roi"),
        "projected_roi": number(opt, "projected_roi"),
        "uplift": {
            "revenue": gain,
            "revenue_pct": gain_pct,
            "interval": bounds(uplift, "interval"),
            "probability_better": probability,
        },
        "channels": _moves(opt),
        "binding_constraints": [
            {"channel": text(c, "channel"), "constraint": text(c, "constraint")}
            for c in opt.get("binding_constraints") or []
            if isinstance(c, Mapping)
        ],
        "converged": converged if isinstance(converged, bool) else None,
        "convergence_message": text(convergence, "message"),
    }


def _moves(opt: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Current and recommended spend per channel, biggest increase first."""
    per_channel = section(opt, "channels")
    allocation = section(opt, "allocation")
    current = section(opt, "current", "allocation")
    moves = []
    for name in dict.fromkeys([*per_channel, *allocation]):
        entry = section(per_channel, name)
        now = number(entry, "current")
        now = number(current, name) if now is None else now
        best = number(entry, "optimal")
        best = number(allocation, name) if best is None else best
        change = best - now if best is not None and now is not None else None
        moves.append(
            {
                "channel": str(name),
                "current": now,
                "optimal": best,
                "change": change,
                "change_pct": 100.0 * change / now
                if change is not None and now
                else number(entry, "change_pct"),
                "marginal_roi": number(entry, "marginal_roi"),
                "bounds": bounds(entry, "bounds"),
            }
        )
    return sorted(moves, key=lambda m: (m["change"] is None, -(m["change"] or 0.0)))
