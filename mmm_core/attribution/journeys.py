"""Customer journeys for multi-touch attribution: read, checked and held compactly.

Two input forms give one representation, :class:`JourneyData`:

* **list form** (the API's ``customer_journeys``): one dict per journey::

      {"journey_id": "u1",
       "touchpoints": [{"channel": "search", "timestamp": "2024-05-01T10:00:00Z",
                        "interaction": "click"}, ...],
       "converted": true, "conversion_value": 120.0,
       "conversion_timestamp": "2024-05-03T09:00:00Z"}

  ``journey_id`` (or ``id``) defaults to the journey's position in the list;
  ``conversion_value`` (or ``value``) to 0; ``conversion_timestamp`` (or ``conversion_time``) to
  the journey's last touch; ``interaction`` to ``"click"``. ``touchpoints`` and ``converted``
  are required (``touchpoints`` may be empty).
* **long form**: a DataFrame with one row per touch and the columns ``journey_id``,
  ``timestamp``, ``channel``, ``converted`` and, optionally, ``interaction`` (default
  ``"click"``), ``conversion_value`` (default 0) and ``conversion_timestamp`` (default: the
  journey's last touch, i.e. a converted journey converts at its last touch). Journey-level
  columns must hold one value per journey.

Timestamps are ISO-8601 strings, datetimes or numbers of seconds since 1970 (UTC; naive times
are taken as UTC). Touches are put in time order within each journey (ties keep their input
order). The representation is CSR-like: touches of all journeys in one set of arrays (channel
code, time in ns, view flag), journey ``j`` owning ``offsets[j]:offsets[j + 1]``; journey-level
arrays (converted, value, reference time) beside them. Channels are coded in sorted name order.

How awkward input is handled:

* an interaction other than ``click`` / ``view`` (case-insensitive), a missing channel or
  timestamp, duplicate journey ids (list form), journey-level fields that differ between the rows
  of one journey (long form), a non-finite or negative value on a converted journey, an empty
  input: :class:`~mmm_core.errors.DataIntegrationError`;
* touches after their journey's ``conversion_timestamp``: an error by default (they usually mean
  a time-zone mismatch); ``after_conversion="drop"`` drops them instead, with a note;
* journeys without touches (empty ``touchpoints``, or all touches dropped by the lookback window
  or the view-through filter): kept, but no model can credit them; their conversions and value
  are reported as unattributed;
* a value on a journey that did not convert: ignored (set to 0), with a note.

Examples
--------
>>> data = parse_journeys([
...     {"journey_id": "a", "converted": True, "conversion_value": 10.0, "touchpoints": [
...         {"channel": "search", "timestamp": "2024-01-02"},
...         {"channel": "display", "timestamp": "2024-01-01", "interaction": "view"}]},
...     {"journey_id": "b", "converted": False, "touchpoints": []},
... ])
>>> data.channels, data.channel.tolist(), data.offsets.tolist(), data.view.tolist()
(('display', 'search'), [0, 1], [0, 2, 2], [True, False])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain, repeat
from types import NoneType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mmm_core.attribution.iso_times import iso_to_ns
from mmm_core.errors import Codes, DataIntegrationError, MMModelError, suggest_name

__all__ = [
    "FRAME_COLUMNS",
    "INTERACTIONS",
    "NS_PER_DAY",
    "JourneyData",
    "parse_journeys",
    "select_touches",
    "to_journey_list",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

NS_PER_DAY = 86_400 * 10**9
NAT = np.iinfo(np.int64).min  # "no time" in the int64 nanosecond arrays
_FIRST_NS_TIME, _LAST_NS_TIME = pd.Timestamp.min, pd.Timestamp.max  # what int64 ns can hold
INTERACTIONS = ("click", "view")
REQUIRED_COLUMNS = ("journey_id", "timestamp", "channel", "converted")
FRAME_COLUMNS = (
    *REQUIRED_COLUMNS,
    "interaction",
    "conversion_value",
    "conversion_timestamp",
)
AFTER_CONVERSION = ("error", "drop")
_EXAMPLES = 3  # offending values quoted in an error message
_MAX_UNIX_SECONDS = 1e11  # about the year 5138: larger numbers are not seconds
_EXACT_INT = 2**53  # integers up to this size are exact as floats


@dataclass(frozen=True, eq=False)
class JourneyData:
    """Journeys as flat arrays: touches of all journeys together, journeys by offsets.

    Attributes
    ----------
    channels : tuple of str
        Channel names; a touch's ``channel`` code indexes this tuple.
    channel : ndarray of int64, shape (n_touches,)
        Channel code of each touch; journeys are contiguous, touches in time order.
    time : ndarray of int64, shape (n_touches,)
        Touch times, nanoseconds since 1970 UTC.
    view : ndarray of bool, shape (n_touches,)
        True for a view (impression), False for a click.
    offsets : ndarray of int64, shape (n_journeys + 1,)
        Journey ``j`` owns touches ``offsets[j]:offsets[j + 1]``.
    journey_ids : ndarray, shape (n_journeys,)
        The journeys' ids as given (for messages).
    converted : ndarray of bool, shape (n_journeys,)
    value : ndarray of float64, shape (n_journeys,)
        Conversion value; 0 for journeys that did not convert.
    reference_time : ndarray of int64, shape (n_journeys,)
        Where the lookback window ends: the conversion time of a converted journey, the last
        touch of one that did not convert (``NAT`` for a journey without touches or time).
    notes : tuple of str
        What was adjusted while reading the input.
    """

    channels: tuple[str, ...]
    channel: IntArray
    time: IntArray
    view: BoolArray
    offsets: IntArray
    journey_ids: NDArray[Any]
    converted: BoolArray
    value: FloatArray
    reference_time: IntArray
    notes: tuple[str, ...] = ()

    @property
    def n_journeys(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_touches(self) -> int:
        return len(self.channel)

    @cached_property
    def lengths(self) -> IntArray:
        """Touches per journey."""
        return np.diff(self.offsets)

    @cached_property
    def journey_of_touch(self) -> IntArray:
        """The journey index of every touch."""
        return np.repeat(np.arange(self.n_journeys, dtype=np.int64), self.lengths)

    @cached_property
    def position(self) -> IntArray:
        """Each touch's position in its journey (0 for the first touch)."""
        return np.arange(self.n_touches, dtype=np.int64) - self.offsets[self.journey_of_touch]

    def keep_touches(self, keep: BoolArray) -> JourneyData:
        """The same journeys with only the touches where ``keep`` is True."""
        counts = np.bincount(self.journey_of_touch[keep], minlength=self.n_journeys)
        offsets = np.zeros(self.n_journeys + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return replace(
            self,
            channel=self.channel[keep],
            time=self.time[keep],
            view=self.view[keep],
            offsets=offsets,
        )


# ------------------------------------------------------------------------------------ reading


def parse_journeys(
    journeys: Sequence[Mapping[str, Any]] | pd.DataFrame | JourneyData,
    *,
    after_conversion: str = "error",
) -> JourneyData:
    """Read journeys in the list or the long form (see the module) into :class:`JourneyData`.

    Parameters
    ----------
    journeys : list of dict, DataFrame or JourneyData
        The journeys; a :class:`JourneyData` is returned as is.
    after_conversion : {"error", "drop"}, default "error"
        What to do with touches later than their journey's conversion timestamp.

    Returns
    -------
    JourneyData

    Raises
    ------
    DataIntegrationError
        Input that cannot be read as journeys (see the module for the cases).
    MMModelError
        ``INVALID_PARAMETER`` for a bad ``after_conversion``.
    """
    if after_conversion not in AFTER_CONVERSION:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"after_conversion must be one of {list(AFTER_CONVERSION)}, got {after_conversion!r}.",
            hint="'error' to be told about touches after the conversion, 'drop' to drop them.",
        )
    if isinstance(journeys, JourneyData):
        return journeys
    if isinstance(journeys, pd.DataFrame):
        return _from_frame(journeys, after_conversion)
    if isinstance(journeys, Sequence) and not isinstance(journeys, str | bytes):
        return _from_list(journeys, after_conversion)
    raise DataIntegrationError(
        Codes.DATA_ERROR,
        f"journeys must be a list of journey dicts or a DataFrame, got {type(journeys).__name__}.",
        hint="pass the API's customer_journeys list, or a long DataFrame with columns "
        f"{list(FRAME_COLUMNS)}.",
    )


