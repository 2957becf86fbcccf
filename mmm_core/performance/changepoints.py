"""Change points in a deseasonalised series: PELT with a piecewise-linear cost.

Model
-----
The series is cut into segments, each with its own straight line plus noise::

    d_t = a_k + b_k t + e_t   for t in segment k,   e_t ~ N(0, sigma^2)

so a change point is a break in level (a step), in slope (a kink) or both; a steady trend
is one segment, not a staircase of mean shifts. The cost of a segment is its least-squares
residual sum of squares over ``sigma^2``, ``C(s, t) = SSE(s, t) / sigma^2``, computed in O(1)
for any ``(s, t)`` from cumulative sums of ``1, t, t^2, d, t d, d^2``, and for many ``s`` at
once with numpy.

Search
------
PELT (Killick, Fearnhead & Eckley 2012, "Optimal detection of changepoints with a linear
computational cost", JASA 107(500)) finds the exact minimum of
``sum_k C(segment_k) + beta * (number of change points)`` over all segmentations with
segments of at least ``min_size`` points, pruning start points that can no longer be optimal
(``F(s) + C(s, t) > F(t)``, applied ``min_size`` steps later so that the split at ``t`` is
admissible), so the work is near linear in ``n`` when there are changes.

Penalty
-------
BIC-style: each change point adds three parameters (its position, a level and a slope), so
``beta = 3 * log(n) * multiplier``, in units of the noise variance. ``sigma`` is estimated
robustly from second differences, ``sigma = 1.4826 * MAD(diff2 d) / sqrt(6)`` (times seasonal
differences for a jagged pattern such as the days of the week), which neither steps, a trend
nor a smooth seasonal wave inflate (:func:`noise_scale`). It must not be taken from a series
deseasonalised with a pattern estimated from the same points: that pattern carries part of
their noise away (all of it, for the median of three cycles), and the penalty shrinks with it.

Spikes
------
Isolated outliers would pass for two close change points. Before the search each point more
than ``3 sigma`` from ``median_7``, a centred running median of seven points, is replaced by
``median_7``: running medians remove runs of up to three outliers but keep steps sharp.

Seasonal series
---------------
A series must be deseasonalised first, but a seasonal pattern estimated before the change
points are known is bent by them: around a smooth trend, the pattern soaks up part of a step,
differently in each cycle, and leaves teeth at the cycle boundaries (with two to four cycles,
a step exactly one cycle in is even indistinguishable from a saw-tooth pattern plus a trend and
a step one cycle later). :func:`seasonal_change_points` therefore refits the pattern jointly
with the segments (:class:`SeasonalSegmentModel`: a few Fourier harmonics, which cannot draw a
saw-tooth) and keeps, of two searches, the set of change points with the lower penalised joint
cost: PELT candidates pruned and searched again against the joint pattern, and binary
segmentation in the joint model itself, whose single-change gains for all ``n`` positions come
from reverse cumulative sums.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> d = np.r_[np.zeros(60), np.full(60, 5.0)] + rng.normal(0, 1, 120)
>>> [c.index for c in detect_change_points(d)]
[60]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mmm_core.performance.decomposition import rolling_median

__all__ = [
    "ChangePoint",
    "LinearSegmentCost",
    "SeasonalSegmentModel",
    "bic_penalty",
    "clip_spikes",
    "describe_change_points",
    "detect_change_points",
    "noise_scale",
    "pelt",
    "search_change_points",
    "seasonal_change_points",
    "spikes",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Parameters a change point adds: its position, a level and a slope.
PARAMETERS_PER_CHANGE = 3
#: Running-median window used to clip spikes before the search.
SPIKE_WINDOW = 7
#: Replace points this many noise standard deviations from the running median.
SPIKE_CLIP = 3.0
#: |jump| / standard error above which a change point counts as a level shift.
LEVEL_SHIFT_Z = 3.0
#: Most Fourier harmonics per seasonal period in :class:`SeasonalSegmentModel`.
MAX_HARMONICS = 10
_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class ChangePoint:
    """A change between ``index - 1`` and ``index`` (the first point of the new segment).

    Attributes
    ----------
    index : int
        First position of the segment after the change.
    before_level, after_level : float
        Levels just before and just after the change: the straight-line fits of the two
        segments evaluated at ``index - 0.5``.
    before_mean, after_mean : float
        Means of the two whole segments.
    jump : float
        ``after_level - before_level``.
    jump_z : float
        ``jump`` over its standard error (from the two line fits).
    slope_before, slope_after : float
        Slopes of the two segments, per period.
    score : float
        How much the split lowers the cost, ``(SSE_joined - SSE_split) / sigma^2``: a
        likelihood-ratio statistic to compare with the penalty.
    kind : str
        ``"level_shift"`` when ``|jump_z| >= 3``, else ``"trend_change"``.
    """

    index: int
    before_level: float
    after_level: float
    before_mean: float
    after_mean: float
    jump: float
    jump_z: float
    slope_before: float
    slope_after: float
    score: float
    kind: str


class LinearSegmentCost:
    """Least-squares cost of a straight-line fit on ``y[s:t]``, vectorised over ``s``.

    Parameters
    ----------
    y : array of shape (n,)
        The series, already divided by the noise scale.
    """

    def __init__(self, y: FloatArray) -> None:
        y = np.asarray(y, dtype=float)
        n = y.shape[0]
        self.n = n
        self._shift = float(np.median(y)) if n else 0.0
        yc = y - self._shift
        t = (np.arange(n) - (n - 1) / 2.0) / max(n, 1)  # centred and scaled: sums stay small
        self._t = t

        def cum(values: FloatArray) -> FloatArray:
            return np.concatenate(([0.0], np.cumsum(values)))

        self._s1 = np.arange(n + 1, dtype=float)
        self._st, self._stt = cum(t), cum(t * t)
        self._sy, self._sty, self._syy = cum(yc), cum(t * yc), cum(yc * yc)

    def _sums(self, s: IntArray | int, t: int) -> tuple[FloatArray, ...]:
        m = self._s1[t] - self._s1[s]
        st = self._st[t] - self._st[s]
        stt = self._stt[t] - self._stt[s]
        sy = self._sy[t] - self._sy[s]
        sty = self._sty[t] - self._sty[s]
        syy = self._syy[t] - self._syy[s]
        sxx = stt - st * st / m
        sxy = sty - st * sy / m
        syc = syy - sy * sy / m
        return m, st, sy, sxx, sxy, syc

    def cost(self, s: IntArray | int, t: int) -> FloatArray:
        """SSE of the line fitted to ``y[s:t]`` for each start ``s`` (segments of >= 2 points)."""
        _, _, _, sxx, sxy, syc = self._sums(s, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            explained = np.where(sxx > 0, sxy * sxy / sxx, 0.0)
        return np.maximum(syc - explained, 0.0)

    def fit_at(self, s: int, t: int, position: float) -> tuple[float, float, float]:
        """Line fitted to ``y[s:t]``: its value at ``position``, slope per period and
        ``Var(value) / sigma^2`` (``1/m + (x - mean x)^2 / Sxx``), in the scaled units of ``y``.
        """
        m, st, sy, sxx, sxy, _ = self._sums(s, t)
        x = (position - (self.n - 1) / 2.0) / max(self.n, 1)
        mean_t, mean_y = st / m, sy / m
        slope = sxy / sxx if sxx > 0 else 0.0
        value = mean_y + slope * (x - mean_t) + self._shift
        variance = 1.0 / m + ((x - mean_t) ** 2 / sxx if sxx > 0 else 0.0)
        return float(value), float(slope / max(self.n, 1)), float(variance)


def pelt(cost: LinearSegmentCost, penalty: float, min_size: int) -> list[int]:
    """Exact penalised segmentation by PELT (Killick et al. 2012).

    Minimises ``sum_k cost(segment_k) + penalty * (number of change points)`` over segments
    of at least ``min_size`` points. Returns the change points: the first index of every
    segment but the first, increasing.

    Pruning: a start ``s`` with ``F(s) + C(s, t) > F(t)`` can never be the best last change
    before any ``t' >= t + min_size`` (splitting at ``t`` does better, as splitting never
    raises a least-squares cost), so it is dropped ``min_size`` steps later; before that,
    a split at ``t`` would leave too short a segment.
    """
    n = cost.n
    if n < 2 * min_size:
        return []
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    previous = np.zeros(n + 1, dtype=np.intp)
    candidates = np.array([0], dtype=np.intp)
    doomed: dict[int, NDArray[np.intp]] = {}  # time -> starts to drop then
    for t in range(min_size, n + 1):
        if t in doomed:
            candidates = np.setdiff1d(candidates, doomed.pop(t), assume_unique=True)
        if t - min_size >= min_size:
            candidates = np.append(candidates, t - min_size)
        segment = cost.cost(candidates, t)
        total = best[candidates] + segment + penalty
        i = int(np.argmin(total))
        best[t], previous[t] = total[i], candidates[i]
        beaten = candidates[best[candidates] + segment > best[t]]
        if beaten.size:
            doomed[t + min_size] = beaten
    changes: list[int] = []
    t = n
    while t > 0:
        s = int(previous[t])
        if s > 0:
            changes.append(s)
        t = s
    return changes[::-1]


def noise_scale(y: FloatArray, lags: Sequence[int] = ()) -> float:
    """Robust noise standard deviation of ``y`` from differences that cancel its structure.

    The filter is the second difference, times a seasonal difference ``y_t - y_{t-p}`` for
    each ``p`` in ``lags``; with ``c`` its coefficients, ``sigma = 1.4826 MAD(filtered) /
    sqrt(sum c^2)``. Second differences cancel a level and a slope and nearly cancel a smooth
    seasonal wave (a sine of amplitude ``A`` and period ``p`` leaves ``A (2 pi / p)^2``);
    seasonal differences cancel a jagged pattern (days of the week). A step or a spike
    touches a few filtered values, which the MAD ignores. The mean absolute deviation stands
    in when the MAD is zero; 0 for a series the filter cancels exactly.
    """
    coefficients = np.array([1.0, -2.0, 1.0])
    for lag in lags:
        seasonal = np.zeros(int(lag) + 1)
        seasonal[[0, -1]] = 1.0, -1.0
        coefficients = np.convolve(coefficients, seasonal)
    y = np.asarray(y, dtype=float)
    if y.shape[0] < coefficients.shape[0] + 1:
        return 0.0
    filtered = np.convolve(y, coefficients, mode="valid")
    centred = np.abs(filtered - np.median(filtered))
    norm = float(np.sqrt(np.sum(coefficients**2)))
    mad = float(np.median(centred))
    if mad > 0:
        return _MAD_TO_SD * mad / norm
    return 1.2533 * float(np.mean(centred)) / norm


def spikes(y: FloatArray, sigma: float) -> NDArray[np.bool_]:
    """Points more than ``3 sigma`` from the centred 7-point running median of ``y``.

    The running median follows steps and slow seasonality, so this flags isolated spikes and
    dips (runs of up to three) and not the points next to a level shift.
    """
    y = np.asarray(y, dtype=float)
    if sigma <= 0 or y.size < SPIKE_WINDOW:
        return np.zeros(y.shape[0], dtype=bool)
    return np.abs(y - rolling_median(y, SPIKE_WINDOW)) > SPIKE_CLIP * sigma


def clip_spikes(y: FloatArray, sigma: float) -> FloatArray:
    """``y`` with each of its :func:`spikes` replaced by the 7-point running median."""
    y = np.asarray(y, dtype=float)
    flagged = spikes(y, sigma)
    return np.where(flagged, rolling_median(y, SPIKE_WINDOW), y) if flagged.any() else y.copy()


def bic_penalty(n: int, multiplier: float = 1.0) -> float:
    """``3 log(n) * multiplier``: the BIC cost of one more change point, in noise variances."""
    return PARAMETERS_PER_CHANGE * float(np.log(max(n, 2))) * multiplier


def describe_change_points(
    y: FloatArray, changes: Sequence[int], sigma: float
) -> list[ChangePoint]:
    """Levels, jumps and scores of given change points of a deseasonalised series.

    Each segment gets its own least-squares line (on the series with spikes replaced, as in
    the search); see :class:`ChangePoint` for the fields.
    """
    y = np.asarray(y, dtype=float)
    n = y.shape[0]
    if not changes or sigma <= 0:
        return []
    cost = LinearSegmentCost(clip_spikes(y, sigma) / sigma)
    bounds = [0, *changes, n]
    points = []
    for k, index in enumerate(changes):
        start, end = bounds[k], bounds[k + 2]
        where = index - 0.5
        before, slope_before, var_before = cost.fit_at(start, index, where)
        after, slope_after, var_after = cost.fit_at(index, end, where)
        jump = after - before
        jump_z = float(jump / np.sqrt(var_before + var_after))
        score = float(cost.cost(start, end) - cost.cost(start, index) - cost.cost(index, end))
        points.append(
            ChangePoint(
                index=int(index),
                before_level=before * sigma,
                after_level=after * sigma,
                before_mean=float(np.mean(y[start:index])),
                after_mean=float(np.mean(y[index:end])),
                jump=jump * sigma,
                jump_z=jump_z,
                slope_before=slope_before * sigma,
                slope_after=slope_after * sigma,
                score=score,
                kind="level_shift" if abs(jump_z) >= LEVEL_SHIFT_Z else "trend_change",
            )
        )
    return points


def search_change_points(
    y: FloatArray, sigma: float, *, penalty: float = 1.0, min_size: int = 6
) -> list[int]:
    """PELT on ``y`` with spikes replaced and the BIC penalty: the change-point indices."""
    y = np.asarray(y, dtype=float)
    n = y.shape[0]
    if n < 2 * min_size or not np.isfinite(sigma) or sigma <= 0:
        return []
    cost = LinearSegmentCost(clip_spikes(y, sigma) / sigma)
    return pelt(cost, bic_penalty(n, penalty), min_size)


def detect_change_points(
    y: FloatArray,
    *,
    penalty: float = 1.0,
    min_size: int = 6,
    sigma: float | None = None,
) -> list[ChangePoint]:
    """Change points of a deseasonalised series (see the module docstring for the method).

    Parameters
    ----------
    y : array of shape (n,)
        The series with its seasonal pattern removed.
    penalty : float
        Multiplier of the BIC penalty ``3 log n`` (larger: fewer change points).
    min_size : int
        Fewest points in a segment (>= 2).
    sigma : float, optional
        Noise standard deviation; estimated by :func:`noise_scale` when not given.

    Returns
    -------
    list of ChangePoint
        In time order; empty for a series too short or without noise.
    """
    y = np.asarray(y, dtype=float)
    scale = noise_scale(y) if sigma is None else float(sigma)
    changes = search_change_points(y, scale, penalty=penalty, min_size=min_size)
    return describe_change_points(y, changes, scale)


class SeasonalSegmentModel:
    """Joint least-squares fit of a seasonal pattern and a piecewise-linear trend.

    ``y_t = sum_p F_p(t) c_p + a + b t + sum_k [jump_k 1(t >= k) + kink_k (t - k)_+] + e_t``,
    where ``F_p`` are the first ``min(p // 2, 10)`` Fourier harmonics of each period ``p``.
    The trend part spans exactly the "own line per segment" model of the search.

    Change points found on a series deseasonalised *before* the change points were known can
    be artefacts: a seasonal pattern estimated around a smooth trend soaks up part of a step,
    differently in each cycle, and leaves teeth at the cycle boundaries. Refitting the pattern
    jointly with the segments removes them: :meth:`prune` drops, one at a time, the change
    point whose removal raises the joint residual sum of squares least, while that rise is
    below the penalty, and moves each kept one by up to ``shift`` periods when that fits
    better. Few harmonics make a smooth pattern, which cannot mimic a step at a cycle
    boundary (a saw-tooth pattern plus a trend could).

    Parameters
    ----------
    y : array of shape (n,)
        The series (with its seasonality).
    periods : sequence of int
        Seasonal periods.
    weights : array of shape (n,), optional
        0 for points to ignore (gross outliers), 1 otherwise.
    """

    def __init__(
        self, y: FloatArray, periods: Sequence[int], weights: FloatArray | None = None
    ) -> None:
        y = np.asarray(y, dtype=float)
        n = y.shape[0]
        self.n = n
        self._t = np.arange(n, dtype=float)
        root = np.ones(n) if weights is None else np.sqrt(np.asarray(weights, dtype=float))
        self._root = root
        base = [np.ones(n), self._t / max(n, 1)]
        for p in periods:
            for j in range(1, min(p // 2, MAX_HARMONICS) + 1):
                angle = 2 * np.pi * j * self._t / p
                base.append(np.cos(angle))
                if 2 * j != p:
                    base.append(np.sin(angle))
        self._base_raw = np.column_stack(base)
        self._seasonal_columns = len(base) - 2
        self._basis = self._base_raw * root[:, None]
        self._gram = self._basis.T @ self._basis
        self._y = y
        self._z = self._residualise(y * root)

    def _residualise(self, columns: FloatArray) -> FloatArray:
        """``columns`` minus their weighted least-squares projection on the base columns."""
        return columns - self._basis @ _solve(self._gram, self._basis.T @ columns)

    def _segment_columns(self, changes: Sequence[int]) -> FloatArray:
        cols = []
        for k in changes:
            cols.append((self._t >= k).astype(float))
            cols.append(np.maximum(self._t - k, 0.0) / max(self.n, 1))
        return np.column_stack(cols) if cols else np.zeros((self.n, 0))

    def sse(self, changes: Sequence[int]) -> float:
        """Weighted residual sum of squares of the joint fit with these change points."""
        if not changes:
            return float(self._z @ self._z)
        x = self._residualise(self._segment_columns(changes) * self._root[:, None])
        resid = self._z - x @ _solve(x.T @ x, x.T @ self._z)
        return float(resid @ resid)

    def seasonal(self, changes: Sequence[int]) -> FloatArray:
        """The fitted seasonal pattern (mean zero over the fit) with these change points."""
        design = np.column_stack([self._base_raw, self._segment_columns(changes)])
        weighted = design * self._root[:, None]
        beta = _solve(weighted.T @ weighted, weighted.T @ (self._y * self._root))
        pattern = self._base_raw[:, 2:] @ beta[2 : 2 + self._seasonal_columns]
        return pattern - pattern.mean()

    def gains(self, changes: Sequence[int]) -> FloatArray:
        """Fall of the weighted SSE from adding each single change point ``k`` to ``changes``.

        All ``n`` candidates at once in ``O(n p^2)`` for ``p`` design columns: the products of
        a step ``1(t >= k)`` or a kink ``(t - k)_+`` with anything are reverse cumulative sums,
        so their projections on the design need no per-``k`` regression. Entry ``k`` is 0
        where ``k`` is already a change point or leaves no room for a line.
        """
        n, t, root = self.n, self._t, self._root
        scale = max(n, 1)
        design = np.column_stack([self._base_raw, self._segment_columns(changes)])
        weighted = design * root[:, None]
        gram = weighted.T @ weighted
        target = self._y * root
        residual = target - weighted @ _solve(gram, weighted.T @ target)

        def tail(values: FloatArray) -> FloatArray:  # sum over t >= k, for every k
            return np.cumsum(values[::-1], axis=0)[::-1]

        k = t[:, None]
        w = root * root
        rw = residual * root
        r_step = tail(rw)
        r_kink = (tail(rw * t) - t * r_step) / scale
        d_step = tail(weighted * root[:, None])
        d_kink = (tail(weighted * (root * t)[:, None]) - k * d_step) / scale
        w0, w1, w2 = tail(w), tail(w * t), tail(w * t * t)
        ss = w0 - np.einsum("ij,ij->i", d_step, _solve(gram, d_step.T).T)
        sk = (w1 - t * w0) / scale - np.einsum("ij,ij->i", d_step, _solve(gram, d_kink.T).T)
        kk = (w2 - 2 * t * w1 + t * t * w0) / scale**2 - np.einsum(
            "ij,ij->i", d_kink, _solve(gram, d_kink.T).T
        )
        det = ss * kk - sk * sk
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = (kk * r_step**2 - 2 * sk * r_step * r_kink + ss * r_kink**2) / det
        tiny = 1e-9 * max(float(w0[0]), 1.0) * (float(kk.max()) if kk.size else 1.0)
        return np.where(np.isfinite(gain) & (det > tiny), np.maximum(gain, 0.0), 0.0)

    def forward(self, penalty: float, *, min_size: int = 6, limit: int = 20) -> list[int]:
        """Binary segmentation in the joint model: add the change point that lowers the
        weighted SSE most, while that fall is at least ``penalty``, keeping segments of at
        least ``min_size`` (at most ``limit`` change points)."""
        kept: list[int] = []
        positions = np.arange(self.n)
        while len(kept) < limit:
            gain = self.gains(kept)
            allowed = (positions >= min_size) & (positions <= self.n - min_size)
            for c in kept:
                allowed &= np.abs(positions - c) >= min_size
            gain = np.where(allowed, gain, 0.0)
            best = int(np.argmax(gain))
            if gain[best] < penalty:
                break
            kept = sorted([*kept, best])
        return kept

    def cost(self, changes: Sequence[int], penalty: float) -> float:
        """Penalised cost ``SSE + penalty * len(changes)`` of a set of change points."""
        return self.sse(changes) + penalty * len(changes)

    def prune(
        self,
        changes: Sequence[int],
        penalty: float,
        *,
        min_size: int = 6,
        shift: int = 2,
    ) -> list[int]:
        """Drop change points that do not pay their ``penalty`` (in units of the weighted
        SSE) in the joint fit, then move each kept one by up to ``shift`` periods if that
        lowers the SSE (keeping segments of at least ``min_size``).

        Candidates may come from several searches: while two are closer than ``min_size``,
        the one whose removal costs least goes first, whatever the penalty.
        """
        kept = sorted({int(c) for c in changes if min_size <= c <= self.n - min_size})
        while kept:
            full = self.sse(kept)
            rises = np.array([self.sse(kept[:i] + kept[i + 1 :]) - full for i in range(len(kept))])
            crowded = np.zeros(len(kept), dtype=bool)
            gaps = np.diff(kept) < min_size
            crowded[:-1] |= gaps
            crowded[1:] |= gaps
            if crowded.any():
                rises[~crowded] = np.inf
            weakest = int(np.argmin(rises))
            if not crowded.any() and rises[weakest] >= penalty:
                break
            del kept[weakest]
        for i in range(len(kept)):
            low = (kept[i - 1] if i else 0) + min_size
            high = (kept[i + 1] if i + 1 < len(kept) else self.n) - min_size
            options = [c for c in range(kept[i] - shift, kept[i] + shift + 1) if low <= c <= high]
            scores = [self.sse([*kept[:i], c, *kept[i + 1 :]]) for c in options]
            if scores:
                kept[i] = options[int(np.argmin(scores))]
        return kept


def _solve(gram: FloatArray, rhs: FloatArray) -> FloatArray:
    """Solve the normal equations ``gram @ x = rhs`` (least squares, minimum norm if singular).

    Normal equations rather than QR: the systems are small and well scaled, and LAPACK's QR
    is slow under a busy multi-threaded BLAS.
    """
    try:
        return np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def seasonal_change_points(
    y: FloatArray,
    periods: Sequence[int],
    first_guess: FloatArray,
    sigma: float,
    *,
    penalty: float = 1.0,
    min_size: int = 6,
    rounds: int = 3,
) -> tuple[list[int], FloatArray]:
    """Change points of a seasonal series, and its seasonal pattern fitted jointly with them.

    Two searches, and the set with the lower penalised joint cost
    (:meth:`SeasonalSegmentModel.cost`) wins:

    * PELT on ``y - first_guess`` (a pattern fitted before the change points were known),
      pruned in the joint model; then PELT again on ``y`` less the joint pattern, the
      candidates pooled and pruned again, until no new candidate appears (``rounds`` at most);
    * binary segmentation in the joint model itself (:meth:`SeasonalSegmentModel.forward`),
      pruned the same way: it cannot be misled by a bent first pattern, but is greedy.

    ``penalty`` multiplies the BIC penalty; the SSEs are compared in units of ``sigma^2``.
    The joint fits leave out the :func:`spikes` of ``y`` less either ``first_guess`` or a
    smooth Fourier pattern (least squares would otherwise spend change points on them). Both,
    because a per-position median of a few cycles adopts an anomaly that two cycles share,
    which a smooth pattern cannot, while a smooth pattern misses sharp seasonal weeks.
    """
    y = np.asarray(y, dtype=float)
    n = y.shape[0]
    beta = bic_penalty(n, penalty) * sigma**2
    smooth = SeasonalSegmentModel(y, periods).seasonal([])
    outliers = spikes(y - first_guess, sigma) | spikes(y - smooth, sigma)
    model = SeasonalSegmentModel(y, periods, weights=(~outliers).astype(float))
    found = search_change_points(y - first_guess, sigma, penalty=penalty, min_size=min_size)
    pool = set(found)
    pelt_set = model.prune(sorted(pool), beta, min_size=min_size)
    for _ in range(rounds):
        found = search_change_points(
            y - model.seasonal(pelt_set), sigma, penalty=penalty, min_size=min_size
        )
        if pool.issuperset(found):
            break
        pool.update(found)
        pelt_set = model.prune(sorted(pool), beta, min_size=min_size)
    greedy_set = model.prune(model.forward(beta, min_size=min_size), beta, min_size=min_size)
    best = min((pelt_set, greedy_set), key=lambda changes: model.cost(changes, beta))
    return best, model.seasonal(best)
