"""Schema check and standardisation of marketing data from any source into the library's layout.

Real data arrive in many shapes: Robyn-style ``tv_S`` columns, ``TV Spend``, ``spend_tv``, a
target called ``Sales`` or ``kpi``, daily rows, a ``DATE`` column of strings. This module turns
such a frame into the layout :mod:`mmm_core.data.synthetic` generates and the model expects::

    date | <channel>_spend ... | other numeric columns ... | revenue

and reports what it did in a :class:`SchemaReport`. The steps, in order:

1. Drop completely empty rows and pandas index artefacts (``Unnamed: 0``).
2. Find the date column (``date_column``, else :func:`~mmm_core.models.validation.
   detect_date_column`, else the first column whose values all parse as dates, those whose
   names mention a date, week or day first) and parse it. It becomes ``date``.
3. Find the spend columns: ``spend_columns`` if given, else every column whose normalised name
   (lower case, ``_`` between words) looks like spend -- ``<channel>_spend``, ``spend_<channel>``,
   ``<channel>_cost``, ``<channel>_s`` (Robyn) and the like. Each becomes ``<channel>_spend``.
   Columns that are a total of the others (``total_spend``, a bare ``spend``) are ignored when
   channel columns exist, and used as ``total_spend`` when they are the only spend. Trailing
   units are ignored in names (``TV Spend (USD)``, ``Revenue (EUR)``).
4. Find the target: ``target`` if given, else the first of :data:`TARGET_SYNONYMS` present.
   A synonym becomes ``revenue``; any other explicit target keeps its name.
5. Keep the other numeric columns (candidate controls) and drop the rest, saying why.
6. Infer the frequency from the median step between dates. Daily (or finer) data are summed to
   weeks starting on Monday (columns whose names look like a price, index or rate are averaged
   instead); incomplete weeks at either end are dropped, since a three-day week would look like
   a collapse in spend and sales.
7. Report gaps (missing periods), incomplete weeks, missing values and anything suspicious.

What cannot be used raises :class:`~mmm_core.errors.DataIntegrationError` naming what was found
and how to fix it: no spend column (``MMM_101``), no target (``MMM_101``), no date column or
unparseable dates (``MMM_101`` / ``MMM_112``), text in a spend or target column (``MMM_102``),
two columns mapping to one name (``MMM_111``), repeated dates in weekly data (``MMM_107``).

Examples
--------
>>> import pandas as pd
>>> raw = pd.DataFrame({
...     "DATE": ["2024-01-01", "2024-01-08", "2024-01-15"],
...     "tv_S": [10.0, 0.0, 5.0],
...     "Facebook Spend": [1.0, 2.0, 3.0],
...     "Sales": [100.0, 90.0, 120.0],
... })
>>> frame, report = standardise_frame(raw)
>>> list(frame.columns)
['date', 'tv_spend', 'facebook_spend', 'revenue']
>>> report.frequency, report.column_mapping["tv_S"]
('weekly', 'tv_spend')
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mmm_core.errors import Codes, DataIntegrationError, suggest_name

# The validation module's date parser (ISO first, then inferred, then day-first): one parser
# for the whole library, so a date that loads also validates.
from mmm_core.models.validation import detect_date_column, parse_dates

__all__ = [
    "DATE_COLUMN",
    "SPEND_SUFFIX",
    "TARGET_COLUMN",
    "TARGET_SYNONYMS",
    "SchemaReport",
    "normalise_name",
    "spend_channel",
    "standardise_frame",
]

DATE_COLUMN = "date"
TARGET_COLUMN = "revenue"
SPEND_SUFFIX = "_spend"

#: Normalised target names, in order of preference, mapped to ``revenue``.
TARGET_SYNONYMS: tuple[str, ...] = (
    "revenue",
    "revenues",
    "sales",
    "total_revenue",
    "total_sales",
    "net_revenue",
    "net_sales",
    "gross_revenue",
    "gross_sales",
    "sales_revenue",
    "kpi",
    "y",
    "target",
    "dep_var",
)

#: Words that mark a spend column (``tv_spend``, ``spend_tv``, ``tv_cost``...).
SPEND_WORDS: tuple[str, ...] = (
    "spend",
    "spends",
    "spending",
    "spent",
    "cost",
    "costs",
    "media_cost",
    "investment",
)

#: Channel names that mean "all media": such a column is a total, not a channel.
TOTAL_CHANNELS = frozenset(
    {"total", "all", "overall", "sum", "media", "marketing", "ad", "ads", "paid", "advertising"}
    | {"total_media", "total_marketing", "total_ad", "total_ads", "paid_media", "all_media"}
)

#: Name tokens that mean a ratio rather than an amount (``cost_per_click``, ``avg_cost``).
_RATIO_TOKENS = frozenset(
    {"per", "cpc", "cpm", "cpa", "cpv", "rate", "ratio", "pct", "percent", "share", "avg"}
    | {"average", "mean", "roi", "roas", "index", "price"}
)

#: Tokens of names of columns averaged (not summed) when daily data are aggregated to weeks.
_MEAN_TOKENS = frozenset(
    {"price", "index", "rate", "ratio", "pct", "percent", "share", "avg", "average", "mean"}
    | {"temp", "temperature", "cpi", "unemployment", "rating", "score", "discount"}
)

#: Tokens of names that may hold dates, for columns :func:`detect_date_column` does not try.
_DATE_TOKENS = frozenset({"date", "week", "day", "time", "timestamp", "dt", "ds", "period"})

#: Trailing name tokens that give a unit, ignored when matching names (``tv_spend_usd``).
_UNIT_TOKENS = frozenset(
    {"usd", "eur", "gbp", "jpy", "inr", "aud", "cad", "chf", "cny", "brl", "mxn", "sek", "nok"}
    | {"dkk", "pln", "dollars", "euros", "amount", "value"}
)

_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")
_SPEND_PATTERNS = (
    re.compile(rf"^(?P<channel>.+?)_(?:{'|'.join(SPEND_WORDS)})$"),
    re.compile(rf"^(?:media_)?(?:{'|'.join(SPEND_WORDS)})_(?:on_)?(?P<channel>.+)$"),
    re.compile(r"^(?P<channel>.+?)_s$"),  # Robyn: tv_S, facebook_S
)
_THOUSANDS = r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?"
_MAX_LISTED = 12
_MAX_REPORTED = 50


@dataclass
class SchemaReport:
    """What :func:`standardise_frame` found and did, JSON-serialisable via :meth:`to_dict`.

    Attributes
    ----------
    date_column : str or None
        Date column of the output (``"date"``), ``None`` for undated data.
    source_date_column : str or None
        Its name in the input.
    frequency : str or None
        Frequency of the output rows: ``"weekly"``, ``"monthly"``, ``"every N days"``...
        (``None`` without dates or with a single date).
    source_frequency : str or None
        Frequency of the input rows (``"daily"`` when they were aggregated to weeks).
    aggregated : bool
        Whether rows were summed to weeks starting on Monday.
    rows, source_rows : int
        Rows of the output and of the input.
    start, end : str or None
        First and last date of the output (ISO).
    target_column : str
        Name of the target in the output.
    spend_columns : list of str
        ``<channel>_spend`` columns of the output, in input order.
    other_columns : list of str
        Other numeric columns kept (candidate controls; not used unless passed to the model).
    column_mapping : dict
        Input name to output name for every column kept.
    aggregation : dict
        Output column to ``"sum"`` or ``"mean"`` when rows were aggregated.
    dropped_columns : dict
        Input column to the reason it was dropped.
    gaps : list of dict
        Runs of missing periods: ``{"from", "to", "periods"}`` (dates of the first and last
        missing period).
    missing_periods : int
        Total number of missing periods.
    incomplete_weeks : list of dict
        Weeks kept with fewer days than usual (``{"week", "days"}``), when aggregated.
    dropped_partial_weeks : list of dict
        Incomplete weeks at either end, dropped (``{"week", "days"}``).
    missing_values : dict
        Output column to its count of missing values (columns without any are left out).
    warnings : list of str
        Anything the model's validation may reject or an analyst should look at.
    """

    date_column: str | None
    source_date_column: str | None
    frequency: str | None
    source_frequency: str | None
    aggregated: bool
    rows: int
    source_rows: int
    start: str | None
    end: str | None
    target_column: str
    spend_columns: list[str]
    other_columns: list[str] = field(default_factory=list)
    column_mapping: dict[str, str] = field(default_factory=dict)
    aggregation: dict[str, str] = field(default_factory=dict)
    dropped_columns: dict[str, str] = field(default_factory=dict)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    missing_periods: int = 0
    incomplete_weeks: list[dict[str, Any]] = field(default_factory=list)
    dropped_partial_weeks: list[dict[str, Any]] = field(default_factory=list)
    missing_values: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def map_controls(self, controls: list[str] | tuple[str, ...]) -> list[str]:
        """Control column names after standardisation (renamed ones mapped).

        A control the standardisation dropped (not numeric) raises ``MMM_102``; a name it never
        saw is kept as given, so the model names what is missing, with suggestions.
        """
        mapped = []
        for column in controls:
            if column in self.dropped_columns:
                raise DataIntegrationError(
                    Codes.NON_NUMERIC,
                    f"control column {column!r} cannot be used: {self.dropped_columns[column]}.",
                    hint=f"remove {column!r} from control_columns or fix its values.",
                    details={"column": column},
                )
            mapped.append(self.column_mapping.get(column, column))
        return mapped

    def fit_arguments(self) -> dict[str, Any]:
        """Columns to fit the output with: ``model.fit(frame, **report.fit_arguments())``.

        The other numeric columns are not passed as controls: choose those deliberately.
        """
        return {
            "target_column": self.target_column,
            "spend_columns": list(self.spend_columns),
            "control_columns": [],
            "date_column": self.date_column if self.date_column is not None else False,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python copy of every field (JSON-serialisable)."""
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Names


