"""``/models``: train a model, follow its training, use it, put it in production, report on it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from lambdas.api.deps import (
    ModelCache,
    ModelsDep,
    Services,
    ServicesDep,
    SettingsDep,
    StoreDep,
    TrainerDep,
    read_table,
)
from lambdas.api.errors import ConflictError, InvalidRequestError, NotFoundError
from lambdas.api.gate import evaluate_promotion, gate_settings
from lambdas.api.log import logger
from lambdas.api.routing import JSONRoute
from lambdas.api.schemas.common import ID_PATTERN, error_responses
from lambdas.api.schemas.models import (
    ModelDetail,
    ModelList,
    PredictRequest,
    PredictResponse,
    PromoteRequest,
    PromoteResponse,
    ReportResponse,
    TrainRequest,
    TrainResponse,
)

__all__ = ["router"]

router = APIRouter(prefix="/models", tags=["models"], route_class=JSONRoute)

ModelIdPath = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        description="The model's id (from POST /models or GET /models).",
        examples=["mmm-20250106-093000-a1b2c3"],
    ),
]
ReportFormat = Literal["json", "html", "text", "csv"]
#: Report format -> (key in render_report's output, file suffix, media type).
_REPORTS: dict[str, tuple[str, str, str]] = {
    "json": ("executive_summary_json", "_executive_summary.json", "application/json"),
    "html": ("html", ".html", "text/html; charset=utf-8"),
    "text": ("executive_text", "_executive_summary.txt", "text/plain; charset=utf-8"),
    "csv": ("detailed_csv", "_detailed.csv", "text/csv; charset=utf-8"),
}
_CHANNEL_FIELDS = ("spend", "contribution", "share", "roi", "roi_interval", "mroi")


def _columns_present(frame: Any, body: TrainRequest, spend: list[str]) -> None:
    """422 naming the columns the request names and the table lacks."""
    from mmm_core.errors import suggest_name

    wanted = [body.target_column, *spend, *body.control_columns]
    if body.date_column:
        wanted.append(body.date_column)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        close = {c: suggest_name(c, [str(x) for x in frame.columns]) for c in missing}
        hints = [f"{c!r} -> {s!r}" for c, s in close.items() if s]
        raise InvalidRequestError(
            f"the data have no column {', '.join(repr(c) for c in missing)}.",
            hint=f"did you mean {', '.join(hints)}?"
            if hints
            else f"the data's columns are {[str(c) for c in frame.columns][:30]}.",
            details={"missing_columns": missing},
        )


def _spend_columns(body: TrainRequest, columns: list[str] | None) -> list[str]:
    if body.spend_columns:
        return list(body.spend_columns)
    detected = [c for c in columns or [] if str(c).endswith("_spend")]
    if not detected:
        raise InvalidRequestError(
            "no spend columns were given and none end in '_spend'.",
            hint="list them in spend_columns, e.g. ['tv_spend', 'search_spend'].",
        )
    return detected


@router.post(
    "",
    status_code=202,
    response_model=TrainResponse,
    summary="Train a model (asynchronously)",
    responses=error_responses(404),
)
def train(
    body: TrainRequest, request: Request, response: Response, store: StoreDep, trainer: TrainerDep
) -> Any:
    """Start fitting an ``EconometricMMM`` and answer at once with its id (202).

    The data are inline ``rows``, a stored ``dataset`` (for more than a request can carry) or
    ``synthetic`` (generated with known truth, to try the API). Inline and generated rows are
    stored as the dataset ``training-<model_id>`` beside the model. Locally a worker thread
    fits; in AWS (``MMM_TRAINING_BACKEND=sagemaker``) a SageMaker training job. Poll
    ``GET /models/{model_id}`` until ``ready`` (or ``failed``, with the reason).
    """
    from lambdas.api.training import TrainingJob, training_dataset
    from mmm_core.store import new_model_id

    model_id = new_model_id()
    if body.dataset is not None:
        if body.dataset not in store.list_datasets():
            raise NotFoundError(
                f"no dataset {body.dataset!r} in the store.",
                hint="store it first (ArtifactStore.put_dataset) or send the rows inline.",
            )
        if not body.spend_columns:
            raise InvalidRequestError(
                "spend_columns are needed with a stored dataset.",
                hint="list the dataset's spend columns in spend_columns.",
            )
        dataset, source, spend = body.dataset, "dataset", list(body.spend_columns)
    else:
        if body.synthetic is not None:
            from mmm_core.data.synthetic import generate_mmm_data

            spec = body.synthetic
            frame, _ = generate_mmm_data(
                spec.weeks, spec.channels, seed=spec.seed, noise=spec.noise
            )
            source = "synthetic"
        else:
            frame, source = read_table(body.rows, None, lambda: store), "rows"
        spend = _spend_columns(body, [str(c) for c in frame.columns])
        _columns_present(frame, body, spend)
        dataset = training_dataset(model_id)
        store.put_dataset(dataset, frame)
    job = TrainingJob(
        model_id=model_id,
        dataset=dataset,
        target_column=body.target_column,
        spend_columns=spend,
        control_columns=list(body.control_columns),
        date_column=body.date_column,
        include_synergies=body.include_synergies,
        calibration=[c.model_dump(mode="json", exclude_none=True) for c in body.calibration]
        if body.calibration
        else None,
        hyperparameters=body.hyperparameters.model_dump(),
        metadata={
            "description": body.description,
            "source": source,
            "synthetic": body.synthetic.model_dump() if body.synthetic else None,
        },
    )
    status = trainer.submit(job)
    url = str(request.url_for("get_model", model_id=model_id))
    response.headers["Location"] = url
    logger.info("training submitted", extra={"model_id": model_id, "backend": trainer.backend})
    return {
        "model_id": model_id,
        "job_id": status.get("job_id") or model_id,
        "backend": trainer.backend,
        "status": status,
        "status_url": url,
    }


@router.get("", response_model=ModelList, summary="List models", responses=error_responses())
def list_models(store: StoreDep) -> Any:
    """Every stored model (newest first) with its status, channels and metrics, and which one
    is in production."""
    models = store.list_models()
    production = next((m["model_id"] for m in models if m["production"]), None)
    return {"models": models, "production": production}


def _card(store: Any, model_id: str) -> dict[str, Any]:
    key = f"models/{model_id}/metrics.json"
    card = store.get_json(key) if store.exists(key) else {}
    return card if isinstance(card, dict) else {}


@router.get(
    "/{model_id}",
    response_model=ModelDetail,
    summary="A model's status, metrics and channels",
    responses=error_responses(404),
)
def get_model(
    model_id: ModelIdPath, store: StoreDep, trainer: TrainerDep, models: ModelsDep
) -> Any:
    """Status (``queued``, ``training``, ``ready``, ``failed`` with the error), fit metrics
    (in-sample and hold-out R², MAPE, RMSE) and, once ready, each channel's spend,
    contribution, share, ROI with its 90% interval and marginal ROI."""
    status = store.get_status(model_id)
    if status.get("state") in ("queued", "training") and status.get("backend") == trainer.backend:
        status = trainer.refresh(model_id, status)
    card = _card(store, model_id)
    detail: dict[str, Any] = {
        "model_id": model_id,
        "status": status,
        "production": models.production_id() == model_id,
        "created": card.get("created"),
        "channels": card.get("channels", []),
        "metrics": card.get("metrics", {}),
        "metadata": card.get("metadata", {}),
    }
    if status["state"] == "ready":
        results = store.load_results(model_id)
        channels = results.get("channels") or {}
        detail["channel_results"] = {
            name: {k: entry.get(k) for k in _CHANNEL_FIELDS} for name, entry in channels.items()
        }
        if not detail["channels"]:
            detail["channels"] = list(channels)
    return detail


@router.post(
    "/{model_id}/predict",
    response_model=PredictResponse,
    summary="Predict the KPI for given spend",
    responses=error_responses(404, 409),
)
async def predict(
    model_id: ModelIdPath, body: PredictRequest, services: ServicesDep, models: ModelsDep
) -> Any:
    """The model's predicted KPI for each row (spend per channel, and the controls it was
    fitted with; dates continue the trend and season). Carry-over is computed from the rows'
    own spend history. ``include_decomposition`` adds the baseline and each channel's part."""
    return await services.compute(_predict, model_id, body, services, models)


