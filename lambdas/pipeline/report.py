"""Task ``report``: the candidate's executive report and the run's one-paragraph summary.

Whatever the gate decided, the candidate's fit is reported (:func:`mmm_core.reporting.
render_report`: summary JSON, channel CSV, text, HTML) with the decision beside it
(``decision.json``: the gate's checks and why), under ``reports/<candidate model id>/`` in the
reports store. The result carries the files' URIs and a paragraph for the notification.

Input: the market's state with ``evaluation``, ``decision`` (``{"outcome": "promoted" |
"kept", "details": <promote's result>}``) and ``training``.
Output (``$.report``): see :func:`report`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambdas.pipeline.artifacts import read_candidate
from lambdas.pipeline.common import (
    PIPELINE_SCHEMA_VERSION,
    PipelineSettings,
    jsonable,
    market_of,
    section,
    task_handler,
)
from mmm_core.reporting import render_report
from mmm_core.store import check_id

__all__ = ["REPORT_NAMES", "handler", "report", "summary_paragraph"]

#: File name of each document of :func:`mmm_core.reporting.render_report`.
REPORT_NAMES = {
    "executive_summary_json": "executive_summary.json",
    "detailed_csv": "detailed.csv",
    "executive_text": "executive_summary.txt",
    "html": "report.html",
}
DECISION_FILE = "decision.json"


def _percent(value: Any) -> str:
    return f"{value:.2f}%" if isinstance(value, int | float) else "n/a"


def summary_paragraph(
    *,
    stage: str,
    market: str | None,
    run_id: str | None,
    evaluation: Mapping[str, Any],
    outcome: str,
    production_id: str | None,
    headline: Mapping[str, Any],
    report_uri: str,
) -> str:
    """One paragraph for the notification: what was decided, on which numbers, where to read."""
    candidate = evaluation.get("candidate_model_id")
    where = f"market {market}" if market else "the model"
    run = f", run {run_id}" if run_id else ""
    scores = evaluation.get("candidate") or {}
    holdout = scores.get("holdout") or {}
    production = evaluation.get("production") or {}
    prod_holdout = production.get("holdout") or {}
    numbers = f"hold-out MAPE {_percent(holdout.get('mape'))}"
    if holdout.get("periods"):
        numbers += f" over {holdout['periods']} periods"
    if prod_holdout.get("mape") is not None:
        numbers += f" (production {production.get('model_id')}: {_percent(prod_holdout['mape'])})"
    r2 = scores.get("r2_score")
    if isinstance(r2, int | float):
        numbers += f", in-sample R² {r2:.3f}"
    if outcome == "promoted":
        replaced = f", replacing {production_id}" if production_id else ""
        decision = f"candidate {candidate} was promoted to production{replaced}"
    else:
        staying = (
            f"production stays {production_id}" if production_id else "nothing is in production"
        )
        decision = (
            f"candidate {candidate} was not promoted and {staying}; why: "
            f"{evaluation.get('reason') or 'the quality gate did not pass'}"
        )
    best = headline.get("best_channel_by_roi") or {}
    channel = ""
    if best.get("channel") and isinstance(best.get("roi"), int | float):
        channel = f" Best channel by ROI: {best['channel']} ({best['roi']:.2f})."
    return (
        f"MMM retraining ({stage}), {where}{run}: {decision}. Candidate {numbers}.{channel} "
        f"Report: {report_uri}"
    )


def report(state: Mapping[str, Any], settings: PipelineSettings | None = None) -> dict[str, Any]:
    """Write the candidate's report and the decision; return their URIs and a summary.

    Returns
    -------
    dict
        ``schema_version``, ``market``, ``model_id`` (the candidate), ``outcome``
        (``promoted`` or ``kept``), ``production_model_id`` (after the decision),
        ``files`` (``{file name: uri}``) and ``summary`` (one paragraph).

    Raises
    ------
    MMModelError
        A malformed input, an unreadable training output, or results the report cannot use.
    """
    settings = settings or PipelineSettings.from_env()
    market = market_of(state)
    evaluation = section(state, "evaluation")
    decision = section(state, "decision", required=False)
    candidate_id = check_id(str(evaluation.get("candidate_model_id") or ""), "candidate model id")
    outcome = "promoted" if decision.get("outcome") == "promoted" else "kept"
    artifacts_uri = evaluation.get("model_artifacts") or section(state, "training").get(
        "model_artifacts"
    )
    candidate = read_candidate(str(artifacts_uri))
    pointer = settings.models_store(market).production()
    production_id = pointer["model_id"] if pointer else None
    if outcome == "promoted":
        details = decision.get("details") or {}
        replaced = details.get("previous_model_id")
    else:
        replaced = production_id

    rendered = render_report(candidate.results)
    files = {REPORT_NAMES[key]: text for key, text in rendered.items() if key in REPORT_NAMES}
    files[DECISION_FILE] = json.dumps(
        jsonable(
            {
                "schema": "mmm_pipeline.Decision",
                "schema_version": PIPELINE_SCHEMA_VERSION,
                "market": market,
                "run_id": state.get("run_id"),
                "model_id": candidate_id,
                "outcome": outcome,
                "production_model_id": production_id,
                "evaluation": evaluation,
                "decision": decision,
            }
        ),
        indent=2,
    )
    uris = settings.reports_store().put_report(candidate_id, files)
    headline = json.loads(rendered["executive_summary_json"])
    summary = summary_paragraph(
        stage=str(state.get("stage") or settings.stage),
        market=market,
        run_id=state.get("run_id"),
        evaluation=evaluation,
        outcome=outcome,
        production_id=replaced,
        headline=headline,
        report_uri=uris[REPORT_NAMES["html"]],
    )
    return {
        "schema_version": PIPELINE_SCHEMA_VERSION,
        "market": market,
        "model_id": candidate_id,
        "outcome": outcome,
        "production_model_id": production_id,
        "files": uris,
        "summary": summary,
    }


handler = task_handler("report", report)