def normalise_name(name: Any) -> str:
    """Lower-case ``name`` with ``_`` between words: ``"TV Spend ($)"`` -> ``"tv_spend"``.

    camelCase is split too (``"facebookSpend"`` -> ``"facebook_spend"``).
    """
    text = str(name).strip()
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", text)
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def _without_units(normal: str) -> str:
    """A normalised name without trailing unit tokens: ``"revenue_usd"`` -> ``"revenue"``."""
    tokens = normal.split("_")
    while len(tokens) > 1 and tokens[-1] in _UNIT_TOKENS:
        tokens.pop()
    return "_".join(tokens)


def spend_channel(name: Any) -> str | None:
    """Channel a column name denotes spend on, or ``None`` if it does not look like spend.

    ``"tv_S"``, ``"TV Spend"``, ``"spend_tv"`` and ``"tv_cost"`` give ``"tv"``; a total such as
    ``"total_spend"`` or a bare ``"spend"`` gives ``"total"``; ratios such as
    ``"cost_per_click"`` or ``"avg_cost"`` give ``None``.

    Examples
    --------
    >>> [spend_channel(n) for n in ["tv_S", "Facebook Spend", "spend_search", "sales"]]
    ['tv', 'facebook', 'search', None]
    """
    normal = _without_units(normalise_name(name))
    if normal in SPEND_WORDS:
        return "total"
    for pattern in _SPEND_PATTERNS:
        match = pattern.match(normal)
        if match is None:
            continue
        channel = match.group("channel")
        channel = re.sub(rf"_(?:{'|'.join(SPEND_WORDS)})$", "", channel)  # tv_spend_s
        if set(channel.split("_")) & _RATIO_TOKENS:
            return None
        return "total" if channel in TOTAL_CHANNELS else channel
    return None


