"""Where a task reads from: an ``s3://bucket/key`` URI, a ``file://`` URI or a local path.

Shared by :mod:`~lambdas.pipeline.data` (the market's table) and
:mod:`~lambdas.pipeline.artifacts` (the training job's ``model.tar.gz``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from mmm_core.errors import Codes, MMModelError

__all__ = ["local_path", "split_s3"]


def split_s3(uri: str) -> tuple[str, str]:
    """The bucket and the key of an ``s3://bucket/key`` URI.

    Parameters
    ----------
    uri : str
        An ``s3://`` URI.

    Returns
    -------
    bucket : str
        The URI's bucket.
    key : str
        The key (or prefix), without its leading ``/``; ``""`` for the bucket's root.

    Examples
    --------
    >>> split_s3("s3://curated/curated/us/")
    ('curated', 'curated/us/')
    """
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def local_path(uri: str) -> Path:
    """The local path named by ``uri``: a ``file://`` URI or a path without a scheme.

    Parameters
    ----------
    uri : str
        ``file:///path`` or a plain (relative or absolute) path.

    Returns
    -------
    Path
        The path; nothing is checked on disk.

    Raises
    ------
    MMModelError
        ``MMM_006`` when ``uri`` has another scheme (``http://``...).

    Examples
    --------
    >>> local_path("file:///tmp/my%20data/data.csv").as_posix()
    '/tmp/my data/data.csv'
    """
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"cannot read {uri!r}: expected s3://bucket/key, file:///path or a local path.",
            hint="point the task at the data lake (s3://...) or a local folder.",
            details={"uri": uri},
        )
    return Path(uri)
