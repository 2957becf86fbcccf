"""The store in a local folder (the embedded default, ``MMM_HOME`` or ``./.mmm``).

Keys are paths under the root. Writes go through :func:`mmm_core.files.write_atomic` (a
temporary file in the same folder, then ``os.replace``). Names starting with ``.`` are the
temporary and lock files: they are never listed, and keys cannot start with one. A conditional
write (the production pointer) holds an exclusive ``flock`` on ``.<name>.lock`` beside the file
while it compares versions and writes; where ``fcntl`` is missing (Windows) the comparison is
done without the lock, so two simultaneous promotions could both pass it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from mmm_core.errors import Codes, DeploymentError
from mmm_core.files import write_atomic
from mmm_core.store.base import ArtifactStore
from mmm_core.store.errors import WriteConflictError
from mmm_core.store.keys import _version

__all__ = ["LocalStore"]


class LocalStore(ArtifactStore):
    """Artifacts in the folder ``root`` (created on the first write).

    Parameters
    ----------
    root : str or os.PathLike
        The home folder, e.g. ``$MMM_HOME``; the CLI's ``--home`` holds the same layout.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _uri(self, key: str) -> str:
        return self._path(key).resolve().as_uri()

    def _failure(self, action: str, key: str, exc: OSError) -> DeploymentError:
        return DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"cannot {action} {str(self._path(key))!r} ({exc.strerror or exc}).",
            hint=f"check that {str(self.root)!r} is a folder you can read and write, or point "
            "MMM_HOME (--home) elsewhere.",
            details={"reason": "storage_error", "key": key, "error": type(exc).__name__},
        )

    def _put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> None:
        path = self._path(key)
        try:
            if if_match is None and not if_none_match:
                write_atomic(path, data)
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(path.parent / f".{path.name}.lock"):
                current = path.read_bytes() if path.is_file() else None
                if if_none_match and current is not None:
                    raise WriteConflictError(key)
                if if_match is not None and (current is None or _version(current) != if_match):
                    raise WriteConflictError(key)
                write_atomic(path, data)
        except OSError as exc:
            raise self._failure("write", key, exc) from exc

    def _get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._missing(key) from None
        except OSError as exc:
            if path.is_dir():  # Windows says PermissionError for a folder
                raise self._missing(key) from None
            raise self._failure("read", key, exc) from exc

    def _exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _list(self, prefix: str) -> list[str]:
        folder = self._path(prefix.rstrip("/")) if prefix else self.root
        if not folder.is_dir():
            return []
        keys = []
        try:
            for current, dirs, names in os.walk(folder):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                base = Path(current).relative_to(self.root).as_posix()
                for name in names:
                    if not name.startswith("."):
                        keys.append(name if base == "." else f"{base}/{name}")
        except OSError as exc:
            raise self._failure("list", prefix, exc) from exc
        return sorted(keys)

    def _delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except IsADirectoryError:
            return
        except OSError as exc:
            raise self._failure("delete", key, exc) from exc


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created if needed) where ``fcntl`` exists."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; see the module's docstring
        yield
        return
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
