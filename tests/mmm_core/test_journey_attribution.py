"""Tests of multi-touch attribution on journeys (``AttributionAnalyzer.analyze_journeys``).

Rules by hand on tiny journeys; Markov by hand, against the chain the journeys were simulated
from, and against the ChannelAttribution package; Shapley by hand, by brute force and sampled
against exact; reading, filtering and validation of both input forms; the output contract.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmm_core.attribution import AttributionAnalyzer, markov
from mmm_core.attribution.attribution_analyzer import JOURNEY_MODELS
from mmm_core.attribution.journeys import JourneyData, parse_journeys, to_journey_list
from mmm_core.attribution.shapley import _exact, shapley_attribution
from mmm_core.attribution.simulate import chain_truth, simulate_journeys
from mmm_core.errors import Codes, DataIntegrationError, MMModelError

HEURISTICS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")


def touch(channel: str, day: str, interaction: str = "click") -> dict[str, str]:
    return {"channel": channel, "timestamp": f"2024-05-{day}T10:00:00Z", "interaction": interaction}


def journey(
    jid: str, touches: list[dict[str, str]], converted: bool, value: float = 0.0, **more: Any
) -> dict[str, Any]:
    return {
        "journey_id": jid,
        "touchpoints": touches,
        "converted": converted,
        "conversion_value": value,
        **more,
    }


# u1 converts (100) after social (day 1), a display view (day 8) and search (day 15); u2 converts
# (50) after two searches a day apart; u3 does not convert; u4 converts (30) after one email.
TINY = [
    journey("u1", [touch("social", "01"), touch("display", "08", "view"), touch("search", "15")],
            True, 100.0),
    journey("u2", [touch("search", "10"), touch("search", "11")], True, 50.0),
    journey("u3", [touch("social", "12")], False),
    journey("u4", [touch("email", "20")], True, 30.0),
]  # fmt: skip
CHANNELS = ("display", "email", "search", "social")

# Expected credits (display, email, search, social): conversions; value follows each journey.
TINY_EXPECTED = {
    "first_touch": ([0, 1, 1, 1], [0, 30, 50, 100]),
    "last_touch": ([0, 1, 2, 0], [0, 30, 150, 0]),
    "linear": ([1 / 3, 1, 4 / 3, 1 / 3], [100 / 3, 30, 100 / 3 + 50, 100 / 3]),
    # u1's touches are 14, 7 and 0 days before its last: weights 1/4, 1/2, 1 -> 1/7, 2/7, 4/7
    "time_decay": ([2 / 7, 1, 1 + 4 / 7, 1 / 7], [200 / 7, 30, 400 / 7 + 50, 100 / 7]),
    "position_based": ([0.2, 1, 1.4, 0.4], [20, 30, 90, 40]),
}


def analyze(journeys: Any, model: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("lookback_window", None)
    return AttributionAnalyzer().analyze_journeys(journeys, model, **kwargs)


def as_array(mapping: dict[str, float], channels: tuple[str, ...] = CHANNELS) -> np.ndarray:
    return np.array([mapping[c] for c in channels])


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, Any]:
    """3,000 journeys over 4 channels from a known chain (the long form)."""
    frame, truth = simulate_journeys(3_000, 4, seed=11)
    return frame, truth


# ------------------------------------------------------------------------------ heuristics


@pytest.mark.parametrize("model", HEURISTICS)
def test_each_rule_credits_tiny_journeys_as_computed_by_hand(model: str) -> None:
    result = analyze(TINY, model)
    conversions, value = TINY_EXPECTED[model]
    np.testing.assert_allclose(as_array(result["attributed_conversions"]), conversions)
    np.testing.assert_allclose(as_array(result["attributed_value"]), value)
    np.testing.assert_allclose(as_array(result["attribution"]), np.array(conversions) / 3)
    assert result["method"] == model


def test_position_based_splits_two_touches_first_to_last_and_middles_equally() -> None:
    two = [journey("a", [touch("x", "01"), touch("y", "02")], True, 10.0)]
    result = analyze(two, "position_based")
    assert result["attributed_conversions"] == pytest.approx({"x": 0.5, "y": 0.5})
    four = [journey("a", [touch(c, f"0{i + 1}") for i, c in enumerate("wxyz")], True, 10.0)]
    result = analyze(four, "position_based", position_weights=(0.3, 0.4, 0.3))
    assert result["attributed_conversions"] == pytest.approx(
        {"w": 0.3, "x": 0.2, "y": 0.2, "z": 0.3}
    )
    assert result["parameters"]["position_weights"] == pytest.approx([0.3, 0.4, 0.3])


def test_time_decay_half_life_is_in_days() -> None:
    result = analyze(TINY[:1], "time_decay", half_life=14)
    weights = np.array([2**-1, 2**-0.5, 1.0])  # social, display, search
    weights /= weights.sum()
    assert as_array(result["attributed_conversions"], ("social", "display", "search")) == (
        pytest.approx(weights)
    )


@pytest.mark.parametrize("model", JOURNEY_MODELS)
def test_credits_add_up_to_the_input_conversions_and_value(
    model: str, simulated: tuple[pd.DataFrame, Any]
) -> None:
    frame, _ = simulated
    result = AttributionAnalyzer().analyze_journeys(frame, model, lookback_window=10)
    totals = result["totals"]
    assert sum(result["attributed_conversions"].values()) == pytest.approx(
        totals["attributed_conversions"], rel=1e-12
    )
    assert sum(result["attributed_value"].values()) == pytest.approx(
        totals["attributed_value"], rel=1e-12
    )
    assert (
        totals["attributed_conversions"] + totals["unattributed_conversions"]
        == (totals["conversions"])
    )
    assert totals["attributed_value"] + totals["unattributed_value"] == pytest.approx(
        totals["value"], rel=1e-12
    )
    assert totals["conversions"] == frame.groupby("journey_id")["converted"].first().sum()
    assert totals["dropped_lookback"] > 0  # journeys of the simulation span more than 10 days
    assert sum(result["attribution"].values()) == pytest.approx(1.0)


def test_first_and_last_touch_reconcile_exactly(simulated: tuple[pd.DataFrame, Any]) -> None:
    frame, _ = simulated
    for model in ("first_touch", "last_touch"):
        result = analyze(frame, model)
        assert sum(result["attributed_conversions"].values()) == result["totals"]["conversions"]


def test_rules_match_channelattribution_heuristics(simulated: tuple[pd.DataFrame, Any]) -> None:
    ca = pytest.importorskip("ChannelAttribution")
    frame, _ = simulated
    paths = channelattribution_paths(parse_journeys(frame))
    reference = ca.heuristic_models(paths, "path", "conv", var_value="value", flg_pro=False)
    reference = reference.set_index("channel_name")
    for model, column in [("first_touch", "first_touch"), ("last_touch", "last_touch"),
                          ("linear", "linear_touch")]:  # fmt: skip
        result = analyze(frame, model)
        ours = pd.Series(result["attributed_conversions"])
        np.testing.assert_allclose(ours, reference.loc[ours.index, f"{column}_conversions"])
        ours_value = pd.Series(result["attributed_value"])
        np.testing.assert_allclose(ours_value, reference.loc[ours.index, f"{column}_value"])


# ------------------------------------------------------------------------------ filters


def test_lookback_window_drops_touches_older_than_the_window_before_conversion() -> None:
    journeys = [
        journey("c", [touch("display", "01"), touch("search", "25")], True, 10.0,
                conversion_timestamp="2024-06-05T10:00:00Z"),  # display 35 days before
        journey("n", [touch("social", "01"), touch("email", "31")], False),  # social 30 days
        journey("old", [touch("tv", "01")], True, 5.0,
                conversion_timestamp="2024-07-15T00:00:00Z"),
    ]  # fmt: skip
    kept = analyze(journeys, "first_touch", lookback_window=30)
    assert kept["attributed_conversions"] == {
        "display": 0.0, "email": 0.0, "search": 1.0, "social": 0.0, "tv": 0.0
    }  # fmt: skip
    assert kept["totals"]["dropped_lookback"] == 2  # display and tv; social is exactly 30 days
    assert kept["totals"]["unattributed_conversions"] == 1.0
    assert kept["totals"]["unattributed_value"] == 5.0
    everything = analyze(journeys, "first_touch", lookback_window=None)
    assert everything["attributed_conversions"]["display"] == 1.0
    assert everything["attributed_conversions"]["tv"] == 1.0
    shorter = analyze(journeys, "linear", lookback_window=29)
    assert shorter["table"][3]["touches"] == 0  # social now outside its journey's window


def test_view_through_filter_drops_views() -> None:
    only_views = journey("v", [touch("video", "03", "view")], True, 20.0)
    result = analyze([*TINY, only_views], "linear", include_view_through=False)
    assert result["attributed_conversions"]["display"] == 0.0
    assert result["attributed_conversions"]["social"] == pytest.approx(0.5)
    assert result["attributed_conversions"]["video"] == 0.0
    assert result["totals"]["dropped_view_through"] == 2
    assert result["totals"]["unattributed_conversions"] == 1.0
    assert any("no touch left" in note for note in result["notes"])
    with_views = analyze([*TINY, only_views], "linear", include_view_through=True)
    assert with_views["attributed_conversions"]["video"] == 1.0


# ------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("journeys", "code", "words"),
    [
        ([journey("a", [touch("x", "01", "hover")], True)], Codes.DATA_ERROR, "'hover'"),
        ([journey("a", [touch("x", "01")], True), journey("a", [], False)], Codes.DATA_ERROR,
         "more than once"),
        ([journey("a", [touch("x", "09")], True, 1.0, conversion_timestamp="2024-05-02")],
         Codes.BAD_DATES, "later than"),
        ([journey("a", [{"channel": "x", "timestamp": "yesterday-ish"}], True)], Codes.BAD_DATES,
         "cannot be read"),
        ([journey("a", [{"channel": "x"}], True)], Codes.BAD_DATES, "no timestamp"),
        ([journey("a", [{"channel": "x", "timestamp": "1500-01-01T00:00:00"}], True)],
         Codes.BAD_DATES, "outside 1677-09-21 .. 2262-04-11, e.g. '1500-01-01T00:00:00'"),
        ([journey("a", [{"channel": "x", "timestamp": "2300-01-01 10:00:00+02:00"}], True)],
         Codes.BAD_DATES, "outside 1677-09-21"),
        ([journey("a", [{"timestamp": "2024-01-01"}], True)], Codes.DATA_ERROR, "no channel"),
        ([journey("a", [touch("x", "01")], True, math.inf)], Codes.NON_FINITE, "non-finite"),
        ([journey("a", [touch("x", "01")], True, -5.0)], Codes.DATA_ERROR, "negative"),
        ([journey("a", [touch("x", "01")], "maybe")], Codes.DATA_ERROR, "true/false"),
        ([{"journey_id": "a", "touchpoints": []}], Codes.MISSING_COLUMN, "'converted'"),
        ([{"journey_id": "a", "converted": True}], Codes.MISSING_COLUMN, "touchpoints"),
        ([], Codes.EMPTY_DATA, "no journeys"),
    ],
)  # fmt: skip
def test_bad_journeys_raise_clear_errors(journeys: Any, code: str, words: str) -> None:
    with pytest.raises(DataIntegrationError) as info:
        analyze(journeys, "linear")
    assert info.value.code == code
    assert words in info.value.message
    assert info.value.hint


def test_touches_after_conversion_can_be_dropped() -> None:
    late = journey("a", [touch("x", "01"), touch("y", "09")], True, 1.0,
                   conversion_timestamp="2024-05-02T00:00:00Z")  # fmt: skip
    result = analyze([late], "last_touch", after_conversion="drop")
    assert result["attributed_conversions"] == {"x": 1.0, "y": 0.0}
    assert any("later than the conversion" in note for note in result["notes"])


def test_empty_journeys_are_kept_and_their_conversions_left_unattributed() -> None:
    result = analyze([*TINY, journey("e", [], True, 7.0), journey("f", [], False)], "markov")
    assert result["totals"]["journeys"] == 6
    assert result["totals"]["unattributed_conversions"] == 1.0
    assert result["totals"]["unattributed_value"] == 7.0
    assert sum(result["attributed_conversions"].values()) == pytest.approx(3.0)
    assert any("no touchpoints" in note for note in result["notes"])


def test_frame_errors_name_the_column() -> None:
    frame = pd.DataFrame({"journey": [1], "timestamp": ["2024-01-01"], "channel": ["x"],
                          "converted": [True]})  # fmt: skip
    with pytest.raises(DataIntegrationError) as info:
        analyze(frame, "linear")
    assert info.value.code == Codes.MISSING_COLUMN and "journey_id" in info.value.message
    assert "'journey'" in (info.value.hint or "")
    mixed = pd.DataFrame({"journey_id": [1, 1], "timestamp": ["2024-01-01", "2024-01-02"],
                          "channel": ["x", "y"], "converted": [True, False]})  # fmt: skip
    with pytest.raises(DataIntegrationError, match="'converted' differs"):
        analyze(mixed, "linear")
    columns = ["journey_id", "timestamp", "channel", "converted", "channel"]
    twice = pd.DataFrame([[1, "2024-01-01", "x", True, "x"]], columns=columns)
    with pytest.raises(DataIntegrationError) as info:
        analyze(twice, "linear")
    assert info.value.code == Codes.DUPLICATE_COLUMNS


def as_other_mappings(journeys: list[Any]) -> list[Any]:
    """Journeys and touches that are dicts as OrderedDicts (read journey by journey, not by the
    plain-dict fast path); anything else as it is."""

    def other(value: Any) -> Any:
        return OrderedDict(value) if isinstance(value, dict) else value

    out = [other(j) for j in journeys]
    for j in out:
        if isinstance(j, dict) and isinstance(j.get("touchpoints"), list):
            j["touchpoints"] = [other(t) for t in j["touchpoints"]]
    return out


def assert_same_journeys(one: JourneyData, other: JourneyData) -> None:
    for field in ("channel", "time", "view", "offsets", "journey_ids", "converted", "value",
                  "reference_time"):  # fmt: skip
        left, right = getattr(one, field), getattr(other, field)
        assert left.dtype == right.dtype, field
        np.testing.assert_array_equal(left, right, err_msg=field)
    assert (one.channels, one.notes) == (other.channels, other.notes)


# Defaults and aliases: no id (its position), id, value and conversion_time; a None journey_id,
# blank and upper-case interactions, padded channel names, int and str ids, mixed flags.
AWKWARD = [
    {"touchpoints": [{"channel": " search ", "timestamp": "2024-05-02 10:00:00",
                      "interaction": "VIEW"},
                     {"channel": "display", "timestamp": "2024-05-01 09:00:00",
                      "interaction": ""}],
     "converted": True, "value": 12},
    {"id": "b", "journey_id": None, "converted": 0, "conversion_value": None,
     "conversion_time": "2024-05-04 00:00:00",
     "touchpoints": [{"channel": "search", "timestamp": "2024-05-03 10:00:00"}]},
    {"journey_id": 7, "converted": False, "conversion_value": 3.5, "touchpoints": []},
]  # fmt: skip


@pytest.mark.parametrize(
    "journeys",
    [TINY, AWKWARD, [*TINY, *AWKWARD], [journey("x", [touch("a", "01")], True, 1.0)]],
    ids=["tiny", "awkward", "both", "one"],
)
def test_plain_dicts_read_as_other_mappings(journeys: list[dict[str, Any]]) -> None:
    assert_same_journeys(parse_journeys(journeys), parse_journeys(as_other_mappings(journeys)))


def test_awkward_journeys_use_defaults_and_aliases() -> None:
    data = parse_journeys(AWKWARD)
    assert data.journey_ids.tolist() == [0, "b", 7]
    assert data.channels == ("display", "search")
    assert data.channel.tolist() == [0, 1, 1]  # in time order
    assert data.view.tolist() == [False, True, False]
    assert data.value.tolist() == [12.0, 0.0, 0.0]
    assert any("did not convert carry a conversion_value" in note for note in data.notes)


@pytest.mark.parametrize(
    ("journeys", "code", "words"),
    [
        ([TINY[0], TINY[1], {"journey_id": "c", "touchpoints": []}], Codes.MISSING_COLUMN,
         "journey #2 has no 'converted'"),
        ([TINY[0], {"journey_id": "c", "converted": True, "touchpoints": "x"}],
         Codes.MISSING_COLUMN, "journey #1 has no 'touchpoints' list (got str)"),
        ([TINY[0], ["not", "a", "dict"]], Codes.DATA_ERROR, "journey #1 is a list"),
        ([TINY[0], journey("c", [touch("x", "01"), ["x"]], True)], Codes.DATA_ERROR,
         "a touchpoint of journey 'c' is a list"),
        ([*TINY, journey("u3", [], False)], Codes.DATA_ERROR, "'u3'"),
        ([{"journey_id": float("nan"), "converted": False, "touchpoints": []},
          {"journey_id": float("nan"), "converted": False, "touchpoints": []}],
         Codes.DATA_ERROR, "1 journey id(s) appear more than once"),
        ([journey("a", [touch("x", "01"), {"channel": " ", "timestamp": "2024-05-02"}], True)],
         Codes.DATA_ERROR, "1 touch(es) have no channel"),
        ([journey("a", [touch("x", "01"), {"channel": "y", "timestamp": None}], True)],
         Codes.BAD_DATES, "1 touch(es) have no timestamp"),
        ([journey("a", [touch("x", "01", "View"), touch("x", "02", "impression")], True)],
         Codes.DATA_ERROR, "'impression'"),
        ([journey("a", [touch("x", "01")], True, "12 EUR")], Codes.NON_NUMERIC, "'12 EUR'"),
        ([journey("a", [touch("x", "01")], 2)], Codes.DATA_ERROR, "true/false"),
        ([journey("a", [touch("x", "01")], True, 1.0, conversion_timestamp="soon")],
         Codes.BAD_DATES, "conversion_timestamp value(s) cannot be read"),
    ],
)  # fmt: skip
def test_plain_dicts_and_other_mappings_raise_the_same_errors(
    journeys: list[Any], code: str, words: str
) -> None:
    errors = []
    for form in (journeys, as_other_mappings(journeys)):
        with pytest.raises(DataIntegrationError) as info:
            parse_journeys(form)
        errors.append((info.value.code, info.value.message, info.value.hint))
    assert errors[0][0] == code and words in errors[0][1]
    assert errors[1] == errors[0]


def pandas_ns(stamps: list[str]) -> list[int] | None:
    """Times as pandas reads them (ISO-8601, else any format), ns since 1970; None if it can't."""
    for fmt in ("ISO8601", "mixed"):
        try:
            times = pd.to_datetime(pd.Series(stamps, dtype=object), utc=True, format=fmt)
        except ValueError:
            continue
        return times.dt.tz_convert(None).dt.as_unit("ns").astype("int64").tolist()
    return None


