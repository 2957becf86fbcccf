"""Baseline design: intercept, linear trend and yearly Fourier seasonality.

``baseline_t = c + d * t / T + sum_{k=1}^{K} (a_k sin(2 pi k t / P) + b_k cos(2 pi k t / P))``
where ``t`` counts periods from the first fitted period, ``T`` is the number of fitted periods
(so the trend coefficient is the change over the fitted span) and ``P`` the periods per year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mmm_core.models.validation import WEEKLY_PERIODS_PER_YEAR


@dataclass(frozen=True)
class BaselineSpec:
    """How the baseline is built; fixed at fit time and stored with the model.

    Attributes
    ----------
    include : bool
        Whether there is a baseline at all (``include_baseline``). Without it the model has
        media (and controls) only, and no intercept.
    n_train : int
        ``T``: periods in the fitted span (scales the trend).
    periods_per_year : float
        ``P``.
    n_fourier : int
        ``K`` sine/cosine pairs; 0 when the fitted span is shorter than a year, where yearly
        seasonality cannot be told apart from trend and media.
    """

    include: bool
    n_train: int
    periods_per_year: float
    n_fourier: int

    @classmethod
    def for_training(
        cls, include: bool, n_rows: int, periods_per_year: float | None, n_fourier: int
    ) -> BaselineSpec:
        """Choose the spec for a training set of ``n_rows`` periods."""
        ppy = float(periods_per_year or WEEKLY_PERIODS_PER_YEAR)
        fourier = n_fourier if include and n_rows >= ppy else 0
        return cls(include=include, n_train=n_rows, periods_per_year=ppy, n_fourier=fourier)

    @property
    def names(self) -> list[str]:
        """Column names of :meth:`features`."""
        if not self.include:
            return []
        names = ["intercept", "trend"]
        for k in range(1, self.n_fourier + 1):
            names += [f"season_sin_{k}", f"season_cos_{k}"]
        return names

    def features(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """Baseline columns at period positions ``t`` (shape ``(n, len(names))``)."""
        t = np.asarray(t, dtype=float)
        if not self.include:
            return np.empty((t.size, 0))
        cols = [np.ones_like(t), t / max(self.n_train, 1)]
        for k in range(1, self.n_fourier + 1):
            angle = 2.0 * np.pi * k * t / self.periods_per_year
            cols += [np.sin(angle), np.cos(angle)]
        return np.column_stack(cols)

    def to_dict(self) -> dict[str, object]:
        return {
            "include": self.include,
            "n_train": self.n_train,
            "periods_per_year": self.periods_per_year,
            "n_fourier": self.n_fourier,
        }
