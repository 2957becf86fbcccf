"""The fitted response surface the optimizer works on, vectorised over uncertainty draws.

For spend ``x`` per period (steady state: normalised adstock leaves a constant spend unchanged),

    R_d(x) = sum_c beta_dc h_dc(x_c) + sum_k beta_syn_dk h_di(x_i) h_dj(x_j)

for each draw ``d`` of the model's bootstrap (or the point estimate alone). Plans are scored on
the mean over draws, the expected response, so a move the data cannot support earns nothing
on average.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mmm_core.optimize.grid_search import ChannelCurves

FloatArray = NDArray[np.float64]


@dataclass
class ResponseSurface:
    """Response per period of ``D`` draws of the media parameters.

    Attributes
    ----------
    channels : list of str
    half_saturation, shape, beta : ndarray, shape (D, m)
    beta_synergy : ndarray, shape (D, P)
    pairs : list of (int, int)
    """

    channels: list[str]
    half_saturation: FloatArray
    shape: FloatArray
    beta: FloatArray
    beta_synergy: FloatArray = field(default_factory=lambda: np.zeros((1, 0)))
    pairs: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def from_model(cls, model: Any, draws: bool = True) -> ResponseSurface:
        """Build from ``EconometricMMM.response_parameters(draws)``."""
        p = model.response_parameters(draws=draws)
        return cls(
            channels=list(p["channels"]),
            half_saturation=np.asarray(p["half_saturation"], dtype=float),
            shape=np.asarray(p["shape"], dtype=float),
            beta=np.asarray(p["beta"], dtype=float),
            beta_synergy=np.asarray(p["beta_synergy"], dtype=float).reshape(len(p["beta"]), -1),
            pairs=[tuple(pair) for pair in p["pairs"]],
        )

    def __post_init__(self) -> None:
        self._floor = 1e-9 * self.half_saturation.mean(axis=0)
        self._curves: ChannelCurves | None = None

    @property
    def separable(self) -> bool:
        """Whether the response is a sum of one curve per channel (no active synergy)."""
        return not (self.pairs and bool(np.any(self.beta_synergy != 0)))

    def channel_curves(self, x_max: ArrayLike) -> ChannelCurves:
        """Each channel's expected response tabulated up to at least ``x_max`` per period
        (built on first use and when a larger spend is asked for, then kept)."""
        need = np.asarray(x_max, dtype=float)
        curves = self._curves
        if curves is None or np.any(curves.x_max < need):
            if curves is not None:
                need = np.maximum(need, curves.x_max)
            curves = ChannelCurves.tabulate(
                self.half_saturation, self.shape, self.beta, np.minimum(4 * need, 1e300)
            )
            self._curves = curves
        return curves

    @property
    def n_draws(self) -> int:
        return int(self.beta.shape[0])

    def _hill(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``h`` and ``dh/dx`` per draw and channel, shape ``(D, m)`` for ``x`` of shape (m,)."""
        # A floor keeps dh/dx finite at zero spend for concave curves (shape < 1).
        xs = np.maximum(np.asarray(x, dtype=float), self._floor)
        r = xs / self.half_saturation
        # Stable for any spend: h = 1 / (1 + r^-s) and dh/dx = s h (1 - h) / x.
        with np.errstate(over="ignore", divide="ignore"):
            h = 1.0 / (1.0 + r ** (-self.shape))
        dh = self.shape * h * (1.0 - h) / xs
        return h, dh

    def per_draw(self, x: ArrayLike) -> FloatArray:
        """Media response per period under each draw, shape ``(D,)``."""
        h, _ = self._hill(np.asarray(x, dtype=float))
        out = np.sum(self.beta * h, axis=1)
        for k, (i, j) in enumerate(self.pairs):
            out = out + self.beta_synergy[:, k] * h[:, i] * h[:, j]
        return out

    def gradient_per_draw(self, x: ArrayLike) -> FloatArray:
        """``dR_d/dx_c``, shape ``(D, m)``: the marginal ROI of each channel under each draw."""
        h, dh = self._hill(np.asarray(x, dtype=float))
        grad = self.beta * dh
        for k, (i, j) in enumerate(self.pairs):
            grad[:, i] += self.beta_synergy[:, k] * dh[:, i] * h[:, j]
            grad[:, j] += self.beta_synergy[:, k] * h[:, i] * dh[:, j]
        return grad

    def expected_value_and_gradient(self, x: ArrayLike) -> tuple[float, FloatArray]:
        """:meth:`expected` and :meth:`expected_gradient` from one evaluation of the curves
        (what the optimizer calls at every step)."""
        h, dh = self._hill(np.asarray(x, dtype=float))
        value = np.sum(self.beta * h, axis=1)
        grad = self.beta * dh
        for k, (i, j) in enumerate(self.pairs):
            b = self.beta_synergy[:, k]
            value = value + b * h[:, i] * h[:, j]
            grad[:, i] += b * dh[:, i] * h[:, j]
            grad[:, j] += b * h[:, i] * dh[:, j]
        return float(value.mean()), grad.mean(axis=0)

    def expected(self, x: ArrayLike) -> float:
        """Expected media response per period (mean over draws)."""
        return float(self.per_draw(x).mean())

    def expected_gradient(self, x: ArrayLike) -> FloatArray:
        """Expected marginal ROI per channel, shape ``(m,)``."""
        return self.gradient_per_draw(x).mean(axis=0)
