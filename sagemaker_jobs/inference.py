"""SageMaker inference handlers: ``model_fn``, ``input_fn``, ``predict_fn``, ``output_fn``.

:func:`invoke` chains them and turns every error into the platform's error JSON with an HTTP
status (``{"error": {"type", "message", "code", "timestamp"}}``; 4xx for the request, 5xx for
the server), never a traceback. :mod:`sagemaker_jobs.serve` serves it over HTTP.

Requests (``Content-Type``)
---------------------------
``application/json``
    ``{"instances": [{"date": "2024-01-01", "tv_spend": 1000.0, ...}, ...]}`` (rows), or
    ``{"data": {"tv_spend": [...], ...}}`` (columns), or a bare list of rows. Add
    ``"decompose": true`` for each row's baseline, controls and channel contributions.
``text/csv``
    A header row and one row per period. Without a header the columns must be the model's
    spend columns then its controls, in fitting order (optionally a date first) -- the shape
    SageMaker batch transform sends. Decomposition is asked for with the
    ``X-Amzn-SageMaker-Custom-Attributes: decompose=true`` header.

Rows are consecutive periods: adstock carries over within the request only (spend before its
first row counts as zero), so send the recent history along with the periods to predict.

Responses (``Accept``)
----------------------
``application/json`` (default)
    ``{"predictions": [...], "target_column": ..., "decomposition": {"periods": [...],
    "components": {"baseline": [...], "<control>": [...], "<spend column>": [...]}}}``
    (``decomposition`` only when asked for).
``text/csv``
    One prediction per line; with a decomposition, a header ``prediction,baseline,...`` and
    one row per period.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mmm_core.errors import Codes, DataIntegrationError, MMModelError
from mmm_core.models.econometric_mmm import EconometricMMM

__all__ = [
    "CSV",
    "JSON",
    "InvalidRequestError",
    "PredictionRequest",
    "error_response",
    "input_fn",
    "invoke",
    "model_fn",
    "output_fn",
    "parse_custom_attributes",
    "predict_fn",
]

JSON = "application/json"
CSV = "text/csv"
SUPPORTED = (JSON, CSV)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: Errors that mean the server's model is unusable (HTTP 500), not that the request is bad.
MODEL_UNAVAILABLE_CODES = frozenset(
    {Codes.NOT_FITTED, Codes.CORRUPT_MODEL_FILE, Codes.NEWER_SCHEMA}
)


class InvalidRequestError(DataIntegrationError):
    """A request the server cannot take as sent, with its HTTP status (400, 406, 413, 415)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str,
        status: int = 400,
        code: str = Codes.DATA_ERROR,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message, hint=hint, details=details)
        self.status = status


@dataclass
class PredictionRequest:
    """What :func:`input_fn` parsed: the rows, and what else the client asked for.

    Attributes
    ----------
    frame : DataFrame
        One row per period.
    decompose : bool
        Return the contributions too.
    has_header : bool
        False for header-less CSV: :func:`predict_fn` names the columns after the model's.
    """

    frame: pd.DataFrame
    decompose: bool = False
    has_header: bool = True


def _media_type(value: str | None, default: str) -> str:
    return (value or default).split(";")[0].strip().lower() or default


def parse_custom_attributes(value: str | None) -> dict[str, str]:
    """``X-Amzn-SageMaker-Custom-Attributes`` (``"decompose=true;a=b"``) as a dict."""
    out: dict[str, str] = {}
    for part in (value or "").replace(",", ";").split(";"):
        key, sep, val = part.partition("=")
        if sep and key.strip():
            out[key.strip().lower()] = val.strip()
    return out


# ------------------------------------------------------------------------------------------
# The four handlers


def model_fn(model_dir: str) -> EconometricMMM:
    """Load the model SageMaker extracted from ``model.tar.gz`` (``model_dir/model.json``).

    Raises
    ------
    MMModelError
        ``MMM_004`` when there is no readable model (``MMM_005`` when it is newer than this
        library).
    """
    return EconometricMMM.load(model_dir)


def _decode(body: bytes | bytearray | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"the request body is not UTF-8 text ({exc.reason} at byte {exc.start}).",
            hint="send JSON or CSV encoded as UTF-8.",
        ) from None


