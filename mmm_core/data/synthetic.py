"""Weekly marketing data with a known truth, for tests, demos and recovery benchmarks.

The data come from exactly the model family the library estimates::

    revenue_t = baseline_t + sum_c beta_c * hill_c(adstock_c(spend_c))_t
                + sum_k gamma_k * control_k,t + noise_t
    baseline_t = intercept + trend * t + yearly Fourier seasonality(t)

with the adstock and saturation classes of :mod:`mmm_core.transforms` (adstock on the spend
first, then the Hill curve on the adstocked spend, then times ``beta``), so a perfect estimator
could recover every number in :class:`SyntheticTruth`. ``t`` counts weeks since the first row.

Each channel of :data:`CHANNEL_LIBRARY` has its own spend pattern (TV in flights with dark
weeks, always-on search that follows demand, social correlated with search, sparse print...),
true carry-over and saturation, and a target ROI that the generated data meet exactly.

Examples
--------
>>> frame, truth = generate_mmm_data(weeks=104, channels=["tv", "search"], seed=1)
>>> list(frame.columns)
['date', 'tv_spend', 'search_spend', 'price_index', 'promo', 'revenue']
>>> round(truth.channels["tv_spend"]["roi"], 6) == CHANNEL_LIBRARY["tv"].target_roi
True
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mmm_core.errors import Codes, DataIntegrationError, suggest_name
from mmm_core.json_values import json_value
from mmm_core.transforms import (
    ADSTOCKS,
    DEFAULT_MAX_LAG,
    HillSaturation,
    adstock_from_dict,
    saturation_from_dict,
)

__all__ = [
    "CHANNEL_LIBRARY",
    "ChannelPreset",
    "SyntheticTruth",
    "generate_mmm_data",
    "truth_contributions",
]

WEEKS_PER_YEAR = 365.25 / 7.0
"""Period of the yearly seasonality, in weeks."""

MIN_WEEKS = 52
TARGET_COLUMN = "revenue"
DATE_COLUMN = "date"
CONTROL_COLUMNS = ("price_index", "promo")

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ChannelPreset:
    """A media channel's spend pattern and true response, as used by :func:`generate_mmm_data`.

    Parameters
    ----------
    name : str
        Channel name; its spend column is ``f"{name}_spend"``.
    pattern : str
        Kind of spend pattern (a key of the pattern generators, e.g. ``"flighted"``).
    mean_spend : float
        Mean weekly spend over the generated period, in currency units.
    geometric_rate : float
        True rate of the geometric adstock (used when ``adstock="geometric"``).
    weibull_shape, weibull_scale : float
        True Weibull adstock parameters (used when ``adstock="weibull"``); ``shape > 1`` gives
        a delayed peak.
    half_saturation_multiple : float
        Hill half-saturation as a multiple of the channel's realised mean weekly spend.
    hill_shape : float
        Hill shape (``> 1`` is S-shaped).
    target_roi : float
        Revenue per unit of spend over the period; the channel's ``beta`` is set to meet it.
    """

    name: str
    pattern: str
    mean_spend: float
    geometric_rate: float
    weibull_shape: float
    weibull_scale: float
    half_saturation_multiple: float
    hill_shape: float
    target_roi: float

    @property
    def column(self) -> str:
        """Name of the channel's spend column."""
        return f"{self.name}_spend"

    def adstock_params(self, kind: str) -> dict[str, float]:
        """True parameters of the ``kind`` (``"geometric"`` or ``"weibull"``) adstock."""
        if kind == "geometric":
            return {"rate": self.geometric_rate}
        return {"shape": self.weibull_shape, "scale": self.weibull_scale}


def _presets(*rows: tuple[Any, ...]) -> dict[str, ChannelPreset]:
    return {row[0]: ChannelPreset(*row) for row in rows}


