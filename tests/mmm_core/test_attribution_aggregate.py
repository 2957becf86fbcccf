"""Tests of AttributionAnalyzer on aggregate data: the rule-based methods by hand on a tiny
frame, the data-driven method against the MMM and against the generator's truth, the output
contract and errors.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmm_core import EconometricMMM
from mmm_core.attribution import AttributionAnalyzer
from mmm_core.attribution.aggregate import lookback_windows
from mmm_core.data.synthetic import SyntheticTruth, generate_mmm_data
from mmm_core.errors import Codes, DataIntegrationError, MMModelError

METHODS = ("last_touch", "first_touch", "linear", "time_decay", "data_driven")
HEURISTICS = METHODS[:-1]
TRUTH_CHANNELS = ["tv", "display", "radio", "video", "podcast"]

# Three periods, two channels: a spends 10, 0, 10; b spends 0, 30, 30.
TINY = pd.DataFrame({"a": [10.0, 0.0, 10.0], "b": [0.0, 30.0, 30.0], "rev": [100.0, 200.0, 400.0]})
TINY_MMM = {"channels": {"a": {"contribution": 30.0}, "b": {"contribution": 10.0}}}


def _tiny(**kwargs: Any) -> dict[str, Any]:
    options = {"mmm_results": TINY_MMM, "date_column": False, "window": 2, "half_life": 1.0}
    return AttributionAnalyzer().run_attribution_analysis(
        TINY, ["a", "b"], "rev", **{**options, **kwargs}
    )


@pytest.fixture(scope="module")
def generated() -> tuple[pd.DataFrame, SyntheticTruth]:
    return generate_mmm_data(156, TRUTH_CHANNELS, seed=0, noise=0.01)


@pytest.fixture(scope="module")
def fitted_report(
    generated: tuple[pd.DataFrame, SyntheticTruth],
) -> tuple[dict[str, Any], AttributionAnalyzer]:
    frame, truth = generated
    analyzer = AttributionAnalyzer()
    report = analyzer.run_attribution_analysis(
        frame,
        truth.spend_columns,
        truth.target_column,
        mmm_model=EconometricMMM(n_bootstrap=20),
        control_columns=truth.control_columns,
        date_column=truth.date_column,
    )
    return report, analyzer


# ============================================================================ rules by hand


def test_rules_credit_the_tiny_frame_as_computed_by_hand() -> None:
    # window 2: period 0 sees only a; period 1 sees a (age 1) and b (age 0); period 2 sees
    # b (age 1) and a, b (age 0). Revenue 100, 200, 400.
    expected = {
        # period 2 goes 10:30 by its own spend; period 1 all to b (the only spender at age 0)
        "last_touch": {"a": 100 + 0 + 100, "b": 200 + 300},
        # oldest touched period: 0 for periods 0 and 1 (only a), 1 for period 2 (only b)
        "first_touch": {"a": 100 + 200, "b": 400},
        # equal split among the channels seen in the window
        "linear": {"a": 100 + 100 + 200, "b": 100 + 200},
        # weights 2^-age: period 1 a 5 vs b 30; period 2 a 10 vs b 30 + 15
        "time_decay": {
            "a": 100 + 200 * 5 / 35 + 400 * 10 / 55,
            "b": 200 * 30 / 35 + 400 * 45 / 55,
        },
    }
    report = _tiny()
    for method, revenue in expected.items():
        got = report["methods"][method]
        assert got["attributed_revenue"] == pytest.approx(revenue), method
        assert got["attribution"] == pytest.approx({c: v / 700 for c, v in revenue.items()})
        assert got["roi"] == pytest.approx({"a": revenue["a"] / 20, "b": revenue["b"] / 60})
        assert got["unattributed_revenue"] == 0.0


def test_data_driven_uses_the_given_contributions_and_leaves_the_rest_to_the_baseline() -> None:
    got = _tiny()["methods"]["data_driven"]
    assert got["attribution"] == pytest.approx({"a": 0.75, "b": 0.25})
    assert got["roi"] == pytest.approx({"a": 30 / 20, "b": 10 / 60})
    assert got["unattributed_revenue"] == pytest.approx(700 - 40)


def test_lookback_windows_index_spend_by_age_with_zeros_before_the_first_period() -> None:
    windows = lookback_windows(TINY[["a", "b"]].to_numpy(), 3)
    assert windows.shape == (3, 2, 3)
    assert windows[2, :, 0].tolist() == [10.0, 30.0]  # the period itself
    assert windows[2, :, 2].tolist() == [10.0, 0.0]  # two periods back
    assert windows[0, :, 1:].sum() == 0.0  # before the data


def test_with_a_one_period_window_last_first_and_time_decay_are_the_period_spend_share() -> None:
    report = _tiny(window=1)
    spend_share = {"a": (100 + 400 * 10 / 40) / 700, "b": (200 + 400 * 30 / 40) / 700}
    for method in ("last_touch", "first_touch", "time_decay"):
        assert report["methods"][method]["attribution"] == pytest.approx(spend_share), method


def test_periods_with_no_spend_in_the_window_are_credited_to_nobody() -> None:
    frame = pd.DataFrame({"a": [5.0, 0.0, 0.0, 5.0], "rev": [10.0, 20.0, 40.0, 80.0]})
    report = AttributionAnalyzer().run_attribution_analysis(
        frame,
        ["a"],
        "rev",
        mmm_results={"channels": {"a": {"contribution": 9.0}}},
        date_column=False,
        window=2,
    )
    for method in HEURISTICS:
        assert report["methods"][method]["unattributed_revenue"] == pytest.approx(40.0)
        assert report["methods"][method]["attributed_revenue"]["a"] == pytest.approx(110.0)
    assert any("credit it to no channel" in note for note in report["notes"])


def test_a_single_channel_gets_all_credit_under_every_method() -> None:
    frame = pd.DataFrame({"a": [0.0, 3.0, 0.0, 7.0], "rev": [1.0, 4.0, 2.0, 9.0]})
    report = AttributionAnalyzer().run_attribution_analysis(
        frame, ["a"], "rev", mmm_results={"channels": {"a": {"contribution": 2.0}}}, window=3
    )
    for method in METHODS:
        assert report["methods"][method]["attribution"] == {"a": 1.0}, method


def test_the_channel_alone_in_a_window_takes_all_of_that_period_under_every_rule() -> None:
    # Period 0's window holds only a: its 100 goes to a whatever the rule.
    report = AttributionAnalyzer().run_attribution_analysis(
        TINY.iloc[:2], ["a", "b"], "rev", mmm_results=TINY_MMM, date_column=False, window=1
    )
    for method in HEURISTICS:
        assert report["methods"][method]["attributed_revenue"] == pytest.approx(
            {"a": 100.0, "b": 200.0}
        )


def test_rows_out_of_date_order_are_sorted_before_the_windows_are_built() -> None:
    dated = TINY.assign(week=pd.date_range("2024-01-01", periods=3, freq="W-MON"))
    shuffled = dated.iloc[[2, 0, 1]]
    report = AttributionAnalyzer().run_attribution_analysis(
        shuffled, ["a", "b"], "rev", mmm_results=TINY_MMM, window=2, half_life=1.0
    )
    expected = _tiny()
    for method in METHODS:
        assert report["methods"][method]["attribution"] == pytest.approx(
            expected["methods"][method]["attribution"]
        )
    assert report["parameters"]["date_column"] == "week"


# ============================================================================ contract


def test_shares_sum_to_one_and_the_table_has_one_row_per_channel(
    fitted_report: tuple[dict[str, Any], AttributionAnalyzer],
    generated: tuple[pd.DataFrame, SyntheticTruth],
) -> None:
    report, _ = fitted_report
    columns = generated[1].spend_columns
    assert set(report["methods"]) == set(METHODS)
    for method, entry in report["methods"].items():
        assert sum(entry["attribution"].values()) == pytest.approx(1.0), method
        assert all(v >= 0 for v in entry["attribution"].values())
        assert set(entry) >= {"attribution", "attributed_revenue", "roi", "description"}
    assert [row["channel"] for row in report["table"]] == columns
    for row in report["table"]:
        assert {f"{m}_share" for m in METHODS} <= set(row)
        shares = [row[f"{m}_share"] for m in METHODS]
        assert row["spread"] == pytest.approx(max(shares) - min(shares))
        assert report["spread"][row["channel"]] == row["spread"]
    assert report["disagreement"] == pytest.approx(np.mean(list(report["spread"].values())))


def test_the_reference_format_is_the_data_driven_attribution(
    fitted_report: tuple[dict[str, Any], AttributionAnalyzer],
) -> None:
    report, _ = fitted_report
    assert report["method"] == "data_driven"
    assert report["attribution"] == report["methods"]["data_driven"]["attribution"]


def test_the_report_is_json_serialisable(
    fitted_report: tuple[dict[str, Any], AttributionAnalyzer],
) -> None:
    report, _ = fitted_report
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert json.loads(json.dumps(_tiny(), allow_nan=False)) == _tiny()


def test_rule_based_methods_hand_out_baseline_revenue_that_the_mmm_keeps_apart(
    fitted_report: tuple[dict[str, Any], AttributionAnalyzer],
) -> None:
    report, _ = fitted_report
    total = report["revenue_total"]
    media = sum(report["methods"]["data_driven"]["attributed_revenue"].values())
    for method in HEURISTICS:
        handed_out = sum(report["methods"][method]["attributed_revenue"].values())
        assert handed_out > 2 * media, method  # media drive about 30% of this revenue
        assert handed_out + report["methods"][method]["unattributed_revenue"] == pytest.approx(
            total
        )
    assert any("no baseline" in note for note in report["notes"])


# ============================================================================ data-driven


def test_data_driven_equals_the_fitted_models_shares(
    fitted_report: tuple[dict[str, Any], AttributionAnalyzer],
    generated: tuple[pd.DataFrame, SyntheticTruth],
) -> None:
    report, analyzer = fitted_report
    model = analyzer.mmm_model_
    assert model is not None and report["mmm"]["source"] == "fitted"
    shares = {c: v["share"] for c, v in model.results_["channels"].items()}
    assert report["attribution"] == pytest.approx(shares, abs=1e-12)
    assert report["attribution"] == pytest.approx(model.get_attribution(generated[0]), abs=1e-9)
    intervals = report["methods"]["data_driven"]["share_interval"]
    assert intervals == {c: v["share_interval"] for c, v in model.results_["channels"].items()}


def test_data_driven_is_closer_to_the_true_shares_than_every_rule(
    fitted_report: tuple[dict[str, Any], AttributionAnalyzer],
    generated: tuple[pd.DataFrame, SyntheticTruth],
) -> None:
    report, _ = fitted_report
    truth = generated[1]
    distance = {
        method: sum(
            abs(entry["attribution"][c] - truth.channels[c]["share"]) for c in truth.spend_columns
        )
        for method, entry in report["methods"].items()
    }
    print("sum |share - true share| per method:", {k: round(v, 3) for k, v in distance.items()})
    for method in HEURISTICS:
        assert distance["data_driven"] < distance[method], distance


def test_given_results_or_a_fitted_model_skip_the_refit(
    monkeypatch: pytest.MonkeyPatch,
    fitted_report: tuple[dict[str, Any], AttributionAnalyzer],
    generated: tuple[pd.DataFrame, SyntheticTruth],
) -> None:
    frame, truth = generated
    report, analyzer = fitted_report
    model = analyzer.mmm_model_
    assert model is not None

    def no_fit(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the MMM was refitted")

    monkeypatch.setattr(EconometricMMM, "fit", no_fit)
    for kwargs, source in (
        ({"mmm_results": model.results_}, "results"),
        ({"mmm_model": model}, "model"),
    ):
        again = AttributionAnalyzer().run_attribution_analysis(
            frame, truth.spend_columns, "revenue", **kwargs
        )
        assert again["mmm"]["source"] == source
        assert again["attribution"] == report["attribution"]
        assert again["methods"]["data_driven"] == report["methods"]["data_driven"]


def test_results_from_other_data_are_flagged_in_the_notes() -> None:
    results = {"channels": {c: {"contribution": 1.0, "spend": 1e9} for c in ("a", "b")}}
    report = _tiny(mmm_results=results)
    assert any("spend totals differ" in note for note in report["notes"])
    assert not any("spend totals differ" in note for note in _tiny()["notes"])


# ============================================================================ errors


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": 0},
        {"window": 2.0},
        {"window": True},
        {"half_life": 0.0},
        {"half_life": -1.0},
        {"half_life": float("nan")},
        {"half_life": "2"},
        {"mmm_model": object(), "mmm_results": None},
        {"mmm_model": EconometricMMM(), "mmm_results": TINY_MMM},
        {"mmm_results": {"tv": 1.0}},
        {"mmm_results": {"channels": {"a": {"contribution": -1.0}, "b": {"contribution": 1.0}}}},
        {"mmm_results": {"channels": {"a": {"share": 0.5}, "b": {"contribution": 1.0}}}},
    ],
)
def test_bad_parameters_raise_invalid_parameter(kwargs: dict[str, Any]) -> None:
    with pytest.raises(MMModelError) as info:
        _tiny(**kwargs)
    assert info.value.code == Codes.INVALID_PARAMETER
    assert not isinstance(info.value, DataIntegrationError)


def test_an_mmm_on_other_channels_raises_columns_mismatch() -> None:
    with pytest.raises(MMModelError) as info:
        _tiny(mmm_results={"channels": {"a": {"contribution": 1.0}}})
    assert info.value.code == Codes.COLUMNS_MISMATCH


@pytest.mark.parametrize(
    ("frame", "spend", "revenue", "code"),
    [
        (TINY, ["a", "tv"], "rev", Codes.MISSING_COLUMN),
        (TINY, ["a", "b"], "sales", Codes.MISSING_COLUMN),
        (TINY.assign(b=[0.0, -1.0, 3.0]), ["a", "b"], "rev", Codes.NEGATIVE_SPEND),
        (TINY.assign(a=[1.0, np.nan, 2.0]), ["a", "b"], "rev", Codes.NON_FINITE),
        (TINY.assign(b=0.0), ["a", "b"], "rev", Codes.ZERO_CHANNEL),
        (TINY.iloc[:0], ["a", "b"], "rev", Codes.EMPTY_DATA),
        (TINY, "a", "rev", Codes.DATA_ERROR),
    ],
)
def test_bad_data_raise_data_integration_errors(
    frame: pd.DataFrame, spend: Any, revenue: str, code: str
) -> None:
    with pytest.raises(DataIntegrationError) as info:
        AttributionAnalyzer().run_attribution_analysis(
            frame, spend, revenue, mmm_results=TINY_MMM, date_column=False
        )
    assert info.value.code == code
