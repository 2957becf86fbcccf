"""The API's ASGI middleware: request id, structured access log, error mapping, API key.

All of it is plain ASGI (no ``BaseHTTPMiddleware``), so exceptions, context variables and
streaming behave as without it. Order, outermost first (see :func:`lambdas.api.main.create_app`)::

    RequestContextMiddleware   request id, log keys, one access-log line
    CORSMiddleware             only when MMM_CORS_ORIGINS is set (closed by default)
    ApiKeyMiddleware           only when MMM_API_KEY is set (401 before the body is read)
    BodySizeLimitMiddleware    MMM_MAX_BODY_BYTES (413), by Content-Length or as bytes arrive
    ErrorMiddleware            exceptions from the routes -> the error JSON
    FastAPI's exception handlers (validation, HTTP errors) and the routes

Errors are answered inside CORS, so a browser can read a 401 or a 422 as well as a 200.
"""

from __future__ import annotations

import gc
import hmac
import re
import sys
import time
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lambdas.api.errors import (
    ApiError,
    PayloadTooLargeError,
    UnauthorizedError,
    error_response,
    payload_too_large,
    status_of,
)
from lambdas.api.log import logger, request_context

__all__ = [
    "API_KEY_HEADER",
    "REQUEST_ID_HEADER",
    "ApiKeyMiddleware",
    "BodySizeLimitMiddleware",
    "ErrorMiddleware",
    "HeapFreezeMiddleware",
    "RequestContextMiddleware",
]

REQUEST_ID_HEADER = "x-request-id"
API_KEY_HEADER = "x-api-key"
#: A client's request id is kept when it looks like one (else a new one is made).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")


def _route_path(scope: Scope) -> str:
    """The path without the root path (``/health`` whether or not served under ``/v1``)."""
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def _request_id(scope: Scope) -> str:
    """The client's ``x-request-id``, else API Gateway's request id, else a new UUID."""
    given = Headers(scope=scope).get(REQUEST_ID_HEADER)
    if given and _REQUEST_ID.fullmatch(given):
        return given
    event = scope.get("aws.event")
    if isinstance(event, dict):
        gateway_id = (event.get("requestContext") or {}).get("requestId")
        if isinstance(gateway_id, str) and _REQUEST_ID.fullmatch(gateway_id):
            return gateway_id
    return uuid.uuid4().hex


async def _answer_error(
    exc: Exception, scope: Scope, receive: Receive, send: Send, started: bool
) -> None:
    """Log ``exc`` (with its traceback when unexpected) and send its error JSON."""
    state = scope.setdefault("state", {})
    if started:  # too late for an error body: let the server close the connection
        logger.exception("response failed after it started")
        raise exc
    state["error_code"] = getattr(exc, "code", None) or "MMM_500"
    if status_of(exc) >= 500:
        failure = {"error_type": type(exc).__name__, "error_code": state["error_code"]}
        if isinstance(exc, ApiError):  # raised on purpose: its message says it all
            logger.error(f"request failed: {exc.message}", extra=failure)
        else:
            logger.exception("request failed", extra=failure)
    await error_response(exc, state.get("request_id"))(scope, receive, send)


def _tracking(send: Send, on_start: Any = None) -> tuple[Send, dict[str, Any]]:
    """``send`` that records the response status (and calls ``on_start`` on its headers)."""
    seen: dict[str, Any] = {"status": 500, "started": False}

    async def tracked(message: Message) -> None:
        if message["type"] == "http.response.start":
            seen["status"], seen["started"] = message["status"], True
            if on_start is not None:
                on_start(message)
        await send(message)

    return tracked, seen


