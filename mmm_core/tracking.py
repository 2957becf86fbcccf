"""Optional experiment tracking with MLflow: one run per fit, off unless configured.

When ``MLFLOW_TRACKING_URI`` is set (``MLFLOW_EXPERIMENT_NAME`` and
``MLFLOW_ARTIFACT_LOCATION`` optional) and ``mlflow`` is installed (the ``tracking`` extra), the
adapters that fit models (the ``mmm`` CLI, the SageMaker training job, the API's training worker)
call :func:`log_fit`, which records in one run: the model's settings as parameters, fit metrics
(in-sample and hold-out) and per-channel ROI as metrics, and the JSON model, its results and
any report files as artifacts; with ``register_as`` the model is registered under that name.
Without the variable, or without mlflow, nothing is logged and nothing fails:
:func:`tracking_status` says which, for ``/health`` and ``mmm``.

The science code never calls this module: fitting stays free of I/O.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from mmm_core.errors import Codes, MMModelError

ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
DEFAULT_EXPERIMENT = "mmm"
ARTIFACTS_ENV = "MLFLOW_ARTIFACT_LOCATION"


def _artifacts_beside(uri: str) -> str | None:
    """For a ``sqlite:///path.db`` store, artifacts in ``mlartifacts/`` next to the database
    (mlflow's own default is ``./mlruns`` in whatever folder the process runs from)."""
    if uri.startswith("sqlite:///"):
        return (Path(uri[len("sqlite:///") :]).resolve().parent / "mlartifacts").as_uri()
    return None  # a tracking server decides


def tracking_status(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Whether fits are tracked: ``{"enabled", "uri", "reason"}``."""
    env = os.environ if env is None else env
    uri = env.get(ENV)
    if not uri:
        return {"enabled": False, "uri": None, "reason": f"{ENV} is not set"}
    if find_spec("mlflow") is None:
        return {
            "enabled": False,
            "uri": uri,
            "reason": "mlflow is not installed (pip install 'mmm-platform[tracking]')",
        }
    return {"enabled": True, "uri": uri, "reason": None}


def _flat_params(config: Mapping[str, Any]) -> dict[str, str]:
    """MLflow parameters are strings of at most 6,000 characters."""
    out = {}
    for key, value in config.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        out[key] = text[:6000]
    return out


def _metrics(results: Mapping[str, Any]) -> dict[str, float]:
    perf = results.get("performance", {})
    out = {f"{k}": float(v) for k, v in perf.items() if isinstance(v, int | float)}
    holdout = perf.get("holdout") or {}
    out.update({f"holdout_{k}": float(v) for k, v in holdout.items() if isinstance(v, int | float)})
    for col, channel in results.get("channels", {}).items():
        for key in ("roi", "mroi", "share"):
            if isinstance(channel.get(key), int | float):
                out[f"{key}.{col}"] = float(channel[key])
        interval = channel.get("roi_interval")
        if interval:
            out[f"roi_lo.{col}"], out[f"roi_hi.{col}"] = (float(v) for v in interval)
    search = results.get("diagnostics", {}).get("search", {})
    for key in ("candidates_evaluated", "seconds", "cv_rmse"):
        if isinstance(search.get(key), int | float):
            out[f"search_{key}"] = float(search[key])
    return out


def log_fit(
    model: Any,
    results: Mapping[str, Any],
    *,
    run_name: str | None = None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    tags: Mapping[str, str] | None = None,
    register_as: str | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """Log one fit as an MLflow run, if tracking is on; else return ``None``.

    Parameters
    ----------
    model : EconometricMMM
        The fitted model (its settings become parameters; its JSON an artifact).
    results : dict
        What ``fit`` returned.
    run_name : str, optional
        E.g. the model id.
    artifacts : dict, optional
        Extra files to attach, by artifact name (report HTML, plan JSON...).
    tags : dict, optional
    register_as : str, optional
        Register the model JSON under this name in the model registry.

    Returns
    -------
    dict or None
        ``{"run_id", "experiment_id", "uri", "registered_version"}``.

    Raises
    ------
    MMModelError
        ``MMM_001`` when tracking is on but the server refuses the run (the fit itself is not
        affected: callers report it and go on).
    """
    status = tracking_status(env)
    if not status["enabled"]:
        return None
    import mlflow

    try:
        mlflow.set_tracking_uri(status["uri"])
        name = (env or os.environ).get(EXPERIMENT_ENV, DEFAULT_EXPERIMENT)
        if mlflow.get_experiment_by_name(name) is None:
            location = (env or os.environ).get(ARTIFACTS_ENV) or _artifacts_beside(status["uri"])
            mlflow.create_experiment(name, artifact_location=location)
        mlflow.set_experiment(name)
        with mlflow.start_run(run_name=run_name) as run, tempfile.TemporaryDirectory() as tmp:
            mlflow.set_tags({"framework": "mmm_core", **(tags or {})})
            mlflow.log_params(_flat_params(model.get_params()))
            mlflow.log_metrics(_metrics(results))
            folder = Path(tmp)
            model_path = model.save(folder / "model.json")
            (folder / "results.json").write_text(json.dumps(results, allow_nan=False))
            mlflow.log_artifact(str(model_path), artifact_path="model")
            mlflow.log_artifact(str(folder / "results.json"), artifact_path="model")
            for name, path in (artifacts or {}).items():
                mlflow.log_artifact(os.fspath(path), artifact_path=name)
            version = None
            if register_as:
                # The model is plain JSON, not an MLflow flavour: register the run's artifact
                # folder as a version directly.
                client = mlflow.tracking.MlflowClient()
                try:
                    client.get_registered_model(register_as)
                except mlflow.exceptions.MlflowException:
                    client.create_registered_model(register_as)
                registered = client.create_model_version(
                    register_as, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
                )
                version = int(registered.version)
            return {
                "run_id": run.info.run_id,
                "experiment_id": run.info.experiment_id,
                "uri": status["uri"],
                "registered_version": version,
            }
    except Exception as exc:  # mlflow raises many types; the fit must not be lost for it
        raise MMModelError(
            Codes.MODEL_ERROR,
            f"MLflow tracking at {status['uri']!r} failed: {type(exc).__name__}: {exc}",
            hint=f"check {ENV} and that the tracking server is reachable, or unset it.",
        ) from exc