def _frame_from_json(doc: Any) -> tuple[pd.DataFrame, bool]:
    hint = 'send {"instances": [{"tv_spend": 1000, ...}, ...]} or {"data": {"tv_spend": [...]}}.'
    decompose = False
    if isinstance(doc, dict):
        flag = doc.get("decompose", False)
        if not isinstance(flag, bool):
            raise InvalidRequestError(
                f'"decompose" must be true or false, got {flag!r}.', hint=hint
            )
        decompose = flag
        if "instances" in doc:
            rows = doc["instances"]
        elif "data" in doc:
            columns = doc["data"]
            if not isinstance(columns, dict) or not all(
                isinstance(v, list) for v in columns.values()
            ):
                raise InvalidRequestError('"data" must map column names to lists.', hint=hint)
            lengths = {len(v) for v in columns.values()}
            if len(lengths) > 1:
                raise InvalidRequestError(
                    f'the columns of "data" have different lengths ({sorted(lengths)}).',
                    hint="give every column one value per period.",
                )
            return pd.DataFrame(columns), decompose
        else:
            raise InvalidRequestError(
                f'the JSON object has neither "instances" nor "data" (keys: {sorted(doc)[:10]}).',
                hint=hint,
            )
    elif isinstance(doc, list):
        rows = doc
    else:
        raise InvalidRequestError(f"the JSON body is a {type(doc).__name__}.", hint=hint)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidRequestError(
            '"instances" must be a list of objects (one per period).', hint=hint
        )
    return pd.DataFrame.from_records(rows), decompose


def _looks_like_value(name: Any) -> bool:
    """A header cell that is really data: a number or an ISO date."""
    text = str(name).strip()
    if _ISO_DATE.match(text):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def _frame_from_csv(text: str) -> tuple[pd.DataFrame, bool]:
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidRequestError(
            f"the CSV body does not parse ({message[:200]}).",
            hint="send a header row and one row per period, with ',' between fields.",
        ) from None
    if len(frame.columns) and all(_looks_like_value(c) for c in frame.columns):
        frame = pd.read_csv(io.StringIO(text), header=None)
        return frame, False
    return frame, True


def input_fn(
    request_body: bytes | str, request_content_type: str | None = JSON
) -> PredictionRequest:
    """Parse a request body into a :class:`PredictionRequest`.

    Raises
    ------
    InvalidRequestError
        415 for another content type, 400 for a body that does not parse or holds no rows.
    """
    content_type = _media_type(request_content_type, JSON)
    text = _decode(request_body)
    if content_type == JSON:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidRequestError(
                f"the JSON body does not parse ({exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}).",
                hint='send e.g. {"instances": [{"tv_spend": 1000, "search_spend": 200}]}.',
            ) from None
        frame, decompose = _frame_from_json(doc)
        has_header = True
    elif content_type == CSV:
        frame, has_header = _frame_from_csv(text)
        decompose = False
    else:
        raise InvalidRequestError(
            f"content type {content_type!r} is not supported.",
            hint=f"send {JSON} or {CSV}.",
            status=415,
        )
    if frame.empty:
        raise InvalidRequestError(
            "the request holds no rows.",
            hint="send at least one period (and the periods before it, for carry-over).",
            code=Codes.EMPTY_DATA,
        )
    return PredictionRequest(frame, decompose=decompose, has_header=has_header)


def _name_columns(frame: pd.DataFrame, model: EconometricMMM) -> pd.DataFrame:
    """Header-less CSV: the model's spend columns then controls (optionally a date first)."""
    expected = list(model.spend_columns_) + list(model.control_columns_)
    named = frame.copy()
    if frame.shape[1] == len(expected):
        named.columns = expected
    elif frame.shape[1] == len(expected) + 1:
        named.columns = [model.date_column_ or "date", *expected]
    else:
        raise InvalidRequestError(
            f"the CSV has no header and {frame.shape[1]} columns; the model expects "
            f"{len(expected)}: {expected} (optionally a date first).",
            hint="add a header row naming the columns, or send them in that order.",
            code=Codes.COLUMNS_MISMATCH,
            details={"expected": expected},
        )
    return named