@pytest.mark.parametrize(
    "stamps",
    [
        ["2024-05-01", "2024-02-29", "1999-12-31"],
        ["2024-05-01 10:00:00", "2024-05-01T23:59:59", "2024-01-31 00:00:00"],
        ["2024-05-01T10:00:00Z", "1970-01-01T00:00:00Z"],
        ["2024-05-01T10:00:00+02:00", "2024-05-01T10:00:00-05:30", "2024-05-01T01:00:00+23:59"],
        ["2024-05-01 10:00:00-00:00", "2024-05-01T10:00:00+00:00"],
        ["2024-05-01T10:00:00.5", "2024-05-01T10:00:00.1"],
        ["2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00.000000001Z"],
        ["2024-05-01T10:00:00.250+01:00", "2024-05-01T10:00:00.999-01:00"],
        ["1678-01-01T00:00:00", "2261-12-31T23:59:59"],
        # left to pandas: mixed layouts, other layouts, fields out of range
        ["2024-05-01T10:00:00", "2024-05-01"],
        ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00"],
        ["2024-05-01T10:00:00.1234567891"],
        ["2024-05-01t10:00:00", "2024-05-01T10:00:00z", "2024-05-01T10:00:00 "],
        ["2024-05-01T10:00:00+01:60"],
        ["1677-09-22T00:00:00", "2262-04-11T00:00:00"],
        ["2024-05-01T10:00", "2024-5-1", "20240501T100000"],
        ["2024-02-30"],
        ["2023-02-29T10:00:00"],
        ["2024-05-01T24:00:00"],
        ["2024-05-01T10:00:60"],
        ["2024-13-01"],
        ["2024-05-01T10:00:00+24:00"],
        ["2024-05-01T10:00:00\n", "2024-05-01T10:00:0"],
    ],
)
def test_timestamps_read_as_pandas_reads_them(stamps: list[str]) -> None:
    journeys = [
        journey(f"j{i}", [{"channel": "x", "timestamp": stamp}], False)
        for i, stamp in enumerate(stamps)
    ]
    expected = pandas_ns(stamps)
    if expected is None:
        with pytest.raises(DataIntegrationError) as info:
            parse_journeys(journeys)
        assert info.value.code == Codes.BAD_DATES and "cannot be read" in info.value.message
        return
    assert parse_journeys(journeys).time.tolist() == expected
    converted = [
        journey(f"j{i}", [], True, 1.0, conversion_timestamp=stamp)
        for i, stamp in enumerate(stamps)
    ]
    assert parse_journeys(converted).reference_time.tolist() == expected


