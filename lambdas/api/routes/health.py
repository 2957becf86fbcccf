"""``GET /health``: is the service up, and can it reach what it needs?"""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime
from importlib import metadata
from importlib.util import find_spec

from fastapi import APIRouter, Response

from lambdas.api.deps import ServicesDep
from lambdas.api.log import logger
from lambdas.api.routing import JSONRoute
from lambdas.api.schemas.common import error_responses
from lambdas.api.schemas.health import HealthResponse

__all__ = ["LIBRARIES", "router"]

router = APIRouter(tags=["health"], route_class=JSONRoute)

#: The science stack every route but this one needs.
LIBRARIES = ("pandas", "numpy", "scipy", "sklearn", "statsmodels")
_MLFLOW_TIMEOUT_S = 2.0


def platform_version() -> str:
    """The installed ``mmm-platform`` version (``unknown`` when run from a bare checkout)."""
    try:
        return metadata.version("mmm-platform")
    except metadata.PackageNotFoundError:
        return "unknown"


def _mlflow_state() -> str:
    """'not configured', 'not installed', 'available' or 'unreachable' (HTTP servers only)."""
    from mmm_core.tracking import tracking_status

    status = tracking_status()
    if not status["uri"]:
        return "not configured"
    if not status["enabled"]:
        return "not installed"
    uri = str(status["uri"])
    if not uri.startswith(("http://", "https://")):
        return "available"  # a database or folder: mlflow opens it when a fit is logged
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=_MLFLOW_TIMEOUT_S):
            return "available"
    except OSError:
        return "unreachable"


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Service status and dependency checks",
    responses={
        500: error_responses()[500],
        503: {"model": HealthResponse, "description": "A library or the store is missing."},
    },
)
def health(services: ServicesDep, response: Response) -> HealthResponse:
    """Libraries, the store, the production model and MLflow (when configured).

    Answers 200 when the service can work (``healthy``, or ``degraded`` when nothing is in
    production yet or MLflow is unreachable) and 503 (``unhealthy``) when a library is missing
    or the store cannot be read. No API key is needed.
    """
    dependencies = {lib: "available" if find_spec(lib) else "missing" for lib in LIBRARIES}
    unhealthy = any(state == "missing" for state in dependencies.values())
    try:
        pointer = services.store().production()
    except Exception:
        logger.warning("health check: the store cannot be read", exc_info=True)
        dependencies["store"] = "unavailable"
        dependencies["production_model"] = "unknown"
        unhealthy = True
    else:
        dependencies["store"] = "available"
        dependencies["production_model"] = pointer["model_id"] if pointer else "none"
    try:
        dependencies["mlflow"] = _mlflow_state() if not unhealthy else "unknown"
    except Exception:
        logger.warning("health check: MLflow state unknown", exc_info=True)
        dependencies["mlflow"] = "unknown"
    degraded = dependencies["production_model"] == "none" or dependencies["mlflow"] in (
        "unreachable",
        "not installed",
    )
    status = "unhealthy" if unhealthy else "degraded" if degraded else "healthy"
    if unhealthy:
        response.status_code = 503
    return HealthResponse(
        status=status,
        timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        version=platform_version(),
        dependencies=dependencies,
    )
