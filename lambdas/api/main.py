"""The FastAPI application: ``create_app(settings)`` builds it, ``app`` is the default one.

Run locally with ``make serve`` (uvicorn on 127.0.0.1 with the local store), or::

    uvicorn lambdas.api.main:app --host 127.0.0.1 --port 8000

and open http://127.0.0.1:8000/docs. In AWS, :mod:`lambdas.api.handler` wraps ``app`` with
Mangum.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse

from lambdas.api.config import Settings, get_settings
from lambdas.api.deps import Services
from lambdas.api.errors import (
    ApiError,
    MethodNotAllowedError,
    NotFoundError,
    error_response,
    from_validation_errors,
    payload_too_large,
)
from lambdas.api.log import logger
from lambdas.api.middleware import (
    API_KEY_HEADER,
    ApiKeyMiddleware,
    BodySizeLimitMiddleware,
    ErrorMiddleware,
    HeapFreezeMiddleware,
    RequestContextMiddleware,
)
from lambdas.api.routes import (
    attribution,
    health,
    incrementality,
    models,
    optimization,
    performance,
)

__all__ = ["OPEN_PATHS", "app", "create_app"]

#: Paths that need no API key: the health check and the documentation.
OPEN_PATHS = ("/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")

DESCRIPTION = """
Media Mix Modeling: attribution of customer journeys, incrementality of experiments, budget
optimization on trained models, KPI performance analysis, and the models themselves (train,
inspect, predict, promote, report).

Errors answer `{"error": {"type", "message", "code", "timestamp", "request_id"}}` with a 4xx or
5xx status; `code` is stable (see the README's error codes). Requests are limited to 6 MB:
larger tables go to the store and are named by `dataset`. Every response carries
`x-request-id`.
"""

TAGS = [
    {"name": "health", "description": "Service status and dependency checks."},
    {"name": "attribution", "description": "Multi-touch attribution of customer journeys."},
    {"name": "incrementality", "description": "Lift of geo tests and interventions."},
    {"name": "optimization", "description": "Budget plans on a trained model."},
    {"name": "performance", "description": "Trend, seasonality, anomalies, efficiency."},
    {"name": "models", "description": "Train, inspect, predict with, promote and report."},
]


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTP errors (no route, wrong method, body too large) in the error format."""
    assert isinstance(exc, StarletteHTTPException)
    error: ApiError
    if exc.status_code == 404:
        error = NotFoundError(
            f"there is no {request.method} {request.url.path}.",
            hint="see the operations at /docs.",
        )
    elif exc.status_code == 405:
        error = MethodNotAllowedError(
            f"{request.url.path} does not answer {request.method}.",
            hint="see the operations at /docs.",
        )
    elif exc.status_code == 413:
        error = payload_too_large(request.app.state.services.settings.max_body_bytes)
    else:
        error = ApiError(str(exc.detail), code=f"MMM_{exc.status_code}")
        error.status_code = exc.status_code
    request.state.error_code = error.code
    return error_response(error, _request_id(request), headers=dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A body or parameter that does not match the schema: 422 (400 for malformed JSON)."""
    assert isinstance(exc, RequestValidationError)
    error = from_validation_errors(list(exc.errors()))
    request.state.error_code = error.code
    return error_response(error, _request_id(request))


def _document_api_key(app: FastAPI) -> None:
    """Declare the API key in the OpenAPI document (the middleware enforces it)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["ApiKey"] = {
                "type": "apiKey",
                "in": "header",
                "name": API_KEY_HEADER,
            }
            schema["security"] = [{"ApiKey": []}]
            for path, operations in schema.get("paths", {}).items():
                if path in OPEN_PATHS:
                    for operation in operations.values():
                        operation["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API, configured by ``settings`` (default: from the environment).

    Nothing heavy happens here: the store, the science core and the training worker are
    created on first use (see :class:`lambdas.api.deps.Services`).
    """
    settings = settings or get_settings()
    services = Services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title="MMM platform API",
        version=health.platform_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        root_path=settings.root_path,
    )
    app.state.services = services
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for module in (health, attribution, incrementality, optimization, performance, models):
        app.include_router(module.router)

    # Added innermost first: errors are answered inside the API key check, which is inside
    # CORS (so a 401 or a 422 still carries the CORS headers, and preflights pass), and all of
    # it inside the request context (id, logs).
    app.add_middleware(ErrorMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.api_key is not None:
        app.add_middleware(
            ApiKeyMiddleware,
            api_key=settings.api_key.get_secret_value(),
            open_paths=OPEN_PATHS,
        )
        _document_api_key(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", API_KEY_HEADER, "x-request-id"],
            expose_headers=["x-request-id"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(HeapFreezeMiddleware)  # outermost: runs after the response is sent
    if settings.log_level:
        logger.setLevel(settings.log_level.upper())
    return app


app = create_app()