def _from_list(journeys: Sequence[Any], after_conversion: str) -> JourneyData:
    if len(journeys) == 0:
        raise _empty_input()
    columns = _plain_list_columns(journeys) or _checked_list_columns(journeys)
    ids = columns.ids
    _check_unique_ids(ids)
    journey_of_touch = np.repeat(np.arange(len(ids), dtype=np.int64), columns.lengths)
    return _assemble(
        journey_ids=np.asarray(ids, dtype=object),
        journey_of_touch=journey_of_touch,
        channel_labels=columns.channels,
        times=columns.times,
        interactions=columns.interactions,
        converted=_read_flags(columns.converted, ids),
        values=_read_values(columns.values),
        conversion_times=_to_ns(columns.conversion_times, "conversion_timestamp"),
        after_conversion=after_conversion,
    )


@dataclass(frozen=True, slots=True)
class _ListColumns:
    """The list form's fields as columns: one entry per journey, or per touch (in input order)."""

    ids: list[Any]
    converted: list[Any]
    values: list[Any]
    conversion_times: list[Any]
    lengths: list[int]
    channels: list[Any]
    times: list[Any]
    interactions: list[Any]


def _plain_list_columns(journeys: Sequence[Any]) -> _ListColumns | None:
    """The columns of journeys that are all plain dicts with plain-dict touches, else None.

    JSON bodies have that shape: every check and lookup runs in C (``map`` over ``dict.get``)
    instead of a Python loop. None for anything else, which :func:`_checked_list_columns`
    then reads (and raises the error about, in input order).
    """
    if set(map(type, journeys)) != {dict}:
        return None
    touch_lists = list(map(dict.get, journeys, repeat("touchpoints")))
    if set(map(type, touch_lists)) != {list} or not all(
        map(dict.__contains__, journeys, repeat("converted"))
    ):
        return None
    touches = list(chain.from_iterable(touch_lists))
    if touches and set(map(type, touches)) != {dict}:
        return None
    interactions = list(map(dict.get, touches, repeat("interaction")))
    if not all(interactions):
        interactions = [kind or "click" for kind in interactions]
    n = len(journeys)
    return _ListColumns(
        ids=_first_keys(journeys, ("journey_id", "id"), list(range(n))),
        converted=list(map(dict.__getitem__, journeys, repeat("converted"))),
        values=_first_keys(journeys, ("conversion_value", "value"), [None] * n),
        conversion_times=_first_keys(
            journeys, ("conversion_timestamp", "conversion_time"), [None] * n
        ),
        lengths=list(map(len, touch_lists)),
        channels=list(map(dict.get, touches, repeat("channel"))),
        times=list(map(dict.get, touches, repeat("timestamp"))),
        interactions=interactions,
    )


