"""Rule-based attribution for aggregate (per-period) data: pure, vectorised functions.

Aggregate data have no user paths, so the classic path rules (last touch, first touch, linear,
time decay) are rebuilt from the only "touches" such data hold: a channel *touches* period
``s`` when it spends in ``s`` (``x_{s,c} > 0``), and the size of the touch is its spend. The
revenue of period ``t`` is shared among the touches of its lookback window, the ``window``
periods ``t - window + 1 .. t`` (age ``a = t - s`` from 0 to ``window - 1``; periods before the
first row count as no spend):

* last touch:  ``w_{t,c} = x_{t-a_last,c}``, ``a_last`` the youngest age with any spend;
* first touch: ``w_{t,c} = x_{t-a_first,c}``, ``a_first`` the oldest age with any spend;
* linear:      ``w_{t,c} = 1`` if ``c`` spends anywhere in the window, else 0;
* time decay:  ``w_{t,c} = sum_a 2^(-a / half_life) x_{t-a,c}``.

Channel ``c`` is credited ``sum_t y_t w_{t,c} / sum_k w_{t,k}``; periods with no spend in
their window are credited to nobody. None of the rules has a baseline: they hand out *all*
revenue of the touched periods, including the sales that would have happened without media.

Examples
--------
>>> import numpy as np
>>> spend = np.array([[10.0, 0.0], [0.0, 30.0], [10.0, 30.0]])
>>> windows = lookback_windows(spend, window=2)
>>> last_touch_weights(windows)
array([[10.,  0.],
       [ 0., 30.],
       [10., 30.]])
>>> first_touch_weights(windows)
array([[10.,  0.],
       [10.,  0.],
       [ 0., 30.]])
>>> credit_revenue(np.array([100.0, 200.0, 400.0]), linear_weights(windows))[0]
array([400., 300.])
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

__all__ = [
    "HEURISTIC_DESCRIPTIONS",
    "credit_revenue",
    "first_touch_weights",
    "heuristic_weights",
    "last_touch_weights",
    "linear_weights",
    "lookback_windows",
    "time_decay_weights",
]

FloatArray = NDArray[np.float64]

HEURISTIC_DESCRIPTIONS: dict[str, str] = {
    "last_touch": (
        "Each period's revenue goes to the channels that spent in the most recent period of "
        "its lookback window with any spend (the period itself whenever something ran), split "
        "by their spend in that period. Misleads when media work with a delay: it rewards "
        "whatever is running when sales happen (always-on and demand-following channels) and "
        "gives carry-over channels (TV, radio) nothing for the sales their past spend drives."
    ),
    "first_touch": (
        "Each period's revenue goes to the channels that spent in the oldest period of its "
        "lookback window with any spend (window - 1 periods back whenever something ran then), "
        "split by their spend in that period. Misleads: it is a lagged spend share that ignores "
        "everything spent after that period, and it swings with the window length."
    ),
    "linear": (
        "Each period's revenue is split equally among the channels that spent at least once in "
        "its lookback window, whatever they spent. Misleads: a channel spending 1 is credited as "
        "much as one spending 100,000, so it rewards being switched on often, not spending or "
        "working."
    ),
    "time_decay": (
        "Each period's revenue is split in proportion to the spend of its lookback window "
        "weighted by 2^(-age / half_life) (age 0 is the period itself): a fixed carry-over with "
        "an assumed half-life and no saturation. Misleads: the half-life is assumed, not "
        "estimated, and credit still follows spend, so channels end up with similar ROIs "
        "whatever they really return."
    ),
}
"""What each rule means on aggregate data and when it misleads (all credit baseline sales too)."""


def lookback_windows(spend: FloatArray, window: int) -> FloatArray:
    """Spend of each period's lookback window by age, shape ``(n, m, window)``.

    ``out[t, c, a] = spend[t - a, c]`` for ``0 <= a < window``, 0 when ``t - a < 0``.

    Parameters
    ----------
    spend : ndarray, shape (n, m)
        Spend per period (rows in time order) and channel, ``>= 0``.
    window : int
        Periods looked back, the current one included (``>= 1``).

    Returns
    -------
    ndarray, shape (n, m, window)
    """
    m = spend.shape[1]
    padded = np.vstack([np.zeros((window - 1, m)), spend])
    # sliding_window_view's last axis runs from oldest to newest: reverse it to index by age.
    return sliding_window_view(padded, window, axis=0)[:, :, ::-1]


def _touched(windows: FloatArray) -> NDArray[np.bool_]:
    """``(n, window)``: whether any channel spends at each age of each period's window."""
    return (windows > 0).any(axis=1)


def _spend_at_age(windows: FloatArray, age: NDArray[np.intp]) -> FloatArray:
    """``(n, m)`` spend of every channel at age ``age[t]`` of period ``t``'s window."""
    return np.take_along_axis(windows, age[:, None, None], axis=2)[:, :, 0]


def last_touch_weights(windows: FloatArray) -> FloatArray:
    """Spend in the youngest touched period of each window, shape ``(n, m)``.

    Rows whose window has no spend are all zero.
    """
    youngest = np.argmax(_touched(windows), axis=1)
    return _spend_at_age(windows, youngest)


def first_touch_weights(windows: FloatArray) -> FloatArray:
    """Spend in the oldest touched period of each window, shape ``(n, m)``.

    Rows whose window has no spend are all zero.
    """
    touched = _touched(windows)
    oldest = touched.shape[1] - 1 - np.argmax(touched[:, ::-1], axis=1)
    return _spend_at_age(windows, oldest)


def linear_weights(windows: FloatArray) -> FloatArray:
    """1 for each channel that spends anywhere in the window, else 0, shape ``(n, m)``."""
    return (windows > 0).any(axis=2).astype(float)


def time_decay_weights(windows: FloatArray, half_life: float) -> FloatArray:
    """Window spend weighted by ``2^(-age / half_life)``, shape ``(n, m)``."""
    ages = np.arange(windows.shape[2], dtype=float)
    return windows @ np.exp2(-ages / half_life)


def heuristic_weights(windows: FloatArray, half_life: float) -> dict[str, FloatArray]:
    """The four rules' weights ``(n, m)`` by method name (the keys of the descriptions)."""
    return {
        "last_touch": last_touch_weights(windows),
        "first_touch": first_touch_weights(windows),
        "linear": linear_weights(windows),
        "time_decay": time_decay_weights(windows, half_life),
    }


def credit_revenue(revenue: FloatArray, weights: FloatArray) -> tuple[FloatArray, float]:
    """Share each period's revenue by its row of ``weights``.

    Parameters
    ----------
    revenue : ndarray, shape (n,)
    weights : ndarray, shape (n, m)
        Non-negative; a row of zeros leaves that period's revenue unattributed.

    Returns
    -------
    attributed : ndarray, shape (m,)
        ``sum_t y_t w_{t,c} / sum_k w_{t,k}`` per channel.
    unattributed : float
        Revenue of the periods whose weights are all zero.
    """
    totals = weights.sum(axis=1, keepdims=True)
    fractions = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    unattributed = float(revenue[totals[:, 0] <= 0].sum())
    return revenue @ fractions, unattributed