def _spend_name(column: str) -> str:
    """``<channel>_spend`` for a column chosen as spend (also when its name does not say so)."""
    channel = spend_channel(column)
    if channel is None:
        channel = normalise_name(column) or "channel"
        channel = channel.removesuffix(SPEND_SUFFIX)
    return f"{channel}{SPEND_SUFFIX}"


def _listed(names: Sequence[Any]) -> str:
    shown = ", ".join(repr(str(n)) for n in names[:_MAX_LISTED])
    if len(names) > _MAX_LISTED:
        shown += f", ... (+{len(names) - _MAX_LISTED} more)"
    return shown or "(none)"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _error(code: str, message: str, hint: str, **details: Any) -> DataIntegrationError:
    return DataIntegrationError(code, message, hint=hint, details=details)


def _find_column(frame: pd.DataFrame, name: str, role: str, argument: str) -> str:
    """Column ``name`` (exact, else by normalised name); raises ``MISSING_COLUMN`` if absent."""
    if name in frame.columns:
        return name
    wanted = normalise_name(name)
    for column in frame.columns:
        if normalise_name(column) == wanted:
            return str(column)
    close = suggest_name(name, [str(c) for c in frame.columns])
    hint = f"did you mean {close!r}? " if close else ""
    raise _error(
        Codes.MISSING_COLUMN,
        f"{role} {name!r} is not a column; the columns are {_listed(list(frame.columns))}.",
        hint=f"{hint}pass {argument}= with one of the column names above.",
        column=name,
        argument=argument,
        suggestion=close,
        columns=[str(c) for c in frame.columns][:_MAX_REPORTED],
    )