def _checked_list_columns(journeys: Sequence[Any]) -> _ListColumns:
    """The columns of any list form, checking each journey and touch in turn."""
    ids: list[Any] = []
    converted: list[Any] = []
    values: list[Any] = []
    conversion_times: list[Any] = []
    lengths: list[int] = []
    channels: list[Any] = []
    times: list[Any] = []
    interactions: list[Any] = []
    # Exact type checks first, the (slower) abstract Mapping/Sequence checks only for other
    # containers.
    for j, journey in enumerate(journeys):
        if type(journey) is not dict and not isinstance(journey, Mapping):
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"journey #{j} is a {type(journey).__name__}, not a dict.",
                hint="each journey is a dict with 'touchpoints' and 'converted'.",
            )
        touches = journey.get("touchpoints")
        if type(touches) is not list and (
            not isinstance(touches, Sequence) or isinstance(touches, str | bytes)
        ):
            raise DataIntegrationError(
                Codes.MISSING_COLUMN,
                f"journey #{j} has no 'touchpoints' list (got {type(touches).__name__}).",
                hint="give each journey 'touchpoints': [{'channel', 'timestamp', "
                "'interaction'}, ...] (an empty list for a journey without touches).",
            )
        if "converted" not in journey:
            raise DataIntegrationError(
                Codes.MISSING_COLUMN,
                f"journey #{j} has no 'converted' flag.",
                hint="give each journey 'converted': true or false.",
            )
        ids.append(_first_key(journey, ("journey_id", "id"), j))
        converted.append(journey["converted"])
        values.append(_first_key(journey, ("conversion_value", "value"), None))
        conversion_times.append(
            _first_key(journey, ("conversion_timestamp", "conversion_time"), None)
        )
        lengths.append(len(touches))
        for touch in touches:
            if type(touch) is not dict and not isinstance(touch, Mapping):
                raise DataIntegrationError(
                    Codes.DATA_ERROR,
                    f"a touchpoint of journey {ids[-1]!r} is a {type(touch).__name__}, not a dict.",
                    hint="each touchpoint is {'channel', 'timestamp', 'interaction'}.",
                )
            channels.append(touch.get("channel"))
            times.append(touch.get("timestamp"))
            interactions.append(touch.get("interaction") or "click")
    return _ListColumns(
        ids, converted, values, conversion_times, lengths, channels, times, interactions
    )


def _first_keys(
    journeys: Sequence[dict[str, Any]], keys: tuple[str, ...], defaults: list[Any]
) -> list[Any]:
    """:func:`_first_key` for every journey, key by key (``defaults``: one per journey)."""
    if not keys:
        return defaults
    found = list(map(dict.get, journeys, repeat(keys[0])))
    kinds = set(map(type, found))
    if NoneType not in kinds:
        return found
    later = _first_keys(journeys, keys[1:], defaults)
    if kinds == {NoneType}:
        return later
    return [other if value is None else value for value, other in zip(found, later, strict=True)]


