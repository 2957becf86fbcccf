"""``PerformanceAnalyzer``: trend, seasonality, change points, anomalies, period-over-period
figures and spend efficiency of a KPI series, with the findings in plain English.

The pipeline, on the KPI ``y`` in date order:

1. **Seasonal periods** from the date frequency (7 and 365 for daily data, 52 weekly, 12
   monthly; :func:`~mmm_core.performance.decomposition.default_periods`), kept when the series
   holds two full cycles.
2. **Change points** (breaks in level and/or slope): PELT with a piecewise-linear cost and a
   BIC penalty, on the series less a spike-proof seasonal pattern; with seasonality, the
   pattern is then refitted jointly with the segments, which drops change points that were
   artefacts of the first pattern, searches again, and is compared with binary segmentation
   in the joint model (:mod:`~mmm_core.performance.changepoints`). A change point whose jump
   is over 3 standard errors is a ``"level_shift"``, else a ``"trend_change"``.
3. **Decomposition** of the series with the level shifts taken out: STL with outlier screening
   (:mod:`~mmm_core.performance.decomposition`). The trend line is STL's trend plus the shifts.
4. **Anomalies**: modified z-scores of the leave-one-out residuals, ``|z| > 3.5``, except within
   two periods of a level shift (:mod:`~mmm_core.performance.anomalies`).
5. **Trend**: Theil-Sen slope of the deseasonalised KPI (robust to anomalies); "flat" unless
   its 95% interval excludes 0 and the change over the span is at least 5% of the level.
   The same without the change points' jumps is in ``trend.excluding_change_points``.
6. **Period over period**: last week / four weeks / quarter (by frequency) against the one
   before and the same one a year earlier (364 days, 52 weeks or 12 months back, so weekdays
   line up), for the KPI, total spend, conversions, ROAS and CPA.
7. **Efficiency** per channel and blended: ROAS (KPI / spend) and CPA (spend / conversions),
   their average, latest and trend (the seasonal Kendall slope, Hirsch, Slack & Smith 1982, so
   that seasonality neither biases nor blurs it), and the spend trend. These ratios divide the
   whole KPI by one channel's spend: they describe, they do not measure incremental effects
   (the MMM does).

Positions (``index``) count rows in date order, from 0.

Examples
--------
>>> from mmm_core.performance.simulate import simulate_kpi_series
>>> frame, truth = simulate_kpi_series(156, "W-MON", level_shift=0.2, n_anomalies=4, seed=0)
>>> report = PerformanceAnalyzer().analyze(frame, "kpi")
>>> [c["index"] for c in report["change_points"]] == [truth.shift_index]
True
>>> sorted(a["index"] for a in report["anomalies"]) == truth.anomaly_indices
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mmm_core.errors import Codes, DataIntegrationError, MMModelError
from mmm_core.json_values import json_value

# The validation module's checks, shared so that a frame that fits also analyses, with the
# same codes and messages (as mmm_core.data.schema does for the date parser).
from mmm_core.models.validation import (
    _check_columns_exist,
    _check_date_order,
    _check_finite,
    _check_roles,
    _check_spend_values,
    _format_date,
    _names,
    _resolve_dates,
    _Rows,
    _short,
    _to_matrix,
)
from mmm_core.performance.anomalies import find_anomalies
from mmm_core.performance.changepoints import (
    ChangePoint,
    bic_penalty,
    describe_change_points,
    noise_scale,
    search_change_points,
    seasonal_change_points,
)
from mmm_core.performance.decomposition import (
    Decomposition,
    decompose,
    default_periods,
    rough_seasonal,
    seasonal_strength,
    trend_strength,
    usable_periods,
)

__all__ = ["MIN_ROWS", "SCHEMA_VERSION", "PerformanceAnalyzer"]

SCHEMA_VERSION = 1
#: Fewest rows :meth:`PerformanceAnalyzer.analyze` accepts.
MIN_ROWS = 8
#: A period seen this many times is seasonally differenced away before measuring the noise.
MANY_CYCLES = 8
#: Most points given to the Theil-Sen estimator (evenly spaced; its cost is quadratic).
THEIL_SEN_POINTS = 600

FloatArray = NDArray[np.float64]

_FREQUENCIES: dict[float, str] = {
    365.25: "daily",
    52.1775: "weekly",
    12.0: "monthly",
    4.0: "quarterly",
    1.0: "yearly",
}
#: Period-over-period windows (name, rows), the recent window for efficiency, the
#: year-over-year lag in rows, and the name of one row, by frequency.
_WINDOWS: dict[str, tuple[tuple[tuple[str, int], ...], int, int | None, str]] = {
    "daily": ((("week", 7), ("four_weeks", 28), ("quarter", 91)), 28, 364, "day"),
    "weekly": ((("week", 1), ("four_weeks", 4), ("quarter", 13)), 4, 52, "week"),
    "monthly": ((("month", 1), ("quarter", 3)), 3, 12, "month"),
    "quarterly": ((("quarter", 1),), 1, 4, "quarter"),
    "yearly": ((("year", 1),), 1, None, "year"),
}
_GENERIC_WINDOWS = (("period", 1), ("four_periods", 4), ("thirteen_periods", 13))
_DEFAULT_MIN_SEGMENT = {"daily": 7, "monthly": 4, "quarterly": 4, "yearly": 4}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EFFICIENCY_NOTE = (
    "ROAS is the KPI divided by a channel's spend, and CPA a channel's spend divided by all "
    "conversions: each puts the whole KPI against one channel, baseline and other channels "
    "included. They show how the ratios move, not what the channel causes: use the MMM's "
    "ROI for that."
)


class PerformanceAnalyzer:
    """Performance analysis of a KPI series: trend, seasonality, change points, anomalies,
    period-over-period figures and channel efficiency.

    The constructor only stores its arguments; :meth:`analyze` checks them and does the work,
    keeping the result in ``results_``.

    Parameters
    ----------
    period : int, sequence of int or None
        Seasonal period(s) in rows. ``None`` (default) derives them from the dates (7 and 365
        daily, 52 weekly, 12 monthly, 4 quarterly; none without dates); ``1`` means no
        seasonality. A period needs two full cycles of data to be used.
    anomaly_threshold : float
        Cut-off on the modified z-score of residuals (3.5, after Iglewicz & Hoaglin).
    changepoint_penalty : float
        Multiplier of the BIC penalty ``3 log n`` of a change point (larger: fewer).
    min_segment : int or None
        Fewest periods between change points (``None``: 7 days daily, 6 weeks weekly, 4 other).
    changepoint_guard : int
        Points within this many periods of a level shift are not flagged as anomalies.
    seasonal : int or None
        STL seasonal smoother (odd, >= 7) for a pattern that drifts between cycles; ``None``
        (default) fits one fixed pattern, safer with few cycles.
    robust : bool
        Screen gross outliers out of the decomposition (recommended).
    flat_tolerance : float
        A trend whose change over the span is below this share of the level is "flat"
        (also used for efficiency trends).
    aggregate : {"sum", "mean"}
        How the KPI of several periods combines in period-over-period figures: ``"sum"`` for
        amounts (revenue, conversions), ``"mean"`` for rates.
    include_series : bool
        Keep the per-period ``series`` (trend, seasonal pattern, ROAS, CPA) in the result;
        ``False`` leaves them out for a lighter response (10 years of daily data with three
        channels and conversions: about 0.8 MB of JSON with them).

    Examples
    --------
    >>> from mmm_core.performance.simulate import simulate_kpi_series
    >>> frame, _ = simulate_kpi_series(104, "W-MON", growth_per_year=0.3, seed=0)
    >>> PerformanceAnalyzer().analyze(frame, "kpi")["trend"]["direction"]
    'up'
    """

    def __init__(
        self,
        period: int | Sequence[int] | None = None,
        anomaly_threshold: float = 3.5,
        *,
        changepoint_penalty: float = 1.0,
        min_segment: int | None = None,
        changepoint_guard: int = 2,
        seasonal: int | None = None,
        robust: bool = True,
        flat_tolerance: float = 0.05,
        aggregate: str = "sum",
        include_series: bool = True,
    ) -> None:
        self.period = period
        self.anomaly_threshold = anomaly_threshold
        self.changepoint_penalty = changepoint_penalty
        self.min_segment = min_segment
        self.changepoint_guard = changepoint_guard
        self.seasonal = seasonal
        self.robust = robust
        self.flat_tolerance = flat_tolerance
        self.aggregate = aggregate
        self.include_series = include_series

    def analyze(
        self,
        data: pd.DataFrame,
        kpi_column: str,
        date_column: str | bool | None = None,
        spend_columns: Sequence[str] | None = None,
        conversions_column: str | None = None,
    ) -> dict[str, Any]:
        """Analyse the KPI's performance over the periods of ``data``.

        Parameters
        ----------
        data : DataFrame
            One row per period, regularly spaced (rows are put in date order first).
        kpi_column : str
            The KPI (revenue, sales, sign-ups...): numeric and finite.
        date_column : str, None or False
            ``None`` detects it (:func:`~mmm_core.models.validation.detect_date_column`),
            ``False`` means rows are consecutive periods in the order given (then seasonality
            needs ``period``).
        spend_columns : list of str, optional
            Media spend per channel (non-negative), for efficiency figures.
        conversions_column : str, optional
            Conversions per period (non-negative), for CPA.

        Returns
        -------
        dict
            JSON-serialisable (missing numbers are ``None``; series are lists aligned with
            ``dates``; ``index`` counts rows in date order):

            * ``trend``: ``direction`` (``"up"``/``"down"``/``"flat"``),
              ``slope_per_period``, ``slope_per_year``, ``slope_interval`` (95%), ``start``,
              ``end``, ``change`` and ``change_pct`` of the line over the span,
              ``change_pct_per_year``, ``strength`` (0-1), ``excluding_change_points`` (the
              same fields without the change points' jumps, or ``None``), ``series`` (STL
              trend plus level shifts);
            * ``seasonality``: ``detected``, ``periods``, ``strength`` (0-1), ``components``
              by period (``strength``, ``amplitude``, ``amplitude_pct``, ``peak``,
              ``trough``), ``periods_without_two_cycles``, ``method``, ``note``, ``series``;
            * ``change_points``: ``date``, ``index`` (first period after the change), ``kind``
              (``"level_shift"`` or ``"trend_change"``), ``before_mean``/``after_mean``
              (deseasonalised segment means), ``before_level``/``after_level`` (the segment
              lines at the change), ``change`` (the jump), ``change_pct``, ``slope_before``,
              ``slope_after``, ``z`` (jump / its standard error) and ``score`` (fall of the
              cost, in noise variances, to compare with ``parameters.changepoint_penalty_value``);
            * ``anomalies``: ``date``, ``index``, ``value``, ``expected``, ``residual``,
              ``robust_z``, ``direction`` (``"spike"``/``"dip"``), ``size_pct``;
            * ``period_over_period``: by window (``week``, ``four_weeks``, ``quarter``...)
              ``periods``, ``current``/``previous``/``last_year`` spans and ``metrics`` (the
              KPI, ``total_spend``, ``roas``, conversions, ``cpa``: ``current``,
              ``previous``, ``change``, ``change_pct``, ``last_year``, ``yoy_change``,
              ``yoy_change_pct``);
            * ``efficiency`` (``{}`` without spend): ``channels`` and ``blended``, each with
              ``spend_total``, ``spend_share``, ``active_periods``, ``spend_trend``, ``roas``
              and ``cpa`` (``average``, ``latest`` over the last four weeks or quarter,
              ``latest_vs_average_pct``, ``trend``, ``series``), and a ``note``;
            * ``summary``: the findings as sentences;
            * ``parameters``: the settings used, the noise standard deviation (``noise_sd``)
              and the penalty per change point in noise variances;
            * ``dates`` (ISO dates, or ``None``), ``kpi_column``, ``n_periods``,
              ``frequency`` and ``schema_version``.

        Raises
        ------
        DataIntegrationError
            Unusable data: ``EMPTY_DATA``, ``MISSING_COLUMN``, ``DUPLICATE_COLUMNS``,
            ``TOO_FEW_ROWS`` (fewer than 8 rows), ``BAD_DATES``, ``DUPLICATE_DATES``,
            ``IRREGULAR_DATES``, ``NON_NUMERIC``, ``NON_FINITE``, ``NEGATIVE_SPEND`` (and
            ``DATA_ERROR`` for malformed arguments or negative conversions).
        MMModelError
            ``INVALID_PARAMETER`` for a bad constructor argument.
        """
        self._check_parameters()
        series = _prepare(data, kpi_column, date_column, spend_columns, conversions_column)
        frequency = _frequency_name(series.periods_per_year)
        periods = self._periods(series.periods_per_year)
        min_segment = self.min_segment or _DEFAULT_MIN_SEGMENT.get(frequency or "", 6)
        fit = _fit(
            series.kpi,
            periods,
            penalty=float(self.changepoint_penalty),
            min_segment=int(min_segment),
            seasonal=self.seasonal,
            robust=bool(self.robust),
        )
        labels = _labels(series.dates)
        level_shifts = [c.index for c in fit.change_points if c.kind == "level_shift"]
        anomalies = find_anomalies(
            series.kpi,
            fit.expected,
            threshold=float(self.anomaly_threshold),
            residuals=fit.scaled_residual,
            exclude_near=level_shifts,
            guard=int(self.changepoint_guard),
        )
        trend = _trend_section(series, fit, float(self.flat_tolerance))
        report: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "kpi_column": series.kpi_column,
            "n_periods": series.n,
            "frequency": frequency,
            "dates": labels,
            "trend": trend,
            "seasonality": _seasonality_section(series, fit, periods),
            "change_points": [
                _change_point_dict(c, labels, series.positive) for c in fit.change_points
            ],
            "anomalies": [
                {
                    "date": _date(labels, a.index),
                    "index": a.index,
                    "value": a.value,
                    "expected": a.expected,
                    "residual": a.residual,
                    "robust_z": a.robust_z,
                    "direction": a.direction,
                    "size_pct": a.size_pct if series.positive else None,
                }
                for a in anomalies
            ],
            "period_over_period": _period_over_period(series, frequency, periods, self.aggregate),
            "efficiency": _efficiency(
                series, frequency, fit.parts.periods, float(self.flat_tolerance)
            ),
            "parameters": {
                "periods": list(fit.parts.periods),
                "candidate_periods": list(periods),
                "decomposition": fit.parts.method,
                "rolling_median_window": fit.parts.window,
                "anomaly_threshold": float(self.anomaly_threshold),
                "changepoint_penalty": float(self.changepoint_penalty),
                "changepoint_penalty_value": fit.penalty,
                "min_segment": int(min_segment),
                "changepoint_guard": int(self.changepoint_guard),
                "noise_sd": fit.sigma,
                "seasonal": self.seasonal,
                "robust": bool(self.robust),
                "screened_outliers": int((fit.parts.weights == 0).sum()),
                "flat_tolerance": float(self.flat_tolerance),
                "aggregate": self.aggregate,
                "date_column": series.date_column,
                "spend_columns": list(series.spend_columns),
                "conversions_column": series.conversions_column,
                "periods_per_year": series.periods_per_year,
            },
        }
        report["summary"] = _summary(report, series, frequency)
        self.results_ = _clean(report, keep_series=bool(self.include_series))
        return self.results_

    # ---------------------------------------------------------------------------- helpers

    def _periods(self, periods_per_year: float | None) -> tuple[int, ...]:
        if self.period is None:
            return default_periods(periods_per_year)
        if isinstance(self.period, int | np.integer):
            return () if int(self.period) == 1 else (int(self.period),)
        return tuple(int(p) for p in self.period)

    def _check_parameters(self) -> None:
        def bad(name: str, value: Any, hint: str) -> MMModelError:
            return MMModelError(
                Codes.INVALID_PARAMETER,
                f"{name} = {_short(value)} is not valid.",
                hint=hint,
                details={"parameter": name},
            )

        def is_int(value: Any) -> bool:
            return isinstance(value, int | np.integer) and not isinstance(value, bool)

        def positive(value: Any) -> bool:
            return (
                isinstance(value, int | float | np.integer | np.floating)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and value > 0
            )

        period = self.period
        if period is not None:
            if is_int(period):
                ok = period >= 1
            else:
                ok = (
                    isinstance(period, Sequence)
                    and not isinstance(period, str)
                    and all(is_int(p) and p >= 2 for p in period)
                )
            if not ok:
                raise bad(
                    "period",
                    period,
                    "pass None (from the dates), a whole number of rows per cycle such as 52, "
                    "a list such as [7, 365], or 1 for no seasonality.",
                )
        if not positive(self.anomaly_threshold):
            raise bad("anomaly_threshold", self.anomaly_threshold, "use a positive number; 3.5.")
        if not positive(self.changepoint_penalty):
            raise bad(
                "changepoint_penalty",
                self.changepoint_penalty,
                "use a positive multiplier of the BIC penalty: 1.0, or 2.0 for fewer changes.",
            )
        if self.min_segment is not None and not (
            is_int(self.min_segment) and self.min_segment >= 3
        ):
            raise bad("min_segment", self.min_segment, "use a whole number >= 3, or None.")
        if not (is_int(self.changepoint_guard) and self.changepoint_guard >= 0):
            raise bad("changepoint_guard", self.changepoint_guard, "use a whole number >= 0.")
        seasonal = self.seasonal
        if seasonal is not None and not (is_int(seasonal) and seasonal >= 7 and seasonal % 2):
            raise bad("seasonal", seasonal, "use an odd whole number >= 7, or None (fixed).")
        for name in ("robust", "include_series"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise bad(name, getattr(self, name), "use True or False.")
        tolerance = self.flat_tolerance
        if not (positive(tolerance) or (tolerance == 0 and not isinstance(tolerance, bool))):
            raise bad("flat_tolerance", tolerance, "use a share such as 0.05 (5% of the level).")
        if self.aggregate not in ("sum", "mean"):
            raise bad("aggregate", self.aggregate, "use 'sum' (amounts) or 'mean' (rates).")


# -------------------------------------------------------------------------------- the data


@dataclass(frozen=True, eq=False)
class _Series:
    kpi: FloatArray
    spend: FloatArray
    conversions: FloatArray | None
    dates: pd.DatetimeIndex | None
    periods_per_year: float | None
    kpi_column: str
    spend_columns: list[str]
    conversions_column: str | None
    date_column: str | None

    @property
    def n(self) -> int:
        return int(self.kpi.shape[0])

    @property
    def positive(self) -> bool:
        """Percent changes of the KPI mean something only if it is positive throughout."""
        return bool((self.kpi > 0).all())


def _data_error(message: str, hint: str, **details: Any) -> DataIntegrationError:
    return DataIntegrationError(Codes.DATA_ERROR, message, hint=hint, details=details)


def _prepare(
    data: Any,
    kpi_column: Any,
    date_column: Any,
    spend_columns: Any,
    conversions_column: Any,
) -> _Series:
    """Validate the input (same checks and codes as the MMM's) and return it in date order."""
    if not isinstance(data, pd.DataFrame):
        raise DataIntegrationError(
            Codes.EMPTY_DATA,
            f"data must be a pandas DataFrame, got {type(data).__name__}.",
            hint="load the data with e.g. pd.read_csv('data.csv') and pass the DataFrame.",
            details={"type": type(data).__name__},
        )
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise DataIntegrationError(
            Codes.EMPTY_DATA,
            f"the data is empty ({data.shape[0]} rows, {data.shape[1]} columns).",
            hint="check that the file or query returned rows (and any filter kept some).",
            details={"n_rows": int(data.shape[0]), "n_columns": int(data.shape[1])},
        )
    if not isinstance(kpi_column, str):
        raise _data_error(
            f"kpi_column must be a column name (str), got {_short(kpi_column)}.",
            "pass the name of the KPI column, e.g. kpi_column='revenue'.",
            argument="kpi_column",
        )
    spend = (
        [] if spend_columns is None else _names(spend_columns, "spend_columns", allow_empty=True)
    )
    if conversions_column is not None and not isinstance(conversions_column, str):
        raise _data_error(
            f"conversions_column must be a column name (str) or None, got "
            f"{_short(conversions_column)}.",
            "pass e.g. conversions_column='orders', or leave it out.",
            argument="conversions_column",
        )
    if not (date_column is None or date_column is False or isinstance(date_column, str)):
        raise _data_error(
            f"date_column must be a column name, None (detect) or False (no dates), got "
            f"{_short(date_column)}.",
            "pass e.g. date_column='week', or date_column=False for rows in time order.",
            argument="date_column",
        )
    date_name = date_column if isinstance(date_column, str) else None
    roles = [(kpi_column, "KPI column"), *((c, "spend column") for c in spend)]
    if conversions_column is not None:
        roles.append((conversions_column, "conversions column"))
    all_roles = roles + ([(date_name, "date column")] if date_name is not None else [])
    _check_roles(all_roles)
    _check_columns_exist(data, all_roles)

    n = int(data.shape[0])
    if n < MIN_ROWS:
        raise DataIntegrationError(
            Codes.TOO_FEW_ROWS,
            f"the data has {n} rows but at least {MIN_ROWS} are needed to tell a trend, "
            "change points and anomalies apart.",
            hint="provide a longer history (a year of weekly data shows seasonality too).",
            details={"n_rows": n, "min_rows": MIN_ROWS},
        )
    date_name, dates, order, periods_per_year = _dated(
        data, date_column, [name for name, _ in roles]
    )
    rows = _Rows(data.index, dates)

    values = _to_matrix(data, roles, rows)
    _check_finite(values, roles, rows)
    spend_values = values[:, 1 : 1 + len(spend)]
    _check_spend_values(spend_values, spend, rows, training=False)
    conversions = values[:, -1] if conversions_column is not None else None
    if conversions is not None and (conversions < 0).any():
        pos = int(np.argmax(conversions < 0))
        raise _data_error(
            f"conversions column {conversions_column!r} has negative values; the first is "
            f"{rows(pos)} ({conversions[pos]:g}).",
            "conversions count events and cannot be negative: fix or drop those rows.",
            column=conversions_column,
            **rows.details(pos),
        )
    if order is not None:
        values = values[order]
        assert dates is not None
        dates = dates[order]
    return _Series(
        kpi=values[:, 0].copy(),
        spend=values[:, 1 : 1 + len(spend)].copy(),
        conversions=values[:, -1].copy() if conversions_column is not None else None,
        dates=None if dates is None else pd.DatetimeIndex(dates),
        periods_per_year=periods_per_year,
        kpi_column=kpi_column,
        spend_columns=spend,
        conversions_column=conversions_column,
        date_column=date_name,
    )


def _dated(
    data: pd.DataFrame, date_column: str | bool | None, used: list[str]
) -> tuple[str | None, pd.DatetimeIndex | None, NDArray[np.intp] | None, float | None]:
    """``(date column, dates, sorting order, periods per year)``; all ``None`` without dates.

    ``date_column=None`` detects the column among those not ``used``; ``False`` means none.
    Raises ``BAD_DATES``, ``DUPLICATE_DATES`` or ``IRREGULAR_DATES`` as the MMM does.
    """
    if date_column is False:
        return None, None, None, None
    column = date_column if isinstance(date_column, str) else None
    name, dates = _resolve_dates(data, column, date_column is None, used)
    if dates is None or name is None:
        return None, None, None, None
    order, periods_per_year = _check_date_order(dates, name)
    return name, dates, order, periods_per_year


def _frequency_name(periods_per_year: float | None) -> str | None:
    if periods_per_year is None:
        return None
    for ppy, name in _FREQUENCIES.items():
        if abs(periods_per_year - ppy) < 1e-6:
            return name
    return f"{periods_per_year:.4g} periods a year"


def _labels(dates: pd.DatetimeIndex | None) -> list[str] | None:
    """ISO dates of the rows (``None`` without dates), as the validation messages write them."""
    if dates is None:
        return None
    if (dates == dates.normalize()).all():
        return [str(d) for d in dates.strftime("%Y-%m-%d")]
    return [_format_date(d) for d in dates]


def _date(labels: list[str] | None, index: int) -> str | None:
    return None if labels is None else labels[index]


def _when(item: dict[str, Any]) -> str:
    """``item``'s date, or ``"period <index>"``, for sentences."""
    return item["date"] or f"period {item['index']}"


# -------------------------------------------------------------------------------- the model


@dataclass(frozen=True, eq=False)
class _Fit:
    parts: Decomposition
    change_points: list[ChangePoint]
    steps: FloatArray
    expected: FloatArray
    scaled_residual: FloatArray
    deseasonalised: FloatArray
    sigma: float
    penalty: float


def _fit(
    y: FloatArray,
    periods: tuple[int, ...],
    *,
    penalty: float,
    min_segment: int,
    seasonal: int | None,
    robust: bool,
) -> _Fit:
    """Change points, then the decomposition of the series without its level shifts."""
    n = y.shape[0]
    used = usable_periods(periods, n)
    d0 = y - rough_seasonal(y, used, seasonal)
    # Seasonal differences for the patterns of many cycles (days of the week); second
    # differences alone for a yearly wave seen a few times.
    sigma = noise_scale(y, lags=[p for p in used if n >= MANY_CYCLES * p])
    beta = bic_penalty(n, penalty)
    changes: list[int] = []
    deseasonalised = d0
    if used and sigma > 0:
        changes, pattern = seasonal_change_points(
            y, used, y - d0, sigma, penalty=penalty, min_size=min_segment
        )
        deseasonalised = y - pattern
    elif sigma > 0:
        changes = search_change_points(d0, sigma, penalty=penalty, min_size=min_segment)
    points = describe_change_points(deseasonalised, changes, sigma)
    steps = np.zeros(n)
    for point in points:
        steps[point.index :] += point.jump
    parts = decompose(y - steps, periods, robust=robust, seasonal=seasonal)
    expected = parts.trend + parts.seasonal + steps
    return _Fit(
        parts=parts,
        change_points=points,
        steps=steps,
        expected=expected,
        scaled_residual=parts.residual / (1.0 - parts.leverage),
        deseasonalised=y - parts.seasonal,
        sigma=float(sigma),
        penalty=float(beta),
    )


def _theil_sen(x: FloatArray, y: FloatArray) -> tuple[float, float, float, float]:
    """``(slope, intercept, low, high)``: Theil-Sen slope with its 95% interval, on at most
    :data:`THEIL_SEN_POINTS` evenly spaced points (the estimator's cost is quadratic)."""
    from scipy.stats import theilslopes

    if x.shape[0] > THEIL_SEN_POINTS:
        keep = np.unique(np.linspace(0, x.shape[0] - 1, THEIL_SEN_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    if x.shape[0] < 2 or np.ptp(x) == 0:
        return 0.0, float(np.median(y)) if y.size else 0.0, 0.0, 0.0
    result = theilslopes(y, x, alpha=0.95)
    return (
        float(result.slope),
        float(result.intercept),
        float(result.low_slope),
        float(result.high_slope),
    )


def _direction(
    slope: float, low: float, high: float, change: float, base: float, tol: float
) -> str:
    """``"up"``/``"down"`` when the slope's interval excludes 0 and ``|change| >= tol |base|``."""
    big = abs(change) >= tol * abs(base) if base != 0 else change != 0
    if big and low > 0:
        return "up"
    if big and high < 0:
        return "down"
    return "flat"


def _line_trend(
    x: FloatArray,
    y: FloatArray,
    span: int,
    periods_per_year: float | None,
    tol: float,
    *,
    base: float | None = None,
    season: int = 1,
    fitted: int = 0,
) -> dict[str, Any]:
    """Robust straight-line trend of ``y`` at positions ``x`` (of ``0 .. span - 1``).

    ``change`` is the line's rise from position 0 to ``span - 1``; ``change_pct`` puts it
    against ``base`` (by default the line's start), and is ``None`` unless ``base > 0``:
    percentages of a KPI around zero mean nothing. A change is big enough for a direction
    when it is ``tol`` of ``base``, or of the mean ``|y|`` when ``base`` is not positive.

    The slope is Theil-Sen's, or with ``season > 1`` and two cycles of data the seasonal
    Kendall slope (:func:`_seasonal_sen`). ``y`` already stripped of a pattern of ``fitted``
    values estimated from the same points has lost some of its noise with it: the interval
    is widened by ``sqrt(m / (m - fitted))`` for ``m`` points (at most ``sqrt 2``).
    """
    seasonal = _seasonal_sen(x, y, season) if season > 1 and np.ptp(x) >= season else None
    slope, start, low, high = seasonal if seasonal is not None else _theil_sen(x, y)
    m = y.shape[0]
    widen = math.sqrt(m / max(m - fitted, m / 2)) if fitted else 1.0
    low, high = slope - widen * (slope - low), slope + widen * (high - slope)
    end = start + slope * (span - 1)
    change = end - start
    if base is None:
        base = start
    scale = abs(base) if base > 0 else float(np.mean(np.abs(y))) if y.size else 0.0
    return {
        "direction": _direction(slope, low, high, change, scale, tol),
        "slope_per_period": slope,
        "slope_per_year": None if periods_per_year is None else slope * periods_per_year,
        "slope_interval": [low, high],
        "start": start,
        "end": end,
        "change": change,
        "change_pct": 100.0 * change / base if base > 0 else None,
    }


def _trend_section(series: _Series, fit: _Fit, tol: float) -> dict[str, Any]:
    n = series.n
    positions = np.arange(n, dtype=float)
    fitted = sum(fit.parts.periods)
    base = None if series.positive else 0.0  # no percentages for a KPI around zero
    ppy = series.periods_per_year
    line = _line_trend(positions, fit.deseasonalised, n, ppy, tol, base=base, fitted=fitted)
    line_pct_year = None
    if series.periods_per_year is not None and line["change_pct"] is not None and n > 1:
        line_pct_year = line["change_pct"] * series.periods_per_year / (n - 1)
    underlying = None
    if fit.steps.any():
        without = fit.deseasonalised - fit.steps
        underlying = _line_trend(positions, without, n, ppy, tol, base=base, fitted=fitted)
    return {
        **line,
        "change_pct_per_year": line_pct_year,
        "excluding_change_points": underlying,
        "strength": trend_strength(fit.parts),
        "method": "Theil-Sen slope of the deseasonalised KPI; series: STL trend plus level shifts",
        "series": (fit.parts.trend + fit.steps).tolist(),
    }


def _peak_label(period: int, position: int, dates: pd.DatetimeIndex | None) -> str:
    """Where in the cycle ``position`` (a row index) falls, in words."""
    if dates is None:
        return f"position {position % period} of {period}"
    day = dates[position]
    if period == 7:
        return day.day_name()
    if period == 52:
        return f"week {int(day.isocalendar().week)}"
    if period == 12:
        return day.month_name()
    if period == 4:
        return f"Q{day.quarter}"
    if period in (365, 366):
        return f"{_MONTHS[day.month - 1]} {day.day}"
    return f"position {position % period} of {period}"


def _seasonality_section(series: _Series, fit: _Fit, candidates: tuple[int, ...]) -> dict[str, Any]:
    parts = fit.parts
    level = float(np.mean(parts.trend))
    components = {}
    for p, pattern in parts.components.items():
        last = slice(series.n - p, series.n)  # the last full cycle
        cycle = pattern[last]
        strength = 1.0 - np.var(parts.residual) / max(np.var(pattern + parts.residual), 1e-300)
        components[str(p)] = {
            "period": p,
            "strength": float(max(0.0, strength)),
            "amplitude": float(np.ptp(cycle)),
            "amplitude_pct": (
                100.0 * float(np.ptp(cycle)) / level if level > 0 and series.positive else None
            ),
            "peak": _peak_label(p, series.n - p + int(np.argmax(cycle)), series.dates),
            "trough": _peak_label(p, series.n - p + int(np.argmin(cycle)), series.dates),
        }
    dropped = [p for p in candidates if p not in parts.periods]
    if parts.periods:
        note = None
    elif not candidates:
        note = (
            "no seasonal period: pass period=... (rows per cycle)"
            if series.dates is None
            else "no seasonal period at this frequency"
        )
    else:
        note = "fewer than two full cycles of data"
    return {
        "detected": bool(parts.periods),
        "periods": list(parts.periods),
        "periods_without_two_cycles": dropped,
        "strength": seasonal_strength(parts),
        "components": components,
        "method": parts.method,
        "note": note,
        "series": parts.seasonal.tolist(),
    }


def _change_point_dict(
    point: ChangePoint, labels: list[str] | None, relative: bool
) -> dict[str, Any]:
    before = point.before_level
    return {
        "date": _date(labels, point.index),
        "index": point.index,
        "kind": point.kind,
        "before_mean": point.before_mean,
        "after_mean": point.after_mean,
        "before_level": before,
        "after_level": point.after_level,
        "change": point.jump,
        "change_pct": 100.0 * point.jump / before if relative and before > 0 else None,
        "slope_before": point.slope_before,
        "slope_after": point.slope_after,
        "z": point.jump_z,
        "score": point.score,
    }


# ----------------------------------------------------------------- period over period


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _pct(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return 100.0 * (new - old) / abs(old)


def _window_metrics(series: _Series, rows: slice, aggregate: str) -> dict[str, float | None]:
    kpi = series.kpi[rows]
    out: dict[str, float | None] = {
        series.kpi_column: float(kpi.sum() if aggregate == "sum" else kpi.mean())
    }
    total = float(kpi.sum())
    spend = float(series.spend[rows].sum()) if series.spend_columns else None
    conversions = float(series.conversions[rows].sum()) if series.conversions is not None else None
    if spend is not None:
        out["total_spend"] = spend
        out["roas"] = _ratio(total, spend)
    if conversions is not None:
        assert series.conversions_column is not None
        out[series.conversions_column] = conversions
        if spend is not None:
            out["cpa"] = _ratio(spend, conversions)
    return out


def _span(labels: list[str] | None, rows: slice) -> dict[str, Any]:
    return {
        "start": _date(labels, rows.start),
        "end": _date(labels, rows.stop - 1),
        "start_index": rows.start,
        "end_index": rows.stop - 1,
    }


def _period_over_period(
    series: _Series, frequency: str | None, periods: tuple[int, ...], aggregate: str
) -> dict[str, Any]:
    """Last window against the one before and the same one a year earlier."""
    n = series.n
    windows, _, lag, _ = _WINDOWS.get(frequency or "", (_GENERIC_WINDOWS, 4, None, "period"))
    if frequency not in _WINDOWS and periods:
        lag = max(periods)
    labels = _labels(series.dates)
    out: dict[str, Any] = {}
    for name, size in windows:
        if 2 * size > n:
            continue
        current, previous = slice(n - size, n), slice(n - 2 * size, n - size)
        year = slice(n - size - lag, n - lag) if lag is not None and n - size - lag >= 0 else None
        now = _window_metrics(series, current, aggregate)
        before = _window_metrics(series, previous, aggregate)
        then = _window_metrics(series, year, aggregate) if year is not None else None
        metrics = {
            key: {
                "current": value,
                "previous": before[key],
                "change": None if value is None or before[key] is None else value - before[key],
                "change_pct": _pct(value, before[key]),
                "last_year": None if then is None else then[key],
                "yoy_change": (
                    None
                    if then is None or value is None or then[key] is None
                    else value - then[key]
                ),
                "yoy_change_pct": None if then is None else _pct(value, then[key]),
            }
            for key, value in now.items()
        }
        out[name] = {
            "periods": size,
            "current": _span(labels, current),
            "previous": _span(labels, previous),
            "last_year": None if year is None else _span(labels, year),
            "metrics": metrics,
        }
    return out


# ------------------------------------------------------------------------------ efficiency


def _seasonal_sen(
    x: FloatArray, y: FloatArray, period: int
) -> tuple[float, float, float, float] | None:
    """Seasonal Kendall slope (Hirsch, Slack & Smith 1982): ``(slope, intercept, low, high)``.

    The median of the slopes between points of the same phase (``x mod period``) only, so a
    seasonal pattern neither biases nor blurs it; the 95% interval comes from the variance of
    the summed Kendall statistics of the phases (``sum m (m - 1)(2m + 5) / 18``), as for
    Sen's slope. ``None`` when no phase has two points.
    """
    phase = x.astype(int) % period
    order = np.argsort(phase, kind="stable")
    bounds = np.flatnonzero(np.diff(phase[order])) + 1
    slopes, variance = [], 0.0
    for group in np.split(order, bounds):
        m = group.size
        if m < 2:
            continue
        i, j = np.triu_indices(m, 1)
        slopes.append((y[group][j] - y[group][i]) / (x[group][j] - x[group][i]))
        variance += m * (m - 1) * (2 * m + 5) / 18.0
    if not slopes:
        return None
    ordered = np.sort(np.concatenate(slopes))
    count = ordered.size
    half = 1.959964 * math.sqrt(variance)
    low = ordered[max(math.floor((count - half) / 2) - 1, 0)]
    high = ordered[min(math.ceil((count + half) / 2), count - 1)]
    slope = float(np.median(ordered))
    return slope, float(np.median(y - slope * x)), float(low), float(high)


def _ratio_summary(
    numerator: FloatArray,
    denominator: FloatArray,
    recent: int,
    window: int,
    periods_per_year: float | None,
    tol: float,
) -> dict[str, Any] | None:
    """Average, latest and trend of ``numerator / denominator`` where the denominator > 0."""
    active = denominator > 0
    if not active.any():
        return None
    n = numerator.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_period = np.where(active, numerator / np.where(active, denominator, 1.0), np.nan)
    average = float(numerator[active].sum() / denominator[active].sum())
    tail = slice(max(0, n - recent), n)
    latest = _ratio(
        float(numerator[tail][active[tail]].sum()), float(denominator[tail][active[tail]].sum())
    )
    x = np.flatnonzero(active).astype(float)
    trend = _line_trend(
        x, per_period[active], n, periods_per_year, tol, base=average, season=window
    )
    return {
        "average": average,
        "latest": latest,
        "latest_periods": tail.stop - tail.start,
        "latest_vs_average_pct": _pct(latest, average),
        "trend": trend,
        "trend_basis": (
            f"seasonal Kendall slope of per-period ratios ({window}-period cycle)"
            if window > 1
            else "Theil-Sen slope of per-period ratios"
        ),
        "series": [None if math.isnan(v) else float(v) for v in per_period],
    }


def _efficiency(
    series: _Series, frequency: str | None, periods: tuple[int, ...], tol: float
) -> dict[str, Any]:
    """Per channel (and all channels together): spend, ROAS and CPA, with their trends."""
    if not series.spend_columns:
        return {}
    _, recent, _, _ = _WINDOWS.get(frequency or "", (_GENERIC_WINDOWS, 4, None, "period"))
    window = max(periods) if periods else 1
    n = series.n
    ppy = series.periods_per_year
    total_spend = float(series.spend.sum())

    def describe(spend: FloatArray) -> dict[str, Any]:
        spent = float(spend.sum())
        positions = np.arange(n, dtype=float)
        entry: dict[str, Any] = {
            "spend_total": spent,
            "spend_share": spent / total_spend if total_spend > 0 else None,
            "active_periods": int((spend > 0).sum()),
            "spend_trend": _line_trend(positions, spend, n, ppy, tol, season=window),
            "roas": _ratio_summary(series.kpi, spend, recent, window, ppy, tol),
            "cpa": None,
        }
        if series.conversions is not None:
            entry["cpa"] = _ratio_summary(spend, series.conversions, recent, window, ppy, tol)
        return entry

    channels = {c: describe(series.spend[:, j]) for j, c in enumerate(series.spend_columns)}
    return {
        "channels": channels,
        "blended": describe(series.spend.sum(axis=1)),
        "note": _EFFICIENCY_NOTE,
    }


# -------------------------------------------------------------------------------- summary


def _number(value: float | None) -> str:
    """A readable number: ``12,345``, ``2.35``, ``0.0123``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _signed_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def _size(line: dict[str, Any]) -> str:
    """How much a trend line moved, without its sign: ``"12%"`` or ``"1,234"``."""
    if line["change_pct"] is not None:
        return f"{abs(line['change_pct']):.0f}%"
    return _number(abs(line["change"]))


def _change(line: dict[str, Any]) -> str:
    """A trend line's change over the span: in percent when it has one, else in units."""
    if line["change_pct"] is not None:
        return _signed_pct(line["change_pct"])
    sign = "+" if line["change"] >= 0 else "-"
    return f"{sign}{_number(abs(line['change']))}"


def _summary(report: dict[str, Any], series: _Series, frequency: str | None) -> list[str]:
    kpi = series.kpi_column
    unit = _WINDOWS[frequency][3] if frequency in _WINDOWS else "period"
    lines: list[str] = []

    trend = report["trend"]
    span = f"{series.n} {unit}s"
    if trend["direction"] == "flat":
        lines.append(
            f"{kpi} has no clear trend over the {span} ({_change(trend)} after removing "
            "seasonality)."
        )
    else:
        yearly = trend["change_pct_per_year"]
        per_year = f", {_signed_pct(yearly)} a year" if yearly is not None else ""
        lines.append(
            f"{kpi} is trending {trend['direction']}: {_change(trend)} over the "
            f"{span}{per_year}, after removing seasonality."
        )
    underlying = trend["excluding_change_points"]
    if underlying is not None and underlying["direction"] != trend["direction"]:
        lines.append(
            f"Without its change points the trend is {underlying['direction']} "
            f"({_change(underlying)} over the span)."
        )

    seasonality = report["seasonality"]
    for component in seasonality["components"].values():
        strength = component["strength"]
        cycle = {7: "day-of-week", 52: "yearly", 12: "yearly", 4: "yearly", 365: "yearly"}.get(
            component["period"], f"{component['period']}-{unit}"
        )
        if strength < 0.1:
            lines.append(f"No marked {cycle} seasonality (strength {strength:.2f}).")
            continue
        word = "Strong" if strength >= 0.6 else "Moderate" if strength >= 0.3 else "Weak"
        swing = component["amplitude_pct"]
        size = f", swing {swing:.0f}% of the level" if swing is not None else ""
        lines.append(
            f"{word} {cycle} seasonality (strength {strength:.2f}{size}): highest around "
            f"{component['peak']}, lowest around {component['trough']}."
        )
    if seasonality["note"] and seasonality["periods_without_two_cycles"]:
        lines.append(f"Seasonality not estimated: {seasonality['note']}.")

    shifts = [c for c in report["change_points"] if c["kind"] == "level_shift"]
    for c in shifts[:3]:
        verb = "rose" if c["change"] > 0 else "fell"
        pct = f" ({_signed_pct(c['change_pct'])})" if c["change_pct"] is not None else ""
        lines.append(
            f"Level shift on {_when(c)}: {kpi} {verb} by {_number(abs(c['change']))}{pct} "
            "and stayed there."
        )
    if len(shifts) > 3:
        lines.append(f"{len(shifts) - 3} more level shifts (see change_points).")
    breaks = [c for c in report["change_points"] if c["kind"] == "trend_change"]
    if breaks:
        dates = ", ".join(_when(c) for c in breaks[:3])
        more = f" and {len(breaks) - 3} more" if len(breaks) > 3 else ""
        lines.append(f"The trend changed slope (without a jump) on {dates}{more}.")

    anomalies = report["anomalies"]
    if anomalies:
        spikes = sum(a["direction"] == "spike" for a in anomalies)
        biggest = max(anomalies, key=lambda a: abs(a["robust_z"]))
        where = _when(biggest)
        size = biggest["size_pct"]
        how = (
            f"{abs(size):.0f}% {'above' if size > 0 else 'below'} expected"
            if size is not None
            else f"residual {_number(biggest['residual'])}"
        )
        lines.append(
            f"{len(anomalies)} anomal{'y' if len(anomalies) == 1 else 'ies'} ({spikes} "
            f"spike{'s' if spikes != 1 else ''}, {len(anomalies) - spikes} "
            f"dip{'s' if len(anomalies) - spikes != 1 else ''}); the largest is a "
            f"{biggest['direction']} on {where}, {how}."
        )
    else:
        lines.append("No anomalies: every period is within the expected range.")

    pop = report["period_over_period"]
    if pop:
        name, window = next(iter(pop.items()))
        figures = window["metrics"][kpi]
        label = name.replace("_", " ")
        text = (
            f"Last {label}: {kpi} {_number(figures['current'])}, "
            f"{_signed_pct(figures['change_pct'])} on the {label} before"
        )
        if figures["yoy_change_pct"] is not None:
            text += f" and {_signed_pct(figures['yoy_change_pct'])} on a year earlier"
        lines.append(text + ".")

    efficiency = report["efficiency"]
    for channel, entry in efficiency.get("channels", {}).items():
        lines.extend(_efficiency_lines(channel, entry, unit))
    return lines


def _efficiency_lines(channel: str, entry: dict[str, Any], unit: str) -> list[str]:
    roas = entry["roas"]
    if roas is None:
        return [f"{channel} had no spend."]
    lines = []
    trend = roas["trend"]
    spend = entry["spend_trend"]
    if trend["direction"] != "flat":
        verb = "rose" if trend["direction"] == "up" else "fell"
        text = f"ROAS of {channel} {verb} {_size(trend)} over the span"
        if trend["direction"] == "down" and spend["direction"] == "up":
            text += f" while its spend grew {_size(spend)}: a sign of diminishing returns"
        lines.append(text + ".")
    gap = roas["latest_vs_average_pct"]
    if gap is not None and abs(gap) >= 10:
        lines.append(
            f"Recent ROAS of {channel} ({_number(roas['latest'])}, last "
            f"{roas['latest_periods']} {unit}s) is {abs(gap):.0f}% "
            f"{'above' if gap > 0 else 'below'} its average ({_number(roas['average'])})."
        )
    cpa = entry["cpa"]
    if cpa is not None and cpa["trend"]["direction"] != "flat":
        better = cpa["trend"]["direction"] == "down"
        lines.append(
            f"CPA of {channel} {'fell' if better else 'rose'} {_size(cpa['trend'])} over the span "
            f"({'cheaper' if better else 'dearer'} conversions)."
        )
    return lines


def _clean(value: Any, keep_series: bool = True) -> Any:
    """Plain JSON types (:func:`~mmm_core.json_values.json_value`); without ``keep_series``,
    no ``"series"`` entries."""
    return json_value(value if keep_series else _without_series(value))


def _without_series(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_series(v) for k, v in value.items() if k != "series"}
    if isinstance(value, list | tuple):
        return [_without_series(v) for v in value]
    return value
