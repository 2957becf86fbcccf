"""Anomalies: points far from what trend and season predict, by a robust z-score.

The residuals ``r_t = y_t - expected_t`` of a robust decomposition are scored by the modified
z-score of Iglewicz & Hoaglin (1993)::

    z_t = 0.6745 (r_t - median(r)) / MAD(r)

(``0.6745`` makes ``z`` a standard normal score for Gaussian noise; the median and MAD are not
moved by the anomalies themselves). ``|z_t| > 3.5``, their recommended cut-off, flags a point:
about one false alarm per 2,000 points of Gaussian noise. When the MAD is zero (more than half
of the residuals equal), the mean absolute deviation stands in: ``z = (r - median) /
(1.2533 MeanAD)``.

Points within ``guard`` periods of a change point are not flagged: the step itself is reported
as a change point, and its exact position is uncertain by a period or two.

Examples
--------
>>> import numpy as np
>>> r = np.array([0.1, -0.2, 0.0, 0.15, -0.1, 5.0, 0.05, -0.05])
>>> [a.index for a in find_anomalies(r + 10, np.full(8, 10.0), threshold=3.5)]
[5]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Anomaly", "find_anomalies", "robust_z"]

FloatArray = NDArray[np.float64]

_MAD_Z = 0.6745
_MEAN_AD_Z = 1.2533


@dataclass(frozen=True)
class Anomaly:
    """One flagged point.

    Attributes
    ----------
    index : int
        Position in the series.
    value, expected : float
        Observed value and trend + season at that point.
    residual : float
        ``value - expected``.
    robust_z : float
        Modified z-score of the residual.
    direction : str
        ``"spike"`` (above expected) or ``"dip"``.
    size_pct : float or None
        ``100 * residual / |expected|`` (``None`` when ``expected`` is 0).
    """

    index: int
    value: float
    expected: float
    residual: float
    robust_z: float
    direction: str
    size_pct: float | None


def robust_z(residuals: FloatArray) -> FloatArray:
    """Modified z-scores ``0.6745 (r - median) / MAD`` (all zeros for a constant input)."""
    r = np.asarray(residuals, dtype=float)
    if r.size == 0:
        return r.copy()
    centred = r - np.median(r)
    mad = float(np.median(np.abs(centred)))
    if mad > 0:
        return _MAD_Z * centred / mad
    mean_ad = float(np.mean(np.abs(centred)))
    if mean_ad > 0:
        return centred / (_MEAN_AD_Z * mean_ad)
    return np.zeros_like(r)


def find_anomalies(
    values: FloatArray,
    expected: FloatArray,
    *,
    threshold: float = 3.5,
    residuals: FloatArray | None = None,
    exclude_near: Sequence[int] = (),
    guard: int = 2,
) -> list[Anomaly]:
    """Points whose residual has ``|robust z| > threshold``, in time order.

    Parameters
    ----------
    values, expected : array of shape (n,)
        Observed series and its expected value (trend + seasonal).
    threshold : float
        Cut-off on ``|z|`` (3.5 after Iglewicz & Hoaglin).
    residuals : array of shape (n,), optional
        Residuals to score; ``values - expected`` by default.
    exclude_near : sequence of int
        Change-point indices (first index of the new segment); points ``index - guard`` to
        ``index + guard - 1`` are never flagged.
    guard : int
        Half-width of the excluded window, in periods.
    """
    values = np.asarray(values, dtype=float)
    expected = np.asarray(expected, dtype=float)
    r = values - expected if residuals is None else np.asarray(residuals, dtype=float)
    z = robust_z(r)
    flagged = np.abs(z) > threshold
    for index in exclude_near:
        flagged[max(0, index - guard) : max(0, index + guard)] = False
    out = []
    for i in np.flatnonzero(flagged):
        base = float(expected[i])
        out.append(
            Anomaly(
                index=int(i),
                value=float(values[i]),
                expected=base,
                residual=float(r[i]),
                robust_z=float(z[i]),
                direction="spike" if r[i] > 0 else "dip",
                size_pct=float(100.0 * r[i] / abs(base)) if base != 0 else None,
            )
        )
    return out