def _check_unique_ids(ids: list[Any]) -> None:
    """An error naming the journey ids that appear more than once."""
    uniques = _str_uniques(ids)
    if uniques is not None and len(uniques) == len(ids):
        return  # all distinct strings: the usual case, without building an index
    id_index = pd.Index(ids, dtype=object)
    if id_index.has_duplicates:
        dupes = id_index[id_index.duplicated()].unique()
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"{len(dupes)} journey id(s) appear more than once, e.g. {_quote(dupes.tolist())}.",
            hint="give every journey its own journey_id, or merge the duplicates' touchpoints.",
            details={"duplicate_ids": [str(d) for d in dupes[:_EXAMPLES]]},
        )


def _from_frame(frame: pd.DataFrame, after_conversion: str) -> JourneyData:
    if frame.columns.has_duplicates:
        dupes = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise DataIntegrationError(
            Codes.DUPLICATE_COLUMNS,
            f"columns appear more than once: {dupes}.",
            hint="rename or drop the duplicated columns.",
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        guesses = {c: suggest_name(c, frame.columns) for c in missing}
        hint = "; ".join(f"'{c}': did you mean '{g}'?" for c, g in guesses.items() if g)
        raise DataIntegrationError(
            Codes.MISSING_COLUMN,
            f"the journeys frame lacks column(s) {missing}.",
            hint=hint or f"the long form has columns {list(FRAME_COLUMNS)} (one row per touch).",
            details={"missing": missing, "columns": [str(c) for c in frame.columns]},
        )
    if len(frame) == 0:
        raise _empty_input()
    codes, ids = pd.factorize(frame["journey_id"], sort=False)
    if (codes < 0).any():
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"journey_id is missing in {int((codes < 0).sum())} row(s).",
            hint="give every row the id of its journey.",
        )
    codes = codes.astype(np.int64)
    # factorize numbers journeys by first appearance: a journey's first row raises the maximum
    running = np.maximum.accumulate(codes)
    first_row = np.flatnonzero(np.concatenate([[True], running[1:] > running[:-1]]))
    journey_ids = np.asarray(ids, dtype=object)

    def journey_level(name: str, read: Any) -> Any:
        per_row = read(frame[name])
        per_journey = per_row[first_row]
        same = (per_row == per_journey[codes]) | (_isnan(per_row) & _isnan(per_journey[codes]))
        if not same.all():
            bad = journey_ids[np.unique(codes[~same])]
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"'{name}' differs between the rows of {len(bad)} journey(s), e.g. "
                f"{_quote(bad.tolist())}.",
                hint=f"'{name}' describes the journey: give it the same value on all its rows.",
            )
        return per_journey

    converted = journey_level("converted", lambda s: _read_flags(s, journey_ids[codes]))
    values = (
        journey_level("conversion_value", _read_values)
        if "conversion_value" in frame.columns
        else np.full(len(ids), np.nan)
    )
    conversion_times = (
        journey_level("conversion_timestamp", lambda s: _to_ns(s, "conversion_timestamp"))
        if "conversion_timestamp" in frame.columns
        else np.full(len(ids), NAT, dtype=np.int64)
    )
    interactions = (
        frame["interaction"]
        if "interaction" in frame.columns
        else pd.Series(np.zeros(len(frame), dtype=np.int8)).map({0: "click"})
    )
    return _assemble(
        journey_ids=journey_ids,
        journey_of_touch=codes,
        channel_labels=frame["channel"],
        times=frame["timestamp"],
        interactions=interactions,
        converted=converted,
        values=values,
        conversion_times=conversion_times,
        after_conversion=after_conversion,
    )