# --------------------------------------------------------------------------------------------
# Values


def _as_numbers(series: pd.Series) -> tuple[pd.Series, Any]:
    """``series`` as floats, and the first value that is not a number (``None`` if none).

    Text such as ``"$1,234.50"`` is read as a number (currency signs and spaces removed, and
    commas when they group thousands); ``"1.234,5"`` is not a number. Empty strings are missing
    values.
    """
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) or (
        ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype)
    ):
        return series.astype(float), None
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return pd.Series(np.nan, index=series.index), series.dropna().iloc[0]
    text = series.astype("string").str.replace(r"[\s$€£¥]", "", regex=True)
    grouped = text.str.fullmatch(_THOUSANDS).fillna(False)
    text = text.where(~grouped, text.str.replace(",", "", regex=False))
    values = pd.to_numeric(text.replace("", pd.NA), errors="coerce").astype(float)
    bad = values.isna() & text.notna() & (text != "")
    first_bad = series[bad].iloc[0] if bad.any() else None
    return values, first_bad


def _numeric_or_raise(series: pd.Series, column: str, role: str) -> pd.Series:
    values, bad = _as_numbers(series)
    if bad is not None:
        count = int((values.isna() & series.notna()).sum())
        raise _error(
            Codes.NON_NUMERIC,
            f"{role} {column!r} holds text such as {str(bad)[:40]!r} ({count} values that are "
            "not numbers).",
            hint=f"clean the column (e.g. pd.to_numeric(df[{column!r}], errors='coerce')) or, "
            f"if it is not a {role}, pass the right columns with target= / spend_columns=.",
            column=column,
            role=role,
            value=str(bad)[:60],
            count=count,
        )
    return values


# --------------------------------------------------------------------------------------------
# Dates


def _date_like_name(column: Any) -> bool:
    tokens = normalise_name(column).split("_")
    return bool(set(tokens) & _DATE_TOKENS) or tokens[-1].endswith("date")


def _parsed_or_raise(frame: pd.DataFrame, column: str) -> pd.DatetimeIndex:
    series = frame[column]
    dates = parse_dates(series)
    if dates is None:
        raise _error(
            Codes.BAD_DATES,
            f"date column {column!r} holds {series.dtype} values (e.g. "
            f"{series.dropna().iloc[0] if series.notna().any() else None!r}), not dates.",
            hint=f"convert it first, e.g. df[{column!r}] = pd.to_datetime(df[{column!r}]"
            ".astype(str), format='%Y%m%d'), or pass date_column= naming the real date column.",
            column=column,
            dtype=str(series.dtype),
        )
    bad = np.asarray(dates.isna())
    if bad.any():
        pos = int(np.argmax(bad))
        raw = series.iloc[pos]
        what = "is empty" if pd.isna(raw) else f"holds {str(raw)[:40]!r}, which is not a date"
        raise _error(
            Codes.BAD_DATES,
            f"date column {column!r}: row {pos} {what} ({int(bad.sum())} unusable values in all).",
            hint="use ISO dates such as '2024-01-29' in every row (parse other formats with "
            "pd.to_datetime(..., format=...) first), drop rows without a date, or pass "
            "date_column= naming the real date column.",
            column=column,
            row=pos,
            count=int(bad.sum()),
            value=None if pd.isna(raw) else str(raw)[:60],
        )
    return dates


