"""Training models for ``POST /models``: one small interface, a local and a SageMaker backend.

Every job trains from a dataset in the store (inline rows are stored as one first, so the data
of every model stay next to it and the quality gate can score production on the same hold-out)
and reports through the store's model status: ``queued`` -> ``training`` -> ``ready`` (model,
results and card saved) or ``failed`` (with the error's code and message).

- :class:`LocalTrainer` (``MMM_TRAINING_BACKEND=local``, the default): a worker thread fits
  :class:`mmm_core.EconometricMMM`. For ``make serve`` and tests; not for Lambda, which freezes
  a function between invocations.
- :class:`SageMakerTrainer` (``sagemaker``): starts a SageMaker training job running
  ``sagemaker_jobs.train`` through :class:`sagemaker_jobs.deployment.MMMSageMakerDeployment`;
  :meth:`~SageMakerTrainer.refresh` reads the job's state when a client asks for the model's
  status, and imports the finished model into the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from lambdas.api.config import Settings
from lambdas.api.errors import ServiceUnavailableError
from lambdas.api.log import logger

__all__ = [
    "LocalTrainer",
    "SageMakerTrainer",
    "Trainer",
    "TrainingJob",
    "make_trainer",
    "training_dataset",
]


def training_dataset(model_id: str) -> str:
    """The store dataset holding the data ``model_id`` was trained on."""
    return f"training-{model_id}"


@dataclass(frozen=True)
class TrainingJob:
    """One fit: where its data are and how to fit them.

    ``dataset`` names a dataset in the store; ``hyperparameters`` are ``EconometricMMM``'s
    constructor arguments; the rest are ``fit``'s arguments.
    """

    model_id: str
    dataset: str
    target_column: str
    spend_columns: list[str]
    control_columns: list[str] = field(default_factory=list)
    date_column: str | None = None
    include_synergies: bool = False
    calibration: list[dict[str, Any]] | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The job as the model's card and status remember it (no data)."""
        out = asdict(self)
        out.pop("metadata")
        return out


class Trainer(Protocol):
    """What ``POST /models`` needs from a training backend."""

    backend: str

    def submit(self, job: TrainingJob) -> dict[str, Any]:
        """Start ``job``; return the model's status (``queued``) with its ``job_id``."""
        ...

    def refresh(self, model_id: str, status: Mapping[str, Any]) -> dict[str, Any]:
        """The model's status brought up to date with the backend (may import the model)."""
        ...

    def close(self) -> None:
        """Stop taking jobs (the process is ending)."""
        ...


def _failure(exc: BaseException) -> dict[str, Any]:
    """The ``failed`` status of an exception: the core's code and message, or a generic one."""
    to_dict = getattr(exc, "to_dict", None)
    if callable(to_dict) and hasattr(exc, "code"):
        error = to_dict()
        return {"state": "failed", "message": error["message"], "error": error}
    return {
        "state": "failed",
        "message": "training failed on an unexpected error (see the server log).",
        "error": {"type": "InternalError", "code": "MMM_500", "message": "unexpected error"},
    }


