"""Keys, ids, times and JSON of the artifact store.

The rules a key or an id passes before the store touches an object (:func:`check_key`,
:func:`check_id`), the model ids the platform makes (:func:`new_model_id`) and the times read
back from them, how documents are encoded as JSON, the content type of a key, and the content
hash standing for an object's version where the storage has none (the local folder). The
layout the keys follow is in :mod:`mmm_core.store.base`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from mmm_core.json_values import json_value
from mmm_core.store.errors import _invalid

__all__ = ["check_id", "check_key", "new_model_id"]

JSON_TYPE = "application/json"
PARQUET_TYPE = "application/vnd.apache.parquet"

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SEGMENT = re.compile(r"[A-Za-z0-9_=-][A-Za-z0-9._=-]*")
_MAX_SEGMENT = 255
_MODEL_ID_TIME = re.compile(r"mmm-(\d{8}-\d{6})-[0-9a-f]+")
_CONTENT_TYPES = {
    ".json": JSON_TYPE,
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".parquet": PARQUET_TYPE,
}


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key (``raw/demo.csv``), else ``MMM_006``.

    Segments are letters, digits, ``.``, ``_``, ``-`` and ``=`` (for ``year=2024`` partitions);
    no empty, ``.`` or ``..`` segment, no leading ``.`` (kept for temporary and lock files), no
    absolute path, no backslash.

    Raises
    ------
    MMModelError
        ``MMM_006`` when the key is not safe.
    """
    segments = key.split("/") if isinstance(key, str) else []
    if not segments or not all(_SEGMENT.fullmatch(s) and len(s) <= _MAX_SEGMENT for s in segments):
        raise _invalid(
            f"{key!r} is not a valid storage key.",
            hint="use a relative path of '/'-separated names made of letters, digits, '.', "
            "'_', '-' and '=' (e.g. 'raw/demo.csv'), with no '..', no leading '/' or '.'.",
            details={"reason": "invalid_key", "key": str(key)},
        )
    return key


def check_id(value: str, what: str = "model id") -> str:
    """``value`` if it is a valid id (``[A-Za-z0-9][A-Za-z0-9._-]*``), else ``MMM_006``."""
    if (
        not isinstance(value, str)
        or not _ID.fullmatch(value)
        or ".." in value
        or len(value) > _MAX_SEGMENT
    ):
        raise _invalid(
            f"{value!r} is not a valid {what}.",
            hint=f"a {what} is made of letters, digits, '.', '_' and '-', starts with a letter "
            "or digit and holds no '..' (e.g. 'mmm-20240102-030405-a1b2c3').",
            details={"reason": "invalid_id", "what": what, "value": str(value)},
        )
    return value


def new_model_id(now: datetime | None = None) -> str:
    """A new model id ``mmm-YYYYmmdd-HHMMSS-<6 hex>`` (UTC time, random suffix).

    Examples
    --------
    >>> new_model_id(datetime(2024, 1, 2, 3, 4, 5))[:20]
    'mmm-20240102-030405-'
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"mmm-{stamp}-{secrets.token_hex(3)}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id_time(model_id: str) -> str | None:
    """The creation time written in an id made by :func:`new_model_id`, else ``None``."""
    match = _MODEL_ID_TIME.fullmatch(model_id)
    if not match:
        return None
    stamp = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_value(value: Any) -> Any:
    """``json.dumps`` fallback: numpy arrays and scalars become lists and numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _encode_json(doc: Any, indent: int | None = 2) -> bytes:
    """UTF-8 JSON of ``doc``; non-finite numbers become ``null``."""
    try:
        text = json.dumps(doc, indent=indent, allow_nan=False, default=_json_value)
    except ValueError:  # NaN or infinity somewhere: pass through plain values and retry
        plain = json.loads(json.dumps(doc, default=_json_value))
        text = json.dumps(json_value(plain), indent=indent, allow_nan=False)
    except TypeError as exc:
        raise _invalid(
            f"cannot store the document as JSON ({exc}).",
            hint="store dicts, lists, strings, numbers, booleans and None only.",
            details={"reason": "not_json"},
        ) from exc
    return (text + "\n").encode("utf-8")


def _content_type(name: str) -> str:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return _CONTENT_TYPES.get(suffix, "application/octet-stream")


def _version(data: bytes) -> str:
    """The version tag of an object's content (used by stores without native versions)."""
    return hashlib.sha256(data).hexdigest()
