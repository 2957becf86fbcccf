"""A small raw data lake sample for the dbt project: daily, per channel and market, with a truth.

The dbt project (``dbt/``) reads four raw tables as parquet files under ``<home>/raw/``::

    raw/markets/sample.parquet              market, country, currency, _loaded_at
    raw/media_spend/sample.parquet          date, market, channel, spend, impressions, _loaded_at
    raw/sales/sample.parquet                date, market, revenue, conversions, price_index,
                                            promo, _loaded_at
    raw/journey_touchpoints/sample.parquet  journey_id, market, timestamp, channel, interaction,
                                            converted, conversion_value, _loaded_at

Each market's weekly series is exactly :func:`~mmm_core.data.synthetic.generate_mmm_data`
(market ``i`` uses ``seed + i``), split into days: a week's spend and revenue are spread over
its seven days with a weekday profile and rounded to cents so that the seven days add up to the
week (spend exactly; revenue to the cent). Summing the days of a week gives back the
generator's frame, so the weekly modelling table that dbt builds has the generator's truth
(:class:`SyntheticTruth` per market). Price index and promo are constant within a week;
impressions follow spend at a channel's CPM; conversions follow revenue at an order value.

Journeys come from :func:`~mmm_core.attribution.simulate.simulate_journeys` with a chain over
the same channels, shifted into the sample period and spread over the markets. Timestamps and
``_loaded_at`` (when the rows landed, for source freshness) are naive UTC.

``dirty=True`` plants the problems the dbt tests must catch, listed in ``RawSample.planted``:
a negative spend, a week missing from one market's feeds, a duplicated spend row and a sales
feed that landed ten days ago (stale).

Examples
--------
>>> sample = generate_raw_sample(weeks=52, seed=1, n_journeys=200)
>>> sorted(sample.tables)
['journey_touchpoints', 'markets', 'media_spend', 'sales']
>>> media = sample.tables["media_spend"]
>>> north = media[(media.market == "north") & (media.channel == "tv")]
>>> weekly = sample.weekly["north"]
>>> bool(abs(north.spend.sum() - weekly.tv_spend.sum()) < 1e-6)
True
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmm_core import files
from mmm_core.attribution.simulate import ChainTruth, chain_truth, random_chain, simulate_journeys
from mmm_core.data.synthetic import SyntheticTruth, generate_mmm_data
from mmm_core.errors import Codes, DataIntegrationError

__all__ = [
    "RAW_TABLES",
    "SAMPLE_FILE",
    "SAMPLE_MARKETS",
    "RawSample",
    "generate_raw_sample",
    "write_raw_sample",
]

#: Raw tables of the dbt project, one folder of parquet files each under ``<home>/raw/``.
RAW_TABLES = ("markets", "media_spend", "sales", "journey_touchpoints")
SAMPLE_FILE = "sample.parquet"
#: Markets of the sample: code, country, currency.
SAMPLE_MARKETS: dict[str, tuple[str, str]] = {"north": ("GB", "GBP"), "south": ("FR", "EUR")}

#: Relative weight of Monday..Sunday in a week's spend and revenue.
_WEEKDAY_PROFILE = np.array([1.0, 1.0, 1.05, 1.05, 1.1, 0.95, 0.85])
#: Cost per thousand impressions by channel (other channels: 10).
_CPM = {"tv": 25.0, "search": 8.0, "social": 6.0, "display": 3.0, "radio": 12.0, "video": 15.0}
_ORDER_VALUE = 85.0
_JOURNEY_EPOCH = pd.Timestamp("2024-01-01")  # where simulate_journeys starts its clock
_STALE_DAYS = 10


@dataclass(frozen=True, eq=False)
class RawSample:
    """The raw tables of the sample and the truth behind them.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Keyed by raw table name (:data:`RAW_TABLES`), as written to ``raw/<name>/``.
    truths : dict of str to SyntheticTruth
        Per market: the truth of its weekly series.
    weekly : dict of str to DataFrame
        Per market: the generator's weekly frame that the daily rows add up to.
    journey_truth : ChainTruth
        The chain the journeys were simulated from.
    planted : list of dict
        The problems planted by ``dirty=True`` (``problem``, ``table`` and where), else empty.
    """

    tables: dict[str, pd.DataFrame]
    truths: dict[str, SyntheticTruth]
    weekly: dict[str, pd.DataFrame]
    journey_truth: ChainTruth
    planted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def markets(self) -> list[str]:
        return list(self.weekly)

    @property
    def channels(self) -> list[str]:
        first = next(iter(self.truths.values()))
        return [first.channels[c]["channel"] for c in first.spend_columns]


def _split_cents(total_cents: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each row's integer cents over its columns by ``weights``, summing back exactly.

    Largest-remainder rounding: floors first, then one more cent to the largest remainders.
    """
    exact = total_cents[:, None] * weights
    floor = np.floor(exact)
    short = (total_cents - floor.sum(axis=1)).astype(np.int64)
    rank = np.argsort(np.argsort(-(exact - floor), axis=1, kind="stable"), axis=1)
    return floor + (rank < short[:, None])