def test_frames_with_text_times_read_as_with_datetimes(
    simulated: tuple[pd.DataFrame, Any],
) -> None:
    frame, _ = simulated
    frame = frame[frame["journey_id"] < 300].copy()
    frame["conversion_timestamp"] = frame.groupby("journey_id")["timestamp"].transform("max")
    frame.loc[~frame["converted"], "conversion_timestamp"] = pd.NaT
    text = frame.assign(
        timestamp=frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S+00:00"),
        conversion_timestamp=frame["conversion_timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    for strings in (text, text.astype({"timestamp": object, "conversion_timestamp": object})):
        assert_same_journeys(parse_journeys(strings), parse_journeys(frame))


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"attribution_model": "markof"}, "unknown attribution_model"),
        ({"attribution_model": "linear", "order": 2}, "do not apply"),
        ({"attribution_model": "markov", "order": 0}, "order must be"),
        ({"attribution_model": "time_decay", "half_life": -1}, "half_life"),
        ({"attribution_model": "position_based", "position_weights": (1, 2)}, "position_weights"),
        ({"attribution_model": "linear", "lookback_window": 0}, "lookback_window"),
        ({"attribution_model": "linear", "include_view_through": "yes"}, "include_view_through"),
        ({"attribution_model": "shapley", "n_samples": 1}, "n_samples"),
        ({"attribution_model": "linear", "after_conversion": "keep"}, "after_conversion"),
    ],
)
def test_bad_settings_raise_invalid_parameter(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(MMModelError) as info:
        AttributionAnalyzer().analyze_journeys(TINY, **kwargs)
    assert info.value.code == Codes.INVALID_PARAMETER
    assert words in info.value.message


# ------------------------------------------------------------------------------ markov


def paths(spec: list[tuple[str, bool, float]]) -> list[dict[str, Any]]:
    """Journeys from ``(path, converted, value)``, one channel letter per day."""
    return [
        journey(f"j{i}", [touch(c, f"{d + 1:02d}") for d, c in enumerate(p)], conv, value)
        for i, (p, conv, value) in enumerate(spec)
    ]


def test_markov_two_channels_by_hand() -> None:
    # start->a 3/4, start->b 1/4; a->b 2/3, a->null 1/3; b->conv 2/3, b->null 1/3.
    # P = 3/4*2/3*2/3 + 1/4*2/3 = 1/2; without a: 1/4*2/3 = 1/6 (RE 2/3); without b: 0 (RE 1).
    result = analyze(paths([("ab", True, 100.0), ("ab", False, 0), ("a", False, 0),
                            ("b", True, 50.0)]), "markov")  # fmt: skip
    markov = result["markov"]
    assert markov["conversion_probability"] == pytest.approx(0.5)
    assert markov["removal_effects"] == pytest.approx({"a": 2 / 3, "b": 1.0})
    assert result["attributed_conversions"] == pytest.approx({"a": 0.8, "b": 1.2})
    # Value converts only from b (150 over 3 exits: 50 per visit): same removal effects.
    assert markov["value_per_journey"] == pytest.approx(37.5)
    assert result["attributed_value"] == pytest.approx({"a": 60.0, "b": 90.0})
    assert markov["transition_matrix"]["(start)"] == pytest.approx({"a": 0.75, "b": 0.25})
    assert markov["transition_matrix"]["a"] == pytest.approx({"b": 2 / 3, "(null)": 1 / 3})


def test_markov_three_channels_with_a_loop_by_hand() -> None:
    # start: a 1/2, b 1/4, c 1/4; a: b 1/4, conv 1/4, null 1/2; b: a 1; c: conv 1.
    # x_a = x_b/4 + 1/4, x_b = x_a -> x_a = 1/3; P = 1/6 + 1/12 + 1/4 = 1/2.
    # Without a: 1/4 (RE 1/2); without b: x_a = 1/4, P = 3/8 (RE 1/4); without c: 1/4 (RE 1/2).
    result = analyze(paths([("aba", True, 10.0), ("ba", False, 0), ("c", True, 30.0),
                            ("a", False, 0)]), "markov")  # fmt: skip
    assert result["markov"]["removal_effects"] == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.5})
    assert result["attributed_conversions"] == pytest.approx({"a": 0.8, "b": 0.4, "c": 0.8})
    # Value: a converts 10 per 4 exits, c 30 per exit. E = 1/3*10/4*... solved the same way:
    # x_a = x_b/4 + 2.5, x_b = x_a -> x_a = 10/3; E = 5/3 + 5/6 + 7.5 = 10; without a 7.5,
    # without b (x_a = 2.5) 8.75, without c 2.5: RE 1/4, 1/8, 3/4 -> 40 * (2, 1, 6) / 9.
    assert result["markov"]["value_per_journey"] == pytest.approx(10.0)
    assert result["attributed_value"] == pytest.approx({"a": 80 / 9, "b": 40 / 9, "c": 240 / 9})


