"""Task ``evaluate``: the quality gate between a trained candidate and the market's production.

The candidate comes from the training job's output, ``model.tar.gz`` (``model.json``,
``results.json``, ``metrics.json`` written by ``sagemaker_jobs/train.py``), read in memory:
this task writes nothing. The production model (the market's pointer in the models store) is
scored on the candidate's hold-out periods of the same table the candidate was trained on
(:func:`mmm_core.models.quality_gate.holdout_metrics`), and
:func:`mmm_core.models.quality_gate.evaluate_gate` decides.

A candidate that fails the gate is not an error: the result says ``promote: false`` and why,
and the state machine keeps production. Errors (no archive, unreadable data, a damaged
production model) raise, and the state machine records them; production stays either way.

Input: the market's state with ``training`` (``{"job_name", "model_artifacts"}``, from the
training task) and, when the validate task ran, ``validation`` (its table and columns are the
ones the candidate was trained on); optional ``gate`` overrides ``MMM_GATE_*``.
Output (``$.evaluation``): see :func:`evaluate` and ``lambdas/pipeline/README.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from lambdas.pipeline.artifacts import read_candidate
from lambdas.pipeline.common import (
    PIPELINE_SCHEMA_VERSION,
    PipelineSettings,
    market_of,
    section,
    task_handler,
)
from lambdas.pipeline.data import read_training_table
from lambdas.pipeline.validate import training_data_uri
from mmm_core.data.schema import standardise_frame
from mmm_core.errors import Codes, MMModelError
from mmm_core.models.econometric_mmm import EconometricMMM
from mmm_core.models.quality_gate import evaluate_gate, holdout_metrics
from mmm_core.store import check_id

__all__ = ["candidate_source", "evaluate", "handler"]

_SCORES = ("r2_score", "mape", "rmse")


def candidate_source(state: Mapping[str, Any]) -> tuple[str, str]:
    """``(candidate_model_id, model_artifacts)`` from the state's ``training`` result.

    The candidate's model id is its training job's name (``mmm-<market>-<uuid>``), so the
    stored model, its report and the SageMaker job share one name.
    """
    training = section(state, "training")
    artifacts = training.get("model_artifacts")
    job = training.get("job_name")
    if not isinstance(artifacts, str) or not artifacts:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            "the task input's 'training' has no 'model_artifacts' (the job's model.tar.gz).",
            hint="pass the training job's ModelArtifacts.S3ModelArtifacts as "
            "training.model_artifacts.",
            details={"field": "training.model_artifacts"},
        )
    if not isinstance(job, str) or not job:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            "the task input's 'training' has no 'job_name' (the candidate's model id).",
            hint="pass the training job's TrainingJobName as training.job_name.",
            details={"field": "training.job_name"},
        )
    return check_id(job, "training job name"), artifacts


def _scores(metrics: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(metrics, Mapping):
        return None
    out = {k: metrics.get(k) for k in _SCORES}
    if "periods" in metrics:
        out["periods"] = metrics["periods"]
    return out


def _training_frame(state: Mapping[str, Any], settings: PipelineSettings) -> pd.DataFrame:
    """The table the candidate was trained on, standardised like the training job does it.

    With the validate task's result, its table and the columns it pinned (those are the
    job's hyperparameters); without it, the table found like validate finds it, columns
    detected.
    """
    validation = section(state, "validation", required=False)
    uri = validation.get("training_data_uri") or training_data_uri(state, settings)
    raw, _ = read_training_table(uri)
    if not validation:
        return standardise_frame(raw)[0]
    frame, _ = standardise_frame(
        raw,
        target=validation.get("target_column") or None,
        spend_columns=validation.get("spend_columns") or None,
        date_column=validation.get("date_column") or False,
    )
    return frame


def evaluate(state: Mapping[str, Any], settings: PipelineSettings | None = None) -> dict[str, Any]:
    """Decide whether the candidate may replace the market's production model.

    Returns
    -------
    dict
        ``schema_version``, ``market``, ``candidate_model_id``, ``model_artifacts``,
        ``passed`` and ``promote`` (the same verdict: ``promote`` is what the state machine's
        Choice reads), ``reason`` (one sentence), ``reasons`` (each failed check),
        ``checks`` (``{name, value, threshold, passed, reason}``), ``settings`` (the gate's
        thresholds), ``candidate`` (in-sample and hold-out scores) and ``production``
        (``{model_id, holdout, comparable, note}``, or ``None`` when nothing is in
        production).

    Raises
    ------
    MMModelError
        No or damaged training output, unreadable data, a production model that cannot be
        read.
    """
    settings = settings or PipelineSettings.from_env()
    market = market_of(state)
    candidate_id, artifacts_uri = candidate_source(state)
    candidate = read_candidate(artifacts_uri)
    EconometricMMM.from_dict(candidate.model_doc)  # a damaged model fails here, not in promote
    results = candidate.results
    performance = results.get("performance") if isinstance(results, Mapping) else None
    performance = performance if isinstance(performance, Mapping) else {}
    holdout = performance.get("holdout") if isinstance(performance.get("holdout"), Mapping) else {}
    periods = int(holdout.get("periods") or 0)

    pointer = settings.models_store(market).production()
    production: dict[str, Any] | None = None
    production_holdout: dict[str, Any] | None = None
    if pointer is not None:
        production = {"model_id": pointer["model_id"], "holdout": None, "comparable": False}
        if pointer["model_id"] == candidate_id:
            production["note"] = "the candidate is already the production model"
        elif periods <= 0:
            production["note"] = "the candidate has no hold-out periods to compare on"
        else:
            model = settings.models_store(market).load_model(pointer["model_id"])
            frame = _training_frame(state, settings)
            try:
                if model.target_column_ not in frame:
                    raise MMModelError(
                        Codes.COLUMNS_MISMATCH, f"no target column {model.target_column_!r}"
                    )
                production_holdout = holdout_metrics(model, frame, periods)
            except MMModelError as exc:  # another target, other channels or controls
                production["note"] = f"production cannot score this data: {exc.message}"
            else:
                production.update(holdout=_scores(production_holdout), comparable=True)

    verdict = evaluate_gate(results, production_holdout, settings.gate_for(state))
    if verdict["passed"]:
        against = (
            f"production {production['model_id']}"
            if production and production["comparable"]
            else "the absolute floors (no comparable production model)"
        )
        reason = f"the candidate passed every check of the quality gate against {against}."
    else:
        reason = "; ".join(verdict["reasons"]) + "."
    return {
        "schema_version": PIPELINE_SCHEMA_VERSION,
        "market": market,
        "candidate_model_id": candidate_id,
        "model_artifacts": artifacts_uri,
        "passed": verdict["passed"],
        "promote": verdict["passed"],
        "reason": reason,
        "reasons": verdict["reasons"],
        "checks": verdict["checks"],
        "settings": verdict["settings"],
        "candidate": {**(_scores(performance) or {}), "holdout": _scores(holdout)},
        "production": production,
    }


handler = task_handler("evaluate", evaluate)
