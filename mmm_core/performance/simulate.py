"""KPI series with planted anomalies and a planted level shift, for tests and benchmarks.

The series is additive, with every part known::

    kpi_t = level (1 + growth t / periods_per_year)            trend
            + level * seasonal_amplitude * sin(2 pi t / periods_per_year + phase)
            + level * weekly_amplitude * day-of-week pattern     (daily data only)
            + level_shift * level * [t >= shift_index]           planted step
            + sum_c beta_c spend_c,t / (spend_c,t + half_c)      saturating media response
            + level * noise * N(0, 1)
            + anomalies: +-size * (everything above) at a few points

Anomalies are at least ``ANOMALY_GAP`` periods from each other, from the step and from both
ends, so each is a fair test of a detector; with two or more there is at least one spike and
one dip.

Examples
--------
>>> frame, truth = simulate_kpi_series(104, "W-MON", n_anomalies=3, level_shift=0.2, seed=1)
>>> list(frame.columns), len(truth.anomaly_indices), truth.shift_index is not None
(['date', 'kpi'], 3, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mmm_core.errors import Codes, MMModelError

__all__ = ["PlantedTruth", "simulate_kpi_series"]

FloatArray = NDArray[np.float64]

#: Fewest periods between two anomalies, an anomaly and the step, an anomaly and either end.
ANOMALY_GAP = 4
_PERIODS_PER_YEAR = {"D": 365.25, "W": 52.1775, "M": 12.0}
#: Day-of-week pattern of daily data (Monday first): weekends are quieter.
_WEEKDAY_PATTERN = np.array([0.3, 0.5, 0.6, 0.5, 0.4, -1.1, -1.2])


@dataclass(frozen=True)
class PlantedTruth:
    """What :func:`simulate_kpi_series` planted.

    Attributes
    ----------
    anomaly_indices : list of int
        Positions of the anomalies, increasing.
    anomaly_directions : list of str
        ``"spike"`` or ``"dip"`` for each.
    anomaly_sizes : list of float
        Relative size of each (0.3: 30% above or below what the point would have been).
    shift_index : int or None
        First position after the level shift (``None``: no shift).
    shift_size : float
        The step, in KPI units.
    growth_per_year : float
        Relative trend growth per year (``trend_direction`` follows its sign).
    periods_per_year : float
        365.25, 52.1775 or 12.
    spend_columns : list of str
        The channels' spend columns (empty without channels).
    kpi_column, date_column : str
        Column names.
    """

    anomaly_indices: list[int]
    anomaly_directions: list[str]
    anomaly_sizes: list[float]
    shift_index: int | None
    shift_size: float
    growth_per_year: float
    periods_per_year: float
    spend_columns: list[str]
    kpi_column: str = "kpi"
    date_column: str = "date"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable copy."""
        return asdict(self)


def _periods_per_year(freq: str) -> float:
    key = freq.strip().upper()[:1]
    if key not in _PERIODS_PER_YEAR:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"freq {freq!r} is not daily, weekly or monthly.",
            hint="use 'D', 'W-MON' (any weekly anchor) or 'MS'.",
            details={"freq": freq},
        )
    return _PERIODS_PER_YEAR[key]


def _anomaly_positions(
    rng: np.random.Generator, n: int, count: int, shift_index: int | None
) -> list[int]:
    """``count`` positions at least :data:`ANOMALY_GAP` apart from each other, the step and
    both ends (fewer when the series is too short for them all)."""
    free = np.ones(n, dtype=bool)
    free[:ANOMALY_GAP] = free[n - ANOMALY_GAP :] = False
    if shift_index is not None:
        free[max(0, shift_index - ANOMALY_GAP) : shift_index + ANOMALY_GAP] = False
    chosen: list[int] = []
    for _ in range(count):
        options = np.flatnonzero(free)
        if options.size == 0:
            break
        pick = int(rng.choice(options))
        chosen.append(pick)
        free[max(0, pick - ANOMALY_GAP + 1) : pick + ANOMALY_GAP] = False
    return sorted(chosen)


