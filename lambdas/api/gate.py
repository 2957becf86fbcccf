"""The quality gate a model passes before ``POST /models/{id}/promote`` moves production.

A pure function over what the caller loaded (the API's promote route now, the retraining
pipeline's evaluate step later): the candidate's fit results, and the production model with
the candidate's training data when there is one. The rules are
:func:`mmm_core.models.quality_gate.evaluate_gate`'s: in-sample R² above a floor, hold-out
MAPE under a ceiling, hold-out MAPE no more than a tolerance worse than production's, usable ROI
intervals. Production is scored on the candidate's own hold-out periods (the latest rows of the
candidate's data, which its coefficients did not see) whenever its channels are in those data;
otherwise on its own recorded hold-out, and the verdict says which (``production.basis``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from lambdas.api.config import Settings

__all__ = ["evaluate_promotion", "gate_settings"]


def gate_settings(settings: Settings) -> Any:
    """The gate's thresholds (``MMM_GATE_*``) as ``mmm_core``'s ``GateSettings``."""
    from mmm_core.models.quality_gate import GateSettings

    return GateSettings(
        min_r2=settings.gate_min_r2,
        max_holdout_mape=settings.gate_max_holdout_mape,
        max_regression=settings.gate_max_regression,
    )


def _production_metrics(
    candidate: Mapping[str, Any],
    production_model: Any,
    data: pd.DataFrame | None,
    production_results: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """Production's hold-out metrics: on the candidate's hold-out when possible."""
    from mmm_core.errors import MMModelError
    from mmm_core.models.quality_gate import holdout_metrics

    holdout = (candidate.get("performance") or {}).get("holdout") or {}
    periods = holdout.get("periods")
    if production_model is not None and data is not None and isinstance(periods, int) and periods:
        try:
            metrics = holdout_metrics(production_model, data, periods)
        except (MMModelError, KeyError):  # the data lack production's columns
            pass
        else:
            return {**metrics, "basis": "candidate_holdout"}
    recorded = ((production_results or {}).get("performance") or {}).get("holdout")
    if isinstance(recorded, Mapping) and isinstance(recorded.get("mape"), int | float):
        return {**recorded, "basis": "own_holdout"}
    return None


def evaluate_promotion(
    candidate: Mapping[str, Any],
    *,
    production_model: Any = None,
    data: pd.DataFrame | None = None,
    production_results: Mapping[str, Any] | None = None,
    settings: Any = None,
) -> dict[str, Any]:
    """May ``candidate`` replace production?

    Parameters
    ----------
    candidate : dict
        The candidate's fit results (``EconometricMMM.fit``'s dict).
    production_model : EconometricMMM, optional
        The model in production (``None``: nothing is; only the floors apply).
    data : DataFrame, optional
        The candidate's training data, to score production on the candidate's hold-out.
    production_results : dict, optional
        Production's fit results, used when ``data`` cannot score it.
    settings : GateSettings, optional
        Thresholds (default: ``mmm_core``'s).

    Returns
    -------
    dict
        ``{"passed", "reasons", "checks", "settings", "production"}``: every failed check has
        a reason in plain words; ``production`` holds the metrics compared against and their
        ``basis`` (``candidate_holdout`` or ``own_holdout``).
    """
    from mmm_core.models.quality_gate import evaluate_gate

    production = None
    if production_model is not None or production_results is not None:
        production = _production_metrics(candidate, production_model, data, production_results)
    return evaluate_gate(candidate, production, settings)