def test_markov_recovers_the_removal_effects_of_the_simulating_chain() -> None:
    frame, truth = simulate_journeys(40_000, 4, seed=5)
    result = analyze(frame, "markov")
    # Sampling error: over seeds 0-5 at 20,000 journeys the largest error was 0.011 (removal
    # effect) and 0.010 (share); at 40,000 it is about 0.7 of that.
    assert as_array(result["markov"]["removal_effects"], truth.channels) == pytest.approx(
        truth.removal_effects, abs=0.02
    )
    assert as_array(result["attribution"], truth.channels) == pytest.approx(
        truth.attribution, abs=0.015
    )
    assert as_array(result["value_attribution"], truth.channels) == pytest.approx(
        truth.value_attribution, abs=0.015
    )


def test_large_chains_solved_by_iteration_match_the_direct_solve(
    monkeypatch: pytest.MonkeyPatch, simulated: tuple[pd.DataFrame, Any]
) -> None:
    frame, _ = simulated
    data = parse_journeys(frame)
    direct = markov.markov_attribution(data, order=2)
    monkeypatch.setattr(markov, "_DIRECT_LIMIT", 0)
    iterated = markov.markov_attribution(data, order=2)
    np.testing.assert_allclose(iterated.removal_effects, direct.removal_effects, atol=1e-12)
    np.testing.assert_allclose(iterated.value, direct.value, rtol=1e-10)
    assert iterated.conversion_probability == pytest.approx(direct.conversion_probability)


