"""Validation of user data for the econometric MMM: a pandas DataFrame in, clean numpy arrays out.

Pure functions, no I/O. Every problem raises :class:`~mmm_core.errors.DataIntegrationError`
with a stable code from :class:`~mmm_core.errors.Codes`, a message naming the offending column,
row or date, a ``hint`` saying how to fix it and JSON-serialisable ``details``.

Checks, in the order they run (the first failing one raises):

==========================================================  =====================
problem                                                     code
==========================================================  =====================
``data`` is not a DataFrame, or has no rows / no columns    ``EMPTY_DATA``
``spend_columns`` / ``control_columns`` not a list of str,  ``DATA_ERROR``
``spend_columns`` empty, ``target_column`` not a str,
``date_column`` not ``None``/``False``/str
a name listed twice (twice in ``spend_columns``, target     ``DUPLICATE_COLUMNS``
also a spend or control, date also a model column...) or
the DataFrame itself has two columns with a used name
target / spend / control / date column not in the data      ``MISSING_COLUMN``
fewer than ``min_rows`` rows (training only)                ``TOO_FEW_ROWS``
date values that are not dates (or missing)                 ``BAD_DATES``
the same date twice                                         ``DUPLICATE_DATES``
a gap or uneven step between consecutive dates              ``IRREGULAR_DATES``
a value that is not a number (bool counts as 0/1)           ``NON_NUMERIC``
NaN or +-inf                                                ``NON_FINITE``
negative spend                                              ``NEGATIVE_SPEND``
a spend channel that is zero in every row (training only)   ``ZERO_CHANNEL``
a target with the same value in every row                   ``CONSTANT_TARGET``
==========================================================  =====================

Row numbers in messages are 0-based positions in the DataFrame as given (before any sorting);
the index label and the date of the row are added when they help.

Dates
-----
``date_column=None`` (the default) auto-detects a date column with :func:`detect_date_column`
among the columns not used as target, spend or control (none found: no dates). A
``DatetimeIndex`` is not used: move it to a column with ``df.reset_index()``.
``date_column=False`` means "no dates": no date checks, ``dates`` and ``periods_per_year`` are
``None``. A column name means that column, which must exist and parse.

Rows whose dates are otherwise fine but not in increasing order are **sorted by date** (a
stable sort) rather than rejected; every output array follows the sorted order.

The frequency comes from the median step between consecutive dates:

* about 1 day: daily, ``periods_per_year = 365.25``; every step must be within half a day of
  the median (a tolerance of a whole day would let a missing day through);
* about 7 days: weekly, ``52.1775``; every step within 1 day of the median;
* 28 to 31 days: monthly, ``12``; every step between 28 and 31 days;
* 89 to 92 days: quarterly, ``4`` (steps 89 to 92 days); 365 to 366 days: yearly, ``1``;
* anything else: ``365.25 / median_days``, every step within ``min(1 day, median / 2)`` of the
  median.

Steps of time-zone-aware dates are measured in local wall-clock time, so DST changes are not
gaps. With a single row the frequency cannot be known: ``periods_per_year`` is ``None``.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "week": pd.date_range("2024-01-01", periods=4, freq="W-MON"),
...     "sales": [10.0, 12.0, 11.0, 15.0],
...     "tv": [1.0, 0.0, 2.0, 3.0],
... })
>>> prep = prepare_training_data(df, "sales", ["tv"], min_rows=4)
>>> prep.spend.shape, prep.date_column, prep.periods_per_year
((4, 1), 'week', 52.1775)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.api import types as ptypes

from mmm_core.errors import Codes, DataIntegrationError, MMModelError, suggest_name

__all__ = [
    "DATE_COLUMN_NAMES",
    "PreparedData",
    "detect_date_column",
    "prepare_prediction_data",
    "prepare_training_data",
]

#: Column names (case-insensitive) that :func:`detect_date_column` tries when no column has a
#: datetime dtype.
DATE_COLUMN_NAMES: tuple[str, ...] = ("date", "week", "ds", "week_start", "period", "day", "month")

DAILY_PERIODS_PER_YEAR = 365.25
WEEKLY_PERIODS_PER_YEAR = 52.1775
MONTHLY_PERIODS_PER_YEAR = 12.0
QUARTERLY_PERIODS_PER_YEAR = 4.0
YEARLY_PERIODS_PER_YEAR = 1.0

_MAX_LISTED = 20  # column names shown in a message before "(+N more)"
_MAX_DETAILS = 100  # column names kept in ``details``
_MAX_VALUE_CHARS = 60


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Validated model inputs, all rows in date order when there are dates.

    Attributes
    ----------
    y : ndarray of shape (n,) or None
        The target (``None`` for prediction data).
    spend : ndarray of shape (n, m)
        Media spend, columns in ``spend_columns`` order, all finite and ``>= 0``.
    controls : ndarray of shape (n, k)
        Control variables in ``control_columns`` order (``k`` may be 0).
    dates : DatetimeIndex or None
        The dates of the rows, strictly increasing and regular; ``None`` without dates.
    periods_per_year : float or None
        ``52.1775`` weekly, ``365.25`` daily, ``12`` monthly (see the module docstring);
        ``None`` without dates or with a single row.
    date_column : str or None
        The date column used (``None`` when there are no dates).
    order : ndarray of int or None
        Positions in the input frame of the rows, in the order above (``None``: input order).
    """

    y: NDArray[np.float64] | None
    spend: NDArray[np.float64]
    controls: NDArray[np.float64]
    dates: pd.DatetimeIndex | None
    periods_per_year: float | None
    date_column: str | None
    order: NDArray[np.intp] | None = None

    def restore_order(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Put per-row ``values`` (in this object's row order) back in the input frame's order."""
        if self.order is None:
            return values
        out = np.empty_like(values)
        out[self.order] = values
        return out

    @property
    def n_rows(self) -> int:
        """Number of rows ``n``."""
        return int(self.spend.shape[0])


# --------------------------------------------------------------------------------------------
# Small helpers


def _error(code: str, message: str, hint: str, **details: Any) -> DataIntegrationError:
    return DataIntegrationError(code, message, hint=hint, details=details)


def _short(value: Any) -> str:
    """``repr`` of a value, cut to a readable length."""
    text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


def _jsonable(value: Any) -> Any:
    """A JSON-safe stand-in for one cell value (finite numbers stay numbers, the rest str)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else str(float(value))
    return str(value)


def _quoted(names: Sequence[str], limit: int = _MAX_LISTED) -> str:
    shown = ", ".join(repr(str(n)) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... (+{len(names) - limit} more)"
    return shown


def _format_date(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else ts.isoformat()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class _Rows:
    """Describes rows by position, adding the index label and the date when known."""

    def __init__(self, index: pd.Index, dates: pd.DatetimeIndex | None) -> None:
        self.index = index
        self.dates = dates
        self.default_index = (
            isinstance(index, pd.RangeIndex) and index.start == 0 and (index.step == 1)
        )

    def __call__(self, pos: int) -> str:
        extra = []
        if self.dates is not None and not pd.isna(self.dates[pos]):
            extra.append(f"date {_format_date(self.dates[pos])}")
        if not self.default_index:
            extra.append(f"index {_short(self.index[pos])}")
        return f"row {pos}" + (f" ({', '.join(extra)})" if extra else "")

    def details(self, pos: int) -> dict[str, Any]:
        out: dict[str, Any] = {"row": int(pos), "index": _jsonable(self.index[pos])}
        if self.dates is not None and not pd.isna(self.dates[pos]):
            out["date"] = self.dates[pos].isoformat()
        return out


# --------------------------------------------------------------------------------------------
# Dates


def parse_dates(series: pd.Series) -> pd.DatetimeIndex | None:
    """Parse a column as dates: NaT where a value is missing or not a date.

    Returns ``None`` when the column cannot hold dates at all (numbers, booleans, durations),
    so integers are never read as nanoseconds since 1970.
    """
    dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype):
        return pd.DatetimeIndex(series)
    if isinstance(dtype, pd.PeriodDtype):
        return pd.DatetimeIndex(series.dt.to_timestamp())
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if (
        ptypes.is_bool_dtype(dtype)
        or ptypes.is_numeric_dtype(dtype)
        or ptypes.is_timedelta64_dtype(dtype)
    ):
        return None
    present = series.notna().to_numpy()
    best: pd.DatetimeIndex | None = None
    best_bad = len(series) + 1
    # ISO first (fast, unambiguous), then the format pandas infers from the first value, then
    # day-first for dates such as 15/01/2024; keep the first that parses every value.
    for options in ({"format": "ISO8601"}, {}, {"dayfirst": True}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format" and friends
            try:
                parsed = pd.to_datetime(series, errors="coerce", **options)
            except (ValueError, TypeError, OverflowError):  # e.g. mixed time zones
                continue
        if not ptypes.is_datetime64_any_dtype(parsed.dtype):  # mixed offsets give objects
            continue
        n_bad = int((parsed.isna().to_numpy() & present).sum())
        if n_bad < best_bad:
            best, best_bad = pd.DatetimeIndex(parsed), n_bad
        if n_bad == 0:
            break
    return best if best is not None else pd.DatetimeIndex([pd.NaT] * len(series))


def _detect(data: pd.DataFrame, exclude: Sequence[str] = ()) -> tuple[str, pd.DatetimeIndex] | None:
    """The date column :func:`detect_date_column` picks, with its parsed values."""
    excluded = set(exclude)
    duplicated = data.columns.duplicated(keep=False)
    candidates = [
        (c, dtype)
        for c, dtype, dup in zip(data.columns, data.dtypes, duplicated, strict=True)
        if isinstance(c, str) and not dup and c not in excluded
    ]
    named = [c for c, _ in candidates if c.strip().lower() in DATE_COLUMN_NAMES]
    typed = [c for c, dtype in candidates if ptypes.is_datetime64_any_dtype(dtype)]
    # A datetime column wins; among several, one with a date-like name first.
    for column in sorted(typed, key=lambda c: c not in named):
        return column, pd.DatetimeIndex(data[column])
    for column in named:
        series = data[column]
        parsed = parse_dates(series)
        if parsed is None:
            continue
        present = series.notna().to_numpy()
        if present.any() and not (parsed.isna() & present).any():
            return column, parsed
    return None


def detect_date_column(data: pd.DataFrame) -> str | None:
    """Name of the date column of ``data``, or ``None``.

    The first column with a datetime64 dtype (preferring one with a date-like name); else the
    first column named ``date``, ``week``, ``ds``, ``week_start``, ``period``, ``day`` or
    ``month`` (case-insensitive, surrounding spaces ignored) whose non-missing values all parse
    as dates (numeric columns never count: ``month = 1..12`` is not a date); else ``None``.

    Strings are tried as ISO 8601, then in the format pandas infers from the first value, then
    day first (``15/01/2024``); ambiguous dates such as ``01/02/2024`` that parse month first
    are read month first.
    """
    if not isinstance(data, pd.DataFrame):
        return None
    found = _detect(data)
    return found[0] if found else None


def _frequency(steps_days: NDArray[np.float64]) -> tuple[float, float, float, str]:
    """``(periods_per_year, lowest allowed step, highest allowed step, name)`` in days."""
    median = float(np.median(steps_days))
    if 0.5 <= median <= 1.5:
        return DAILY_PERIODS_PER_YEAR, median - 0.5, median + 0.5, "daily"
    if 6.0 <= median <= 8.0:
        return WEEKLY_PERIODS_PER_YEAR, median - 1.0, median + 1.0, "weekly"
    if 28.0 <= median <= 31.0:
        return MONTHLY_PERIODS_PER_YEAR, 28.0, 31.0, "monthly"
    if 89.0 <= median <= 92.0:
        return QUARTERLY_PERIODS_PER_YEAR, 89.0, 92.0, "quarterly"
    if 365.0 <= median <= 366.0:
        return YEARLY_PERIODS_PER_YEAR, 365.0, 366.0, "yearly"
    tolerance = min(1.0, median / 2.0)
    return 365.25 / median, median - tolerance, median + tolerance, f"every {median:g} days"


def _resolve_dates(
    data: pd.DataFrame, date_column: str | None, auto: bool, used: Sequence[str]
) -> tuple[str, pd.DatetimeIndex] | tuple[None, None]:
    """The date column and its parsed dates (raises ``BAD_DATES``), or ``(None, None)``."""
    if auto:
        found = _detect(data, exclude=used)
        if found is None:
            return None, None
        column, dates = found
    else:
        assert date_column is not None
        column = date_column
        dates = parse_dates(data[column])
        if dates is None:
            example = data[column].iloc[0]
            raise _error(
                Codes.BAD_DATES,
                f"date column {column!r} holds {data[column].dtype} values (e.g. "
                f"{_short(example)}), not dates.",
                hint=f"convert it first, e.g. df[{column!r}] = pd.to_datetime("
                f"df[{column!r}].astype(str), format='%Y%m%d'), or pass date_column=False "
                "to fit without dates.",
                column=column,
                dtype=str(data[column].dtype),
            )
    bad = np.asarray(dates.isna())
    if bad.any():
        pos = int(np.argmax(bad))
        raw = data[column].iloc[pos]
        missing = bool(pd.isna(raw))
        rows = _Rows(data.index, None)
        what = "has no date" if missing else f"value {_short(raw)} is not a date"
        raise _error(
            Codes.BAD_DATES,
            f"date column {column!r}: {rows(pos)} {what} "
            f"({_plural(int(bad.sum()), 'unusable value')} in all).",
            hint="use ISO dates such as '2024-01-29' in every row (parse other formats with "
            "pd.to_datetime(..., format=...)), drop rows without a date, or pass "
            "date_column=False to fit without dates.",
            column=column,
            count=int(bad.sum()),
            value=None if missing else _jsonable(raw),
            **rows.details(pos),
        )
    return column, dates


def _check_date_order(
    dates: pd.DatetimeIndex, column: str
) -> tuple[NDArray[np.intp] | None, float | None]:
    """Sorting order (``None`` if already sorted) and periods per year; raises on dup/gaps."""
    where = f"date column {column!r}"
    order: NDArray[np.intp] | None = None
    if not dates.is_monotonic_increasing:
        order = np.argsort(dates.to_numpy(), kind="stable")
        dates = dates[order]
    if len(dates) < 2:
        return order, None
    wall = dates.tz_localize(None) if dates.tz is not None else dates
    steps = np.diff(wall.to_numpy()) / np.timedelta64(1, "D")
    duplicated = steps == 0
    if duplicated.any():
        i = int(np.argmax(duplicated))
        first, second = (int(p) for p in (order[[i, i + 1]] if order is not None else (i, i + 1)))
        day = _format_date(dates[i])
        raise _error(
            Codes.DUPLICATE_DATES,
            f"{where}: date {day} appears more than once (rows {first} and {second}); "
            f"{_plural(int(duplicated.sum()), 'repeated date')} in all.",
            hint=f"keep one row per date, e.g. aggregate with df.groupby({column!r}, "
            "as_index=False).sum(), or look for rows duplicated by a join.",
            column=column,
            date=dates[i].isoformat(),
            rows=[first, second],
            count=int(duplicated.sum()),
        )
    periods_per_year, low, high, name = _frequency(steps)
    irregular = (steps < low) | (steps > high)
    if irregular.any():
        i = int(np.argmax(irregular))
        median = float(np.median(steps))
        before, after = _format_date(dates[i]), _format_date(dates[i + 1])
        raise _error(
            Codes.IRREGULAR_DATES,
            f"{where}: the dates are not evenly spaced ({name}): they jump from {before} to "
            f"{after} ({steps[i]:g} days, expected {low:g} to {high:g}); "
            f"{_plural(int(irregular.sum()), 'uneven step')} in all.",
            hint="add the missing periods (with zero spend if nothing ran), or aggregate to a "
            f"regular frequency, e.g. df.resample('W-MON', on={column!r}).sum().",
            column=column,
            frequency=name,
            date_before=dates[i].isoformat(),
            date_after=dates[i + 1].isoformat(),
            step_days=float(steps[i]),
            median_step_days=median,
            allowed_step_days=[float(low), float(high)],
            count=int(irregular.sum()),
        )
    return order, periods_per_year


# --------------------------------------------------------------------------------------------
# Argument and column checks


def _names(value: Any, argument: str, *, allow_empty: bool) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _error(
            Codes.DATA_ERROR,
            f"{argument} must be a list of column names, got {type(value).__name__} "
            f"{_short(value)}.",
            hint=f"pass a list, e.g. {argument}=[{value!r}]"
            if isinstance(value, str)
            else f"pass a list of strings, e.g. {argument}=['tv_spend', 'search_spend'].",
            argument=argument,
        )
    bad = [v for v in value if not isinstance(v, str)]
    if bad:
        raise _error(
            Codes.DATA_ERROR,
            f"{argument} must hold column names (str), but it holds {_short(bad[0])} "
            f"({type(bad[0]).__name__}).",
            hint="name the columns by their string names; rename non-string column labels "
            "first, e.g. df.columns = df.columns.astype(str).",
            argument=argument,
        )
    if not value and not allow_empty:
        raise _error(
            Codes.DATA_ERROR,
            f"{argument} is empty: the model needs at least one media spend column.",
            hint="list the spend columns, e.g. spend_columns=['tv_spend', 'search_spend'].",
            argument=argument,
        )
    return list(value)


def _check_roles(roles: list[tuple[str, str]]) -> None:
    """Each name may play one role once (``DUPLICATE_COLUMNS`` otherwise)."""
    seen: dict[str, str] = {}
    for name, role in roles:
        if name in seen:
            first = seen[name]
            what = (
                f"{role}s lists {name!r} twice"
                if first == role
                else f"{name!r} is both the {first} and a {role}"
            )
            raise _error(
                Codes.DUPLICATE_COLUMNS,
                f"column {what}.",
                hint=f"use {name!r} in one role only and list each column once.",
                column=name,
                roles=[first, role],
            )
        seen[name] = role


def _check_columns_exist(data: pd.DataFrame, roles: list[tuple[str, str]]) -> None:
    columns = data.columns
    missing = [(name, role) for name, role in roles if name not in columns]
    available = [str(c) for c in columns]
    if missing:
        suggestions = {name: suggest_name(name, available) for name, _ in missing}
        parts = []
        for name, role in missing:
            close = suggestions[name]
            parts.append(f"{role} {name!r}" + (f" (did you mean {close!r}?)" if close else ""))
        message = f"{parts[0]} not found in the data"
        if len(parts) > 1:
            message += f"; also missing: {', '.join(parts[1:])}"
        message += f". Available columns: {_quoted(available)}."
        name, role = missing[0]
        close = suggestions[name]
        if close is not None and close.lower() == name.lower():
            hint = f"column names are case-sensitive: use {close!r}."
        elif close is not None:
            hint = f"use {close!r} or rename the column in the data."
        else:
            hint = "check the spelling of the column names against the data's columns."
        if role == "date column":
            hint += " Pass date_column=False to fit without dates."
        raise _error(
            Codes.MISSING_COLUMN,
            message,
            hint=hint,
            column=name,
            role=role,
            missing=[m for m, _ in missing],
            suggestions={k: v for k, v in suggestions.items() if v is not None},
            available=available[:_MAX_DETAILS],
            n_columns=len(available),
        )
    if columns.has_duplicates:
        dup_labels = set(columns[columns.duplicated()])
        for name, role in roles:
            if name in dup_labels:
                raise _error(
                    Codes.DUPLICATE_COLUMNS,
                    f"the data has {int((columns == name).sum())} columns named {name!r} "
                    f"(the {role}).",
                    hint="give every column a unique name, e.g. drop the copy with "
                    "df.loc[:, ~df.columns.duplicated()].",
                    column=name,
                    role=role,
                )


# --------------------------------------------------------------------------------------------
# Values


def _column_to_float(series: pd.Series, name: str, role: str, rows: _Rows) -> NDArray[np.float64]:
    """One column as floats (NaN where missing); ``NON_NUMERIC`` when it is not numbers."""
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) or (
        ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype)
    ):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if (
        ptypes.is_datetime64_any_dtype(dtype)
        or ptypes.is_timedelta64_dtype(dtype)
        or ptypes.is_complex_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype | pd.IntervalDtype)
    ):
        bad = series.notna().to_numpy()
        converted = None
    else:
        values = series.astype(object) if isinstance(dtype, pd.CategoricalDtype) else series
        converted = pd.to_numeric(values, errors="coerce")
        bad = (converted.isna() & values.notna()).to_numpy()
    if bad.any():
        pos = int(np.argmax(bad))
        value = series.iloc[pos]
        hint = (
            f"{name!r} holds {dtype} values, which are not a model input: convert them to "
            f"numbers (e.g. a 0/1 flag or days since the start) or remove {name!r} from the "
            "model columns."
            if converted is None
            else f"make {name!r} hold plain numbers: strip currency signs, units and thousands "
            f"separators, e.g. df[{name!r}] = pd.to_numeric(df[{name!r}].astype(str)"
            ".str.replace(',', ''))"
        )
        raise _error(
            Codes.NON_NUMERIC,
            f"{role} {name!r} is not numeric: {rows(pos)} holds {_short(value)} "
            f"({_plural(int(bad.sum()), 'non-numeric value')} in all, column dtype {dtype}).",
            hint=hint,
            column=name,
            role=role,
            value=_jsonable(value),
            count=int(bad.sum()),
            dtype=str(dtype),
            **rows.details(pos),
        )
    if converted is None:  # every value missing
        return np.full(len(series), np.nan)
    return converted.to_numpy(dtype=float, na_value=np.nan)


def _to_matrix(
    data: pd.DataFrame, roles: list[tuple[str, str]], rows: _Rows
) -> NDArray[np.float64]:
    """``(n, len(roles))`` float matrix; plain numeric frames convert in one call."""
    names = [name for name, _ in roles]
    frame = data[names]
    plain = all(
        ptypes.is_bool_dtype(d) or (ptypes.is_numeric_dtype(d) and not ptypes.is_complex_dtype(d))
        for d in frame.dtypes
    )
    if plain:
        return frame.to_numpy(dtype=float, na_value=np.nan)
    out = np.empty((len(frame), len(names)))
    for j, (name, role) in enumerate(roles):
        out[:, j] = _column_to_float(frame.iloc[:, j], name, role, rows)
    return out


def _check_finite(values: NDArray[np.float64], roles: list[tuple[str, str]], rows: _Rows) -> None:
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    j = int(np.argmax(bad.any(axis=0)))
    name, role = roles[j]
    column_bad = bad[:, j]
    pos = int(np.argmax(column_bad))
    n_nan = int(np.isnan(values[:, j]).sum())
    n_inf = int(column_bad.sum()) - n_nan
    kinds = " and ".join(
        part
        for part in (
            _plural(n_nan, "missing (NaN) value") if n_nan else "",
            _plural(n_inf, "infinite value") if n_inf else "",
        )
        if part
    )
    raise _error(
        Codes.NON_FINITE,
        f"{role} {name!r} has {kinds}; the first is {rows(pos)} ({values[pos, j]}).",
        hint=f"fill or drop those rows first, e.g. df[{name!r}] = df[{name!r}].fillna(0) when a "
        f"missing spend means nothing ran, or df.dropna(subset=[{name!r}]) (keeping the dates "
        "regular); infinities usually come from a division by zero upstream.",
        column=name,
        role=role,
        count=int(column_bad.sum()),
        n_nan=n_nan,
        n_inf=n_inf,
        value=_jsonable(values[pos, j]),
        **rows.details(pos),
    )


def _check_spend_values(
    spend: NDArray[np.float64], spend_columns: list[str], rows: _Rows, *, training: bool
) -> None:
    negative = spend < 0
    if negative.any():
        j = int(np.argmax(negative.any(axis=0)))
        name = spend_columns[j]
        pos = int(np.argmax(negative[:, j]))
        count = int(negative[:, j].sum())
        raise _error(
            Codes.NEGATIVE_SPEND,
            f"spend column {name!r} has {_plural(count, 'negative value')}; the first is "
            f"{rows(pos)} ({spend[pos, j]:g}).",
            hint=f"spend cannot be negative: net refunds or corrections against the original "
            f"periods, or clip data-entry errors with df[{name!r}] = df[{name!r}].clip(lower=0).",
            column=name,
            count=count,
            value=float(spend[pos, j]),
            **rows.details(pos),
        )
    if training:
        zero = ~spend.any(axis=0)
        if zero.any():
            names = [spend_columns[j] for j in np.flatnonzero(zero)]
            listed = _quoted(names)
            raise _error(
                Codes.ZERO_CHANNEL,
                f"spend {'column' if len(names) == 1 else 'columns'} {listed} "
                f"{'is' if len(names) == 1 else 'are'} zero in every row, so "
                f"{'its' if len(names) == 1 else 'their'} effect cannot be estimated.",
                hint=f"drop {listed} from spend_columns (or use data from when it ran).",
                column=names[0],
                columns=names,
            )


# --------------------------------------------------------------------------------------------
# Entry points


def _prepare(
    data: Any,
    target_column: str | None,
    spend_columns: Any,
    control_columns: Any,
    date_column: Any,
    min_rows: int | None,
) -> PreparedData:
    training = target_column is not None or min_rows is not None
    if not isinstance(data, pd.DataFrame):
        raise _error(
            Codes.EMPTY_DATA,
            f"data must be a pandas DataFrame, got {type(data).__name__}.",
            hint="load the data with e.g. pd.read_csv('data.csv') and pass the DataFrame.",
            type=type(data).__name__,
        )
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise _error(
            Codes.EMPTY_DATA,
            f"the data is empty ({data.shape[0]} rows, {data.shape[1]} columns).",
            hint="check that the file or query returned rows (and any filter kept some).",
            n_rows=int(data.shape[0]),
            n_columns=int(data.shape[1]),
        )
    if training and not isinstance(target_column, str):
        raise _error(
            Codes.DATA_ERROR,
            f"target_column must be a column name (str), got {_short(target_column)}.",
            hint="pass the name of the KPI column, e.g. target_column='sales'.",
            argument="target_column",
        )
    spend = _names(spend_columns, "spend_columns", allow_empty=False)
    controls = (
        []
        if control_columns is None
        else _names(control_columns, "control_columns", allow_empty=True)
    )
    if date_column is None:
        auto, date_name = True, None
    elif date_column is False:
        auto, date_name = False, None
    elif isinstance(date_column, str):
        auto, date_name = False, date_column
    else:
        raise _error(
            Codes.DATA_ERROR,
            f"date_column must be a column name, None (detect) or False (no dates), got "
            f"{_short(date_column)}.",
            hint="pass e.g. date_column='week', or date_column=False to fit without dates.",
            argument="date_column",
        )

    roles: list[tuple[str, str]] = []
    if training:
        assert target_column is not None
        roles.append((target_column, "target column"))
    roles += [(c, "spend column") for c in spend]
    roles += [(c, "control column") for c in controls]
    all_roles = roles + ([(date_name, "date column")] if date_name is not None else [])
    _check_roles(all_roles)
    _check_columns_exist(data, all_roles)

    n = int(data.shape[0])
    if min_rows is not None and n < min_rows:
        raise _error(
            Codes.TOO_FEW_ROWS,
            f"the data has {_plural(n, 'row')} but at least {min_rows} are needed to fit "
            f"{_plural(len(spend), 'channel')} reliably.",
            hint=f"provide at least {min_rows - n} more periods of history (two years of weekly "
            "data is typical), or use fewer channels/controls.",
            n_rows=n,
            min_rows=int(min_rows),
        )

    used = [name for name, _ in roles]
    date_name, dates = (
        _resolve_dates(data, date_name, auto, used)
        if auto or date_name is not None
        else (None, None)
    )
    rows = _Rows(data.index, dates)
    order: NDArray[np.intp] | None = None
    periods_per_year: float | None = None
    if dates is not None:
        assert date_name is not None
        order, periods_per_year = _check_date_order(dates, date_name)

    values = _to_matrix(data, roles, rows)
    _check_finite(values, roles, rows)
    offset = 1 if training else 0
    spend_values = values[:, offset : offset + len(spend)]
    _check_spend_values(spend_values, spend, rows, training=training)

    if training:
        y = values[:, 0]
        if y.max() == y.min():
            assert target_column is not None
            raise _error(
                Codes.CONSTANT_TARGET,
                f"target column {target_column!r} has the same value ({y[0]:g}) in every row, "
                "so there is nothing to explain.",
                hint="check that target_column names the KPI (sales, conversions...) and that "
                "the data covers periods where it varies.",
                column=target_column,
                value=float(y[0]),
            )

    if order is not None:
        values = values[order]
        assert dates is not None
        dates = dates[order]
    values = np.ascontiguousarray(values)
    return PreparedData(
        y=values[:, 0].copy() if training else None,
        spend=values[:, offset : offset + len(spend)].copy(),
        controls=values[:, offset + len(spend) :].copy(),
        dates=None if dates is None else pd.DatetimeIndex(dates),
        periods_per_year=periods_per_year,
        date_column=date_name,
        order=order,
    )


def prepare_training_data(
    data: pd.DataFrame,
    target_column: str,
    spend_columns: Sequence[str],
    control_columns: Sequence[str] | None = None,
    date_column: str | bool | None = None,
    *,
    min_rows: int,
) -> PreparedData:
    """Validate training data and return its arrays (rows sorted by date when there are dates).

    Parameters
    ----------
    data : DataFrame
        One row per period.
    target_column : str
        The KPI to explain (must vary).
    spend_columns : list of str
        Media spend per period, non-negative; a channel that is zero in every row is rejected.
    control_columns : list of str, optional
        Other numeric drivers (price, promotions, seasonality...).
    date_column : str, None or False
        The date column; ``None`` detects it, ``False`` means no dates.
    min_rows : int
        Fewest rows accepted (``TOO_FEW_ROWS`` below it).

    Raises
    ------
    DataIntegrationError
        With the codes listed in the module docstring.
    MMModelError
        ``INVALID_PARAMETER`` when ``min_rows`` is not a positive integer.
    """
    if isinstance(min_rows, bool) or not isinstance(min_rows, int | np.integer) or min_rows < 1:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"min_rows must be a positive integer, got {_short(min_rows)}.",
            hint="pass e.g. min_rows=2 * number of parameters, or 52 for a year of weekly data.",
        )
    return _prepare(data, target_column, spend_columns, control_columns, date_column, int(min_rows))


def prepare_prediction_data(
    data: pd.DataFrame,
    spend_columns: Sequence[str],
    control_columns: Sequence[str] | None = None,
    date_column: str | bool | None = None,
) -> PreparedData:
    """Validate data to predict on (no target, ``y`` is ``None``).

    The same checks as :func:`prepare_training_data` except the target checks, the row count
    (one row is enough) and ``ZERO_CHANNEL``: a scenario may switch a channel off.
    """
    return _prepare(data, None, spend_columns, control_columns, date_column, None)