class LocalTrainer:
    """Fits in a thread pool of this process (``MMM_TRAINING_WORKERS`` threads).

    Parameters
    ----------
    store : callable
        Returns the artifact store.
    workers : int, default 1
    """

    backend = "local"

    def __init__(self, store: Callable[[], Any], workers: int = 1) -> None:
        self._store = store
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mmm-train")
        self._pending: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def submit(self, job: TrainingJob) -> dict[str, Any]:
        status = self._store().set_status(
            job.model_id,
            {"state": "queued", "backend": self.backend, "job_id": job.model_id},
        )
        future = self._executor.submit(self._run, job)
        with self._lock:
            self._pending[job.model_id] = future
        future.add_done_callback(lambda _: self._forget(job.model_id))
        return status

    def _forget(self, model_id: str) -> None:
        with self._lock:
            self._pending.pop(model_id, None)

    def refresh(self, model_id: str, status: Mapping[str, Any]) -> dict[str, Any]:
        return dict(status)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the jobs submitted so far (tests, shutdown)."""
        with self._lock:
            futures = list(self._pending.values())
        for future in futures:
            future.exception(timeout=timeout)

    def _run(self, job: TrainingJob) -> None:
        store = self._store()
        base = {"backend": self.backend, "job_id": job.model_id}
        try:
            store.set_status(job.model_id, {"state": "training", **base})
            fit_and_save(store, job)
            store.set_status(job.model_id, {"state": "ready", **base})
            logger.info("model trained", extra={"model_id": job.model_id})
        except Exception as exc:
            failed = {**_failure(exc), **base}
            if "error" in failed and failed["error"].get("code") == "MMM_500":
                logger.exception("training failed", extra={"model_id": job.model_id})
            else:
                logger.info(
                    "training refused the data",
                    extra={"model_id": job.model_id, "error_code": failed["error"]["code"]},
                )
            try:
                store.set_status(job.model_id, failed)
            except Exception:
                logger.exception("could not record the failure", extra={"model_id": job.model_id})

    def close(self) -> None:
        with self._lock:
            cancelled = [mid for mid, f in self._pending.items() if f.cancel()]
        self._executor.shutdown(wait=True, cancel_futures=True)
        for model_id in cancelled:
            try:
                self._store().set_status(
                    model_id,
                    {
                        "state": "failed",
                        "backend": self.backend,
                        "job_id": model_id,
                        "message": "the server stopped before this job ran; train again.",
                    },
                )
            except Exception:
                logger.exception("could not record the cancellation", extra={"model_id": model_id})


def fit_and_save(store: Any, job: TrainingJob) -> dict[str, Any]:
    """Fit ``job`` on its dataset, save the model (status ``ready``) and return its card.

    Logs the fit to MLflow when ``MLFLOW_TRACKING_URI`` is set (a tracking failure is logged,
    not fatal).
    """
    from mmm_core.models.econometric_mmm import EconometricMMM

    frame = store.get_dataset(job.dataset)
    model = EconometricMMM(**job.hyperparameters)
    results = model.fit(
        frame,
        job.target_column,
        job.spend_columns,
        job.include_synergies,
        control_columns=job.control_columns or None,
        date_column=job.date_column,
        calibration=job.calibration,
    )
    card = store.save_model(
        job.model_id,
        model.to_dict(),
        results,
        metadata={**job.metadata, "training": job.describe()},
    )
    _track(model, results, job.model_id)
    return card


def _track(model: Any, results: Mapping[str, Any], model_id: str) -> None:
    from mmm_core.tracking import log_fit, tracking_status

    if not tracking_status()["enabled"]:
        return
    try:
        log_fit(model, results, run_name=model_id, tags={"model_id": model_id, "source": "api"})
    except Exception:
        logger.exception("MLflow tracking failed; the model is saved", extra={"model_id": model_id})


class SageMakerTrainer:
    """Trains in SageMaker: the dataset in the (S3) store is the job's ``training`` channel.

    Parameters
    ----------
    store : callable
        Returns the artifact store; it must be an S3 store (SageMaker reads and writes S3).
    settings : Settings
        Role, image, instance type and region.
    deployment : MMMSageMakerDeployment, optional
        Injected in tests; default one built from ``settings``.
    """

    backend = "sagemaker"

    def __init__(
        self, store: Callable[[], Any], settings: Settings, deployment: Any = None
    ) -> None:
        self._store = store
        self._settings = settings
        self._deployment = deployment

    @property
    def deployment(self) -> Any:
        if self._deployment is None:
            from sagemaker_jobs.deployment import MMMSageMakerDeployment

            store = self._store()
            self._deployment = MMMSageMakerDeployment(
                region_name=self._settings.aws_region,
                bucket_name=getattr(store, "bucket", None),
                role_arn=self._settings.sagemaker_role_arn,
                image_uri=self._settings.sagemaker_image_uri,
            )
        return self._deployment

    def _s3_store(self) -> Any:
        store = self._store()
        if not store.uri("models").startswith("s3://"):
            raise ServiceUnavailableError(
                "SageMaker training needs the store in S3, and this one is local.",
                hint="set MMM_DATA_LAKE_URI=s3://bucket/prefix, or MMM_TRAINING_BACKEND=local.",
            )
        return store

    def submit(self, job: TrainingJob) -> dict[str, Any]:
        from sagemaker_jobs.train import encode_hyperparameters

        store = self._s3_store()
        hyperparameters = {
            "target_column": job.target_column,
            "spend_columns": job.spend_columns,
            "control_columns": job.control_columns or None,
            "date_column": job.date_column,
            "include_synergies": job.include_synergies,
            "calibration": job.calibration,
            "standardise_columns": False,
            **job.hyperparameters,
        }
        encode_hyperparameters(hyperparameters)  # refuse what the job would refuse, now
        status = store.set_status(
            job.model_id,
            {"state": "queued", "backend": self.backend, "job_id": job.model_id},
        )
        metadata = {**job.metadata, "training": job.describe()}
        store.put_json(f"models/{job.model_id}/job.json", metadata)
        try:
            self.deployment.start_training_job(
                job.model_id,
                store.uri(f"curated/{job.dataset}") + "/",
                store.uri(f"models/{job.model_id}") + "/training",
                hyperparameters,
                self._settings.sagemaker_instance_type,
            )
        except Exception as exc:
            store.set_status(
                job.model_id, {**_failure(exc), "backend": self.backend, "job_id": job.model_id}
            )
            raise
        return status

    def refresh(self, model_id: str, status: Mapping[str, Any]) -> dict[str, Any]:
        if status.get("state") not in ("queued", "training") or status.get("backend") != (
            self.backend
        ):
            return dict(status)
        store = self._store()
        job = self.deployment.describe_training_job(status.get("job_id") or model_id)
        base = {"backend": self.backend, "job_id": status.get("job_id") or model_id}
        state = job.get("status")
        if state in ("InProgress", "Stopping"):
            if status.get("state") == "training":
                return dict(status)
            message = job.get("secondary_status") or ""
            return store.set_status(model_id, {"state": "training", **base, "message": message})
        if state == "Completed":
            return self._import(store, model_id, job, base)
        reason = job.get("failure_reason") or f"the training job ended {state}."
        return store.set_status(
            model_id,
            {
                "state": "failed",
                **base,
                "message": reason,
                "error": {"type": "TrainingJobFailed", "code": _code_in(reason), "message": reason},
            },
        )

    def _import(
        self, store: Any, model_id: str, job: Mapping[str, Any], base: dict[str, Any]
    ) -> dict[str, Any]:
        """Copy the finished job's model into the store (``model.json``, results, card)."""
        model = self.deployment.load_model_artifacts(job["model_artifacts"])
        metadata = store.get_json(f"models/{model_id}/job.json")
        metadata["sagemaker"] = {
            "training_job_name": job.get("training_job_name"),
            "model_artifacts": job.get("model_artifacts"),
            "final_metrics": job.get("final_metrics"),
            "billable_seconds": job.get("billable_seconds"),
        }
        store.save_model(model_id, model.to_dict(), getattr(model, "results_", None), metadata)
        logger.info("model imported from SageMaker", extra={"model_id": model_id})
        return store.set_status(model_id, {"state": "ready", **base})

    def close(self) -> None:
        return None


def _code_in(reason: str) -> str:
    """The ``MMM_xxx`` code a training job's failure reason starts with, else ``MMM_300``."""
    text = reason.strip()
    if text.startswith("[MMM_") and "]" in text:
        return text[1 : text.index("]")]
    return "MMM_300"


def make_trainer(settings: Settings, store: Callable[[], Any]) -> Trainer:
    """The backend ``MMM_TRAINING_BACKEND`` names."""
    if settings.training_backend == "sagemaker":
        return SageMakerTrainer(store, settings)
    return LocalTrainer(store, settings.training_workers)