@pytest.mark.parametrize("order", [1, 2])
def test_small_chains_solved_densely_match_the_sparse_solve(
    order: int, monkeypatch: pytest.MonkeyPatch, simulated: tuple[pd.DataFrame, Any]
) -> None:
    frame, _ = simulated
    data = parse_journeys(frame)
    dense = markov.markov_attribution(data, order=order)
    monkeypatch.setattr(markov, "_DENSE_LIMIT", 0)
    sparse = markov.markov_attribution(data, order=order)
    for name in ("removal_effects", "removal_effects_value", "conversions", "value"):
        np.testing.assert_allclose(getattr(dense, name), getattr(sparse, name), rtol=1e-12)
    assert dense.conversion_probability == pytest.approx(sparse.conversion_probability, rel=1e-12)
    assert dense.value_per_journey == pytest.approx(sparse.value_per_journey, rel=1e-12)


def dag_journeys() -> tuple[list[dict[str, Any]], Any]:
    """Journeys in exact proportion to a forward-only chain a -> b -> c (1,024 of them)."""
    start = np.array([0.5, 0.25, 0.25])
    transitions = np.array(
        [[0, 0.5, 0.25, 0.125, 0.125], [0, 0, 0.5, 0.25, 0.25], [0, 0, 0, 0.5, 0.5]]
    )
    truth = chain_truth(("a", "b", "c"), start, transitions, np.array([10.0, 20.0, 40.0]))
    spec: list[tuple[str, bool, float]] = []

    def walk(path: str, p: float) -> None:
        row = transitions["abc".index(path[-1])]
        for nxt in range(3):
            if row[nxt] > 0:
                walk(path + "abc"[nxt], p * row[nxt])
        for outcome, q in ((True, row[3]), (False, row[4])):
            count = p * q * 1024
            assert count == int(count)
            value = truth.value_mean["abc".index(path[-1])] if outcome else 0.0
            spec.extend([(path, outcome, value)] * int(count))

    for first in range(3):
        walk("abc"[first], start[first])
    return paths(spec), truth