def _predict(
    model_id: str, body: PredictRequest, services: Services, models: ModelCache
) -> dict[str, Any]:
    model = models.get(model_id)
    frame = read_table(body.rows, body.dataset, services.store)
    predictions = model.predict(frame)
    out: dict[str, Any] = {"model_id": model_id, "predictions": predictions.tolist()}
    if body.include_decomposition:
        parts = model.decompose(frame)
        out["decomposition"] = {str(c): parts[c].tolist() for c in parts.columns}
    return out


@router.post(
    "/{model_id}/promote",
    response_model=PromoteResponse,
    summary="Put a model in production if it passes the quality gate",
    responses=error_responses(404, 409),
)
def promote(
    model_id: ModelIdPath,
    store: StoreDep,
    models: ModelsDep,
    settings: SettingsDep,
    body: Annotated[PromoteRequest | None, Body()] = None,
) -> Any:
    """Evaluate the quality gate and, when it passes, make this the production model.

    The gate (``MMM_GATE_*``): in-sample R² above a floor, hold-out MAPE under a ceiling and
    no more than a tolerance worse than the production model's on the same hold-out periods,
    usable ROI intervals. A failed gate answers 409 with every reason, and production stays as
    it was. ``dry_run`` evaluates the gate only. The model served before stays stored (the
    pointer remembers it for a rollback).
    """
    state = store.get_status(model_id)["state"]
    if state != "ready":
        raise ConflictError(
            f"model {model_id!r} is {state}, not ready: it cannot be promoted.",
            hint="wait until GET /models/{model_id} says ready.",
        )
    pointer = store.production()
    if pointer is not None and pointer["model_id"] == model_id:
        return {
            "model_id": model_id,
            "promoted": True,
            "gate": pointer.get("gate") or {"passed": True},
            "production": pointer,
        }
    candidate = store.load_results(model_id)
    production_model = production_results = data = None
    if pointer is not None:
        try:
            production_model = models.get(pointer["model_id"])
            production_results = store.load_results(pointer["model_id"])
        except Exception:
            logger.warning("production model unreadable; gate uses floors only", exc_info=True)
        dataset = ((_card(store, model_id).get("metadata") or {}).get("training") or {}).get(
            "dataset"
        )
        if dataset and dataset in store.list_datasets():
            data = store.get_dataset(dataset)
    verdict = evaluate_promotion(
        candidate,
        production_model=production_model,
        data=data,
        production_results=production_results,
        settings=gate_settings(settings),
    )
    if body is not None and body.dry_run:
        return {"model_id": model_id, "promoted": False, "gate": verdict, "production": pointer}
    if not verdict["passed"]:
        raise ConflictError(
            f"model {model_id!r} did not pass the quality gate: {'; '.join(verdict['reasons'])}. "
            "Production is unchanged.",
            hint="improve the model (more data, calibration) or adjust MMM_GATE_* settings.",
            details={"gate": verdict},
        )
    new_pointer = store.promote(model_id, verdict)
    models.forget_production()
    logger.info("model promoted", extra={"model_id": model_id})
    return {"model_id": model_id, "promoted": True, "gate": verdict, "production": new_pointer}