def _plain(values: Any) -> list[Any]:
    """Floats for JSON: NaN/inf become null."""
    return [float(v) if math.isfinite(float(v)) else None for v in np.asarray(values, dtype=float)]


def predict_fn(data: PredictionRequest | pd.DataFrame, model: EconometricMMM) -> dict[str, Any]:
    """Predict the target for each row, in the request's order (and decompose when asked).

    Raises
    ------
    MMModelError
        ``MMM_003`` when columns the model needs are missing, ``MMM_1xx`` for bad values.
    """
    request = data if isinstance(data, PredictionRequest) else PredictionRequest(data)
    frame = request.frame if request.has_header else _name_columns(request.frame, model)
    out: dict[str, Any] = {
        "predictions": _plain(model.predict(frame)),
        "target_column": model.target_column_,
    }
    if request.decompose:
        parts = model.decompose(frame)
        if isinstance(parts.index, pd.DatetimeIndex):
            periods: list[Any] = [d.date().isoformat() for d in parts.index]
        else:
            periods = [p.item() if hasattr(p, "item") else p for p in parts.index]
        out["decomposition"] = {
            "periods": periods,
            "components": {str(c): _plain(parts[c]) for c in parts.columns},
        }
    return out


def _choose_accept(accept: str | None) -> str:
    for item in (accept or JSON).split(","):
        media = _media_type(item, JSON)
        if media in SUPPORTED:
            return media
        if media in ("*/*", "application/*"):
            return JSON
        if media == "text/*":
            return CSV
    raise InvalidRequestError(
        f"cannot answer in {accept!r}.",
        hint=f"accept {JSON} or {CSV}.",
        status=406,
    )


def output_fn(prediction: Mapping[str, Any], accept: str | None = JSON) -> tuple[str, str]:
    """Serialise :func:`predict_fn`'s result as ``(body, content_type)``.

    Raises
    ------
    InvalidRequestError
        406 when ``accept`` names no supported type.
    """
    media = _choose_accept(accept)
    if media == JSON:
        return json.dumps(prediction, allow_nan=False), JSON
    buffer = io.StringIO()
    decomposition = prediction.get("decomposition")
    if decomposition:
        table = pd.DataFrame(
            {"prediction": prediction["predictions"], **decomposition["components"]}
        )
        table.to_csv(buffer, index=False, lineterminator="\n")
    else:
        buffer.writelines(
            f"{'' if v is None else repr(float(v))}\n" for v in prediction["predictions"]
        )
    return buffer.getvalue(), CSV


# ------------------------------------------------------------------------------------------
# One request, errors included


def error_response(exc: BaseException) -> tuple[int, str, str]:
    """``(status, JSON body, content type)`` for an error; unexpected ones are logged, not shown."""
    if isinstance(exc, InvalidRequestError):
        status = exc.status
        body = exc.to_dict()
    elif isinstance(exc, MMModelError):
        status = 500 if exc.code in MODEL_UNAVAILABLE_CODES else 400
        body = exc.to_dict()
    else:
        traceback.print_exception(exc, file=sys.stderr)
        status = 500
        body = MMModelError(
            Codes.MODEL_ERROR,
            f"the server failed to answer ({type(exc).__name__}).",
            hint="the endpoint's log holds the details; retry, or report the request.",
        ).to_dict()
    return status, json.dumps({"error": body}), JSON


def invoke(
    model: EconometricMMM,
    body: bytes | str,
    content_type: str | None = JSON,
    accept: str | None = JSON,
    custom_attributes: str | None = None,
) -> tuple[int, str, str]:
    """One ``/invocations`` request: ``(status, body, content type)``, never an exception."""
    try:
        _choose_accept(accept)  # a 406 before any work
        request = input_fn(body, content_type)
        attributes = parse_custom_attributes(custom_attributes)
        if attributes.get("decompose", "").lower() in ("true", "1", "yes"):
            request.decompose = True
        prediction = predict_fn(request, model)
        text, media = output_fn(prediction, accept)
    except Exception as exc:  # the client gets an error body, never a traceback
        return error_response(exc)
    return 200, text, media
