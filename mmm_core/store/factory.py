"""Choosing the store: ``MMM_DATA_LAKE_URI`` (S3) or ``MMM_HOME`` (a local folder).

Examples
--------
>>> store_from_env({"MMM_DATA_LAKE_URI": "s3://mmm-lake/prod"})
S3Store('mmm-lake', 'prod')
>>> store_from_env({"MMM_HOME": "/tmp/mmm"})
LocalStore('/tmp/mmm')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

from mmm_core.errors import Codes, MMModelError
from mmm_core.store.base import ArtifactStore
from mmm_core.store.local import LocalStore
from mmm_core.store.s3 import S3Store

__all__ = ["DATA_LAKE_ENV", "DEFAULT_HOME", "HOME_ENV", "open_store", "store_from_env"]

#: ``s3://bucket/prefix`` of the data lake; when set, everything is stored there.
DATA_LAKE_ENV = "MMM_DATA_LAKE_URI"
#: The local home folder (the CLI's ``--home``) when there is no data lake.
HOME_ENV = "MMM_HOME"
DEFAULT_HOME = ".mmm"


def store_from_env(env: Mapping[str, str] = os.environ) -> ArtifactStore:
    """The store the environment asks for.

    ``MMM_DATA_LAKE_URI`` (``s3://bucket/prefix``, or a local path / ``file://`` URI) when set,
    else the folder ``MMM_HOME``, else ``./.mmm``.

    Raises
    ------
    MMModelError
        ``MMM_006`` when ``MMM_DATA_LAKE_URI`` is not a URI the store can use.
    """
    lake = (env.get(DATA_LAKE_ENV) or "").strip()
    if lake:
        return open_store(lake)
    return LocalStore(env.get(HOME_ENV) or DEFAULT_HOME)


def open_store(uri_or_path: str | os.PathLike[str]) -> ArtifactStore:
    """The store at ``s3://bucket/prefix``, ``file:///folder`` or a local folder path.

    Raises
    ------
    MMModelError
        ``MMM_006`` for another scheme or an ``s3://`` URI without a bucket.
    """
    if isinstance(uri_or_path, os.PathLike):
        return LocalStore(uri_or_path)
    text = str(uri_or_path).strip()
    if "://" not in text:
        return LocalStore(Path(text))
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    if scheme == "s3" and parsed.netloc:
        return S3Store(parsed.netloc, parsed.path.strip("/"))
    if scheme == "file" and parsed.netloc in {"", "localhost"}:
        return LocalStore(Path(unquote(parsed.path)))
    raise MMModelError(
        Codes.INVALID_PARAMETER,
        f"cannot store artifacts at {text!r}: expected s3://bucket/prefix, file:///folder or a "
        "local folder.",
        hint=f"set {DATA_LAKE_ENV} to s3://<bucket>[/<prefix>], or unset it and set {HOME_ENV} "
        "to a local folder.",
        details={"reason": "unsupported_uri", "uri": text},
    )
