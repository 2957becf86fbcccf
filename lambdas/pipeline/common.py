"""What every pipeline task shares: settings and stores, the state document, logging, errors.

Each task module (:mod:`~lambdas.pipeline.validate`, :mod:`~lambdas.pipeline.evaluate`,
:mod:`~lambdas.pipeline.promote`, :mod:`~lambdas.pipeline.report`) holds one plain function,
``state in -> result out``, that tests call directly, and a Lambda ``handler`` made here by
:func:`task_handler` that adds the request's structured log lines and the error conversion.
The tasks' inputs are read by :mod:`~lambdas.pipeline.data` (the market's curated table) and
:mod:`~lambdas.pipeline.artifacts` (the training job's ``model.tar.gz``).

Sections: settings and stores; the task input (the market's state document); JSON; logging;
errors and the handler wrapper.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from mmm_core.errors import Codes, MMModelError
from mmm_core.models.quality_gate import GateSettings
from mmm_core.store import ArtifactStore, check_id, open_store, store_from_env

__all__ = [
    "PIPELINE_SCHEMA_VERSION",
    "PipelineSettings",
    "TaskError",
    "bad_input",
    "error_body",
    "jsonable",
    "log",
    "market_of",
    "section",
    "task_handler",
]

#: Version of every task's result document (``schema_version``).
PIPELINE_SCHEMA_VERSION = 1

#: Environment variables (set by ``cdk/pipeline.py`` from ``DataLake.environment()``).
DATA_LAKE_ENV = "MMM_DATA_LAKE_URI"  # the models bucket's root (or any store root)
MODELS_ENV = "MMM_MODELS_URI"
CURATED_ENV = "MMM_CURATED_URI"
REPORTS_ENV = "MMM_REPORTS_URI"
HOME_ENV = "MMM_HOME"
STAGE_ENV = "MMM_STAGE"
#: Quality-gate thresholds (:class:`~mmm_core.models.quality_gate.GateSettings` fields).
GATE_ENV = {
    "min_r2": "MMM_GATE_MIN_R2",
    "max_holdout_mape": "MMM_GATE_MAX_HOLDOUT_MAPE",
    "max_regression": "MMM_GATE_MAX_REGRESSION",
}

#: Where a market's models and production pointer live, under the models root.
MARKET_STORE_PREFIX = "models/markets"

# --------------------------------------------------------------------------------------------
# Settings and stores.
# --------------------------------------------------------------------------------------------


def _gate_from_env(env: Mapping[str, str]) -> GateSettings:
    values: dict[str, float] = {}
    for name, variable in GATE_ENV.items():
        text = (env.get(variable) or "").strip()
        if not text:
            continue
        try:
            values[name] = float(text)
        except ValueError:
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"{variable}={text!r} is not a number.",
                hint=f"set {variable} to a number (e.g. 0.5), or unset it for the default.",
                details={"variable": variable},
            ) from None
    return GateSettings.from_mapping(values)


@dataclass(frozen=True)
class PipelineSettings:
    """Where the tasks read and write, and the default quality gate.

    Attributes
    ----------
    env : mapping
        The environment the settings were read from.
    stage : str
        ``MMM_STAGE`` (``"local"`` when unset).
    gate : GateSettings
        From ``MMM_GATE_*``, else the library's defaults; a task's input may override them
        with a ``gate`` object.

    Examples
    --------
    >>> settings = PipelineSettings.from_env({"MMM_HOME": "/tmp/mmm"})
    >>> settings.models_store("us")
    LocalStore('/tmp/mmm/models/markets/us')
    """

    env: Mapping[str, str] = field(repr=False)
    stage: str = "local"
    gate: GateSettings = field(default_factory=GateSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PipelineSettings:
        """Settings from ``env`` (default ``os.environ``)."""
        env = dict(os.environ if env is None else env)
        return cls(env=env, stage=env.get(STAGE_ENV) or "local", gate=_gate_from_env(env))

    def _root(self, variable: str | None) -> ArtifactStore:
        uri = (self.env.get(variable) or "").strip() if variable else ""
        return open_store(uri) if uri else self.models_root()

    def models_root(self) -> ArtifactStore:
        """``MMM_DATA_LAKE_URI``, else ``MMM_MODELS_URI``, else ``MMM_HOME`` (else ``./.mmm``)."""
        if not (self.env.get(DATA_LAKE_ENV) or "").strip() and self.env.get(MODELS_ENV):
            return open_store(self.env[MODELS_ENV])
        return store_from_env(self.env)

    def models_store(self, market: str | None) -> ArtifactStore:
        """The store holding ``market``'s models and production pointer.

        Each market has its own (``<models root>/models/markets/<market>/``, the store's
        usual layout inside), so markets retrained in parallel never share a pointer; without
        a market it is the models root itself.
        """
        root = self.models_root()
        if market is None:
            return root
        return open_store(root.uri(f"{MARKET_STORE_PREFIX}/{check_id(market, 'market')}"))

    def curated_store(self) -> ArtifactStore:
        """``MMM_CURATED_URI`` (the curated bucket's root), else the models root."""
        return self._root(CURATED_ENV)

    def reports_store(self) -> ArtifactStore:
        """``MMM_REPORTS_URI`` (the reports bucket's root), else the models root."""
        return self._root(REPORTS_ENV)

    def gate_for(self, state: Mapping[str, Any]) -> GateSettings:
        """The gate for one run: these settings, overridden by the input's ``gate`` object."""
        override = state.get("gate")
        if override is None:
            return self.gate
        if not isinstance(override, Mapping):
            raise bad_input("gate", override, "an object like {'min_r2': 0.5}")
        try:
            return GateSettings.from_mapping({**asdict(self.gate), **dict(override)})
        except (TypeError, ValueError):
            expected = "numbers for min_r2, max_holdout_mape and max_regression"
            raise bad_input("gate", override, expected) from None


# --------------------------------------------------------------------------------------------
# The task input: the market's state document.
# --------------------------------------------------------------------------------------------


def bad_input(key: str, value: Any, expected: str) -> MMModelError:
    """``MMM_006``: the task input's ``key`` holds ``value``, not what was ``expected``."""
    return MMModelError(
        Codes.INVALID_PARAMETER,
        f"the task input's {key!r} is {str(value)[:120]!r}: expected {expected}.",
        hint=f"fix {key!r} in the state machine's input (see lambdas/pipeline/README.md).",
        details={"field": key},
    )


def market_of(state: Mapping[str, Any]) -> str | None:
    """The state's ``market`` (checked: letters, digits, ``.``, ``_``, ``-``), or ``None``."""
    market = state.get("market")
    if market is None:
        return None
    if not isinstance(market, str):
        raise bad_input("market", market, "a market name such as 'us'")
    return check_id(market, "market")


def section(state: Mapping[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
    """``state[key]`` as a dict (a previous task's result), ``MMM_006`` when absent."""
    value = state.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"the task input has no {key!r} object (got {type(value).__name__}).",
            hint=f"run the step that writes $.{key} first; the payloads are in "
            "lambdas/pipeline/README.md.",
            details={"field": key},
        )
    return dict(value)


# --------------------------------------------------------------------------------------------
# JSON.
# --------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A copy of ``value`` that Step Functions accepts: plain JSON, NaN and infinities as null.

    Numpy scalars and arrays become numbers and lists; tuples become lists.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy
        return jsonable(value.tolist())
    return str(value)


# --------------------------------------------------------------------------------------------
# Logging: one JSON object per line (CloudWatch Logs Insights reads the fields).
# --------------------------------------------------------------------------------------------


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json.dumps(jsonable(doc), default=str)


def get_logger() -> logging.Logger:
    """The pipeline's logger: JSON lines on stdout, level ``LOG_LEVEL`` (default INFO)."""
    logger = logging.getLogger("mmm.pipeline")
    if not logger.handlers:
        out = logging.StreamHandler(sys.stdout)
        out.setFormatter(_JsonFormatter())
        logger.addHandler(out)
        logger.propagate = False  # the Lambda runtime's root handler would print it again
    logger.setLevel((os.environ.get("LOG_LEVEL") or "INFO").upper())
    return logger


def log(level: int, message: str, **fields: Any) -> None:
    """Log ``message`` with structured ``fields``."""
    get_logger().log(level, message, extra={"fields": fields})


# --------------------------------------------------------------------------------------------
# Errors and the handler wrapper.
# --------------------------------------------------------------------------------------------


def error_body(exc: BaseException) -> dict[str, Any]:
    """``{"error": {type, code, message, timestamp}}`` for any exception (the API's format).

    ``mmm_core`` errors keep their code, message and hint; anything else is ``MMM_001`` with
    the exception's type and text.
    """
    if isinstance(exc, MMModelError):
        body = exc.to_dict()
        if exc.details:
            body["details"] = jsonable(exc.details)
        return {"error": body}
    return {
        "error": {
            "type": type(exc).__name__,
            "code": Codes.MODEL_ERROR,
            "message": f"unexpected error: {exc}"[:2000],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    }


class TaskError(Exception):
    """Raised by a handler so that its task fails; ``str()`` is the error JSON.

    Each failure is raised as a subclass named like the original error
    (``DataIntegrationError``, ``DeploymentError``, ``KeyError``...): Lambda reports the
    class name as the error (what a state machine's ``Retry``/``Catch`` match) and the
    message, :func:`error_body` as JSON, in the cause.
    """

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = dict(body)
        super().__init__(json.dumps(self.body))


@functools.cache
def _failure_class(name: str) -> type[TaskError]:
    return type(name, (TaskError,), {"__module__": __name__})


def task_handler(
    task: str, run: Callable[[Mapping[str, Any]], Mapping[str, Any]]
) -> Callable[[Any, Any], dict[str, Any]]:
    """The Lambda ``handler(event, context)`` of a task function ``run(state) -> result``.

    It logs the start and the end (with the market, run id and request id), returns the
    result as plain JSON, and turns an exception into a :class:`TaskError` named like it,
    whose message is :func:`error_body`'s JSON.
    """

    def handler(event: Any, context: Any = None) -> dict[str, Any]:
        started = time.perf_counter()
        state = event if isinstance(event, Mapping) else {}
        where = {
            "task": task,
            "market": state.get("market"),
            "run_id": state.get("run_id"),
            "request_id": getattr(context, "aws_request_id", None),
        }
        log(logging.INFO, f"{task}: start", **where)
        try:
            if not isinstance(event, Mapping):
                raise bad_input("event", event, "a JSON object (the market's state)")
            result = jsonable(dict(run(event)))
        except Exception as exc:
            body = error_body(exc)
            body["error"].update(task=task, market=where["market"])
            log(logging.ERROR, f"{task}: failed", **where, **body)
            raise _failure_class(type(exc).__name__)(body) from exc
        log(
            logging.INFO,
            f"{task}: done",
            **where,
            seconds=round(time.perf_counter() - started, 3),
            result_keys=sorted(result),
        )
        return result

    handler.__name__ = f"{task}_handler"
    handler.__doc__ = f"Lambda entry point of the {task!r} task (see {run.__module__})."
    return handler