def _find_dates(
    frame: pd.DataFrame, date_column: str | bool | None
) -> tuple[str, pd.DatetimeIndex] | tuple[None, None]:
    if date_column is False:
        return None, None
    if isinstance(date_column, str):
        column = _find_column(frame, date_column, "date column", "date_column")
        return column, _parsed_or_raise(frame, column)
    if date_column is not None and date_column is not True:
        raise _error(
            Codes.DATA_ERROR,
            f"date_column must be a column name, None (detect) or False (no dates), got "
            f"{date_column!r}.",
            hint="pass e.g. date_column='week'.",
            argument="date_column",
        )
    found = detect_date_column(frame)
    if found is not None:
        return found, _parsed_or_raise(frame, found)
    named = [c for c in frame.columns if _date_like_name(c)]
    unnamed = [c for c in frame.columns if c not in named]
    for column in named + unnamed:  # a text column of dates is a date column, whatever its name
        dates = parse_dates(frame[column])
        if dates is not None and frame[column].notna().any() and not dates.isna().any():
            return column, dates
    for column in named:  # a date-like column that does not parse: say where it fails
        if parse_dates(frame[column]) is not None:
            return column, _parsed_or_raise(frame, column)
    raise _error(
        Codes.MISSING_COLUMN,
        f"no date column found; the columns are {_listed(list(frame.columns))}.",
        hint="name the date column 'date' (ISO dates such as '2024-01-29'), pass "
        "date_column='<name>', or date_column=False for data without dates.",
        columns=[str(c) for c in frame.columns][:_MAX_REPORTED],
    )


def _frequency(step_days: float) -> str:
    if step_days < 0.5:
        return "intraday"
    if step_days <= 1.5:
        return "daily"
    if 6.0 <= step_days <= 8.0:
        return "weekly"
    if 28.0 <= step_days <= 31.0:
        return "monthly"
    if 89.0 <= step_days <= 92.0:
        return "quarterly"
    if 365.0 <= step_days <= 366.0:
        return "yearly"
    return f"every {step_days:g} days"


_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
_TO_WEEKLY = frozenset({"daily", "intraday"})


def _iso(ts: pd.Timestamp) -> str:
    return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()


def _gaps(dates: pd.DatetimeIndex, frequency: str, median_days: float) -> list[dict[str, Any]]:
    """Runs of missing periods between consecutive (sorted, unique) ``dates``."""
    out: list[dict[str, Any]] = []
    for before, after in itertools.pairwise(dates):
        if frequency in _MONTHS:
            step = _MONTHS[frequency]
            months = (after.year - before.year) * 12 + after.month - before.month
            missing = months // step - 1
            offset = pd.DateOffset(months=step)
            first, last = before + offset, after - offset
        else:
            days = (after - before) / pd.Timedelta(days=1)
            missing = round(days / median_days) - 1 if days > 1.5 * median_days else 0
            step_delta = pd.Timedelta(days=median_days)
            first, last = before + step_delta, after - step_delta
        if missing > 0:
            out.append({"from": _iso(first), "to": _iso(last), "periods": int(missing)})
    return out


def _weekly(
    frame: pd.DataFrame, dates: pd.DatetimeIndex, mean_columns: set[str]
) -> tuple[pd.DataFrame, pd.DatetimeIndex, pd.Series]:
    """Rows summed (or averaged) to weeks starting on Monday, and the days seen in each week."""
    day = dates.normalize()
    week = pd.DatetimeIndex(day - pd.to_timedelta(day.day_of_week, unit="D"), name=DATE_COLUMN)
    grouped = frame.groupby(week, sort=True)
    parts = {
        column: (
            grouped[column].mean() if column in mean_columns else grouped[column].sum(min_count=1)
        )
        for column in frame.columns
    }
    days = pd.Series(day, index=frame.index).groupby(week, sort=True).nunique()
    weekly = pd.DataFrame(parts)
    return weekly.reset_index(drop=True), pd.DatetimeIndex(weekly.index), days


# --------------------------------------------------------------------------------------------
# Entry point


