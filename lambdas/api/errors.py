"""Errors of the API, and the one function that turns any exception into the reference's JSON.

Every error response is ``{"error": {"type", "message", "code", "timestamp", "request_id"}}``
(the reference's four keys plus the request id) with a 4xx/5xx status. Exceptions come from
two families that share one contract (``code``, ``message``, ``hint``, ``details``,
``to_dict()``):

- :class:`mmm_core.errors.MMModelError` and its subclasses, raised by the science core; their
  status follows :func:`status_of`;
- :class:`ApiError` and its subclasses, raised by the API itself (not found, conflict, auth,
  bad request...), each with its status.

``mmm_core`` is looked up in ``sys.modules`` rather than imported: an ``MMModelError`` can only
exist once a route has imported the core, and importing it here would cost the Lambda's cold
start a second and a half.

Client errors (4xx) say what is wrong and how to fix it. Server errors (5xx) never show a
traceback or an internal message: the client gets a generic message with the request id, and
the log gets the traceback under the same id. (The API's own 5xx, such as a SageMaker backend
configured without an S3 store, keep their message: it was written for the client.)

API codes (beside ``mmm_core``'s ``MMM_0xx``-``MMM_3xx``): ``MMM_400`` malformed request,
``MMM_401`` missing or wrong API key, ``MMM_404`` not found, ``MMM_405`` method not allowed,
``MMM_409`` conflict (e.g. a failed quality gate), ``MMM_413`` body too large, ``MMM_422``
invalid request body or parameters, ``MMM_500`` unexpected server error, ``MMM_503`` a
dependency (the store, SageMaker) is unavailable.
"""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

__all__ = [
    "ApiError",
    "BadRequestError",
    "ConflictError",
    "InternalError",
    "InvalidRequestError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "error_body",
    "error_response",
    "payload_too_large",
    "status_of",
]