def simulate_kpi_series(
    n_periods: int = 156,
    freq: str = "W-MON",
    *,
    start: str = "2021-01-04",
    level: float = 10_000.0,
    growth_per_year: float = 0.05,
    seasonal_amplitude: float = 0.15,
    weekly_amplitude: float = 0.1,
    noise: float = 0.03,
    n_anomalies: int = 4,
    anomaly_size: tuple[float, float] = (0.2, 0.4),
    level_shift: float = 0.0,
    shift_index: int | None = None,
    channels: int = 0,
    spend_growth: float = 0.0,
    spend_noise: float = 0.15,
    seed: int = 0,
) -> tuple[pd.DataFrame, PlantedTruth]:
    """Generate a KPI series (and optionally spend) with known anomalies and level shift.

    Parameters
    ----------
    n_periods : int
        Number of rows.
    freq : str
        ``"D"``, a weekly frequency (``"W-MON"``...) or ``"MS"``.
    start : str
        First date.
    level : float
        Base level of the KPI at the start.
    growth_per_year : float
        Relative trend per year (0.1: +10% of ``level`` a year; negative: decline).
    seasonal_amplitude : float
        Yearly seasonality, as a share of ``level``.
    weekly_amplitude : float
        Day-of-week pattern of daily data, as a share of ``level`` (ignored otherwise).
    noise : float
        Noise standard deviation, as a share of ``level``.
    n_anomalies : int
        Number of anomalies (spikes and dips).
    anomaly_size : (float, float)
        Range of their relative sizes, drawn uniformly.
    level_shift : float
        Step as a share of ``level`` (0: none; negative: a drop).
    shift_index : int, optional
        Where the step starts; drawn between 30% and 70% of the series when not given.
    channels : int
        Spend channels ``ch1_spend``... whose saturating response adds to the KPI; with channels
        a ``conversions`` column (KPI / 50, rounded) is added too.
    spend_growth : float
        Relative growth of every channel's spend over the whole series (1.0 doubles it).
    spend_noise : float
        Standard deviation of the log of each period's spend around that path.
    seed : int
        Random seed.

    Returns
    -------
    (DataFrame, PlantedTruth)
    """
    ppy = _periods_per_year(freq)
    rng = np.random.default_rng(seed)
    n = int(n_periods)
    dates = pd.date_range(start, periods=n, freq=freq)
    t = np.arange(n, dtype=float)

    clean = level * (1.0 + growth_per_year * t / ppy)
    phase = rng.uniform(0, 2 * np.pi)
    clean += level * seasonal_amplitude * np.sin(2 * np.pi * t / ppy + phase)
    if ppy > 300:
        clean += level * weekly_amplitude * _WEEKDAY_PATTERN[dates.day_of_week.to_numpy()]

    spend_columns = [f"ch{j + 1}_spend" for j in range(channels)]
    spend: dict[str, FloatArray] = {}
    for column in spend_columns:
        base = level * rng.uniform(0.05, 0.15)
        ramp = 1.0 + spend_growth * t / max(n - 1, 1)
        spend[column] = base * ramp * rng.lognormal(0.0, spend_noise, n)
        beta = base * rng.uniform(2.0, 4.0)
        clean += beta * spend[column] / (spend[column] + base)

    if level_shift and shift_index is None:
        shift_index = int(rng.integers(int(0.3 * n), int(0.7 * n)))
    if not level_shift:
        shift_index = None
    if shift_index is not None:
        clean[shift_index:] += level_shift * level

    kpi = clean + level * noise * rng.normal(0.0, 1.0, n)
    positions = _anomaly_positions(rng, n, int(n_anomalies), shift_index)
    signs = rng.permutation(np.resize([1.0, -1.0], len(positions)))
    sizes = rng.uniform(*anomaly_size, len(positions))
    for pos, sign, size in zip(positions, signs, sizes, strict=True):
        kpi[pos] += sign * size * clean[pos]

    frame = pd.DataFrame({"date": dates, **spend, "kpi": kpi})
    if channels:
        frame["conversions"] = np.round(np.maximum(kpi, 0.0) / 50.0)
    truth = PlantedTruth(
        anomaly_indices=list(positions),
        anomaly_directions=["spike" if s > 0 else "dip" for s in signs],
        anomaly_sizes=[float(s) for s in sizes],
        shift_index=shift_index,
        shift_size=float(level_shift * level),
        growth_per_year=float(growth_per_year),
        periods_per_year=ppy,
        spend_columns=spend_columns,
    )
    return frame, truth