class RequestContextMiddleware:
    """Gives every request an id and logs it once.

    The id is the client's ``x-request-id`` when it has a sane one, else API Gateway's
    ``requestContext.requestId`` (so API Gateway's access logs and ours join), else a new
    UUID; it is echoed in the ``x-request-id`` response header, bound to every log record of
    the request, and written in error bodies. One ``request`` record per request says method,
    route, status, duration and error code. Exceptions are answered by :class:`ErrorMiddleware`
    further in; any that still got here (a failing middleware) is answered the same way.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        keys: dict[str, Any] = {"request_id": request_id}
        context = scope.get("aws.context")
        if getattr(context, "aws_request_id", None):
            keys["lambda_request_id"] = context.aws_request_id

        def add_id(message: Message) -> None:
            MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)

        tracked, seen = _tracking(send, add_id)
        started = time.perf_counter()
        with request_context(**keys):
            try:
                await self.app(scope, receive, tracked)
            except Exception as exc:
                if seen["started"]:  # logged where it was raised; nothing more to send
                    raise
                await _answer_error(exc, scope, receive, tracked, started=False)
            finally:
                route = scope.get("route")
                logger.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": _route_path(scope),
                        "route": getattr(route, "path", None),
                        "status": seen["status"],
                        "duration_ms": round(1000 * (time.perf_counter() - started), 2),
                        **({"error_code": state["error_code"]} if "error_code" in state else {}),
                    },
                )


class ErrorMiddleware:
    """Answers every exception no FastAPI handler took with the reference's error JSON.

    :class:`mmm_core.errors.MMModelError` (the core's), :class:`~lambdas.api.errors.ApiError`
    (the API's) and anything unexpected; see :func:`lambdas.api.errors.error_response`. Server
    errors are logged with their traceback, under the request id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked, seen = _tracking(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            await _answer_error(exc, scope, receive, tracked, seen["started"])


class ApiKeyMiddleware:
    """Refuses requests without the right ``x-api-key`` (401), before their body is read.

    Only installed when ``MMM_API_KEY`` is set (local and self-hosted runs; in AWS, API Gateway
    authenticates with IAM). Open paths (health, docs) and CORS preflights pass. Keys are
    compared in constant time; the key is never logged.
    """

    def __init__(self, app: ASGIApp, api_key: str, open_paths: Iterable[str] = ()) -> None:
        self.app = app
        self._key = api_key.encode("utf-8")
        self._open = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") != "OPTIONS"
            and _route_path(scope) not in self._open
        ):
            given = Headers(scope=scope).get(API_KEY_HEADER)
            refusal = None
            if not given:
                refusal = UnauthorizedError(
                    "this API needs an API key.", hint=f"send it in the {API_KEY_HEADER} header."
                )
            elif not hmac.compare_digest(given.encode("utf-8"), self._key):
                refusal = UnauthorizedError(
                    "the API key is not valid.",
                    hint=f"check the key sent in the {API_KEY_HEADER} header.",
                )
            if refusal is not None:
                state = scope.setdefault("state", {})
                state["error_code"] = refusal.code
                await error_response(refusal, state.get("request_id"))(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _BodyTooLarge(HTTPException):
    """Raised while the body is read: FastAPI passes HTTP errors on to their handler (413)."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodySizeLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413, before reading them when they say their size.

    Lambda refuses invocation payloads over 6 MB, so larger inputs go to the store and are
    named (``dataset``). A request whose ``Content-Length`` is over the limit is answered at
    once; one without (chunked) is counted as it arrives and refused when it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            state = scope.setdefault("state", {})
            state["error_code"] = PayloadTooLargeError.default_code
            refusal = payload_too_large(self.max_bytes)
            await error_response(refusal, state.get("request_id"))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge()
            return message

        await self.app(scope, counted, send)


class HeapFreezeMiddleware:
    """Keep Python's full garbage collections cheap on a long-lived server.

    The science stack (numpy, pandas, scipy...) leaves a heap of millions of objects that never
    die, and every full collection walks all of them: with request bodies of thousands of
    journeys, one request in six paid about 60 ms for it. After a request that imported new
    modules (each route's first, as the science is imported lazily), this collects once and
    ``gc.freeze()``s what is alive, so later collections skip it. Measured on
    ``/attribution/analyze`` with 1,000 journeys: p95 78 ms -> 28 ms, worst 85 ms -> 30 ms.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.modules_seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and len(sys.modules) != self.modules_seen:
            self.modules_seen = len(sys.modules)
            gc.collect()
            gc.freeze()