def test_higher_order_reduces_to_first_order_when_history_does_not_matter() -> None:
    journeys, truth = dag_journeys()
    first = analyze(journeys, "markov")
    assert as_array(first["markov"]["removal_effects"], truth.channels) == pytest.approx(
        truth.removal_effects, rel=1e-12
    )
    assert first["markov"]["conversion_probability"] == pytest.approx(
        truth.conversion_probability, rel=1e-12
    )
    for order in (2, 3):
        higher = analyze(journeys, "markov", order=order)
        assert higher["markov"]["order"] == order
        assert higher["markov"]["n_states"] > first["markov"]["n_states"]
        for key in ("attributed_conversions", "attributed_value"):
            assert higher[key] == pytest.approx(first[key], rel=1e-12)
        assert higher["markov"]["removal_effects_value"] == pytest.approx(
            first["markov"]["removal_effects_value"], rel=1e-12
        )


def channelattribution_paths(data: JourneyData) -> pd.DataFrame:
    """ChannelAttribution's input: one row per distinct path with conversions, nulls, value."""
    names = np.array(data.channels, dtype=object)
    rows = pd.DataFrame(
        {
            "path": [
                " > ".join(names[data.channel[lo:hi]])
                for lo, hi in zip(data.offsets[:-1], data.offsets[1:], strict=True)
            ],
            "conv": data.converted.astype(int),
            "null": (~data.converted).astype(int),
            "value": data.value,
        }
    )
    return rows[data.lengths > 0].groupby("path", as_index=False).sum()