def _assemble(
    *,
    journey_ids: NDArray[Any],
    journey_of_touch: IntArray,
    channel_labels: pd.Series | list[Any],
    times: pd.Series | list[Any],
    interactions: pd.Series | list[Any],
    converted: BoolArray,
    values: FloatArray,
    conversion_times: IntArray,
    after_conversion: str,
) -> JourneyData:
    """Validate touch-level columns and build the sorted, offset representation.

    The touch-level columns are Series (long form) or lists (list form, read faster when they
    hold plain strings).
    """
    n = len(journey_ids)
    notes: list[str] = []
    channel, names = _read_channels(channel_labels, journey_ids, journey_of_touch)
    time = _to_ns(times, "timestamp")
    if (time == NAT).any():
        bad = journey_ids[np.unique(journey_of_touch[time == NAT])]
        raise DataIntegrationError(
            Codes.BAD_DATES,
            f"{int((time == NAT).sum())} touch(es) have no timestamp, in journey(s) "
            f"{_quote(bad.tolist())}.",
            hint="give every touchpoint a 'timestamp' (ISO-8601, e.g. '2024-05-01T10:00:00Z').",
        )
    view = _read_interactions(interactions)

    # Journey order stays; touches sorted by time within a journey (stable: ties keep order).
    if len(time) > 1:
        step_journey = np.diff(journey_of_touch)
        in_order = (step_journey > 0) | ((step_journey == 0) & (np.diff(time) >= 0))
        if not in_order.all():
            order = _journey_time_order(journey_of_touch, time, n)
            journey_of_touch, channel = journey_of_touch[order], channel[order]
            time, view = time[order], view[order]
    counts = np.bincount(journey_of_touch, minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    has_touch = counts > 0
    last_touch = np.full(n, NAT, dtype=np.int64)
    last_touch[has_touch] = time[offsets[1:][has_touch] - 1]

    unknown_value = converted & np.isnan(values)
    if unknown_value.any():
        notes.append(
            f"{int(unknown_value.sum())} converted journey(s) have no conversion_value; "
            "counted as 0."
        )
    values = np.where(np.isnan(values), 0.0, values)
    bad_value = converted & (~np.isfinite(values))
    if bad_value.any():
        raise DataIntegrationError(
            Codes.NON_FINITE,
            f"{int(bad_value.sum())} converted journey(s) have a non-finite conversion_value, "
            f"e.g. {_quote(journey_ids[bad_value].tolist())}.",
            hint="give converted journeys a finite conversion_value (0 if unknown).",
        )
    negative = converted & (values < 0)
    if negative.any():
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"{int(negative.sum())} converted journey(s) have a negative conversion_value, e.g. "
            f"{_quote(journey_ids[negative].tolist())}.",
            hint="conversion values must be >= 0; book refunds outside the attribution.",
        )
    stray = (~converted) & (values != 0)
    if stray.any():
        notes.append(
            f"{int(stray.sum())} journey(s) that did not convert carry a conversion_value; "
            "it was ignored."
        )
    values = np.where(converted, values, 0.0)

    explicit = converted & (conversion_times != NAT)
    if explicit.any() and len(time):
        after = explicit[journey_of_touch] & (time > conversion_times[journey_of_touch])
        if after.any():
            bad = journey_ids[np.unique(journey_of_touch[after])]
            if after_conversion == "error":
                raise DataIntegrationError(
                    Codes.BAD_DATES,
                    f"{int(after.sum())} touch(es) in {len(bad)} journey(s) are later than "
                    f"their journey's conversion_timestamp, e.g. in {_quote(bad.tolist())}.",
                    hint="a touch after the conversion cannot have caused it: check the time "
                    "zones of the timestamps, or pass after_conversion='drop' to drop them.",
                    details={"touches": int(after.sum()), "journeys": len(bad)},
                )
            notes.append(
                f"{int(after.sum())} touch(es) in {len(bad)} journey(s) were later than the "
                "conversion and were dropped."
            )
    reference_time = np.where(converted & (conversion_times != NAT), conversion_times, last_touch)
    data = JourneyData(
        channels=names,
        channel=channel,
        time=time,
        view=view,
        offsets=offsets,
        journey_ids=journey_ids,
        converted=converted,
        value=values.astype(np.float64),
        reference_time=reference_time.astype(np.int64),
        notes=tuple(notes),
    )
    if explicit.any() and len(time):
        keep = ~(explicit[data.journey_of_touch] & (time > conversion_times[data.journey_of_touch]))
        if not keep.all():
            data = data.keep_touches(keep)
    empty = int((data.lengths == 0).sum())
    if empty:
        data = _with_note(
            data,
            f"{empty} journey(s) have no touchpoints; their conversions are not attributed.",
        )
    return data


def _journey_time_order(journey_of_touch: IntArray, time: IntArray, n_journeys: int) -> IntArray:
    """``np.lexsort((time, journey_of_touch))``, faster: stable sorts by time, then by journey
    (a radix sort when journey numbers fit in 16 bits)."""
    order = np.argsort(time, kind="stable")
    journeys = journey_of_touch[order]
    if n_journeys <= 1 << 16:
        journeys = journeys.astype(np.uint16)
    return order[np.argsort(journeys, kind="stable")]


# ------------------------------------------------------------------------------------ columns


