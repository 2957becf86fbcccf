"""The results dict of a fit: per-channel returns with intervals, baseline, diagnostics.

:func:`build_results` assembles what :meth:`EconometricMMM.fit` returns from the fitted state,
the search and the bootstrap replicates. Everything in it is JSON-serialisable; the contract
(keys and meanings) is in ``DESIGN.md`` and the README.
"""

from __future__ import annotations

import math
import time
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mmm_core.json_values import json_value
from mmm_core.models.metrics import variance_inflation
from mmm_core.models.search import SearchResult
from mmm_core.models.validation import PreparedData
from mmm_core.optimize.response import ResponseSurface
from mmm_core.transforms import HillSaturation

FloatArray = NDArray[np.float64]
_HILL = HillSaturation()
_VIF_WARNING = 10.0
#: A channel with more of its contribution than this below its lowest adstocked spend gets a
#: warning: that part is the curve's extrapolation, which the data cannot check.
EXTRAPOLATED_WARNING = 0.15


def build_results(
    model: Any,
    prepared: PreparedData,
    X: FloatArray,
    media: FloatArray,
    coef: FloatArray,
    performance: dict[str, Any],
    search: SearchResult,
    draws: dict[str, Any],
    started: float,
    folds: list[tuple[int, int]],
    holdout: int,
) -> dict[str, Any]:
    m = len(model.spend_columns_)
    q = len(model.baseline_.names) + len(model.control_columns_)
    spend_total = prepared.spend.sum(axis=0)
    mean_spend = model.mean_spend_
    contrib = model._channel_contributions(media, coef).sum(axis=0)
    media_total = contrib.sum()
    mroi = model.steady_state_gradient(mean_spend)
    extrapolated = extrapolated_shares(media)

    B = draws["coef"].shape[0]
    if B:
        draw_contrib = np.stack(
            [
                model._channel_contributions(draws["media"][b], draws["coef"][b]).sum(axis=0)
                for b in range(B)
            ]
        )
        draw_roi = draw_contrib / spend_total
        totals = draw_contrib.sum(axis=1, keepdims=True)
        draw_share = np.divide(
            draw_contrib, totals, out=np.zeros_like(draw_contrib), where=totals > 0
        )
        model.draws_ = {
            "coef": draws["coef"][:, q:],  # media and synergy coefficients
            "params": draws["params"],
        }
        draw_mroi = ResponseSurface.from_model(model, draws=True).gradient_per_draw(mean_spend)
    else:
        model.draws_ = None

    def interval(values: FloatArray) -> list[float]:
        return [float(np.quantile(values, 0.05)), float(np.quantile(values, 0.95))]

    channels: dict[str, Any] = {}
    for j, col in enumerate(model.spend_columns_):
        entry: dict[str, Any] = {
            "spend": float(spend_total[j]),
            "contribution": float(contrib[j]),
            "share": float(contrib[j] / media_total) if media_total > 0 else 0.0,
            "roi": float(contrib[j] / spend_total[j]),
            "mroi": float(mroi[j]),
            "roi_interval": interval(draw_roi[:, j]) if B else None,
            "mroi_interval": interval(draw_mroi[:, j]) if B else None,
            "contribution_interval": interval(draw_contrib[:, j]) if B else None,
            "share_interval": interval(draw_share[:, j]) if B else None,
            "coefficient": float(coef[q + j] * model.y_scale_),
            "adstock": {**model.adstocks_[j].to_dict(), **model.adstock_params_[j]},
            "saturation": {**_HILL.to_dict(), **model.saturation_params_[j]},
            "hyperparameters_searched": not search.spaces[j].fixed,
            "plausible_hyperparameters": len(search.plausible[j]),
            "extrapolated_share": float(extrapolated[j]),
        }
        channels[col] = entry

    synergies = {}
    for k, (i, j) in enumerate(model.pairs_):
        c = coef[q + m + k]
        synergies[model._pair_name(i, j)] = {
            "channels": [model.spend_columns_[i], model.spend_columns_[j]],
            "coefficient": float(c * model.y_scale_),
            "contribution": float(c * (media[:, i] * media[:, j]).sum() * model.y_scale_),
        }

    parts = X[:, :q] * coef[:q] * model.y_scale_
    names = model.baseline_.names
    baseline_parts = {
        "intercept": float(parts[:, 0].sum()) if model.include_baseline else 0.0,
        "trend": float(parts[:, 1].sum()) if model.include_baseline else 0.0,
        "seasonality": float(parts[:, 2 : len(names)].sum()) if len(names) > 2 else 0.0,
    }
    controls = {
        col: float(parts[:, len(names) + k].sum()) for k, col in enumerate(model.control_columns_)
    }
    revenue_total = float(prepared.y.sum())
    base_total = sum(baseline_parts.values())

    vif_all = variance_inflation(X[:, 1:] if model.include_baseline else X)
    offset = 1 if model.include_baseline else 0
    vif = {name: float(v) for name, v in zip(model.feature_names_[offset:], vif_all, strict=True)}
    warnings = [
        f"{name} has a variance inflation factor of {v:.1f} (> {_VIF_WARNING:g}): its effect "
        "is hard to separate from the other terms; trust its interval more than its point."
        for name, v in vif.items()
        if name in model.spend_columns_ and v > _VIF_WARNING
    ]
    if model.date_column_ is None:
        warnings.append(
            "no date column: rows are taken as consecutive weeks in the order given "
            "(pass date_column= to fit on dates)."
        )
    corr = np.corrcoef(prepared.spend, rowvar=False) if m > 1 else np.ones((1, 1))
    for i, j in combinations(range(m), 2):
        if corr[i, j] > 0.8:
            warnings.append(
                f"spend on {model.spend_columns_[i]} and {model.spend_columns_[j]} moves together"
                f" (correlation {corr[i, j]:.2f}): the split of their credit is uncertain."
            )
    floored = [
        f"{col} ({extrapolated[j]:.0%})"
        for j, col in enumerate(model.spend_columns_)
        if extrapolated[j] > EXTRAPOLATED_WARNING
    ]
    if floored:
        warnings.append(
            f"{', '.join(floored)}: this share of the contribution is credited to spend below "
            "the lowest level the channel ever ran at. The data show nothing there (the "
            "baseline could take it as well), so that part of the ROI rests on the curve's "
            "assumed shape; a few dark weeks or a geo test would measure it."
        )
    if B:
        for col in model.spend_columns_:
            lo, hi = channels[col]["roi_interval"]
            if hi - lo > max(1.0, abs(channels[col]["roi"])):
                warnings.append(
                    f"{col}: the data cannot pin its ROI down (90% interval {lo:.2f}-{hi:.2f})."
                )
    elapsed = time.perf_counter() - started
    return json_value(
        {
            "performance": performance,
            "channels": channels,
            "baseline": {
                "total": base_total,
                "share_of_revenue": base_total / revenue_total if revenue_total else 0.0,
                **baseline_parts,
                "controls": controls,
            },
            "synergies": synergies,
            "series": _series(model, prepared, X, media, coef),
            "response_curves": _response_curves(model),
            "media": {
                "contribution": float(media_total),
                "spend": float(spend_total.sum()),
                "roi": float(media_total / spend_total.sum()),
                "share_of_revenue": float(media_total / revenue_total) if revenue_total else 0.0,
            },
            "hyperparameters": {
                "adstock_family": model.adstock,
                "regularization_alpha": model.alpha_,
                "alpha_cv_mse": {str(k): v for k, v in search.alpha_scores.items()},
                "max_lag": model.max_lag,
                "n_fourier": model.baseline_.n_fourier,
                "channels": {
                    col: {
                        "adstock": channels[col]["adstock"],
                        "saturation": channels[col]["saturation"],
                    }
                    for col in model.spend_columns_
                },
            },
            "diagnostics": {
                "observations": int(X.shape[0]),
                "parameters": int(X.shape[1]),
                "target_column": model.target_column_,
                "date_column": model.date_column_,
                "periods_per_year": model.baseline_.periods_per_year,
                "vif": vif,
                "warnings": warnings,
                "search": {
                    "candidates_evaluated": search.n_evaluated,
                    "sweeps": search.n_sweeps,
                    "seconds": search.seconds,
                    "candidates_per_second": search.n_evaluated / search.seconds
                    if search.seconds > 0
                    else 0.0,
                    "cv_folds": len(folds),
                    "cv_rmse": math.sqrt(search.cv_mse) * model.y_scale_,
                    "search_periods": int(X.shape[0] - holdout)
                    if model.blind_holdout
                    else int(X.shape[0]),
                },
                "bootstrap": {
                    "replicates": B,
                    "block_length": draws.get("block_length"),
                    "interval": [0.05, 0.95],
                },
                "fit_seconds": elapsed,
            },
        }
    )


