"""The errors of the artifact store.

:class:`ArtifactNotFoundError` (nothing at a key) reaches callers; :class:`WriteConflictError`
(a conditional write that lost) stays inside the store, which retries. ``_invalid`` and
``_corrupt`` make the ``MMM_006`` and ``MMM_004`` errors the store's modules raise.
"""

from __future__ import annotations

from typing import Any

from mmm_core.errors import Codes, MMModelError

__all__ = ["ArtifactNotFoundError", "WriteConflictError"]


class ArtifactNotFoundError(MMModelError):
    """No object at a key (``MMM_001`` with ``details["reason"] == "not_found"``)."""

    default_code = Codes.MODEL_ERROR


class WriteConflictError(Exception):
    """A conditional write lost: the object changed since it was read (internal, retried)."""


def _invalid(message: str, *, hint: str, details: dict[str, Any] | None = None) -> MMModelError:
    """``MMM_006``: an argument the store cannot take."""
    return MMModelError(Codes.INVALID_PARAMETER, message, hint=hint, details=details)


def _corrupt(message: str, *, hint: str, details: dict[str, Any] | None = None) -> MMModelError:
    """``MMM_004``: a stored object that cannot be read as what it should be."""
    return MMModelError(Codes.CORRUPT_MODEL_FILE, message, hint=hint, details=details)