def _read_channels(
    labels: pd.Series | list[Any], journey_ids: NDArray[Any], journey_of_touch: IntArray
) -> tuple[IntArray, tuple[str, ...]]:
    """Integer channel codes in sorted name order, and the names."""
    if isinstance(labels, list):
        plain = _plain_channels(labels)
        if plain is not None:
            return plain
        labels = pd.Series(labels, dtype=object)
    codes, uniques = pd.factorize(labels, sort=False)
    names = np.array([str(u).strip() for u in uniques], dtype=object)
    blank_name = np.array([n == "" for n in names], dtype=bool)
    blank = (codes < 0) | (blank_name[codes.clip(0)] if len(names) else False)
    if blank.any():
        bad = journey_ids[np.unique(journey_of_touch[blank])]
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"{int(blank.sum())} touch(es) have no channel, in journey(s) {_quote(bad.tolist())}.",
            hint="give every touchpoint a non-empty 'channel'.",
        )
    sorted_names, remap = np.unique(names.astype(str), return_inverse=True)
    return remap[codes].astype(np.int64), tuple(str(s) for s in sorted_names)


def _plain_channels(labels: list[Any]) -> tuple[IntArray, tuple[str, ...]] | None:
    """:func:`_read_channels` of a list of strings none of them blank; None for other lists."""
    uniques = _str_uniques(labels)
    if uniques is None:
        return None
    stripped = {label: label.strip() for label in uniques}
    names = sorted(set(stripped.values()))
    if names[0] == "" or any("\x00" in name for name in names):  # numpy would cut NULs
        return None
    index = {name: i for i, name in enumerate(names)}
    code = {label: index[name] for label, name in stripped.items()}
    return np.fromiter(map(code.__getitem__, labels), np.int64, len(labels)), tuple(names)


def _read_interactions(interactions: pd.Series | list[Any]) -> BoolArray:
    """True for views; an error naming any value that is not click or view."""
    if isinstance(interactions, list):
        plain = _plain_interactions(interactions)
        if plain is not None:
            return plain
        interactions = pd.Series(interactions, dtype=object)
    codes, uniques = pd.factorize(interactions, sort=False)
    names = [str(u).strip().lower() for u in uniques]
    pairs = zip(uniques, names, strict=True)
    unknown = sorted({repr(u) for u, k in pairs if k not in INTERACTIONS})
    if (codes < 0).any():
        unknown.insert(0, "missing")
    if unknown:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"unknown interaction type(s) {', '.join(unknown[:_EXAMPLES])}; "
            f"expected {list(INTERACTIONS)}.",
            hint="mark each touchpoint 'click' or 'view' (impression); leave it out to mean click.",
            details={"unknown": unknown[:10]},
        )
    is_view = np.array([k == "view" for k in names], dtype=bool)
    return is_view[codes] if len(names) else np.zeros(len(codes), dtype=bool)


def _plain_interactions(kinds: list[Any]) -> BoolArray | None:
    """:func:`_read_interactions` of a list of known strings; None for other lists."""
    uniques = _str_uniques(kinds)
    if uniques is None:
        return None
    is_view: dict[str, bool] = {}
    for kind in uniques:
        name = kind.strip().lower()
        if name not in INTERACTIONS:
            return None
        is_view[kind] = name == "view"
    if not any(is_view.values()):
        return np.zeros(len(kinds), dtype=bool)
    return np.fromiter(map(is_view.__getitem__, kinds), np.bool_, len(kinds))


def _str_uniques(values: list[Any]) -> set[str] | None:
    """The distinct values when they are all strings (else None), as ``pd.factorize`` finds them.

    Only the distinct values are type-checked: a value equal to a string and hashed alike
    (a ``str`` subclass) is that string here and for ``pd.factorize``, whichever comes first.
    """
    try:
        uniques = set(values)
    except TypeError:  # unhashable values
        return None
    return uniques if set(map(type, uniques)) == {str} else None


def _read_flags(flags: pd.Series | list[Any], ids: Any) -> BoolArray:
    """``converted`` as booleans: bool, or 0/1 numbers; anything else is an error."""
    if isinstance(flags, list):
        if set(map(type, flags)) == {bool}:
            return np.array(flags, dtype=bool)
        flags = pd.Series(flags, dtype=object)
    if pd.api.types.is_bool_dtype(flags.dtype):
        if flags.isna().any():
            return _bad_flags(flags, flags.isna().to_numpy(), ids)
        return flags.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(flags.dtype):
        numbers = flags.to_numpy(dtype=float, na_value=np.nan)
        ok = (numbers == 0) | (numbers == 1)
        return numbers.astype(bool) if ok.all() else _bad_flags(flags, ~ok, ids)
    raw = flags.to_numpy(dtype=object)
    ok = np.array(
        [
            isinstance(f, bool | np.bool_)
            or (isinstance(f, int | float | np.integer | np.floating) and f in (0, 1))
            for f in raw
        ],
        dtype=bool,
    )
    if not ok.all():
        return _bad_flags(flags, ~ok, ids)
    return raw.astype(float).astype(bool) if len(raw) else np.zeros(0, dtype=bool)