CHANNEL_LIBRARY: dict[str, ChannelPreset] = _presets(
    # name, pattern, mean spend, geo rate, weibull shape, scale, K multiple, hill shape, ROI
    ("tv", "flighted", 50_000.0, 0.6, 2.0, 3.0, 1.2, 2.0, 1.5),
    ("search", "seasonal_always_on", 30_000.0, 0.15, 0.8, 1.0, 0.8, 1.0, 3.0),
    ("social", "correlated_with_search", 20_000.0, 0.35, 1.0, 2.0, 1.0, 1.2, 1.8),
    ("display", "always_on", 12_000.0, 0.3, 1.0, 1.5, 1.5, 0.9, 0.8),
    ("radio", "pulsing", 10_000.0, 0.45, 2.0, 2.5, 1.0, 1.5, 1.2),
    ("video", "campaigns", 15_000.0, 0.4, 1.3, 2.0, 1.1, 1.3, 1.4),
    ("print", "sparse", 6_000.0, 0.5, 1.0, 2.5, 1.3, 1.0, 0.7),
    ("ooh", "blocks", 8_000.0, 0.55, 1.8, 3.0, 1.0, 1.8, 0.9),
    ("email", "base_with_sends", 2_000.0, 0.1, 0.8, 0.8, 0.6, 0.8, 4.0),
    ("podcast", "sponsorships", 5_000.0, 0.5, 1.0, 3.0, 1.0, 1.2, 1.6),
)
"""Channel presets in their canonical order (``channels=n`` takes the first ``n``)."""


