"""Reading the fit results (and the optional optimization) the reports are made from.

The reports take plain dicts: what :meth:`EconometricMMM.fit` returns, possibly with an
``"optimization"`` entry from the budget optimizer, possibly loaded back from JSON. Only
``channels`` and ``performance`` are required; every other number is read with
:func:`number`/:func:`bounds`, which give ``None`` when it is missing or not a finite number,
so a report degrades (a section says what it lacks) instead of failing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from numbers import Real
from typing import Any

from mmm_core.errors import Codes, MMModelError

REQUIRED_KEYS = ("channels", "performance")
_FIT_HINT = (
    "pass the dict that EconometricMMM().fit(...) returns (or its results.json loaded with "
    "json.load), optionally with an 'optimization' entry from the budget optimizer."
)


def check_results(mmm_results: Any) -> None:
    """Raise :class:`MMModelError` (``MMM_001``) unless the results can be reported on.

    Parameters
    ----------
    mmm_results : Any
        Should be a mapping with a non-empty ``channels`` mapping (one mapping per channel) and a
        ``performance`` mapping; ``optimization``, when present, must be a mapping too.
    """
    if not isinstance(mmm_results, Mapping):
        raise MMModelError(
            Codes.MODEL_ERROR,
            f"mmm_results must be a dict of fit results, got {type(mmm_results).__name__}.",
            hint=_FIT_HINT,
        )
    missing = [key for key in REQUIRED_KEYS if key not in mmm_results]
    if missing:
        raise MMModelError(
            Codes.MODEL_ERROR,
            f"mmm_results lacks {', '.join(repr(k) for k in missing)}.",
            hint=_FIT_HINT,
            details={"missing": missing},
        )
    channels = mmm_results["channels"]
    if not isinstance(channels, Mapping) or not channels:
        raise MMModelError(
            Codes.MODEL_ERROR,
            "mmm_results['channels'] must be a non-empty dict {channel: numbers}.",
            hint=_FIT_HINT,
        )
    bad = [str(name) for name, entry in channels.items() if not isinstance(entry, Mapping)]
    if bad:
        raise MMModelError(
            Codes.MODEL_ERROR,
            f"the entries of mmm_results['channels'] must be dicts; not so for {bad}.",
            hint=_FIT_HINT,
        )
    for key in ("performance", "optimization"):
        value = mmm_results.get(key)
        if key in mmm_results and value is not None and not isinstance(value, Mapping):
            raise MMModelError(
                Codes.MODEL_ERROR,
                f"mmm_results[{key!r}] must be a dict, got {type(value).__name__}.",
                hint=_FIT_HINT,
            )


def section(mapping: Any, *keys: str) -> Mapping[str, Any]:
    """The mapping at ``mapping[k1][k2]...``, or an empty one when any step is missing."""
    for key in keys:
        mapping = mapping.get(key) if isinstance(mapping, Mapping) else None
    return mapping if isinstance(mapping, Mapping) else {}


def number(mapping: Any, *keys: str) -> float | None:
    """The finite number at ``mapping[k1][k2]...``, else ``None`` (booleans are not numbers)."""
    *path, last = keys
    value = section(mapping, *path).get(last)
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def bounds(mapping: Any, *keys: str) -> list[float] | None:
    """The ``[lo, hi]`` pair at ``mapping[k1][k2]...`` when both ends are finite numbers."""
    *path, last = keys
    value = section(mapping, *path).get(last)
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        return None
    pair = [number({"v": v}, "v") for v in value]
    return None if None in pair else pair  # type: ignore[return-value]


def text(mapping: Any, *keys: str) -> str | None:
    """The value at ``mapping[k1][k2]...`` as a string (``None`` when missing)."""
    *path, last = keys
    value = section(mapping, *path).get(last)
    return None if value is None else str(value)


def channel_names(mmm_results: Mapping[str, Any]) -> list[str]:
    """The channels in the order of the results."""
    return [str(name) for name in mmm_results["channels"]]


def roi_uncertainty(entry: Mapping[str, Any]) -> str | None:
    """Why a channel's ROI is uncertain, or ``None`` when its 90% interval pins it down.

    Uncertain means the interval reaches zero (the data cannot rule out no effect) or is wider
    than ``max(1, |roi|)`` (the model's own warning rule). Without an interval: not judged.
    """
    interval = bounds(entry, "roi_interval")
    if interval is None:
        return None
    lo, hi = interval
    if lo <= 0:
        return "its 90% interval reaches zero"
    if hi - lo > max(1.0, abs(number(entry, "roi") or 0.0)):
        return "its 90% interval is wide"
    return None


def period_dates(periods: Any) -> list[datetime] | None:
    """The series' periods as datetimes, or ``None`` when they are not ISO dates."""
    if not isinstance(periods, Sequence) or isinstance(periods, str) or not periods:
        return None
    try:
        return [datetime.fromisoformat(str(p)) for p in periods]
    except ValueError:
        return None


def time_unit(periods: Any) -> str:
    """``"week"``, ``"day"``, ``"month"``, ``"quarter"`` from the spacing of the dates, else
    ``"period"``."""
    dates = period_dates(periods)
    if dates is None or len(dates) < 2:
        return "period"
    steps = sorted((b - a).days for a, b in pairwise(dates))
    step = steps[len(steps) // 2]
    for unit, low, high in (("day", 1, 1), ("week", 7, 7), ("month", 28, 31), ("quarter", 89, 92)):
        if low <= step <= high:
            return unit
    return "period"