def _choose_spend(
    frame: pd.DataFrame, spend_columns: Sequence[str] | None, used: set[str]
) -> tuple[list[str], dict[str, str]]:
    """Spend columns (input names) and the ones ignored as totals, with the reason."""
    if spend_columns is not None:
        if isinstance(spend_columns, str) or not all(isinstance(c, str) for c in spend_columns):
            raise _error(
                Codes.DATA_ERROR,
                f"spend_columns must be a list of column names, got {spend_columns!r}.",
                hint="pass e.g. spend_columns=['tv_S', 'search_S'].",
                argument="spend_columns",
            )
        chosen = [_find_column(frame, c, "spend column", "spend_columns") for c in spend_columns]
        return list(dict.fromkeys(chosen)), {}
    candidates = [c for c in frame.columns if c not in used and spend_channel(c) is not None]
    channels = [c for c in candidates if spend_channel(c) != "total"]
    totals = [c for c in candidates if spend_channel(c) == "total"]
    if channels:
        reason = "total of all media (the channel columns are used instead)"
        return channels, dict.fromkeys(totals, reason)
    if totals:
        return totals[:1], dict.fromkeys(totals[1:], "a second total spend column")
    raise _error(
        Codes.MISSING_COLUMN,
        f"no spend column found; the columns are {_listed(list(frame.columns))}.",
        hint="name spend columns '<channel>_spend' (e.g. 'tv_spend'; 'tv_S', 'TV Spend' and "
        "'spend_tv' are recognised too) or pass spend_columns=['tv', 'search', ...].",
        columns=[str(c) for c in frame.columns][:_MAX_REPORTED],
    )


def _choose_target(frame: pd.DataFrame, target: str | None, used: set[str]) -> str:
    if target is not None:
        if not isinstance(target, str):
            raise _error(
                Codes.DATA_ERROR,
                f"target must be a column name, got {target!r}.",
                hint="pass e.g. target='sales'.",
                argument="target",
            )
        return _find_column(frame, target, "target column", "target")
    by_name: dict[str, str] = {}
    for column in frame.columns:
        by_name.setdefault(_without_units(normalise_name(column)), str(column))
    for synonym in TARGET_SYNONYMS:
        column = by_name.get(synonym)
        if column is not None and column not in used:
            return column
    numeric = [
        str(c) for c in frame.columns if c not in used and ptypes.is_numeric_dtype(frame[c].dtype)
    ]
    raise _error(
        Codes.MISSING_COLUMN,
        f"no target column found (looked for {', '.join(TARGET_SYNONYMS[:5])}, ...); the other "
        f"numeric columns are {_listed(numeric)}.",
        hint="name the KPI column 'revenue' (or 'sales') or pass target='<column>'.",
        candidates=numeric[:_MAX_REPORTED],
    )