@dataclass(frozen=True)
class SyntheticTruth:
    """Everything :func:`generate_mmm_data` used to build the data.

    Attributes
    ----------
    channels : dict
        Keyed by spend column (``"tv_spend"``...). Each entry has ``channel`` (preset name),
        ``spend`` and ``contribution`` (totals over the period), ``roi``
        (contribution / spend), ``share`` (of the total media contribution), ``mean_spend``
        (mean weekly spend x̄), ``mroi`` (``beta * hill'(x̄)``: the revenue of one more unit of
        weekly spend at the steady state of x̄), ``coefficient`` (beta), ``adstock``
        (``{"type", "max_lag", params...}``) and ``saturation``
        (``{"type": "hill", "half_saturation", "shape"}``, half-saturation in spend units).
    contributions : pandas.DataFrame
        Weekly true contribution of each spend column, plus ``"baseline"`` and ``"controls"``,
        on the data frame's index. Revenue is their row sum plus the noise.
    baseline_total : float
        Sum of the weekly baseline (intercept + trend + seasonality).
    noise_sd : float
        Standard deviation of the Gaussian noise added to revenue.
    target_column, spend_columns, control_columns, date_column
        Column names of the data frame.
    control_effects : dict
        Keyed by control column: ``coefficient`` (gamma) and ``contribution`` (total).
    baseline_params : dict
        ``intercept``, ``trend_per_week``, ``seasonality`` (``period_weeks`` and the ``sin`` and
        ``cos`` coefficients of harmonics 1, 2...) and ``start`` (the date of ``t = 0``).
    """

    channels: dict[str, dict[str, Any]]
    contributions: pd.DataFrame = field(repr=False, compare=False)
    baseline_total: float
    noise_sd: float
    target_column: str
    spend_columns: list[str]
    control_columns: list[str]
    date_column: str
    control_effects: dict[str, dict[str, float]] = field(default_factory=dict)
    baseline_params: dict[str, Any] = field(default_factory=dict)

    def steady_state_response(self, spend: Any) -> NDArray[np.float64]:
        """True media revenue per period at a steady spend per period (no noise).

        ``sum_c beta_c h_c(x_c)`` with the true Hill curves (normalised adstock leaves a
        constant spend unchanged). ``spend``: shape ``(..., m)`` in ``spend_columns`` order.
        The ground truth a budget plan is judged against.
        """
        x = np.asarray(spend, dtype=float)
        hill = HillSaturation()
        out = np.zeros(x.shape[:-1])
        for j, col in enumerate(self.spend_columns):
            sat = self.channels[col]["saturation"]
            params = {"half_saturation": sat["half_saturation"], "shape": sat["shape"]}
            out = out + self.channels[col]["coefficient"] * hill.transform(x[..., j], params)
        return out

    def fit_arguments(self) -> dict[str, Any]:
        """Columns to fit the frame with: ``model.fit(frame, **truth.fit_arguments())``."""
        return {
            "target_column": self.target_column,
            "spend_columns": list(self.spend_columns),
            "control_columns": list(self.control_columns),
            "date_column": self.date_column,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (plain Python types; the weekly contributions are left out).

        Examples
        --------
        >>> import json
        >>> _, truth = generate_mmm_data(weeks=52, channels=2)
        >>> json.loads(json.dumps(truth.to_dict()))["target_column"]
        'revenue'
        """
        return json_value(
            {
                "channels": self.channels,
                "baseline_total": self.baseline_total,
                "noise_sd": self.noise_sd,
                "target_column": self.target_column,
                "spend_columns": self.spend_columns,
                "control_columns": self.control_columns,
                "date_column": self.date_column,
                "control_effects": self.control_effects,
                "baseline_params": self.baseline_params,
            }
        )


@dataclass
class _Context:
    n: int
    season: FloatArray
    raws: dict[str, FloatArray]


Pattern = Callable[[np.random.Generator, _Context], FloatArray]


def _on_off(
    rng: np.random.Generator,
    n: int,
    on: tuple[int, int],
    off: tuple[int, int],
    fill: Callable[[int, int], FloatArray],
) -> FloatArray:
    """Alternate on-periods (filled by ``fill(start, length)``) and dark periods of zero spend.

    ``on`` and ``off`` are inclusive ranges of lengths in weeks.
    """
    out = np.zeros(n)
    t = int(rng.integers(0, off[1] + 1)) if rng.random() < 0.5 else 0
    while t < n:
        length = int(rng.integers(on[0], on[1] + 1))
        stop = min(t + length, n)
        out[t:stop] = fill(t, length)[: stop - t]
        t = stop + int(rng.integers(off[0], off[1] + 1))
    return out


def _flighted(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """TV: flights of 2-6 weeks, 1-4 dark weeks between, heavier when demand is high."""

    def flight(start: int, length: int) -> FloatArray:
        level = rng.lognormal(0.0, 0.25) * (1.0 + 2.0 * ctx.season[start])
        return level * rng.lognormal(0.0, 0.08, length)

    return _on_off(rng, ctx.n, (2, 6), (1, 4), flight)


def _seasonal_always_on(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Search: always on, bids follow demand (3x the seasonal swing) with weekly noise."""
    return np.maximum(1.0 + 3.0 * ctx.season, 0.05) * rng.lognormal(0.0, 0.12, ctx.n)


def _correlated_with_search(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Social: partly follows search (correlation about 0.6), partly its own campaigns."""
    search = ctx.raws["search"]
    ar = np.zeros(ctx.n)
    shocks = rng.normal(0.0, 0.2, ctx.n)
    for t in range(ctx.n):
        ar[t] = (0.3 * ar[t - 1] if t else 0.0) + shocks[t]
    own = np.exp(ar) * np.where(rng.random(ctx.n) < 0.1, 1.6, 1.0)
    return 0.55 * search / search.mean() + 0.45 * own / own.mean()


def _always_on(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Display: always on, quarterly budget steps and noisy weekly delivery."""
    quarters = rng.lognormal(0.0, 0.15, ctx.n // 13 + 1)
    return np.repeat(quarters, 13)[: ctx.n] * rng.lognormal(0.0, 0.25, ctx.n)


def _pulsing(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Radio: a low continuous presence with 1-3 week bursts, 3-7 quieter weeks between."""
    out = 0.4 * rng.lognormal(0.0, 0.1, ctx.n)
    t = int(rng.integers(0, 4))
    while t < ctx.n:
        length = int(rng.integers(1, 4))
        out[t : t + length] += rng.uniform(1.5, 2.5)
        t += length + int(rng.integers(3, 8))
    return out


def _campaigns(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Online video: 4-10 week campaigns that ramp up and down, 2-8 dark weeks between."""

    def campaign(start: int, length: int) -> FloatArray:
        ramp = np.sin(np.pi * (np.arange(length) + 0.5) / length)
        return rng.lognormal(0.0, 0.2) * (0.3 + ramp) * rng.lognormal(0.0, 0.1, length)

    return _on_off(rng, ctx.n, (4, 10), (2, 8), campaign)


def _sparse(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Print: single-week insertions 2-4 weeks apart, bigger when demand is high."""

    def insertion(start: int, length: int) -> FloatArray:
        return np.full(length, rng.lognormal(0.0, 0.3) * (1.0 + 2.0 * ctx.season[start]))

    return _on_off(rng, ctx.n, (1, 1), (1, 3), insertion)


def _blocks(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Out-of-home: bookings of 1-3 four-week contract blocks, flat within a block, with 1-2
    unbooked blocks between them."""
    blocks = ctx.n // 4 + 1

    def booking(start: int, length: int) -> FloatArray:
        return np.full(length, rng.lognormal(0.0, 0.2))

    booked = _on_off(rng, blocks, (1, 3), (1, 2), booking)
    return np.repeat(booked, 4)[: ctx.n]


def _base_with_sends(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Email: a small weekly platform cost plus campaign sends in about a fifth of the weeks."""
    sends = np.where(rng.random(ctx.n) < 0.2, rng.lognormal(1.0, 0.3, ctx.n), 0.0)
    return 0.6 * rng.lognormal(0.0, 0.05, ctx.n) + sends


def _sponsorships(rng: np.random.Generator, ctx: _Context) -> FloatArray:
    """Podcast: flat 6-13 week sponsorship deals with 2-6 weeks between them."""

    def deal(start: int, length: int) -> FloatArray:
        return np.full(length, rng.lognormal(0.0, 0.2))

    return _on_off(rng, ctx.n, (6, 13), (2, 6), deal)


PATTERNS: dict[str, Pattern] = {
    "flighted": _flighted,
    "seasonal_always_on": _seasonal_always_on,
    "correlated_with_search": _correlated_with_search,
    "always_on": _always_on,
    "pulsing": _pulsing,
    "campaigns": _campaigns,
    "sparse": _sparse,
    "blocks": _blocks,
    "base_with_sends": _base_with_sends,
    "sponsorships": _sponsorships,
}
"""Spend pattern generators by kind."""


# --------------------------------------------------------------------------------------------
# Truth: response curves, baseline and controls.
# --------------------------------------------------------------------------------------------


def _media_response(
    spend: FloatArray, adstock: Mapping[str, Any], saturation: Mapping[str, Any]
) -> FloatArray:
    """``hill(adstock(spend))`` for the specs stored in :attr:`SyntheticTruth.channels`."""
    transform = adstock_from_dict(adstock)
    ad_params = {name: adstock[name] for name in transform.param_names}
    hill = saturation_from_dict(saturation)
    hill_params = {name: saturation[name] for name in hill.param_names}
    return hill.transform(transform.transform(spend, ad_params), hill_params)


def _baseline(params: Mapping[str, Any], t: FloatArray) -> FloatArray:
    """``intercept + trend * t + sum_j (a_j sin(2 pi j t / P) + b_j cos(2 pi j t / P))``."""
    season = params["seasonality"]
    omega = 2.0 * np.pi * t / season["period_weeks"]
    out = params["intercept"] + params["trend_per_week"] * t
    for j, (a, b) in enumerate(zip(season["sin"], season["cos"], strict=True), start=1):
        out = out + a * np.sin(j * omega) + b * np.cos(j * omega)
    return out


def _seasonality(rng: np.random.Generator, start: pd.Timestamp) -> tuple[list[float], list[float]]:
    """Relative Fourier coefficients: a main yearly wave of 6-9% peaking around late November
    (give or take three weeks), and a 1.5-3% half-year harmonic with a random phase."""
    start_frac = (start.day_of_year - 1) / 365.25
    peak_frac = (330 + rng.uniform(-20, 20)) / 365.25
    phases = [np.pi / 2 - 2 * np.pi * (peak_frac - start_frac), rng.uniform(0, 2 * np.pi)]
    amplitudes = [rng.uniform(0.06, 0.09), rng.uniform(0.015, 0.03)]
    sin = [a * math.cos(p) for a, p in zip(amplitudes, phases, strict=True)]
    cos = [a * math.sin(p) for a, p in zip(amplitudes, phases, strict=True)]
    return sin, cos


def _controls(rng: np.random.Generator, n: int) -> dict[str, FloatArray]:
    """A price index around 1 (slow mean-reverting drift plus 1-3 week cuts of 5-15%) and a
    0/1 promotion flag (more likely during price cuts)."""
    drift = np.zeros(n)
    shocks = rng.normal(0.0, 0.004, n)
    for t in range(n):
        drift[t] = (0.95 * drift[t - 1] if t else 0.0) + shocks[t]
    cut = np.zeros(n)
    t = int(rng.integers(0, 8))
    while t < n:
        length = int(rng.integers(1, 4))
        cut[t : t + length] = rng.uniform(0.05, 0.15)
        t += length + int(rng.integers(4, 14))
    promo = (rng.random(n) < np.where(cut > 0, 0.5, 0.08)).astype(np.int64)
    if promo.sum() < 2:
        promo[rng.choice(n, 2, replace=False)] = 1
    price = np.round((1.0 + drift) * (1.0 - cut), 4)
    return {"price_index": price, "promo": promo}


# --------------------------------------------------------------------------------------------
# Validation.
# --------------------------------------------------------------------------------------------


def _invalid(message: str, hint: str, **details: Any) -> DataIntegrationError:
    return DataIntegrationError(Codes.INVALID_PARAMETER, message, hint=hint, details=details)


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _invalid(f"{name} must be an integer, got {value!r}.", f"pass {name} as an int.")
    try:
        return operator.index(value)
    except TypeError:
        raise _invalid(
            f"{name} must be an integer, got {value!r}.", f"pass {name} as an int."
        ) from None


def _resolve_channels(channels: int | Sequence[str]) -> list[ChannelPreset]:
    library = list(CHANNEL_LIBRARY)
    if isinstance(channels, str):
        channels = [channels]
    if isinstance(channels, Sequence):
        names = [str(c) for c in channels]
        if not names:
            raise _invalid(
                "channels is an empty list.",
                f"name at least one channel from {library}, or pass a count.",
            )
        for name in names:
            if name not in CHANNEL_LIBRARY:
                close = suggest_name(name.removesuffix("_spend"), library)
                hint = f"did you mean {close!r}? " if close else ""
                raise _invalid(
                    f"unknown channel {name!r}.",
                    f"{hint}use names from CHANNEL_LIBRARY: {library}.",
                    channel=name,
                )
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise _invalid(
                f"channels are repeated: {duplicates}.", "name each channel once.", channels=names
            )
        return [CHANNEL_LIBRARY[n] for n in names]
    count = _as_int(channels, "channels")
    if not 1 <= count <= len(library):
        raise _invalid(
            f"channels must be between 1 and {len(library)}, got {count}.",
            f"pass a count in 1..{len(library)} or a list of names from {library}.",
        )
    return [CHANNEL_LIBRARY[n] for n in library[:count]]


def _check_real(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise _invalid(
            f"{name} must be a finite number, got {value!r}.", f"pass {name} as a float."
        )
    return number


def _start_date(start: Any) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(start)
    except (TypeError, ValueError):
        ts = pd.NaT
    if ts is pd.NaT or not isinstance(ts, pd.Timestamp):
        raise _invalid(f"start is not a date: {start!r}.", "pass an ISO date such as '2022-01-03'.")
    if ts != ts.normalize() or ts.tzinfo is not None:
        raise _invalid(
            f"start must be a plain calendar date, got {start!r}.",
            f"pass {ts.strftime('%Y-%m-%d')!r}.",
        )
    if ts.day_of_week != 0:
        monday = (ts - pd.Timedelta(days=ts.day_of_week)).strftime("%Y-%m-%d")
        raise _invalid(
            f"start must be a Monday, {ts.strftime('%Y-%m-%d')} is a {ts.day_name()}.",
            f"use the Monday of that week, {monday!r}.",
        )
    return ts


# --------------------------------------------------------------------------------------------
# Public functions.
# --------------------------------------------------------------------------------------------


def generate_mmm_data(
    weeks: int = 156,
    channels: int | Sequence[str] = 5,
    *,
    seed: int = 0,
    adstock: str = "geometric",
    noise: float = 0.05,
    controls: bool = True,
    media_share: float = 0.3,
    start: str = "2022-01-03",
) -> tuple[pd.DataFrame, SyntheticTruth]:
    """Weekly marketing data generated from the library's model, with the truth behind it.

    Parameters
    ----------
    weeks : int, default 156
        Number of weekly rows (at least 52, so the yearly seasonality is seen once).
    channels : int or sequence of str, default 5
        How many channels of :data:`CHANNEL_LIBRARY` to use (the first ``n`` in library order),
        or their names (e.g. ``["tv", "search"]``), in the order of the output columns.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; equal seeds give identical data. Each channel
        draws from its own stream, so a channel's spend does not depend on which other
        channels are selected.
    adstock : {"geometric", "weibull"}, default "geometric"
        True carry-over of every channel, with ``max_lag = DEFAULT_MAX_LAG`` (13) weeks. Under
        ``"weibull"`` TV, radio and out-of-home peak one week after the spend.
    noise : float, default 0.05
        Noise standard deviation as a fraction of the mean noise-free revenue (0: none).
    controls : bool, default True
        Add ``price_index`` (around 1.0; cuts raise sales, gamma < 0) and ``promo`` (0/1;
        gamma > 0).
    media_share : float, default 0.3
        Share of the noise-free revenue that media drives, in (0, 1).
    start : str, default "2022-01-03"
        Date of the first row; must be a Monday.

    Returns
    -------
    frame : pandas.DataFrame
        ``date`` (weekly Mondays), one ``<channel>_spend`` column per channel, the control
        columns when ``controls`` and ``revenue``.
    truth : SyntheticTruth
        The parameters and weekly contributions behind ``frame``.

    Raises
    ------
    DataIntegrationError
        ``MMM_006`` (invalid parameter) for arguments out of range or unknown channel names.

    Notes
    -----
    Each channel's ``beta`` is set so that its realised ROI over the period equals the preset's
    target ROI exactly; the baseline level is then set so that media drive ``media_share`` of
    the noise-free revenue exactly (of the noisy revenue approximately). The baseline grows by
    2-5% a year and its yearly seasonality swings by about 10%.

    Examples
    --------
    >>> frame, truth = generate_mmm_data(weeks=52, channels=3, seed=7, noise=0.0)
    >>> frame.shape
    (52, 7)
    >>> bool(np.allclose(truth.contributions.sum(axis=1), frame["revenue"]))
    True
    """
    n = _as_int(weeks, "weeks")
    if n < MIN_WEEKS:
        raise _invalid(
            f"weeks must be at least {MIN_WEEKS} (one year), got {n}.",
            "pass weeks >= 52; 104-156 weeks give the model room to separate seasonality.",
        )
    presets = _resolve_channels(channels)
    seed = _as_int(seed, "seed")
    if seed < 0:
        raise _invalid(f"seed must be >= 0, got {seed}.", "pass a non-negative integer seed.")
    if adstock not in ADSTOCKS:
        raise _invalid(
            f"unknown adstock {adstock!r}.", f"use one of {sorted(ADSTOCKS)}.", adstock=adstock
        )
    noise = _check_real(noise, "noise")
    if noise < 0:
        raise _invalid(f"noise must be >= 0, got {noise}.", "pass e.g. 0.05, or 0 for none.")
    media_share = _check_real(media_share, "media_share")
    if not 0.0 < media_share < 1.0:
        raise _invalid(
            f"media_share must be strictly between 0 and 1, got {media_share}.",
            "pass e.g. 0.3 for media driving 30% of revenue.",
        )
    start_ts = _start_date(start)

    library = list(CHANNEL_LIBRARY)
    streams = np.random.default_rng(seed).spawn(2 + len(library))
    env_rng, noise_rng = streams[0], streams[1]
    t = np.arange(n, dtype=float)

    # Environment: seasonality, trend, controls.
    season_sin, season_cos = _seasonality(env_rng, start_ts)
    trend_rel = env_rng.uniform(0.02, 0.05) / WEEKS_PER_YEAR
    season = _baseline(
        {
            "intercept": 0.0,
            "trend_per_week": 0.0,
            "seasonality": {"period_weeks": WEEKS_PER_YEAR, "sin": season_sin, "cos": season_cos},
        },
        t,
    )
    gamma_rel = {"price_index": -env_rng.uniform(0.8, 1.2), "promo": env_rng.uniform(0.05, 0.1)}
    control_data = _controls(env_rng, n) if controls else {}

    # Spend: every library pattern is drawn from its own stream (social needs search's).
    ctx = _Context(n=n, season=season, raws={})
    for i, preset in enumerate(CHANNEL_LIBRARY.values()):
        raw = PATTERNS[preset.pattern](streams[2 + i], ctx)
        if raw.sum() <= 0:
            raw[int(streams[2 + i].integers(n))] = 1.0
        ctx.raws[preset.name] = raw
    spend = {
        p.column: np.round(ctx.raws[p.name] / ctx.raws[p.name].mean() * p.mean_spend, 2)
        for p in presets
    }

    # Media truth: beta meets the target ROI exactly.
    hill = HillSaturation()
    transform = ADSTOCKS[adstock](max_lag=DEFAULT_MAX_LAG)
    contributions: dict[str, FloatArray] = {}
    channel_truth: dict[str, dict[str, Any]] = {}
    for preset in presets:
        x = spend[preset.column]
        mean_spend = float(x.mean())
        ad_params = preset.adstock_params(adstock)
        transform.check(ad_params)
        sat_params = {
            "half_saturation": preset.half_saturation_multiple * mean_spend,
            "shape": preset.hill_shape,
        }
        hill.check(sat_params)
        ad_spec = {**transform.to_dict(), **ad_params}
        sat_spec = {**hill.to_dict(), **sat_params}
        response = _media_response(x, ad_spec, sat_spec)
        beta = preset.target_roi * float(x.sum()) / float(response.sum())
        contributions[preset.column] = beta * response
        channel_truth[preset.column] = {
            "channel": preset.name,
            "spend": float(x.sum()),
            "contribution": float(contributions[preset.column].sum()),
            "roi": float(contributions[preset.column].sum() / x.sum()),
            "share": 0.0,
            "mean_spend": mean_spend,
            "mroi": beta * float(hill.derivative(mean_spend, sat_params)),
            "coefficient": beta,
            "adstock": ad_spec,
            "saturation": sat_spec,
        }
    media_total = sum(c["contribution"] for c in channel_truth.values())
    for entry in channel_truth.values():
        entry["share"] = entry["contribution"] / media_total

    # Baseline level: the non-media part of revenue is linear in it.
    intercept_rel = 1.0 - (gamma_rel["price_index"] if controls else 0.0)
    baseline_rel = intercept_rel + trend_rel * t + season
    controls_rel = sum((gamma_rel[name] * control_data[name] for name in control_data), np.zeros(n))
    level = (
        media_total * (1.0 - media_share) / media_share / float((baseline_rel + controls_rel).sum())
    )
    baseline_params = {
        "intercept": level * intercept_rel,
        "trend_per_week": level * trend_rel,
        "seasonality": {
            "period_weeks": WEEKS_PER_YEAR,
            "sin": [level * a for a in season_sin],
            "cos": [level * b for b in season_cos],
        },
        "start": start_ts.strftime("%Y-%m-%d"),
    }
    control_effects = {
        name: {
            "coefficient": level * gamma_rel[name],
            "contribution": float(level * gamma_rel[name] * control_data[name].sum()),
        }
        for name in control_data
    }
    contributions["baseline"] = _baseline(baseline_params, t)
    contributions["controls"] = level * controls_rel

    weekly = pd.DataFrame(contributions)
    signal = weekly.sum(axis=1).to_numpy()
    noise_sd = noise * float(signal.mean())
    revenue = signal + noise_rng.normal(0.0, 1.0, n) * noise_sd

    frame = pd.DataFrame(
        {
            DATE_COLUMN: pd.date_range(start_ts, periods=n, freq="W-MON"),
            **spend,
            **control_data,
            TARGET_COLUMN: revenue,
        }
    )
    truth = SyntheticTruth(
        channels=channel_truth,
        contributions=weekly,
        baseline_total=float(contributions["baseline"].sum()),
        noise_sd=noise_sd,
        target_column=TARGET_COLUMN,
        spend_columns=list(spend),
        control_columns=list(control_data),
        date_column=DATE_COLUMN,
        control_effects=control_effects,
        baseline_params=baseline_params,
    )
    return frame, truth


def truth_contributions(frame: pd.DataFrame, truth: SyntheticTruth) -> pd.DataFrame:
    """True weekly contributions for any spend plan in the layout of a generated frame.

    Applies the truth's adstock, saturation and coefficients to ``frame``'s spend columns, its
    control coefficients to the control columns, and its baseline to the weeks since the
    truth's start date (read from the date column; row positions when it is absent). On the
    generated frame this reproduces ``truth.contributions``; on a changed spend plan it gives
    the true response (useful to score budget recommendations). Spend before the first row of
    ``frame`` counts as zero.

    Parameters
    ----------
    frame : pandas.DataFrame
        Data with the truth's spend columns and control columns (e.g. an edited copy of the
        generated frame).
    truth : SyntheticTruth
        Truth returned by :func:`generate_mmm_data`.

    Returns
    -------
    pandas.DataFrame
        One column per spend column, plus ``"baseline"`` and ``"controls"``, on
        ``frame.index``; the expected revenue is the row sum.

    Raises
    ------
    DataIntegrationError
        ``MMM_101`` when a spend or control column of the truth is missing from ``frame``.
    """
    missing = [c for c in truth.spend_columns + truth.control_columns if c not in frame.columns]
    if missing:
        raise DataIntegrationError(
            Codes.MISSING_COLUMN,
            f"columns {missing} of the truth are missing from the frame.",
            hint="pass a frame with the generated layout (edit the spend, keep the columns).",
            details={"missing": missing},
        )
    n = len(frame)
    if truth.date_column in frame.columns:
        start = pd.Timestamp(truth.baseline_params["start"])
        days = (pd.to_datetime(frame[truth.date_column]) - start).dt.days.to_numpy()
        t = days.astype(float) / 7.0
    else:
        t = np.arange(n, dtype=float)
    out: dict[str, FloatArray] = {}
    for column in truth.spend_columns:
        entry = truth.channels[column]
        spend = frame[column].to_numpy(dtype=float)
        response = _media_response(spend, entry["adstock"], entry["saturation"])
        out[column] = entry["coefficient"] * response
    out["baseline"] = _baseline(truth.baseline_params, t)
    out["controls"] = sum(
        (
            truth.control_effects[c]["coefficient"] * frame[c].to_numpy(dtype=float)
            for c in truth.control_columns
        ),
        np.zeros(n),
    )
    return pd.DataFrame(out, index=frame.index)
