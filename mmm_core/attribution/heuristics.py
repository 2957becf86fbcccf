"""Rule-based multi-touch attribution on journeys: vectorised over all touches at once.

Each rule gives every touch ``i`` of a converted journey ``j`` a weight ``w_i >= 0`` with
``sum_{i in j} w_i = 1``; channel ``c`` is credited ``sum_j conv_j sum_{i in j, c_i = c} w_i``
conversions and the same with the journey's value. A channel touched twice in a journey is
credited twice. Totals therefore equal the conversions (and value) of the converted journeys
that have touches, up to floating-point rounding (exactly for first and last touch).

* ``first_touch``: all to the first touch.
* ``last_touch``: all to the last touch.
* ``linear``: ``1 / n`` to each of the journey's ``n`` touches.
* ``time_decay``: ``w_i ∝ 2^(-age_i / half_life)``, ``age_i`` the days from touch ``i`` to the
  journey's last touch (the same shares as ages counted to the conversion).
* ``position_based``: ``first`` to the first touch, ``last`` to the last, ``middle`` split
  equally among the touches between (the "U-shaped" 40/20/40 by default). One touch takes all;
  two touches split ``first : last``.

Examples
--------
>>> from mmm_core.attribution.journeys import parse_journeys
>>> data = parse_journeys([{"converted": True, "conversion_value": 10.0, "touchpoints": [
...     {"channel": c, "timestamp": f"2024-01-0{d}"} for c, d in [("a", 1), ("b", 2), ("a", 3)]]}])
>>> conversions, value = heuristic_attribution(data, "linear")
>>> conversions.round(4).tolist(), value.round(4).tolist()
([0.6667, 0.3333], [6.6667, 3.3333])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from mmm_core.attribution.journeys import NS_PER_DAY, JourneyData
from mmm_core.errors import Codes, MMModelError

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "DEFAULT_POSITION_WEIGHTS",
    "HEURISTICS",
    "heuristic_attribution",
    "touch_weights",
]

FloatArray = NDArray[np.float64]

HEURISTICS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
#: Google Ads' default half-life for time-decay attribution.
DEFAULT_HALF_LIFE_DAYS = 7.0
DEFAULT_POSITION_WEIGHTS = (0.4, 0.2, 0.4)


def touch_weights(
    data: JourneyData,
    model: str,
    *,
    half_life: float = DEFAULT_HALF_LIFE_DAYS,
    position_weights: Sequence[float] = DEFAULT_POSITION_WEIGHTS,
) -> FloatArray:
    """Each touch's share of its journey's conversion under rule ``model`` (sums to 1 per journey).

    Parameters
    ----------
    data : JourneyData
    model : {"first_touch", "last_touch", "linear", "time_decay", "position_based"}
    half_life : float, default 7.0
        Days over which a touch's weight halves (``time_decay``).
    position_weights : (first, middle, last), default (0.4, 0.2, 0.4)
        Shares of the first touch, of all middle touches together and of the last touch
        (``position_based``); non-negative, normalised to sum to 1.

    Returns
    -------
    ndarray, shape (n_touches,)
    """
    n = data.lengths[data.journey_of_touch]
    pos = data.position
    if model == "first_touch":
        return (pos == 0).astype(float)
    if model == "last_touch":
        return (pos == n - 1).astype(float)
    if model == "linear":
        return 1.0 / n
    if model == "time_decay":
        half_life = check_half_life(half_life)
        last = data.time[data.offsets[1:][data.journey_of_touch] - 1]
        age_days = (last - data.time) / NS_PER_DAY
        raw = np.exp2(-age_days / half_life)
        total = np.bincount(data.journey_of_touch, raw, minlength=data.n_journeys)
        return raw / total[data.journey_of_touch]
    if model == "position_based":
        first, middle, last_share = check_position_weights(position_weights)
        w = np.where(pos == 0, first, np.where(pos == n - 1, last_share, 0.0))
        w = np.where((pos > 0) & (pos < n - 1), middle / np.maximum(n - 2, 1), w)
        w = np.where(n == 1, 1.0, w)
        two = n == 2
        ends = first + last_share
        w[two] = np.where(pos[two] == 0, first, last_share) / ends if ends > 0 else 0.5
        return w
    raise MMModelError(
        Codes.INVALID_PARAMETER,
        f"unknown rule {model!r}; expected one of {list(HEURISTICS)}.",
        hint="pick one of the rule-based models.",
    )


def heuristic_attribution(
    data: JourneyData,
    model: str,
    *,
    half_life: float = DEFAULT_HALF_LIFE_DAYS,
    position_weights: Sequence[float] = DEFAULT_POSITION_WEIGHTS,
) -> tuple[FloatArray, FloatArray]:
    """Conversions and value credited to each channel by rule ``model``.

    Returns
    -------
    (conversions, value) : ndarrays of shape (n_channels,)
        Sum to the conversions and value of the converted journeys that have touches.
    """
    weights = touch_weights(data, model, half_life=half_life, position_weights=position_weights)
    journey = data.journey_of_touch
    converted = data.converted[journey]
    k = len(data.channels)
    conversions = np.bincount(data.channel[converted], weights[converted], minlength=k)
    value = np.bincount(
        data.channel[converted], weights[converted] * data.value[journey[converted]], minlength=k
    )
    return conversions.astype(float), value.astype(float)


def check_half_life(half_life: object) -> float:
    """``half_life`` as a positive float, else ``INVALID_PARAMETER``."""
    if (
        isinstance(half_life, bool)
        or not isinstance(half_life, int | float | np.integer | np.floating)
        or not np.isfinite(half_life)
        or half_life <= 0
    ):
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"half_life must be a finite number of days > 0, got {half_life!r}.",
            hint="pass e.g. half_life=7: a touch a week before the last one counts half.",
        )
    return float(half_life)


def check_position_weights(weights: object) -> tuple[float, float, float]:
    """``(first, middle, last)`` normalised to sum to 1, else ``INVALID_PARAMETER``."""
    try:
        values = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        values = np.array([])
    if values.shape != (3,) or not np.isfinite(values).all() or (values < 0).any():
        ok = False
    else:
        ok = values.sum() > 0
    if not ok:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"position_weights must be three non-negative numbers (first, middle, last) with a "
            f"positive sum, got {weights!r}.",
            hint="pass e.g. position_weights=(0.4, 0.2, 0.4).",
        )
    first, middle, last = values / values.sum()
    return float(first), float(middle), float(last)