@router.get(
    "/{model_id}/report",
    response_model=ReportResponse,
    summary="The model's executive report (JSON, HTML, text or CSV)",
    responses={
        **error_responses(404, 409),
        200: {
            "description": "The executive summary as JSON, or the report document itself.",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
    },
)
async def get_report(
    model_id: ModelIdPath,
    store: StoreDep,
    services: ServicesDep,
    report_format: Annotated[
        ReportFormat, Query(alias="format", description="json, html, text or csv.")
    ] = "json",
) -> Any:
    """The executive report of a ready model: ``json`` (the summary: headline ROI, channel
    ranking, recommendations), ``html`` (self-contained, with figures), ``text`` (plain
    English) or ``csv`` (per-channel detail). Rendered once, then kept in the store under
    ``reports/<model_id>/`` (with the budget plan when one was saved beside the model)."""
    return await services.compute(_report, model_id, report_format, store)


def _report(model_id: str, report_format: str, store: Any) -> Any:
    import json

    state = store.get_status(model_id)["state"]
    if state != "ready":
        raise ConflictError(
            f"model {model_id!r} is {state}, not ready: it has no report yet.",
            hint="wait until GET /models/{model_id} says ready.",
        )
    key, suffix, media_type = _REPORTS[report_format]
    name = f"{model_id}{suffix}"
    stored = f"reports/{model_id}/{name}"
    if store.exists(stored):
        text = store.get_bytes(stored).decode("utf-8")
    else:
        from mmm_core.reporting import render_report

        results = dict(store.load_results(model_id))
        plan_key = f"models/{model_id}/optimization.json"
        if store.exists(plan_key):
            results["optimization"] = store.get_json(plan_key)
        documents = render_report(results)
        files = {f"{model_id}{_REPORTS[f][1]}": documents[_REPORTS[f][0]] for f in _REPORTS}
        store.put_report(model_id, files)
        text = documents[key]
    if report_format == "json":
        return {"model_id": model_id, "summary": json.loads(text), "formats": list(_REPORTS)}
    return PlainTextResponse(text, media_type=media_type)
