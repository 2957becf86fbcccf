"""What routes get injected (``Depends``): settings, the store, loaded models, the trainer.

One :class:`Services` object per app holds them, built lazily: the store (and with it the
science core and boto3) is opened on the first request that needs it, not at import, so the
Lambda's cold start and ``/docs`` stay light.

Models are immutable once saved (a model id names one training run), so loaded models are
kept in an LRU cache by id (:class:`ModelCache`) and never refitted or re-read; the production
pointer is cached for ``MMM_PRODUCTION_TTL_SECONDS`` (and dropped at once when this process
promotes).
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import Depends, Request

from lambdas.api.config import Settings
from lambdas.api.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from lambdas.api.training import Trainer

T = TypeVar("T")

#: The compute threads' limiter, one per event loop (uvicorn's; each TestClient's).
_COMPUTE_LIMITER: RunVar[CapacityLimiter] = RunVar("mmm_compute_limiter")

__all__ = [
    "ModelCache",
    "ModelsDep",
    "Services",
    "ServicesDep",
    "SettingsDep",
    "StoreDep",
    "TrainerDep",
    "read_table",
]


class ModelCache:
    """Fitted models by id, least recently used evicted, and the production pointer.

    Parameters
    ----------
    store : callable
        Returns the :class:`~mmm_core.store.ArtifactStore` (opened lazily).
    size : int
        Models kept loaded.
    production_ttl : float
        Seconds the production pointer is trusted before it is read again.
    """

    def __init__(self, store: Callable[[], Any], size: int, production_ttl: float) -> None:
        self._store = store
        self._size = size
        self._ttl = production_ttl
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._pointer: tuple[float, dict[str, Any] | None] | None = None
        self._lock = threading.Lock()

    def production(self) -> dict[str, Any] | None:
        """The production pointer (``{model_id, promoted_at, previous, ...}``) or ``None``."""
        now = time.monotonic()
        with self._lock:
            cached = self._pointer
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        pointer = self._store().production()
        with self._lock:
            self._pointer = (now, pointer)
        return pointer

    def forget_production(self) -> None:
        """Read the pointer again next time (after a promotion)."""
        with self._lock:
            self._pointer = None

    def production_id(self) -> str | None:
        """The id of the model in production, or ``None``."""
        pointer = self.production()
        return pointer["model_id"] if pointer else None

    def resolve(self, model_id: str | None) -> tuple[str, Any]:
        """``(model_id, model)`` for ``model_id``, or for the production model when ``None``.

        Raises
        ------
        NotFoundError
            No such model, or nothing in production.
        ConflictError
            The model is still training, or failed.
        """
        if model_id is None:
            model_id = self.production_id()
            if model_id is None:
                raise NotFoundError(
                    "no model is in production.",
                    hint="pass a model_id, or promote a trained model with "
                    "POST /models/{model_id}/promote.",
                )
        return model_id, self.get(model_id)

    def get(self, model_id: str) -> Any:
        """The fitted model ``model_id`` (an ``EconometricMMM``), from memory or the store."""
        with self._lock:
            model = self._models.get(model_id)
            if model is not None:
                self._models.move_to_end(model_id)
                return model
        store = self._store()
        status = store.get_status(model_id)
        if status["state"] != "ready":
            raise ConflictError(
                f"model {model_id!r} is {status['state']}, not ready.",
                hint="wait until GET /models/{model_id} says ready"
                if status["state"] in ("queued", "training")
                else "train it again (POST /models); GET /models/{model_id} says why it failed.",
            )
        model = store.load_model(model_id)
        with self._lock:
            self._models[model_id] = model
            self._models.move_to_end(model_id)
            while len(self._models) > self._size:
                self._models.popitem(last=False)
        return model


class Services:
    """Everything the routes share, for one app (created by ``create_app``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Any = None
        self._trainer: Trainer | None = None
        self._lock = threading.Lock()
        self.models = ModelCache(
            self.store, settings.model_cache_size, settings.production_ttl_seconds
        )

    def store(self) -> Any:
        """The artifact store (``MMM_DATA_LAKE_URI`` or ``MMM_HOME``), opened on first use."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from mmm_core.store import open_store

                    self._store = open_store(self.settings.store_location)
        return self._store

    def trainer(self) -> Trainer:
        """The training backend (``MMM_TRAINING_BACKEND``), created on first use."""
        if self._trainer is None:
            with self._lock:
                if self._trainer is None:
                    from lambdas.api.training import make_trainer

                    self._trainer = make_trainer(self.settings, self.store)
        return self._trainer

    async def compute(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` in a worker thread, ``MMM_COMPUTE_THREADS`` at once.

        The science is CPU-bound and holds the GIL: a second thread in the same process only
        takes turns with the first, and the hand-overs cost throughput (measured: 16 clients
        on ``/optimization/optimize``, 221 req/s with one compute thread, 171 with two). So
        routes that compute go through this limiter rather than FastAPI's thread pool of 40;
        requests beyond it wait their turn while the event loop keeps reading and answering
        the others, and a server scales with worker processes.
        """
        try:
            limiter = _COMPUTE_LIMITER.get()
        except LookupError:
            limiter = CapacityLimiter(self.settings.compute_threads)
            _COMPUTE_LIMITER.set(limiter)
        call = functools.partial(function, *args, **kwargs)
        return await anyio.to_thread.run_sync(call, limiter=limiter)

    def close(self) -> None:
        """Stop the training worker (queued jobs are marked failed)."""
        if self._trainer is not None:
            self._trainer.close()


async def get_services(request: Request) -> Services:
    """The app's :class:`Services`."""
    return request.app.state.services


async def get_settings(services: Annotated[Services, Depends(get_services)]) -> Settings:
    """The app's settings."""
    return services.settings


def get_store(services: Annotated[Services, Depends(get_services)]) -> Any:
    """The app's artifact store."""
    return services.store()


async def get_models(services: Annotated[Services, Depends(get_services)]) -> ModelCache:
    """The app's loaded models."""
    return services.models


def get_trainer(services: Annotated[Services, Depends(get_services)]) -> Any:
    """The app's training backend."""
    return services.trainer()


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Any, Depends(get_store)]
ModelsDep = Annotated[ModelCache, Depends(get_models)]
TrainerDep = Annotated[Any, Depends(get_trainer)]


def read_table(
    rows: Sequence[dict[str, Any]] | None, dataset: str | None, store: Callable[[], Any]
) -> pd.DataFrame:
    """The table of a request: its inline ``rows``, else the stored ``dataset``.

    Raises
    ------
    mmm_core.store.ArtifactNotFoundError
        No such dataset (answered 404).
    """
    import pandas as pd

    if rows is not None:
        return pd.DataFrame.from_records(rows)
    return store().get_dataset(dataset)