def _daily_weights(rng: np.random.Generator, weeks: int) -> np.ndarray:
    """A (weeks, 7) array of day shares: the weekday profile with some noise, rows sum to 1."""
    raw = _WEEKDAY_PROFILE * rng.lognormal(0.0, 0.1, (weeks, 7))
    return raw / raw.sum(axis=1, keepdims=True)


def _market_days(
    market: str, frame: pd.DataFrame, truth: SyntheticTruth, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily media and sales rows of one market from its weekly frame."""
    weeks = len(frame)
    days = (
        pd.to_datetime(frame["date"]).to_numpy()[:, None] + np.arange(7) * np.timedelta64(1, "D")
    ).ravel()
    dates = pd.DatetimeIndex(days).date
    media = []
    for column in truth.spend_columns:
        channel = truth.channels[column]["channel"]
        cents = np.round(frame[column].to_numpy() * 100).astype(np.int64)
        spend = _split_cents(cents, _daily_weights(rng, weeks)).ravel() / 100.0
        cpm = _CPM.get(channel, 10.0)
        impressions = np.round(spend / cpm * 1000.0 * rng.lognormal(0.0, 0.05, spend.size))
        media.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "market": market,
                    "channel": channel,
                    "spend": spend,
                    "impressions": impressions.astype(np.int64),
                }
            )
        )
    revenue_cents = np.round(frame[truth.target_column].to_numpy() * 100).astype(np.int64)
    revenue = _split_cents(revenue_cents, _daily_weights(rng, weeks)).ravel() / 100.0
    conversions = np.round(revenue / _ORDER_VALUE * rng.lognormal(0.0, 0.05, revenue.size))
    sales = pd.DataFrame(
        {
            "date": dates,
            "market": market,
            "revenue": revenue,
            "conversions": conversions.astype(np.int64),
        }
    )
    for control in truth.control_columns:
        sales[control] = np.repeat(frame[control].to_numpy(), 7)
    if "promo" in sales:
        sales["promo"] = sales["promo"].astype(np.int64)
    return pd.concat(media, ignore_index=True), sales


def _journeys(
    channels: Sequence[str],
    markets: Sequence[str],
    start: pd.Timestamp,
    n_journeys: int,
    seed: int,
) -> tuple[pd.DataFrame, ChainTruth]:
    """Journeys over ``channels``, shifted to begin at ``start`` and spread over ``markets``."""
    base = random_chain(len(channels), seed)
    chain = chain_truth(tuple(sorted(channels)), base.start, base.transitions, base.value_mean)
    frame, _ = simulate_journeys(n_journeys, chain=chain, seed=seed)
    assert isinstance(frame, pd.DataFrame)
    rng = np.random.default_rng(seed + 2)
    market_of = np.asarray(markets)[rng.integers(0, len(markets), n_journeys)]
    ids = frame["journey_id"].to_numpy()
    stamps = frame["timestamp"].dt.tz_convert(None) - _JOURNEY_EPOCH + start
    out = pd.DataFrame(
        {
            "journey_id": [f"j{i:06d}" for i in ids],
            "market": market_of[ids],
            "timestamp": stamps.astype("datetime64[ms]"),
            "channel": frame["channel"].astype(str),
            "interaction": frame["interaction"].astype(str),
            "converted": frame["converted"].astype(bool),
            "conversion_value": frame["conversion_value"].astype(float),
        }
    )
    return out, chain


def generate_raw_sample(
    weeks: int = 104,
    channels: int | Sequence[str] = 5,
    *,
    markets: Sequence[str] = tuple(SAMPLE_MARKETS),
    seed: int = 0,
    n_journeys: int = 4_000,
    dirty: bool = False,
    loaded_at: datetime | None = None,
    start: str = "2022-01-03",
) -> RawSample:
    """Daily raw tables for ``markets`` whose weekly sums are :func:`generate_mmm_data`'s frames.

    Parameters
    ----------
    weeks : int, default 104
        Weeks of data per market (at least 52).
    channels : int or sequence of str, default 5
        As for :func:`generate_mmm_data` (the first five: tv, search, social, display, radio).
    markets : sequence of str, default ("north", "south")
        Market codes; market ``i`` is generated with seed ``seed + i``.
    seed : int, default 0
    n_journeys : int, default 4000
        Customer journeys simulated over the same channels (all markets together).
    dirty : bool, default False
        Plant a negative spend, a missing week (market 2, or 1 when alone), a duplicated spend
        row and a stale sales feed; see :attr:`RawSample.planted`.
    loaded_at : datetime, optional
        When the rows landed (``_loaded_at``, naive UTC); default now.
    start : str, default "2022-01-03"
        First Monday of the sample.

    Returns
    -------
    RawSample

    Raises
    ------
    DataIntegrationError
        ``MMM_006`` for invalid arguments (from the generator, or no markets / duplicates).
    """
    names = [str(m) for m in markets]
    if not names or len(set(names)) != len(names):
        raise DataIntegrationError(
            Codes.INVALID_PARAMETER,
            f"markets must be distinct names, got {names!r}.",
            hint="pass e.g. markets=('north', 'south').",
        )
    stamp = (loaded_at or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    truths: dict[str, SyntheticTruth] = {}
    weekly: dict[str, pd.DataFrame] = {}
    media_parts, sales_parts = [], []
    rng = np.random.default_rng([seed, 7])
    for i, market in enumerate(names):
        frame, truth = generate_mmm_data(weeks, channels, seed=seed + i, start=start)
        truths[market], weekly[market] = truth, frame
        media, sales = _market_days(market, frame, truth, rng)
        media_parts.append(media)
        sales_parts.append(sales)
    first = truths[names[0]]
    channel_names = [first.channels[c]["channel"] for c in first.spend_columns]
    journeys, chain = _journeys(channel_names, names, pd.Timestamp(start), n_journeys, seed)
    tables = {
        "markets": pd.DataFrame(
            {
                "market": names,
                "country": [SAMPLE_MARKETS.get(m, ("XX", "EUR"))[0] for m in names],
                "currency": [SAMPLE_MARKETS.get(m, ("XX", "EUR"))[1] for m in names],
            }
        ),
        "media_spend": pd.concat(media_parts, ignore_index=True),
        "sales": pd.concat(sales_parts, ignore_index=True),
        "journey_touchpoints": journeys,
    }
    for table in tables.values():
        table["_loaded_at"] = pd.Timestamp(stamp).as_unit("ms")
    planted = _plant_problems(tables, names, stamp) if dirty else []
    return RawSample(tables, truths, weekly, chain, planted)


def _plant_problems(
    tables: dict[str, pd.DataFrame], markets: list[str], stamp: datetime
) -> list[dict[str, Any]]:
    """Make ``tables`` dirty in place; return what was planted where."""
    media, sales = tables["media_spend"], tables["sales"]
    dates = sorted(media["date"].unique())
    # A negative spend: the 11th day of the first channel in the first market.
    channel = str(media["channel"].iloc[0])
    row = media.index[(media.market == markets[0]) & (media.channel == channel)][10]
    media.loc[row, "spend"] = -abs(float(media.loc[row, "spend"])) - 250.0
    negative_date = str(media.loc[row, "date"])
    # A missing week: every feed of the last market skips its 31st week.
    gap_market = markets[-1]
    week = set(dates[30 * 7 : 31 * 7])
    media = media[~((media.market == gap_market) & media.date.isin(week))]
    sales = sales[~((sales.market == gap_market) & sales.date.isin(week))]
    # A duplicated row: one spend row delivered twice.
    media = pd.concat([media, media.iloc[[100]]], ignore_index=True)
    duplicate = media.iloc[100]
    # A stale feed: sales landed ten days ago.
    sales = sales.assign(_loaded_at=pd.Timestamp(stamp - timedelta(days=_STALE_DAYS)).as_unit("ms"))
    tables["media_spend"], tables["sales"] = media, sales.reset_index(drop=True)
    return [
        {
            "problem": "negative_spend",
            "table": "media_spend",
            "market": markets[0],
            "channel": channel,
            "date": negative_date,
        },
        {
            "problem": "missing_week",
            "table": "media_spend, sales",
            "market": gap_market,
            "week_start": str(min(week)),
        },
        {
            "problem": "duplicate_row",
            "table": "media_spend",
            "market": str(duplicate["market"]),
            "channel": str(duplicate["channel"]),
            "date": str(duplicate["date"]),
        },
        {"problem": "stale_source", "table": "sales", "days_old": _STALE_DAYS},
    ]


def write_raw_sample(sample: RawSample, home: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the sample's tables to ``<home>/raw/<table>/sample.parquet`` (atomically).

    Returns
    -------
    dict of str to Path
        The file written for each table.

    Raises
    ------
    DataIntegrationError
        ``MMM_100`` when a table folder already holds other parquet files (the sample would be
        mixed with them) or a file cannot be written.
    """
    raw = Path(home) / "raw"
    for name in sample.tables:
        folder = raw / name
        others = sorted(p.name for p in folder.glob("*.parquet") if p.name != SAMPLE_FILE)
        if others:
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"{folder} already holds other parquet files {others[:3]}; the sample would be "
                "read together with them.",
                hint="seed the sample into an empty MMM_HOME, or move those files away.",
                details={"folder": str(folder), "files": others},
            )
    written: dict[str, Path] = {}
    for name, table in sample.tables.items():
        folder = raw / name
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        try:
            written[name] = files.write_atomic(folder / SAMPLE_FILE, buffer.getvalue())
        except OSError as exc:
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"cannot write {folder / SAMPLE_FILE}: {exc}.",
                hint="choose a writable MMM_HOME.",
            ) from exc
    return written
