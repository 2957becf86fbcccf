"""Budget constraints: parsing the reference's format into per-channel bounds with reasons.

Accepted ``constraints`` (all amounts over the planning horizon, like the budget)::

    {
        "tv_spend": {"min": 5000, "max": 50000},   # the reference's per-channel format
        "radio_spend": {"max_change": 0.2},         # at most ±20% vs current spend
        "search_spend": {"locked": True},           # keep at current spend
        "min_channel_spend": 1000,                  # every channel at least this
        "max_change": 0.3,                          # every channel within ±30% of current
        "locked": ["print_spend"],                  # channels kept at current spend
        "total_budget": 100000,                     # the API's body carries it here too
    }

``max_change`` not given means the optimizer's default safety limits (see
:data:`SAFETY_LIMITS`); ``"max_change": None`` removes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mmm_core.errors import Codes, OptimizationError, suggest_name

FloatArray = NDArray[np.float64]

GLOBAL_KEYS = ("min_channel_spend", "max_change", "locked", "total_budget")
CHANNEL_KEYS = ("min", "max", "max_change", "locked")

#: Default limit on a channel's move away from its current spend, by how well the data pin its
#: ROI down: relative width of the 90% ROI interval ``(hi - lo) / roi`` up to 0.5 → ±50%,
#: up to 1 → ±30%, wider (or no interval) → ±15%. Response curves are only known near the
#: spend levels the data saw; a large move on a thin curve is a bet, not a plan.
SAFETY_LIMITS: tuple[tuple[float, float], ...] = ((0.5, 0.5), (1.0, 0.3), (np.inf, 0.15))


def safety_limit(roi: float, interval: Sequence[float] | None) -> float:
    """Default ``max_change`` of a channel from its ROI and 90% interval."""
    if interval is None or roi <= 0:
        return SAFETY_LIMITS[-1][1]
    width = (float(interval[1]) - float(interval[0])) / roi
    for limit, change in SAFETY_LIMITS:
        if width <= limit:
            return change
    return SAFETY_LIMITS[-1][1]


@dataclass
class Bounds:
    """Per-channel bounds over the horizon and the constraint that set each."""

    lower: FloatArray
    upper: FloatArray
    lower_reason: list[str]
    upper_reason: list[str]

    def binding(self, allocation: FloatArray, channels: Sequence[str], tol: float) -> list[dict]:
        """Constraints the allocation sits on (within ``tol`` of a bound)."""
        out = []
        for j, col in enumerate(channels):
            locked = self.lower[j] == self.upper[j]
            at_floor = (
                allocation[j] <= self.lower[j] + tol and self.lower_reason[j] != "non-negative"
            )
            if locked or at_floor:
                out.append({"channel": col, "constraint": self.lower_reason[j]})
            elif allocation[j] >= self.upper[j] - tol and np.isfinite(self.upper[j]):
                out.append({"channel": col, "constraint": self.upper_reason[j]})
        return out


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise OptimizationError(
            Codes.OPTIMIZATION_ERROR,
            f"{what} must be a finite number, got {value!r}.",
            hint="amounts are money over the planning horizon; max_change a fraction like 0.3.",
        )
    return float(value)


def _unknown(key: str, allowed: Sequence[str], where: str) -> OptimizationError:
    close = suggest_name(key, allowed)
    return OptimizationError(
        Codes.OPTIMIZATION_ERROR,
        f"unknown key {key!r} in {where}.",
        hint=f"did you mean {close!r}?" if close else f"use one of {list(allowed)}.",
    )


def parse_bounds(
    constraints: Mapping[str, Any] | None,
    channels: Sequence[str],
    current: FloatArray,
    default_max_change: FloatArray,
) -> Bounds:
    """Per-channel bounds from ``constraints``; conflicts raise :class:`OptimizationError`."""
    constraints = dict(constraints or {})
    m = len(channels)
    per_channel: dict[str, Mapping[str, Any]] = {}
    for key, value in constraints.items():
        if key in channels:
            if not isinstance(value, Mapping):
                raise OptimizationError(
                    Codes.OPTIMIZATION_ERROR,
                    f"constraints for {key!r} must be a dict, got {value!r}.",
                    hint="e.g. {'min': 5000, 'max': 50000}.",
                )
            for sub in value:
                if sub not in CHANNEL_KEYS:
                    raise _unknown(sub, CHANNEL_KEYS, f"the constraints of {key!r}")
            per_channel[key] = value
        elif key not in GLOBAL_KEYS:
            raise _unknown(key, [*GLOBAL_KEYS, *channels], "constraints")

    lower = np.zeros(m)
    upper = np.full(m, np.inf)
    lower_reason = ["non-negative"] * m
    upper_reason = ["none"] * m

    def raise_lower(j: int, value: float, reason: str) -> None:
        if value > lower[j]:
            lower[j], lower_reason[j] = value, reason

    def lower_upper(j: int, value: float, reason: str) -> None:
        if value < upper[j]:
            upper[j], upper_reason[j] = value, reason

    if "min_channel_spend" in constraints:
        floor = _number(constraints["min_channel_spend"], "min_channel_spend")
        for j in range(m):
            raise_lower(j, floor, "min_channel_spend")

    global_change = constraints.get("max_change", "default")
    locked = set(constraints.get("locked", []) or [])
    for name in locked:
        if name not in channels:
            raise _unknown(str(name), channels, "locked")
    for j, col in enumerate(channels):
        spec = per_channel.get(col, {})
        if "min" in spec:
            raise_lower(j, _number(spec["min"], f"{col} min"), "min")
        if "max" in spec:
            lower_upper(j, _number(spec["max"], f"{col} max"), "max")
        change = spec.get("max_change", global_change)
        if isinstance(change, str) and change == "default":
            change, reason = float(default_max_change[j]), "safety limit (thin data)"
        else:
            reason = "max_change"
        if change is not None:
            change = _number(change, f"{col} max_change")
            if change < 0:
                raise OptimizationError(
                    Codes.OPTIMIZATION_ERROR,
                    f"max_change for {col!r} is negative ({change}).",
                    hint="use a fraction >= 0, e.g. 0.3 for ±30%.",
                )
            raise_lower(j, current[j] * (1 - change), reason)
            lower_upper(j, current[j] * (1 + change), reason)
        if spec.get("locked") or col in locked:
            lower[j] = upper[j] = current[j]
            lower_reason[j] = upper_reason[j] = "locked"
        if lower[j] > upper[j] + 1e-9 * max(1.0, abs(upper[j])):
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"the constraints on {col!r} conflict: its {lower_reason[j]} "
                f"({lower[j]:,.2f}) is above its {upper_reason[j]} ({upper[j]:,.2f}).",
                hint=f"relax one of them (current spend over the horizon is {current[j]:,.2f}).",
                details={"channel": col, "lower": lower[j], "upper": upper[j]},
            )
    return Bounds(lower, upper, lower_reason, upper_reason)
