"""One exception hierarchy for the platform, each error with a stable code.

Every error says what is wrong and how to fix it. The code is stable across releases, so
clients (the HTTP API, scripts, dashboards) can branch on it; the message may improve.
The full list of codes is in the README ("Error codes").

Examples
--------
>>> from mmm_core.errors import DataIntegrationError, Codes
>>> err = DataIntegrationError(Codes.MISSING_COLUMN, "column 'tv' not found", hint="use 'tv_spend'")
>>> err.to_dict()["code"]
'MMM_101'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any


class Codes:
    """Stable error codes: ``MMM_0xx`` model, ``1xx`` data, ``2xx`` optimization, ``3xx`` deploy."""

    MODEL_ERROR = "MMM_001"
    NOT_FITTED = "MMM_002"
    COLUMNS_MISMATCH = "MMM_003"
    CORRUPT_MODEL_FILE = "MMM_004"
    NEWER_SCHEMA = "MMM_005"
    INVALID_PARAMETER = "MMM_006"
    FIT_FAILED = "MMM_007"
    UNKNOWN_CHANNEL = "MMM_008"

    DATA_ERROR = "MMM_100"
    MISSING_COLUMN = "MMM_101"
    NON_NUMERIC = "MMM_102"
    NON_FINITE = "MMM_103"
    NEGATIVE_SPEND = "MMM_104"
    TOO_FEW_ROWS = "MMM_105"
    ZERO_CHANNEL = "MMM_106"
    DUPLICATE_DATES = "MMM_107"
    IRREGULAR_DATES = "MMM_108"
    CONSTANT_TARGET = "MMM_109"
    EMPTY_DATA = "MMM_110"
    DUPLICATE_COLUMNS = "MMM_111"
    BAD_DATES = "MMM_112"
    SOURCE_UNAVAILABLE = "MMM_113"

    OPTIMIZATION_ERROR = "MMM_200"

    DEPLOYMENT_ERROR = "MMM_300"


class MMModelError(Exception):
    """Base of every error raised by ``mmm_core``.

    Parameters
    ----------
    code : str
        Stable code from :class:`Codes`.
    message : str
        What is wrong, in one sentence.
    hint : str, optional
        How to fix it.
    details : dict, optional
        Machine-readable context (column names, counts...). Must be JSON-serialisable.
    """

    default_code = Codes.MODEL_ERROR

    def __init__(
        self,
        code: str | None = None,
        message: str = "",
        *,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.message = message
        self.hint = hint
        self.details = details or {}
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.hint:
            text += f" How to fix: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The reference's error format (the body of ``{"error": ...}``)."""
        message = self.message if not self.hint else f"{self.message} How to fix: {self.hint}"
        return {
            "type": type(self).__name__,
            "message": message,
            "code": self.code,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


class DataIntegrationError(MMModelError):
    """The input data cannot be used as given (missing columns, bad values, bad dates...)."""

    default_code = Codes.DATA_ERROR


class OptimizationError(MMModelError):
    """A budget optimization cannot be carried out (infeasible constraints, no model...)."""

    default_code = Codes.OPTIMIZATION_ERROR


class DeploymentError(MMModelError):
    """Packaging, storing or deploying a model failed."""

    default_code = Codes.DEPLOYMENT_ERROR


def suggest_name(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to ``name`` (case-insensitive), or ``None`` if none is close."""
    pool = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in pool}
    key = str(name).lower()
    match = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.6)
    if match:
        return lowered[match[0]]
    # A short name that another one starts with ('tv' for 'tv_spend').
    prefixed = [c for low, c in lowered.items() if key and low.startswith(key)]
    return prefixed[0] if len(prefixed) == 1 else None