def _bad_flags(flags: pd.Series, bad: BoolArray, ids: Any) -> BoolArray:
    examples = pd.Series(flags.to_numpy(dtype=object)[bad]).astype(str).unique().tolist()
    journeys = pd.unique(np.asarray(ids, dtype=object)[bad]).tolist()
    raise DataIntegrationError(
        Codes.DATA_ERROR,
        f"'converted' must be true/false (or 1/0); {int(bad.sum())} journey row(s) have "
        f"{_quote(examples)}, e.g. journey {_quote(journeys)}.",
        hint="set converted to true for journeys that ended in a conversion, else false.",
    )


def _read_values(values: pd.Series | list[Any]) -> FloatArray:
    """Conversion values as floats (NaN where missing)."""
    if isinstance(values, list):
        kinds = set(map(type, values))
        if kinds <= {float, NoneType} or (
            kinds <= {float, int, NoneType}
            and all(abs(v) <= _EXACT_INT for v in values if type(v) is int)
        ):
            return np.array(values, dtype=np.float64)  # None -> NaN
        values = pd.Series(values, dtype=object)
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    unreadable = np.isnan(numeric) & values.notna().to_numpy()
    if unreadable.any():
        raise DataIntegrationError(
            Codes.NON_NUMERIC,
            f"conversion_value is not a number in {int(unreadable.sum())} place(s), e.g. "
            f"{_quote(values[unreadable].astype(str).unique().tolist())}.",
            hint="give conversion values as numbers (0 when unknown).",
        )
    return numeric


def _to_ns(values: pd.Series | list[Any], name: str) -> IntArray:
    """Times as int64 ns since 1970 UTC (``NAT`` where missing); numbers are Unix seconds."""
    if isinstance(values, list):
        plain = _plain_times(values)
        if plain is not None:
            return plain
        values = pd.Series(values, dtype=object)
    if pd.api.types.is_bool_dtype(values.dtype):
        raise DataIntegrationError(
            Codes.BAD_DATES, f"{name} holds booleans, not times.", hint="give ISO-8601 times."
        )
    missing = values.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype):
        seconds = values.to_numpy(dtype=float, na_value=np.nan)
        if (np.abs(seconds[~missing]) > _MAX_UNIX_SECONDS).any() or np.isinf(seconds).any():
            raise DataIntegrationError(
                Codes.BAD_DATES,
                f"{name} holds numbers beyond the year 5000 when read as Unix seconds.",
                hint="numbers are read as seconds since 1970; divide milliseconds by 1e3 and "
                "nanoseconds by 1e9, or give ISO-8601 strings.",
            )
        ns = np.where(missing, 0.0, np.round(seconds * 1e9)).astype(np.int64)
        return np.where(missing, NAT, ns)
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        values.dtype
    ):
        stamps = pd.to_datetime(values, utc=True)
    else:
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            plain = _plain_times(values.to_numpy(dtype=object, na_value=None).tolist())
            if plain is not None:
                return plain
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            # Numbers mixed with text: read them as text (pandas is deprecating numbers with a
            # format), so they parse as dates or fail with the error below.
            values = values.map(lambda v: v if v is None or isinstance(v, str) else str(v))
        stamps = None
        for fmt in ("ISO8601", "mixed"):
            try:
                stamps = pd.to_datetime(values, utc=True, format=fmt)
                break
            except (ValueError, TypeError, OverflowError):
                continue
        if stamps is None:
            parsed = pd.to_datetime(values, utc=True, format="mixed", errors="coerce")
            bad = parsed.isna().to_numpy() & ~missing
            raise DataIntegrationError(
                Codes.BAD_DATES,
                f"{int(bad.sum())} {name} value(s) cannot be read as times, e.g. "
                f"{_quote(values[bad].astype(str).unique().tolist())}.",
                hint="give times as ISO-8601 strings ('2024-05-01T10:00:00Z'), datetimes or "
                "Unix seconds.",
            )
    naive = stamps.dt.tz_convert(None)
    outside = naive.notna().to_numpy() & (
        (naive < _FIRST_NS_TIME).to_numpy() | (naive > _LAST_NS_TIME).to_numpy()
    )
    if outside.any():
        raise DataIntegrationError(
            Codes.BAD_DATES,
            f"{int(outside.sum())} {name} value(s) lie outside 1677-09-21 .. 2262-04-11, e.g. "
            f"{_quote(pd.Series(values)[outside].astype(str).unique().tolist())}.",
            hint="check the dates: times are kept to the nanosecond, which spans 1677-2262.",
        )
    naive = naive.dt.as_unit("ns")
    ns = naive.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return np.where(missing | naive.isna().to_numpy(), NAT, ns)