def standardise_frame(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    spend_columns: Sequence[str] | None = None,
    date_column: str | bool | None = None,
    keep_partial_weeks: bool = False,
) -> tuple[pd.DataFrame, SchemaReport]:
    """Check ``frame`` and return it in the library's layout, with a report of what was done.

    Parameters
    ----------
    frame : pandas.DataFrame
        Marketing data, one row per period (or per day and anything else: daily rows are
        summed to weeks).
    target : str, optional
        Target (KPI) column; detected from :data:`TARGET_SYNONYMS` when omitted.
    spend_columns : list of str, optional
        Spend columns; detected from their names when omitted. Each becomes
        ``<channel>_spend`` (``"TV"`` -> ``"tv_spend"``).
    date_column : str, None or False
        Date column; ``None`` detects it, ``False`` means undated data (no aggregation).
    keep_partial_weeks : bool, default False
        Keep incomplete weeks at either end of daily data (dropped by default).

    Returns
    -------
    frame : pandas.DataFrame
        ``date`` (when dated), the ``<channel>_spend`` columns, the other numeric columns and
        the target, sorted by date, with a fresh index.
    report : SchemaReport
        Columns found, mapping, frequency, aggregation, gaps and warnings.

    Raises
    ------
    DataIntegrationError
        ``MMM_110`` empty data, ``MMM_101`` no date / spend / target column (or a named one
        missing), ``MMM_112`` dates that do not parse, ``MMM_102`` text in a spend or target
        column, ``MMM_111`` two columns mapping to one name, ``MMM_107`` repeated dates in
        data that are not daily.
    """
    if not isinstance(frame, pd.DataFrame) or frame.shape[0] == 0 or frame.shape[1] == 0:
        shape = frame.shape if isinstance(frame, pd.DataFrame) else None
        raise _error(
            Codes.EMPTY_DATA,
            f"the data is empty or not a table (shape {shape}).",
            hint="check that the file holds a header row and data rows.",
            shape=list(shape) if shape else None,
        )
    source_rows = int(frame.shape[0])
    dropped: dict[str, str] = {}
    data = frame.copy()
    data.columns = [str(c).strip() for c in data.columns]
    repeated = sorted({c for c in data.columns if list(data.columns).count(c) > 1})
    if repeated:
        raise _error(
            Codes.DUPLICATE_COLUMNS,
            f"column names appear twice: {_listed(repeated)}.",
            hint="give every column a distinct name.",
            columns=repeated,
        )
    for column in [c for c in data.columns if _UNNAMED.match(c)]:
        dropped[column] = "unnamed column (a saved index)"
        data = data.drop(columns=column)
    data = data.dropna(how="all").reset_index(drop=True)
    if data.empty or data.shape[1] == 0:
        raise _error(
            Codes.EMPTY_DATA,
            "the data has no non-empty rows.",
            hint="check that the file holds data rows under its header.",
            shape=[int(s) for s in frame.shape],
        )

    source_date, dates = _find_dates(data, date_column)
    used = {source_date} if source_date else set()
    spend_in, totals = _choose_spend(data, spend_columns, used)
    dropped.update(totals)
    used |= set(spend_in) | set(totals)
    target_in = _choose_target(data, target, used)
    if target_in in spend_in:
        raise _error(
            Codes.DUPLICATE_COLUMNS,
            f"column {target_in!r} is both the target and a spend column.",
            hint="pass target= and spend_columns= naming different columns.",
            column=target_in,
        )
    used.add(target_in)

    # Output names.
    mapping: dict[str, str] = {}
    if source_date is not None:
        mapping[source_date] = DATE_COLUMN
    for column in spend_in:
        mapping[column] = _spend_name(column)
    clash = [n for n in set(mapping.values()) if list(mapping.values()).count(n) > 1]
    if clash:
        sources = [c for c, n in mapping.items() if n == clash[0]]
        raise _error(
            Codes.DUPLICATE_COLUMNS,
            f"columns {_listed(sources)} would all become {clash[0]!r}.",
            hint="drop one of them, or pass spend_columns= listing the ones to use.",
            columns=sources,
            name=clash[0],
        )
    synonym = _without_units(normalise_name(target_in)) in TARGET_SYNONYMS
    target_out = TARGET_COLUMN if synonym else target_in
    if target_out in mapping.values() or (target_out != target_in and target_out in data.columns):
        target_out = target_in
    mapping[target_in] = target_out

    columns: dict[str, pd.Series] = {}
    for column in spend_in:
        columns[mapping[column]] = _numeric_or_raise(data[column], column, "spend column")
    others: list[str] = []
    for column in data.columns:
        if column in used:
            continue
        values, bad = _as_numbers(data[column])
        if bad is not None or values.isna().all():
            dropped[column] = "not numeric" if bad is not None else "empty"
            continue
        name = column if column not in mapping.values() and column != target_out else None
        if name is None:
            dropped[column] = f"its name is taken by a mapped column ({column!r})"
            continue
        columns[name] = values
        mapping[column] = name
        others.append(name)
    columns[target_out] = _numeric_or_raise(data[target_in], target_in, "target column")
    out = pd.DataFrame(columns, index=data.index)
    spend_out = [mapping[c] for c in spend_in]

    report = SchemaReport(
        date_column=DATE_COLUMN if source_date is not None else None,
        source_date_column=source_date,
        frequency=None,
        source_frequency=None,
        aggregated=False,
        rows=0,
        source_rows=source_rows,
        start=None,
        end=None,
        target_column=target_out,
        spend_columns=spend_out,
        other_columns=others,
        column_mapping=mapping,
        dropped_columns=dropped,
    )
    report.missing_values = {c: int(n) for c, n in out.isna().sum().items() if n}

    if dates is not None:
        out, dates = _order_by_date(out, dates, report, keep_partial_weeks)
        out.insert(0, DATE_COLUMN, dates)
    report.rows = len(out)
    _add_warnings(out, report)
    return out.reset_index(drop=True), report


