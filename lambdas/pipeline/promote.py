"""Task ``promote``: put a candidate that passed the quality gate into production.

Only a verdict with ``passed: true`` moves anything: the candidate (read from the training
job's ``model.tar.gz``) is saved in the market's models store under its model id and the
market's production pointer moves to it (:meth:`~mmm_core.store.ArtifactStore.promote`, a
compare-and-swap that keeps the previous model in the history). Any other verdict returns
``promoted: false`` with the reasons and writes nothing. A retry after a promotion that
succeeded finds the candidate already in production and says so.

Input: the market's state with ``evaluation`` (the evaluate task's result) and ``training``.
Output (``$.decision.details`` in the state machine): see :func:`promote`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdas.pipeline.artifacts import read_candidate
from lambdas.pipeline.common import (
    PIPELINE_SCHEMA_VERSION,
    PipelineSettings,
    market_of,
    section,
    task_handler,
)
from mmm_core.store import check_id

__all__ = ["handler", "promote"]

_HISTORY_SHOWN = 3


def _summary(pointer: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "model_id": pointer["model_id"],
        "promoted_at": pointer.get("promoted_at"),
        "previous": list(pointer.get("previous") or [])[:_HISTORY_SHOWN],
    }


def promote(state: Mapping[str, Any], settings: PipelineSettings | None = None) -> dict[str, Any]:
    """Promote the evaluated candidate when its gate passed; otherwise change nothing.

    Returns
    -------
    dict
        ``schema_version``, ``market``, ``promoted`` (bool), ``model_id`` (the candidate),
        ``previous_model_id`` (production before, or ``None``), ``production`` (the pointer
        now: ``{model_id, promoted_at, previous}``, or ``None``), ``model_uri`` (when
        promoted), ``reasons`` (why not, when not promoted).

    Raises
    ------
    MMModelError
        A malformed input or an unreadable training output.
    DeploymentError
        The store refused the promotion (the pointer kept changing, the model is missing);
        the pointer is left as it was.
    """
    settings = settings or PipelineSettings.from_env()
    market = market_of(state)
    evaluation = section(state, "evaluation")
    candidate_id = check_id(str(evaluation.get("candidate_model_id") or ""), "candidate model id")
    store = settings.models_store(market)
    before = store.production()
    out: dict[str, Any] = {
        "schema_version": PIPELINE_SCHEMA_VERSION,
        "market": market,
        "model_id": candidate_id,
        "previous_model_id": before["model_id"] if before else None,
    }

    if evaluation.get("passed") is not True or evaluation.get("promote") is not True:
        reasons = list(evaluation.get("reasons") or []) or [
            "the evaluation does not say passed: true, so nothing is promoted"
        ]
        return {
            **out,
            "promoted": False,
            "production": _summary(before) if before else None,
            "reasons": reasons,
        }
    if before is not None and before["model_id"] == candidate_id:  # a retried promotion
        return {
            **out,
            "promoted": True,
            "previous_model_id": (before.get("previous") or [None])[0],
            "production": _summary(before),
            "model_uri": store.uri(store.model_key(candidate_id)),
            "note": "the candidate was already in production",
        }

    artifacts_uri = evaluation.get("model_artifacts") or section(state, "training").get(
        "model_artifacts"
    )
    candidate = read_candidate(str(artifacts_uri))
    training = section(state, "training", required=False)
    store.save_model(
        candidate_id,
        candidate.model_doc,
        candidate.results,
        metadata={
            "source": "retraining pipeline",
            "market": market,
            "run_id": state.get("run_id"),
            "stage": state.get("stage") or settings.stage,
            "training_job": training.get("job_name"),
            "model_artifacts": candidate.uri,
            "training_data_uri": section(state, "validation", required=False).get(
                "training_data_uri", state.get("training_data_uri")
            ),
            "training_metrics": candidate.metrics,
        },
    )
    gate = {
        "passed": True,
        "reason": evaluation.get("reason"),
        "checks": evaluation.get("checks") or [],
        "settings": evaluation.get("settings") or {},
        "production_compared": (evaluation.get("production") or {}).get("model_id"),
    }
    pointer = store.promote(candidate_id, gate)
    return {
        **out,
        "promoted": True,
        "production": _summary(pointer),
        "model_uri": store.uri(store.model_key(candidate_id)),
    }


handler = task_handler("promote", promote)