@pytest.mark.parametrize("order", [1, 2])
def test_markov_agrees_with_channelattribution(
    order: int, simulated: tuple[pd.DataFrame, Any]
) -> None:
    """ChannelAttribution simulates walks of the same chain; its noise sets the tolerance.

    Its answer is one of ``nfold = 10`` runs of ``nsim / nfold`` simulated walks (the one
    nearest the median). A removal effect there is the share of the simulated conversions,
    about ``P * nsim / nfold``, that visited the channel: a binomial proportion with standard
    error ``sqrt(RE (1 - RE) / n_conv)``, and a channel's attribution share has about that
    divided by ``sum RE``. We allow 4 standard errors (with 10^6 walks: ~0.008; seen: 0.002).
    ``max_step`` is raised so that no simulated walk is cut short (the package's default cuts
    walks longer than the longest journey, a small bias of its own).
    """
    ca = pytest.importorskip("ChannelAttribution")
    frame, _ = simulated
    result = analyze(frame, "markov", order=order)
    nsim, nfold = 1_000_000, 10
    reference = ca.markov_model(
        channelattribution_paths(parse_journeys(frame)), "path", "conv", var_value="value",
        var_null="null", order=order, out_more=True, verbose=False, flg_pro=False,
        nsim_start=nsim, nfold=nfold, max_step=1_000, seed=7,
    )  # fmt: skip
    table = reference["result"].set_index("channel_name")
    channels = tuple(result["attribution"])
    removal = as_array(result["markov"]["removal_effects"], channels)
    n_conv = result["markov"]["conversion_probability"] * nsim / nfold
    tolerance = 4 * np.sqrt(removal * (1 - removal) / n_conv).max() / removal.sum()
    assert 0.003 < tolerance < 0.015
    for ours, column in (("attribution", "total_conversions"),
                         ("value_attribution", "total_conversion_value")):  # fmt: skip
        theirs = table.loc[list(channels), column]
        assert as_array(result[ours], channels) == pytest.approx(
            theirs / theirs.sum(), abs=tolerance
        )
    effects = reference["removal_effects"].set_index("channel_name")
    assert removal == pytest.approx(
        effects.loc[list(channels), "removal_effects_conversion"], abs=2 * tolerance
    )
    if order == 1:  # the estimated transition matrix is deterministic: equal to rounding
        names = {str(i + 1): c for i, c in enumerate(reference["result"]["channel_name"])}
        matrix = result["markov"]["transition_matrix"]
        for row in reference["transition_matrix"].itertuples():
            source = names.get(str(row.channel_from), row.channel_from)
            target = names.get(str(row.channel_to), row.channel_to)
            assert matrix[source][target] == pytest.approx(row.transition_probability, abs=1e-12)
        assert sum(len(v) for v in matrix.values()) == len(reference["transition_matrix"])


# ------------------------------------------------------------------------------ shapley


def exposed(channels: str, n: int, conversions: int, value: float = 0.0) -> list[dict[str, Any]]:
    return [
        journey(f"{channels}{i}", [touch(c, "01") for c in channels], i < conversions,
                value if i < conversions else 0.0)
        for i in range(n)
    ]  # fmt: skip


def test_shapley_exact_by_hand() -> None:
    # v(a) = 0.1, v(b) = 0.05, v(ab) = 0.2: phi_a = (0.1 + 0.15) / 2, phi_b = (0.05 + 0.1) / 2;
    # a: 10 + 100 * 0.125 = 22.5, b: 5 + 100 * 0.075 = 12.5.
    journeys = exposed("a", 100, 10, 4.0) + exposed("b", 100, 5, 2.0) + exposed("ab", 100, 20, 1.0)
    result = analyze(journeys, "shapley")
    assert result["attributed_conversions"] == pytest.approx({"a": 22.5, "b": 12.5})
    # Value per journey: v(a) = 0.4, v(b) = 0.1, v(ab) = 0.2: a: 40 + 100 * 0.25, b: 10 - 100 * 0.05
    assert result["attributed_value"] == pytest.approx({"a": 65.0, "b": 5.0})
    assert result["shapley"]["exact"] is True
    assert result["shapley"]["n_coalitions"] == 3


def test_shapley_gives_symmetric_channels_equal_credit() -> None:
    journeys = (
        exposed("x", 50, 5) + exposed("y", 50, 5) + exposed("xy", 80, 20)
        + exposed("xyz", 40, 16) + exposed("z", 60, 3)
    )  # fmt: skip
    result = analyze(journeys, "shapley")
    credit = result["attributed_conversions"]
    assert credit["x"] == pytest.approx(credit["y"], rel=1e-12)
    assert credit["x"] != pytest.approx(credit["z"])
    assert sum(credit.values()) == pytest.approx(49.0)


def test_shapley_exact_matches_brute_force_over_orders() -> None:
    rng = np.random.default_rng(3)
    m = 5
    sets = np.unique(rng.integers(1, 2**m, 14)).astype(np.int64)
    journeys = rng.integers(1, 50, len(sets)).astype(float)
    worth = np.column_stack([rng.random(len(sets)), 10 * rng.random(len(sets))])
    value = {int(s): worth[i] for i, s in enumerate(sets)}
    brute = np.zeros((m, 2))
    for i, s in enumerate(sets.tolist()):
        members = [c for c in range(m) if s >> c & 1]
        for order in itertools.permutations(members):
            before = 0
            for c in order:
                after = before | 1 << c
                gain = value.get(after, 0.0) - value.get(before, 0.0)
                brute[c] += journeys[i] * gain / math.factorial(len(members))
                before = after
    np.testing.assert_allclose(_exact(sets, journeys, worth, m), brute, rtol=1e-10, atol=1e-12)