def _plain_times(values: list[Any]) -> IntArray | None:
    """:func:`_to_ns` of a list of Nones and ISO strings of one layout; None when unsure.

    See :func:`~mmm_core.attribution.iso_times.iso_to_ns` for the layouts; anything else is
    left to pandas, which gives the same times or the error.
    """
    kinds = set(map(type, values))
    if kinds == {str}:
        return iso_to_ns(values)
    if not kinds <= {str, NoneType}:
        return None
    times = np.full(len(values), NAT, dtype=np.int64)
    if str in kinds:
        present = np.array([v is not None for v in values], dtype=bool)
        parsed = iso_to_ns([v for v in values if v is not None])
        if parsed is None:
            return None
        times[present] = parsed
    return times


# ------------------------------------------------------------------------------------ filters


def select_touches(
    data: JourneyData, lookback_window: float | None, include_view_through: bool
) -> tuple[JourneyData, dict[str, int]]:
    """Drop views (unless ``include_view_through``) and touches older than the lookback window.

    A touch is kept when ``reference_time - time <= lookback_window`` days, the reference being
    the conversion of a converted journey and the last touch (of any interaction) of one that did
    not convert. ``lookback_window=None`` keeps touches of any age.

    Returns
    -------
    (JourneyData, dict)
        The kept touches of the same journeys, and counts ``dropped_view_through`` and
        ``dropped_lookback`` (a view outside the window counts as a view).
    """
    keep = np.ones(data.n_touches, dtype=bool)
    dropped_view = 0
    if not include_view_through:
        keep &= ~data.view
        dropped_view = int(data.view.sum())
    dropped_old = 0
    if lookback_window is not None and data.n_touches:
        age = data.reference_time[data.journey_of_touch] - data.time
        old = age > lookback_window * NS_PER_DAY
        dropped_old = int((old & keep).sum())
        keep &= ~old
    selected = data if keep.all() else data.keep_touches(keep)
    return selected, {"dropped_view_through": dropped_view, "dropped_lookback": dropped_old}


def to_journey_list(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The long form as the API's list form (inverse of the long reading, for clients and tests).

    Timestamps become ISO-8601 strings in UTC with the precision they have; a converted
    journey's ``conversion_timestamp`` is its ``conversion_timestamp`` column when present,
    else left out (so it converts at its last touch).
    """
    data = parse_journeys(frame)
    stamps = pd.to_datetime(data.time, utc=True)
    iso = [t.isoformat() for t in stamps]
    channels = [data.channels[c] for c in data.channel]
    kinds = np.where(data.view, "view", "click")
    conversion = None
    if "conversion_timestamp" in frame.columns:
        conversion = _to_ns(frame["conversion_timestamp"], "conversion_timestamp")
        codes, _ = pd.factorize(frame["journey_id"], sort=False)
        per_journey = np.full(data.n_journeys, NAT, dtype=np.int64)
        per_journey[codes] = conversion
        conversion = per_journey
    out: list[dict[str, Any]] = []
    for j in range(data.n_journeys):
        lo, hi = int(data.offsets[j]), int(data.offsets[j + 1])
        journey: dict[str, Any] = {
            "journey_id": _plain(data.journey_ids[j]),
            "touchpoints": [
                {"channel": channels[i], "timestamp": iso[i], "interaction": str(kinds[i])}
                for i in range(lo, hi)
            ],
            "converted": bool(data.converted[j]),
            "conversion_value": float(data.value[j]),
        }
        if conversion is not None and data.converted[j] and conversion[j] != NAT:
            journey["conversion_timestamp"] = pd.Timestamp(int(conversion[j]), tz="UTC").isoformat()
        out.append(journey)
    return out


# ------------------------------------------------------------------------------------ helpers


def _first_key(mapping: Mapping[str, Any], keys: tuple[str, ...], default: Any) -> Any:
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return mapping[key]
    return default


def _isnan(values: NDArray[Any]) -> BoolArray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    return np.zeros(values.shape, dtype=bool)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar (for JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _quote(values: list[Any]) -> str:
    shown = ", ".join(repr(_plain(v)) for v in values[:_EXAMPLES])
    return shown + (", ..." if len(values) > _EXAMPLES else "")


def _with_note(data: JourneyData, note: str) -> JourneyData:
    return replace(data, notes=(*data.notes, note))


def _empty_input() -> DataIntegrationError:
    return DataIntegrationError(
        Codes.EMPTY_DATA,
        "no journeys were given.",
        hint="pass at least one journey (the API's customer_journeys list, or a long frame).",
    )