def extrapolated_shares(media: FloatArray) -> FloatArray:
    """Per channel, the share of its (main-effect) contribution below its lowest level seen.

    ``media`` holds each channel's transformed spend ``h(adstock(x))``, shape ``(n, m)``, with
    ``h(0) = 0``. The data contrast the weeks with each other, so they measure how the curve
    rises *above* the lowest level ``h_min`` a channel reached; the ``n * h_min`` below it is
    the curve's extrapolation to zero spend. A channel that goes dark has ``h_min = 0`` and
    nothing extrapolated; one that never drops below a floor can have half or more. The
    coefficient cancels, so this does not depend on it.
    """
    totals = media.sum(axis=0)
    floor = media.min(axis=0) * media.shape[0]
    return np.divide(floor, totals, out=np.zeros_like(totals), where=totals > 0)


def _series(
    model: Any, prepared: PreparedData, X: FloatArray, media: FloatArray, coef: FloatArray
) -> dict[str, Any]:
    """Per period, in date order: actual, fitted, baseline, controls, channels (for plots)."""
    q_base = len(model.baseline_.names)
    k = q_base + len(model.control_columns_)
    parts = X[:, :k] * coef[:k] * model.y_scale_
    channels = model._channel_contributions(media, coef)
    periods = (
        [d.isoformat() for d in prepared.dates]
        if prepared.dates is not None
        else list(range(len(prepared.y)))
    )
    return {
        "periods": periods,
        "actual": prepared.y,
        "fitted": X @ coef * model.y_scale_,
        "baseline": parts[:, :q_base].sum(axis=1),
        "controls": {c: parts[:, q_base + k] for k, c in enumerate(model.control_columns_)},
        "channels": {c: channels[:, j] for j, c in enumerate(model.spend_columns_)},
    }


def _response_curves(model: Any, points: int = 41) -> dict[str, Any]:
    """Each channel's steady-state curve from 0 to twice its highest mean-level spend, with
    its 90% interval over the bootstrap replicates when there are any."""
    out = {}
    for j, col in enumerate(model.spend_columns_):
        top = 2.0 * max(model.mean_spend_[j], model.saturation_params_[j]["half_saturation"])
        grid = np.linspace(0.0, top, points)
        out[col] = {
            "spend": grid,
            "revenue": model.response_curve(col, grid),
            "mean_spend": model.mean_spend_[j],
            "mean_revenue": float(model.response_curve(col, [model.mean_spend_[j]])[0]),
        }
        if model.draws_ is not None:
            band = np.quantile(model.response_curve(col, grid, draws=True), [0.05, 0.95], axis=0)
            out[col]["revenue_interval"] = [band[0], band[1]]
    return out
