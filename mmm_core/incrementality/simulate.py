"""Geo experiments with a known lift, for tests, demos and the incrementality benchmark.

Every geo's KPI follows a multiplicative factor model::

    kpi0_g,t = size_g * exp(season_t + sum_f loading_g,f * factor_f,t + u_g,t)
    kpi_g,t  = kpi0_g,t * (1 + lift * treated_g * in_test_t)

with common smooth factors (a growth trend and AR(1) demand shocks, each geo loading on them
with its own weight), a common yearly season (and a day-of-week pattern for daily data) and
idiosyncratic AR(1) noise ``u`` (standard deviation ``noise`` for a geo of median size, more
for smaller geos). The treated geos are drawn at random and the test window is the last
``test_periods`` periods, so geos are exchangeable and a synthetic control of the untreated
geos can reproduce the treated ones: exactly the setting in which placebo inference is valid.
The true lift is ``lift`` in % and ``lift * sum(kpi0 of the treated geos in the window)`` in
KPI units.

Examples
--------
>>> frame, truth = simulate_geo_panel(n_geos=10, n_periods=120, lift=0.1, seed=3)
>>> list(frame.columns)
['geo', 'date', 'kpi', 'treated']
>>> truth.lift_pct, len(truth.treated_geos)
(0.1, 1)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from mmm_core.incrementality.geo import invalid_option

__all__ = [
    "GeoExperimentTruth",
    "ImpactTruth",
    "simulate_geo_panel",
    "simulate_impact_series",
]

GEO_COLUMN = "geo"
DATE_COLUMN = "date"
KPI_COLUMN = "kpi"
TREATED_COLUMN = "treated"

_FREQUENCIES = {"D": ("D", 365.25), "W": ("W-MON", 365.25 / 7.0)}


@dataclass(frozen=True)
class GeoExperimentTruth:
    """What :func:`simulate_geo_panel` put into the data.

    Attributes
    ----------
    treated_geos : list of str
    test_start, test_end : str
        First and last date of the test window (ISO dates, inclusive).
    lift_pct : float
        True relative lift of the treated geos' total KPI over the window (``0.05`` = +5%).
    lift_abs : float
        True lift in KPI units, summed over the treated geos and the window.
    counterfactual_total : float
        The treated geos' KPI over the window without the test.
    """

    treated_geos: list[str]
    test_start: str
    test_end: str
    lift_pct: float
    lift_abs: float
    counterfactual_total: float

    def geo_lift_arguments(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~mmm_core.incrementality.geo.geo_lift` for this panel."""
        return {
            "geo_column": GEO_COLUMN,
            "date_column": DATE_COLUMN,
            "kpi_column": KPI_COLUMN,
            "treated_geos": list(self.treated_geos),
            "test_start": self.test_start,
            "test_end": self.test_end,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable copy."""
        return asdict(self)


@dataclass(frozen=True)
class ImpactTruth:
    """What :func:`simulate_impact_series` put into the data.

    Attributes
    ----------
    pre_period, post_period : list of str
        ``[first, last]`` ISO dates of each period (inclusive).
    lift_pct, lift_abs : float
        True relative and absolute (summed over the post-period) effect on ``y``.
    """

    pre_period: list[str]
    post_period: list[str]
    lift_pct: float
    lift_abs: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable copy."""
        return asdict(self)


def simulate_geo_panel(
    n_geos: int = 30,
    n_periods: int = 365,
    *,
    n_treated: int = 1,
    lift: float = 0.05,
    test_periods: int = 28,
    freq: str = "D",
    start: str = "2023-01-02",
    noise: float = 0.03,
    n_factors: int = 2,
    seed: int = 0,
) -> tuple[pd.DataFrame, GeoExperimentTruth]:
    """A long panel (geo, date, kpi, treated) with a test of known lift in the last periods.

    Parameters
    ----------
    n_geos : int, default 30
        Number of geos, ``geo_000``, ``geo_001``...
    n_periods : int, default 365
        Number of periods per geo.
    n_treated : int, default 1
        Geos in the test, drawn at random.
    lift : float, default 0.05
        True multiplicative lift in the treated geos during the test (``0`` for a null test;
        ``> -1``).
    test_periods : int, default 28
        Length of the test window, which ends at the last period.
    freq : {"D", "W"}, default "D"
        Daily or weekly (Monday) dates.
    start : str, default "2023-01-02"
        First date.
    noise : float, default 0.03
        Standard deviation of the idiosyncratic log-noise (AR(1), rho 0.3) of a geo of median
        size; a geo of size ``s`` has ``noise * sqrt(median / s)``, within 0.5x-3x of it.
    n_factors : int, default 2
        Common demand factors besides the trend (AR(1), rho 0.97).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    frame : DataFrame
        Columns ``geo``, ``date``, ``kpi`` (> 0) and ``treated`` (bool, the geo is in the test),
        one row per geo and date.
    truth : GeoExperimentTruth

    Raises
    ------
    MMModelError
        ``MMM_006`` for arguments out of range.
    """
    _check_int("n_geos", n_geos, 2)
    _check_int("n_treated", n_treated, 1)
    _check_int("test_periods", test_periods, 1)
    _check_int("n_periods", n_periods, test_periods + 2)
    _check_int("n_factors", n_factors, 0)
    if n_treated >= n_geos:
        raise invalid_option("n_treated", n_treated, f"must be below n_geos ({n_geos})")
    if not lift > -1.0:
        raise invalid_option("lift", lift, "must be > -1")
    if not noise >= 0.0:
        raise invalid_option("noise", noise, "must be >= 0")
    if freq not in _FREQUENCIES:
        raise invalid_option("freq", freq, f"must be one of {sorted(_FREQUENCIES)}")
    pandas_freq, periods_per_year = _FREQUENCIES[freq]

    rng = np.random.default_rng(seed)
    G, T = n_geos, n_periods
    t = np.arange(T, dtype=float)
    size = np.exp(rng.normal(np.log(5_000.0), 0.8, G))
    season = 0.08 * np.sin(2 * np.pi * t / periods_per_year + rng.uniform(0, 2 * np.pi))
    if freq == "D":
        season = season + rng.normal(0.0, 0.05, 7)[np.arange(T) % 7]
    trend = 0.1 * t / periods_per_year  # ~10% a year, each geo at its own pace
    factors = np.column_stack([trend, _ar1(rng, 0.97, 0.012, (T, n_factors))])
    loadings = rng.normal(1.0, 0.4, (factors.shape[1], G))
    # Smaller geos are noisier (counts): sd ~ noise * sqrt(median size / size), within x0.5-x3.
    spread = np.clip(np.sqrt(np.median(size) / size), 0.5, 3.0)
    idiosyncratic = _ar1(rng, 0.3, np.sqrt(1 - 0.3**2), (T, G)) * (noise * spread)
    kpi0 = size * np.exp(season[:, None] + factors @ loadings + idiosyncratic)

    treated = np.zeros(G, dtype=bool)
    treated[rng.choice(G, n_treated, replace=False)] = True
    in_test = np.arange(T) >= T - test_periods
    kpi = kpi0 * (1.0 + lift * np.outer(in_test, treated))

    dates = pd.date_range(start, periods=T, freq=pandas_freq)
    geos = np.array([f"geo_{g:03d}" for g in range(G)])
    frame = pd.DataFrame(
        {
            GEO_COLUMN: np.repeat(geos, T),
            DATE_COLUMN: np.tile(dates, G),
            KPI_COLUMN: kpi.T.ravel(),
            TREATED_COLUMN: np.repeat(treated, T),
        }
    )
    counterfactual = float(kpi0[np.ix_(in_test, treated)].sum())
    truth = GeoExperimentTruth(
        treated_geos=[str(g) for g in geos[treated]],
        test_start=str(dates[T - test_periods].date()),
        test_end=str(dates[-1].date()),
        lift_pct=float(lift),
        lift_abs=float(lift * counterfactual),
        counterfactual_total=counterfactual,
    )
    return frame, truth


def simulate_impact_series(
    n_pre: int = 180,
    n_post: int = 30,
    n_controls: int = 8,
    *,
    lift: float = 0.05,
    noise: float = 0.03,
    seed: int = 0,
) -> tuple[pd.DataFrame, ImpactTruth]:
    """One treated series ``y`` and control series ``x0, x1...`` with a known post-period lift.

    The series are the geos of :func:`simulate_geo_panel` (daily, one treated geo), so ``y`` is
    well explained by the controls but not equal to any fixed combination of them.

    Parameters
    ----------
    n_pre, n_post : int, default 180 and 30
        Periods before and during the intervention.
    n_controls : int, default 8
        Number of control series.
    lift : float, default 0.05
        True multiplicative effect on ``y`` during the post-period.
    noise : float, default 0.03
        Idiosyncratic log-noise of every series.
    seed : int, default 0

    Returns
    -------
    frame : DataFrame
        Indexed by date (``DatetimeIndex`` named ``date``), columns ``y`` then ``x0...``.
    truth : ImpactTruth
    """
    _check_int("n_controls", n_controls, 1)
    _check_int("n_post", n_post, 1)
    _check_int("n_pre", n_pre, 2)
    panel, geo_truth = simulate_geo_panel(
        n_geos=n_controls + 1,
        n_periods=n_pre + n_post,
        lift=lift,
        test_periods=n_post,
        noise=noise,
        seed=seed,
    )
    wide = panel.pivot(index=DATE_COLUMN, columns=GEO_COLUMN, values=KPI_COLUMN)
    treated = geo_truth.treated_geos[0]
    controls = [g for g in wide.columns if g != treated]
    frame = pd.DataFrame({"y": wide[treated]}, index=wide.index)
    for j, geo in enumerate(controls):
        frame[f"x{j}"] = wide[geo]
    dates = frame.index
    truth = ImpactTruth(
        pre_period=[str(dates[0].date()), str(dates[n_pre - 1].date())],
        post_period=[str(dates[n_pre].date()), str(dates[-1].date())],
        lift_pct=geo_truth.lift_pct,
        lift_abs=geo_truth.lift_abs,
    )
    return frame, truth


def _ar1(rng: np.random.Generator, rho: float, sd: float, shape: tuple[int, int]) -> np.ndarray:
    """AR(1) columns ``x_t = rho x_{t-1} + e_t``, ``e ~ N(0, sd^2)``, started stationary."""
    from scipy.signal import lfilter  # ~0.4 s to import: only when generating

    shocks = rng.normal(0.0, sd, shape)
    shocks[:1] /= np.sqrt(1 - rho**2)
    return lfilter([1.0], [1.0, -rho], shocks, axis=0)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise invalid_option(name, value, f"must be an integer >= {minimum}")