def _order_by_date(
    out: pd.DataFrame, dates: pd.DatetimeIndex, report: SchemaReport, keep_partial_weeks: bool
) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Rows sorted (and aggregated to weeks if daily); fills the date fields of ``report``."""
    order = np.argsort(dates.to_numpy(), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    dates = pd.DatetimeIndex(dates[order])
    unique = dates.unique()
    if len(unique) < 2:
        report.start = report.end = _iso(unique[0]) if len(unique) else None
        if len(dates) > len(unique):
            _raise_duplicates(dates, report.source_date_column)
        return out, dates
    wall = unique.tz_localize(None) if unique.tz is not None else unique
    median = float(np.median(np.diff(wall.to_numpy()) / np.timedelta64(1, "D")))
    report.source_frequency = report.frequency = _frequency(median)

    if report.source_frequency in _TO_WEEKLY:
        mean_columns = {
            c for c in report.other_columns if set(normalise_name(c).split("_")) & _MEAN_TOKENS
        }
        out, dates, days = _weekly(out, dates, mean_columns)
        report.aggregated = True
        report.frequency = "weekly"
        report.aggregation = {c: ("mean" if c in mean_columns else "sum") for c in out.columns}
        usual = int(min(7, np.median(days.to_numpy())))
        short = days < usual
        edges = np.zeros(len(days), dtype=bool)
        if not keep_partial_weeks:
            i = 0
            while i < len(days) and short.iloc[i]:
                edges[i], i = True, i + 1
            j = len(days) - 1
            while j >= i and short.iloc[j]:
                edges[j], j = True, j - 1
        record = [{"week": _iso(w), "days": int(n)} for w, n in days.items()]
        report.dropped_partial_weeks = [r for r, e in zip(record, edges, strict=True) if e]
        report.incomplete_weeks = [
            r for r, s, e in zip(record, short, edges, strict=True) if s and not e
        ][:_MAX_REPORTED]
        keep = ~edges
        out = out.loc[keep].reset_index(drop=True)
        dates = pd.DatetimeIndex(dates[keep])
        if usual < 7:
            report.warnings.append(
                f"weeks usually have {usual} days of data (not 7): check for missing days."
            )
        median = 7.0
    elif len(dates) > len(unique):
        _raise_duplicates(dates, report.source_date_column)

    if len(dates):
        report.start, report.end = _iso(dates[0]), _iso(dates[-1])
        report.gaps = _gaps(dates, report.frequency, median)
        report.missing_periods = int(sum(g["periods"] for g in report.gaps))
        if report.gaps:
            report.warnings.append(
                f"{_plural(report.missing_periods, 'missing period')} ({report.frequency}) in "
                f"{_plural(len(report.gaps), 'gap')}, the first from {report.gaps[0]['from']}; "
                "add them with zero spend if nothing ran, or the model's date check will reject "
                "the data."
            )
        report.gaps = report.gaps[:_MAX_REPORTED]
    return out, dates


def _raise_duplicates(dates: pd.DatetimeIndex, column: str | None) -> None:
    repeated = dates[dates.duplicated()]
    raise _error(
        Codes.DUPLICATE_DATES,
        f"date column {column!r}: {len(repeated)} dates appear more than once (first "
        f"{_iso(repeated[0])}).",
        hint="keep one row per period: data by region or campaign must be filtered or "
        f"summed first, e.g. df.groupby({column!r}, as_index=False).sum(numeric_only=True).",
        column=column,
        date=_iso(repeated[0]),
        count=len(repeated),
    )


def _add_warnings(out: pd.DataFrame, report: SchemaReport) -> None:
    for column in report.spend_columns:
        values = out[column]
        if (values < 0).any():
            report.warnings.append(
                f"{column!r} has {int((values < 0).sum())} negative values (the model rejects "
                "negative spend)."
            )
        if not (values.fillna(0) != 0).any():
            report.warnings.append(f"{column!r} is zero in every row.")
    if report.missing_values:
        report.warnings.append(
            f"missing values in {_listed(list(report.missing_values))}; fill or drop them "
            "before fitting."
        )
    target = out[report.target_column]
    if target.nunique(dropna=True) <= 1:
        report.warnings.append(f"the target {report.target_column!r} does not vary.")
    if report.frequency == "weekly" and report.rows < 52:
        report.warnings.append(
            f"only {report.rows} weeks of data; a model needs at least a year (two are typical)."
        )