def eight_channel_journeys() -> JourneyData:
    """6,000 journeys over 8 channels; more distinct channels and channel a convert more."""
    rng = np.random.default_rng(8)
    n, k = 6_000, 8
    lengths = rng.integers(1, 5, n)
    channel = rng.integers(0, k, lengths.sum())
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    sets = [set(channel[a:b].tolist()) for a, b in itertools.pairwise(offsets)]
    distinct = np.array([len(s) for s in sets])
    with_a = np.array([0 in s for s in sets])
    converted = rng.random(n) < 0.05 + 0.03 * distinct + 0.05 * with_a
    return JourneyData(
        channels=tuple("abcdefgh"),
        channel=channel.astype(np.int64),
        time=np.zeros(len(channel), dtype=np.int64),
        view=np.zeros(len(channel), dtype=bool),
        offsets=offsets.astype(np.int64),
        journey_ids=np.arange(n),
        converted=converted,
        value=np.where(converted, rng.gamma(2.0, 50.0, n), 0.0),
        reference_time=np.zeros(n, dtype=np.int64),
    )


def test_sampled_shapley_is_close_to_exact_on_eight_channels() -> None:
    data = eight_channel_journeys()
    converted, k = data.converted, len(data.channels)
    exact = shapley_attribution(data)
    sampled = shapley_attribution(data, max_exact_channels=0, n_samples=600, seed=1)
    assert exact.exact and not sampled.exact and sampled.n_samples == 600
    assert sampled.conversions.sum() == pytest.approx(converted.sum(), rel=1e-12)
    assert np.all(sampled.standard_error > 0)
    assert np.all(np.abs(sampled.conversions - exact.conversions) < 4 * sampled.standard_error)
    assert np.all(np.abs(sampled.value - exact.value) < 4 * sampled.standard_error_value)
    assert np.abs(sampled.conversions - exact.conversions).max() < 0.02 * converted.sum() / k


def test_shapley_solves_small_sets_exactly_one_by_one_beyond_the_channel_limit() -> None:
    data = eight_channel_journeys()
    everything = shapley_attribution(data)  # 8 channels: all coalitions at once
    largest = int(max(len(set(data.channel[a:b].tolist())) for a, b in
                      itertools.pairwise(data.offsets)))  # fmt: skip
    one_by_one = shapley_attribution(data, max_exact_channels=largest)
    assert one_by_one.exact and one_by_one.n_sampled_coalitions == 0
    np.testing.assert_allclose(one_by_one.conversions, everything.conversions, rtol=1e-10)
    np.testing.assert_allclose(one_by_one.value, everything.value, rtol=1e-10)
    mixed = shapley_attribution(data, max_exact_channels=largest - 1, n_samples=200)
    assert not mixed.exact and 0 < mixed.n_sampled_coalitions < mixed.n_coalitions
    assert mixed.conversions.sum() == pytest.approx(data.converted.sum(), rel=1e-12)


# ------------------------------------------------------------------------------ contract


def test_list_and_frame_forms_give_identical_answers(simulated: tuple[pd.DataFrame, Any]) -> None:
    frame, _ = simulated
    small = frame[frame["journey_id"] < 800]
    as_list = to_journey_list(small)
    assert as_list[0].keys() >= {"journey_id", "touchpoints", "converted", "conversion_value"}
    for model in JOURNEY_MODELS:
        from_frame = AttributionAnalyzer().analyze_journeys(small, model, lookback_window=7)
        from_list = AttributionAnalyzer().analyze_journeys(as_list, model, lookback_window=7)
        assert json.dumps(from_frame, sort_keys=True) == json.dumps(from_list, sort_keys=True)


def test_frame_rows_in_any_order_and_unix_seconds_read_the_same() -> None:
    frame = pd.DataFrame(
        {
            "journey_id": ["b", "a", "a", "b"],
            "timestamp": [200.0, 300.0, 100.0, 50.0],
            "channel": ["x", "y", "x", "y"],
            "interaction": ["CLICK", "view", "Click", "click"],
            "converted": [0, True, True, 0],
            "conversion_value": [np.nan, 5.0, 5.0, np.nan],
        }
    )
    result = analyze(frame, "first_touch")
    assert result["attributed_conversions"] == {"x": 1.0, "y": 0.0}
    assert result["totals"]["converted_journeys"] == 1
    assert analyze(frame, "last_touch")["attributed_value"] == {"x": 0.0, "y": 5.0}


@pytest.mark.parametrize("model", JOURNEY_MODELS)
def test_output_is_json_serialisable_with_the_contract_keys(model: str) -> None:
    result = AttributionAnalyzer().analyze_journeys(TINY, model)
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text) == result
    assert result.keys() >= {"attribution", "attributed_conversions", "attributed_value",
                             "method", "totals", "table", "parameters", "notes"}  # fmt: skip
    assert set(result["attribution"]) == set(CHANNELS)
    assert result["parameters"]["lookback_window"] == 30.0
    assert (model == "markov") == ("markov" in result)
    assert (model == "shapley") == ("shapley" in result)


def test_parsed_journeys_are_kept_for_reuse() -> None:
    analyzer = AttributionAnalyzer()
    first = analyzer.analyze_journeys(TINY, "linear", lookback_window=None)
    again = analyzer.analyze_journeys(analyzer.journey_data_, "linear", lookback_window=None)
    assert first == again
