"""The global optimum of a separable allocation on a grid, by dynamic programming.

Without synergies the expected response is a sum of one-dimensional curves,
``F(x) = sum_c F_c(x_c)`` with ``F_c(x) = E_d[beta_dc h_dc(x)]``. Hill curves with shape above
1 are S-shaped, so ``F`` has several local optima and a local solver finds the one its start
leads to. Splitting a budget into ``G`` equal steps above each channel's minimum, the best
split on that grid is exact by dynamic programming (the classic resource-allocation
recursion, ``O(m G^2)``), whatever the curves' shapes; a local solver started there then
finds the optimum between grid points.

``F_c`` is tabulated once per surface (:class:`ChannelCurves`, a fine logarithmic grid, then
linear interpolation), so a plan costs ``m`` table lookups and the recursion, not ``D x m x G``
curve evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

FloatArray = NDArray[np.float64]

#: Points of each channel's table, logarithmically spaced: neighbours differ by under 3% over
#: the default six decades, far finer than the grid the recursion works on.
POINTS = 512
#: Steps the budget is split into by the recursion (0.5% of the money above the minimums).
STEPS = 200


@dataclass(frozen=True)
class ChannelCurves:
    """Each channel's expected response per period, tabulated for spend ``0..x_max``.

    Attributes
    ----------
    x : ndarray, shape (m, POINTS + 1)
        Spend per period: 0, then a logarithmic grid.
    value : ndarray, shape (m, POINTS + 1)
        ``E_d[beta_dc h_dc(x)]`` at ``x``.
    """

    x: FloatArray
    value: FloatArray

    @property
    def x_max(self) -> FloatArray:
        """The largest tabulated spend per channel."""
        return self.x[:, -1]

    @classmethod
    def tabulate(
        cls, half_saturation: FloatArray, shape: FloatArray, beta: FloatArray, x_max: ArrayLike
    ) -> ChannelCurves:
        """Tabulate ``D`` draws' Hill curves (arrays ``(D, m)``) from ``1e-3 min K`` to at
        least ``x_max`` (per channel) and ``1e3 max K``."""
        m = half_saturation.shape[1]
        top = np.maximum(np.asarray(x_max, dtype=float), 1e3 * half_saturation.max(axis=0))
        bottom = 1e-3 * half_saturation.min(axis=0)
        xs = np.zeros((m, POINTS + 1))
        values = np.zeros((m, POINTS + 1))
        for c in range(m):
            grid = np.geomspace(bottom[c], top[c], POINTS)
            # h = 1 / (1 + (x / K)^-s) = expit(s (log x - log K)): one exp, no power
            z = shape[:, c : c + 1] * (
                np.log(grid)[None, :] - np.log(half_saturation[:, c : c + 1])
            )
            xs[c, 1:] = grid
            values[c, 1:] = (beta[:, c : c + 1] * expit(z)).mean(axis=0)
        return cls(xs, values)

    def __call__(self, channel: int, x: FloatArray) -> FloatArray:
        """Expected response of ``channel`` at spends ``x`` per period (interpolated)."""
        return np.interp(x, self.x[channel], self.value[channel])


def best_split(
    curves: ChannelCurves,
    lower: FloatArray,
    upper: FloatArray,
    total: float,
    scale: float,
    *,
    net: bool,
    steps: int = STEPS,
) -> FloatArray:
    """The best allocation of ``total`` on a grid of ``steps`` equal steps above ``lower``.

    Parameters
    ----------
    curves : ChannelCurves
        The channels' expected responses per period.
    lower, upper : ndarray, shape (m,)
        Each channel's limits, in the same unit as ``total`` (``upper`` may be ``inf``).
    total : float
        The budget, with ``lower.sum() <= total``.
    scale : float
        Spend per period of one unit of ``total`` (``1 / horizon`` for money over a horizon);
        the response of a channel given ``a`` is ``F_c(a * scale) / scale``.
    net : bool
        Maximise response minus spend, with ``sum <= total`` (``"roi"``); else the response
        with the whole ``total`` spent (as close as the grid allows when the channels'
        maximums fall short of a step).

    Returns
    -------
    ndarray, shape (m,)
        The allocation (sums to ``total`` for ``net=False`` unless the maximums forbid).
    """
    m = len(lower)
    free = max(float(total - lower.sum()), 0.0)
    step = free / steps if free > 0 else 0.0
    if step == 0.0:
        return lower.astype(float).copy()
    k = np.arange(steps + 1)
    with np.errstate(invalid="ignore"):
        room = np.floor(np.minimum((upper - lower) / step, steps) + 1e-9)
    # gains[c, k]: channel c's objective at lower + k steps (-inf beyond its maximum)
    spend = lower[:, None] + step * k[None, :]
    gains = np.vstack([curves(c, spend[c] * scale) / scale for c in range(m)])
    if net:
        gains = gains - spend
    gains[k[None, :] > room[:, None]] = -np.inf

    # best[b]: the best objective of the channels so far using b steps; choice[c, b]: the
    # steps channel c takes in it. best_c[b] = max_j best_{c-1}[b - j] + gains_c[j], read off
    # a sliding window over best_{c-1} padded with -inf (b - j < 0 is impossible).
    best = gains[0].copy()
    choice = np.zeros((m, steps + 1), dtype=np.int64)
    choice[0] = k
    padded = np.full(2 * steps + 1, -np.inf)
    for c in range(1, m):
        padded[steps:] = best
        # windows[b, j] = best_{c-1}[b - j]
        windows = sliding_window_view(padded, steps + 1)[:, ::-1]
        candidates = windows + gains[c][None, :]
        choice[c] = np.argmax(candidates, axis=1)
        best = candidates[k, choice[c]]
    if net:
        b = int(np.argmax(best))
    else:
        reachable = np.flatnonzero(np.isfinite(best))
        b = int(reachable[-1]) if len(reachable) else 0
    taken = np.zeros(m, dtype=np.int64)
    for c in range(m - 1, -1, -1):
        taken[c] = choice[c, b]
        b -= taken[c]
    return lower + step * taken