#: Validation problems quoted in a 422's message (the rest are counted).
_LISTED_PROBLEMS = 5
#: mmm_core's ``DeploymentError`` reasons that mean "not now, not like this" (409).
_CONFLICT_REASONS = frozenset(
    {"gate_failed", "not_ready", "conflict", "in_production", "no_production", "no_previous"}
)
#: mmm_core codes by the status they answer (codes not listed: 500).
_CORE_STATUS = {
    "MMM_002": 409,  # model used before it is fitted: not ready yet
    "MMM_003": 422,  # prediction data lacks the model's columns
    "MMM_006": 422,  # invalid setting or parameter
    "MMM_007": 422,  # the solver did not converge on these data
    "MMM_008": 422,  # unknown channel
}
#: What a client is told about a server error, by code.
_SERVER_MESSAGES = {
    "MMM_004": "a stored model file is damaged or incomplete",
    "MMM_005": "a stored model was written by a newer version of the platform",
    "MMM_300": "the platform could not read or write its storage or deployment",
    "MMM_503": "a service the API depends on is unavailable; retry later",
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """An error of the API layer, with the HTTP status it answers.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    hint : str, optional
        How to fix it.
    code : str, optional
        Overrides the class's code.
    details : dict, optional
        Machine-readable context, returned under ``error.details`` (JSON values only).
    """

    status_code = 500
    default_code = "MMM_500"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.message = message
        self.hint = hint
        self.details = details or {}
        super().__init__(f"[{self.code}] {message}")

    def to_dict(self) -> dict[str, Any]:
        """The reference's error body (``type``, ``message``, ``code``, ``timestamp``)."""
        message = self.message if not self.hint else f"{self.message} How to fix: {self.hint}"
        return {
            "type": type(self).__name__,
            "message": message,
            "code": self.code,
            "timestamp": _now(),
        }


class BadRequestError(ApiError):
    """The request cannot be read (malformed JSON...)."""

    status_code, default_code = 400, "MMM_400"


class UnauthorizedError(ApiError):
    """No API key, or the wrong one."""

    status_code, default_code = 401, "MMM_401"


class NotFoundError(ApiError):
    """No such route, model, dataset or report."""

    status_code, default_code = 404, "MMM_404"


class MethodNotAllowedError(ApiError):
    """The route exists, not with this method."""

    status_code, default_code = 405, "MMM_405"


class ConflictError(ApiError):
    """The request is valid but the state does not allow it (model not ready, gate failed)."""

    status_code, default_code = 409, "MMM_409"


class PayloadTooLargeError(ApiError):
    """The body is over the limit; large inputs go by store reference."""

    status_code, default_code = 413, "MMM_413"


def payload_too_large(limit: int) -> PayloadTooLargeError:
    """The 413 of a body over ``limit`` bytes, saying where large inputs go instead."""
    return PayloadTooLargeError(
        f"the request body is over the limit of {limit:,} bytes.",
        hint="store large tables in the data lake (a dataset) and pass its name as 'dataset' "
        "instead of the rows.",
    )


class InvalidRequestError(ApiError):
    """The body or parameters do not match the schema, or name unknown things."""

    status_code, default_code = 422, "MMM_422"


class InternalError(ApiError):
    """Something unexpected failed on the server."""

    status_code, default_code = 500, "MMM_500"


class ServiceUnavailableError(ApiError):
    """A dependency (the store, SageMaker) cannot be reached or is not configured."""

    status_code, default_code = 503, "MMM_503"


# ------------------------------------------------------------------------------------------
# Mapping


def _core_errors() -> Any:
    """``mmm_core.errors`` if some route imported the core already, else ``None``."""
    return sys.modules.get("mmm_core.errors")


def status_of(exc: BaseException) -> int:
    """The HTTP status an exception answers.

    ``ApiError``: its own. ``mmm_core``: not found 404; ``DataIntegrationError`` and
    ``OptimizationError`` 422; model not ready (``MMM_002``) 409; bad columns, parameters,
    channels or a fit that does not converge 422; ``DeploymentError`` 409 when the state
    refuses (gate failed, not ready, pointer race), 404 when a model is missing, 503 when the
    storage cannot be reached; corrupt or newer model files and anything else 500.
    """
    if isinstance(exc, ApiError):
        return exc.status_code
    core = _core_errors()
    if core is None or not isinstance(exc, core.MMModelError):
        return 500
    reason = (exc.details or {}).get("reason")
    if reason == "not_found":
        return 404
    if isinstance(exc, core.DeploymentError):
        if reason in _CONFLICT_REASONS:
            return 409
        return 503 if reason == "storage_error" else 500
    if isinstance(exc, core.DataIntegrationError | core.OptimizationError):
        return 422
    return _CORE_STATUS.get(exc.code, 500)


def _not_found_message(details: dict[str, Any]) -> str:
    """A 404's message from the error's details (the core's message names paths and buckets)."""
    if details.get("model_id"):
        return f"no model {details['model_id']!r}."
    if details.get("dataset"):
        return f"no dataset {details['dataset']!r} in the store."
    return "the requested object does not exist."


def error_body(exc: BaseException, request_id: str | None) -> tuple[int, dict[str, Any]]:
    """``(status, {"error": {...}})`` for any exception; 5xx bodies hide the internals."""
    status = status_of(exc)
    core = _core_errors()
    known = isinstance(exc, ApiError) or (core is not None and isinstance(exc, core.MMModelError))
    if isinstance(exc, ApiError) or (known and status < 500):
        body = dict(exc.to_dict())  # type: ignore[attr-defined]
        if status == 404 and not isinstance(exc, ApiError):
            body["message"] = _not_found_message(getattr(exc, "details", {}) or {})
    else:
        code = getattr(exc, "code", None) if known else None
        code = code or ("MMM_503" if status == 503 else "MMM_500")
        what = _SERVER_MESSAGES.get(code, "an unexpected error occurred")
        body = {
            "type": type(exc).__name__ if known else "InternalError",
            "message": f"The server could not complete the request: {what}. "
            f"Quote request id {request_id} when reporting it.",
            "code": code,
            "timestamp": _now(),
        }
    if request_id:
        body["request_id"] = request_id
    details = getattr(exc, "details", None)
    if isinstance(exc, ApiError) and details and status < 500:
        body["details"] = _json_safe(details)
    return status, {"error": body}


def _json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def error_response(
    exc: BaseException, request_id: str | None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON response of ``exc`` (see :func:`error_body`)."""
    status, body = error_body(exc, request_id)
    extra = dict(headers or {})
    if status == 401:
        extra.setdefault("WWW-Authenticate", 'ApiKey header="x-api-key"')
    return JSONResponse(body, status_code=status, headers=extra or None)


def from_validation_errors(errors: list[dict[str, Any]]) -> ApiError:
    """A 422 (or a 400 for malformed JSON) listing the first problems of a request.

    Each problem reads ``<where>: <what>`` (``body.customer_journeys.0.converted: Field
    required``); the inputs themselves are not repeated.
    """
    if any(e.get("type") == "json_invalid" for e in errors):
        return BadRequestError(
            "the request body is not valid JSON.",
            hint="send a JSON object with Content-Type: application/json.",
        )
    problems = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()))
        problems.append({"location": where, "problem": str(error.get("msg", "invalid"))})
    listed = "; ".join(f"{p['location']}: {p['problem']}" for p in problems[:_LISTED_PROBLEMS])
    more = len(problems) - _LISTED_PROBLEMS
    suffix = f" (and {more} more)" if more > 0 else ""
    return InvalidRequestError(
        f"the request does not match the schema: {listed}{suffix}.",
        hint="see the operation's schema and examples at /docs.",
        details={"problems": problems[:50]},
    )
