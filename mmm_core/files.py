"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The text goes to a temporary file in the target's folder, then ``os.replace`` swaps it in (an
atomic rename on POSIX and Windows). The file gets the process umask's usual permissions.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically, creating missing folders.

    Raises
    ------
    OSError
        When the folder or file cannot be written; nothing is left behind and an existing file
        at ``path`` is untouched. Callers turn it into their own error with a hint.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    payload = data.encode("utf-8") if isinstance(data, str) else data
    # os.open with 0o666 honours the umask (mkstemp would make the file private, 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
