"""Calibration: measured lifts pull an unidentifiable channel to the truth, honestly."""

from __future__ import annotations

import pytest

from mmm_core import DataIntegrationError, EconometricMMM
from mmm_core.data.synthetic import SyntheticTruth, generate_mmm_data

WINDOW = slice(60, 72)  # a 12-week test


def experiment(data, truth: SyntheticTruth, channel: str, se_share: float = 0.05) -> dict:
    """A test that measured the channel's true contribution over the window, with 5% SE."""
    dates = data["date"].iloc[WINDOW]
    lift = float(truth.contributions[channel].iloc[WINDOW].sum())
    return {
        "channel": channel,
        "start": str(dates.iloc[0].date()),
        "end": str(dates.iloc[-1].date()),
        "lift": lift,
        "se": se_share * lift,
    }


def misattributed(results: dict, truth: SyntheticTruth) -> float:
    true = truth.channels
    error = sum(abs(results["channels"][c]["contribution"] - true[c]["contribution"]) for c in true)
    return error / sum(true[c]["contribution"] for c in true)


@pytest.fixture(scope="module", params=[0, 2])
def hard_case(request) -> tuple:
    """The default mix (search follows demand, social follows search): unidentifiable alone."""
    data, truth = generate_mmm_data(156, 5, seed=request.param, noise=0.03)
    plain = EconometricMMM().fit(data, **truth.fit_arguments())
    exp = experiment(data, truth, "search_spend")
    calibrated = EconometricMMM().fit(data, **truth.fit_arguments(), calibration=[exp])
    return data, truth, plain, calibrated, exp


def test_an_experiment_brings_its_channel_to_the_truth_with_an_honest_interval(hard_case) -> None:
    _, truth, plain, calibrated, _ = hard_case
    true_roi = truth.channels["search_spend"]["roi"]
    est = calibrated["channels"]["search_spend"]
    assert est["roi"] == pytest.approx(true_roi, rel=0.10)
    lo, hi = est["roi_interval"]
    assert lo <= true_roi <= hi
    assert hi - lo < 0.5 * (plain["channels"]["search_spend"]["roi_interval"][1])


def test_calibration_reduces_misattributed_media_revenue(hard_case) -> None:
    _, truth, plain, calibrated, _ = hard_case
    assert misattributed(calibrated, truth) < misattributed(plain, truth)


def test_results_report_implied_against_measured_lift(hard_case) -> None:
    _, _, plain, calibrated, exp = hard_case
    assert plain["calibration"] == []
    (row,) = calibrated["calibration"]
    assert row["channel"] == "search_spend" and row["periods"] == 12
    assert row["measured"] == pytest.approx(exp["lift"])
    assert row["agrees"] and abs(row["z"]) < 2
    assert row["used_in_search"]


def test_without_dates_the_window_is_given_by_row_positions() -> None:
    data, truth = generate_mmm_data(104, ["tv", "radio"], seed=1, noise=0.01)
    lift = float(truth.contributions["tv_spend"].iloc[20:33].sum())
    frame = data.drop(columns="date")
    results = EconometricMMM(n_bootstrap=20, n_candidates=64, n_sweeps=2).fit(
        frame,
        "revenue",
        truth.spend_columns,
        control_columns=truth.control_columns,
        calibration=[
            {
                "channel": "tv_spend",
                "start": 20,
                "end": 32,
                "lift": lift,
                "ci": [0.9 * lift, 1.1 * lift],
            }
        ],
    )
    assert results["calibration"][0]["periods"] == 13


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"channel": "serch_spend"}, "did you mean 'search_spend'"),
        ({"se": None, "ci": None}, "needs 'se' or a 90% 'ci'"),
        ({"se": -1.0}, "must be > 0"),
        ({"start": "2030-01-01", "end": "2030-03-01"}, "holds no fitted period"),
        ({"lift": "a lot"}, "must be a number"),
    ],
)
def test_bad_experiments_are_clear_errors(change: dict, fragment: str) -> None:
    data, truth = generate_mmm_data(104, ["tv", "search"], seed=1)
    exp = experiment(data, truth, "search_spend") | change
    exp = {k: v for k, v in exp.items() if v is not None}
    with pytest.raises(DataIntegrationError, match=fragment) as info:
        EconometricMMM(n_bootstrap=0).fit(data, **truth.fit_arguments(), calibration=[exp])
    assert info.value.hint
