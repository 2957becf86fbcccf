"""The quality gate a new model passes before it replaces production.

A retrained model is compared with the production model on the same hold-out periods (the
latest ones, which the candidate's coefficients did not see): it must fit them about as well
(hold-out MAPE no more than ``max_regression`` worse), clear absolute floors (in-sample R²,
hold-out MAPE), and have usable ROI intervals. Without a production model only the floors apply.
The gate is pure: metrics in, a verdict with every check and its reason out; the store's
``promote`` moves the production pointer only on ``passed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from mmm_core.models.metrics import performance_metrics


@dataclass(frozen=True)
class GateSettings:
    """Thresholds of the gate.

    Attributes
    ----------
    min_r2 : float
        In-sample R² floor.
    max_holdout_mape : float
        Hold-out MAPE ceiling, in percent.
    max_regression : float
        How much worse than production the candidate's hold-out MAPE may be, relative
        (0.10: at most 10% worse).
    """

    min_r2: float = 0.5
    max_holdout_mape: float = 25.0
    max_regression: float = 0.10

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> GateSettings:
        """Settings from a dict (e.g. Step Functions input), unknown keys ignored."""
        values = dict(values or {})
        return cls(**{k: float(values[k]) for k in asdict(cls()) if k in values})


def _same_specification(model: Any) -> Any:
    """A new estimator with ``model``'s chosen hyperparameters fixed (no search, no bootstrap)."""
    from mmm_core.models.econometric_mmm import EconometricMMM

    adstock = {
        col: {**a.to_dict(), **params}
        for col, a, params in zip(
            model.spend_columns_, model.adstocks_, model.adstock_params_, strict=True
        )
    }
    saturation = dict(zip(model.spend_columns_, model.saturation_params_, strict=True))
    config = model.get_params()
    config.update(
        adstock_rate=adstock,
        saturation_param=saturation,
        regularization_alpha=model.alpha_,
        n_bootstrap=0,
        holdout_periods=0,
        max_iterations=None,
    )
    return EconometricMMM(**config)


def holdout_metrics(model: Any, data: pd.DataFrame, periods: int) -> dict[str, float]:
    """How ``model``'s specification predicts the last ``periods`` rows of ``data``, unseen.

    Production models were fitted on most of today's data, so scoring them on it directly would
    flatter them against a candidate scored on periods it did not see. Instead the model's
    chosen hyperparameters (adstock, saturation, ridge strength) are kept and its coefficients
    refitted on all but the last ``periods`` rows, which it then predicts (carry-over into the
    tail included): the same procedure that gives a candidate its ``performance["holdout"]``.
    """
    frame = data
    if model.date_column_ and model.date_column_ in data:
        frame = data.sort_values(model.date_column_, kind="stable").reset_index(drop=True)
    head = frame.iloc[: len(frame) - periods]
    refit = _same_specification(model)
    refit.fit(
        head,
        model.target_column_,
        model.spend_columns_,
        include_synergies=model.include_synergies_,
        control_columns=model.control_columns_ or None,
        date_column=model.date_column_ or False,
    )
    predicted = np.asarray(refit.predict(frame), dtype=float)
    actual = frame[model.target_column_].to_numpy(dtype=float)
    return {**performance_metrics(actual[-periods:], predicted[-periods:]), "periods": periods}


def evaluate_gate(
    candidate: Mapping[str, Any],
    production: Mapping[str, Any] | None = None,
    settings: GateSettings | None = None,
) -> dict[str, Any]:
    """Decide whether ``candidate`` may replace ``production``.

    Parameters
    ----------
    candidate : dict
        The new model's fit results (``performance`` with ``r2_score`` and ``holdout``, and
        ``channels`` with ``roi_interval``).
    production : dict, optional
        The production model's hold-out metrics on the candidate's hold-out periods
        (:func:`holdout_metrics`), or ``None`` when nothing is in production.
    settings : GateSettings, optional

    Returns
    -------
    dict
        ``{"passed": bool, "reasons": [str], "checks": [{name, value, threshold, passed}],
        "settings": {...}}``; every failed check has a reason in plain words.
    """
    settings = settings or GateSettings()
    perf = candidate.get("performance", {}) or {}
    holdout = perf.get("holdout") or {}
    checks: list[dict[str, Any]] = []

    def check(name: str, value: Any, threshold: float, ok: bool, why: str) -> None:
        checks.append(
            {
                "name": name,
                "value": value,
                "threshold": threshold,
                "passed": bool(ok),
                "reason": None if ok else why,
            }
        )

    r2 = perf.get("r2_score")
    check(
        "min_r2",
        r2,
        settings.min_r2,
        isinstance(r2, int | float) and r2 >= settings.min_r2,
        f"in-sample R² {r2} is below {settings.min_r2}",
    )
    mape = holdout.get("mape")
    has_holdout = isinstance(mape, int | float)
    check(
        "max_holdout_mape",
        mape,
        settings.max_holdout_mape,
        has_holdout and mape <= settings.max_holdout_mape,
        "no hold-out score (too few periods to hold any out)"
        if not has_holdout
        else f"hold-out MAPE {mape:.2f}% is above {settings.max_holdout_mape}%",
    )
    if production is not None and isinstance(production.get("mape"), int | float):
        limit = production["mape"] * (1.0 + settings.max_regression)
        check(
            "no_regression",
            mape,
            limit,
            has_holdout and mape <= limit,
            f"hold-out MAPE {mape}% is worse than production's {production['mape']:.2f}% by "
            f"more than {settings.max_regression:.0%}",
        )
    intervals = [c.get("roi_interval") for c in (candidate.get("channels") or {}).values()]
    usable = bool(intervals) and all(
        isinstance(i, list | tuple) and len(i) == 2 and np.all(np.isfinite(i)) for i in intervals
    )
    check(
        "roi_intervals",
        usable,
        1.0,
        usable,
        "the model has no ROI intervals (fit it with n_bootstrap > 0)",
    )
    failed = [c["reason"] for c in checks if not c["passed"]]
    return {
        "passed": not failed,
        "reasons": failed,
        "checks": checks,
        "settings": asdict(settings),
        "production": dict(production) if production is not None else None,
    }
