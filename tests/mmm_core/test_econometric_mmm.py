"""Tests of EconometricMMM: the results contract, options, response curves, persistence,
errors, and properties of predictions on arbitrary spend.

Fitted models come from session fixtures in ``tests/conftest.py`` and are read-only here; tests
that need to change a model fit their own (cheap: nothing searched, or a tiny search).
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mmm_core import MMM_DEFAULT_CONFIG, EconometricMMM
from mmm_core.errors import Codes, DataIntegrationError, MMModelError
from mmm_core.models import config as mmm_config
from mmm_core.models.econometric_mmm import SCHEMA_VERSION

PERFORMANCE_KEYS = {"r2_score", "mape", "rmse", "mean_actual", "mean_predicted", "holdout"}
CHANNEL_KEYS = {
    "spend",
    "contribution",
    "share",
    "roi",
    "mroi",
    "roi_interval",
    "adstock",
    "saturation",
}
TOP_KEYS = {"performance", "channels", "baseline", "synergies", "hyperparameters", "diagnostics"}
# Fixed nothing-searched settings for cheap extra fits.
FIXED: dict[str, Any] = {**MMM_DEFAULT_CONFIG, "n_bootstrap": 0}


def _without_timings(results: dict[str, Any]) -> dict[str, Any]:
    """Results minus the wall-clock fields, which legitimately differ between equal fits."""
    out = copy.deepcopy(results)
    out["diagnostics"].pop("fit_seconds")
    out["diagnostics"]["search"].pop("seconds")
    out["diagnostics"]["search"].pop("candidates_per_second")
    return out


def _typical_spend(frame: pd.DataFrame, column: str) -> float:
    values = frame[column]
    return float(values[values > 0].mean())


def _spend_only(model: EconometricMMM, spend: np.ndarray) -> pd.DataFrame:
    """A prediction frame with the model's spend columns and its controls at fixed values."""
    frame = pd.DataFrame(spend, columns=model.spend_columns_)
    for k, col in enumerate(model.control_columns_):
        frame[col] = float(model.control_sd_[k])  # any fixed value
    return frame


# ============================================================================ 1. contract


def test_public_names_import_from_the_package_root_and_the_module() -> None:
    from mmm_core import MMM_DEFAULT_CONFIG as ROOT_CONFIG
    from mmm_core import EconometricMMM as FromRoot
    from mmm_core.models.econometric_mmm import EconometricMMM as FromModule

    assert FromRoot is FromModule
    assert ROOT_CONFIG == {
        "adstock_rate": 0.5,
        "saturation_param": 0.6,
        "regularization_alpha": 0.1,
        "include_baseline": True,
        "max_iterations": 1000,
    }


def test_constructor_stores_params_as_given_and_does_no_work() -> None:
    per_channel = {"tv_spend": 0.3}
    # Invalid values are accepted by the constructor: validation happens in fit (sklearn style).
    model = EconometricMMM(
        adstock_rate=per_channel, saturation_param=-1, adstock="foo", n_bootstrap=-1
    )
    params = model.get_params()
    assert params["adstock_rate"] is per_channel
    assert params["saturation_param"] == -1
    assert params["adstock"] == "foo"
    assert params["n_bootstrap"] == -1
    assert not hasattr(model, "coef_")
    assert not hasattr(model, "results_")


def test_get_params_round_trips_through_the_constructor() -> None:
    model = EconometricMMM(
        adstock_rate={"tv_spend": {"type": "weibull", "shape": 2.0, "scale": 3.0}},
        saturation_param=0.8,
        regularization_alpha="auto",
        include_baseline=False,
        max_iterations=50,
        adstock="weibull",
        max_lag=8,
        n_fourier=1,
        n_candidates=16,
        n_sweeps=1,
        cv_folds=4,
        holdout_periods=0,
        n_bootstrap=5,
        random_state=7,
    )
    params = model.get_params()
    assert EconometricMMM(**params).get_params() == params
    # every constructor argument, and nothing else, is a param
    assert set(params) == set(inspect.signature(EconometricMMM).parameters)
    assert params["adstock"] == "weibull" and params["random_state"] == 7


def test_default_config_fits_with_exactly_the_given_hyperparameters(
    default_mmm: EconometricMMM, mmm_frame: pd.DataFrame, spend_columns: list[str]
) -> None:
    results = default_mmm.results_
    assert results["hyperparameters"]["regularization_alpha"] == 0.1
    assert results["diagnostics"]["search"]["candidates_evaluated"] == 0
    for col in spend_columns:
        channel = results["channels"][col]
        assert channel["hyperparameters_searched"] is False
        assert channel["adstock"]["type"] == "geometric"
        assert channel["adstock"]["rate"] == 0.5
        assert channel["saturation"]["type"] == "hill"
        assert channel["saturation"]["shape"] == 1.0
        assert channel["saturation"]["half_saturation"] == pytest.approx(
            0.6 * _typical_spend(mmm_frame, col), rel=1e-12
        )
        assert results["hyperparameters"]["channels"][col] == {
            "adstock": channel["adstock"],
            "saturation": channel["saturation"],
        }


def test_fitting_does_not_change_the_default_config(default_mmm: EconometricMMM) -> None:
    assert default_mmm.get_params()["adstock_rate"] == 0.5
    assert MMM_DEFAULT_CONFIG == {
        "adstock_rate": 0.5,
        "saturation_param": 0.6,
        "regularization_alpha": 0.1,
        "include_baseline": True,
        "max_iterations": 1000,
    }


def test_results_have_the_documented_keys(
    default_mmm: EconometricMMM, spend_columns: list[str]
) -> None:
    results = default_mmm.results_
    assert set(results) >= TOP_KEYS
    assert set(results["performance"]) >= PERFORMANCE_KEYS
    holdout = results["performance"]["holdout"]
    assert holdout is not None  # 104 weeks with "auto" holdout: 8 weeks held out
    assert {"r2_score", "mape", "rmse", "periods"} <= set(holdout)
    assert list(results["channels"]) == spend_columns
    for col in spend_columns:
        channel = results["channels"][col]
        assert set(channel) >= CHANNEL_KEYS
        lo, hi = channel["roi_interval"]
        assert math.isfinite(lo) and math.isfinite(hi) and lo <= hi
        assert isinstance(channel["adstock"], dict) and isinstance(channel["saturation"], dict)
    assert results["synergies"] == {}
    assert isinstance(results["baseline"], dict)
    assert isinstance(results["diagnostics"], dict)


@pytest.mark.parametrize("name", ["default_mmm", "auto_mmm", "synergy_mmm"])
def test_results_are_strict_json(name: str, request: pytest.FixtureRequest) -> None:
    results = request.getfixturevalue(name).results_
    text = json.dumps(results, allow_nan=False)
    assert json.loads(text) == results


@pytest.mark.parametrize("name", ["default_mmm", "auto_mmm", "synergy_mmm"])
def test_roi_is_contribution_over_spend_and_shares_sum_to_one(
    name: str, request: pytest.FixtureRequest, mmm_frame: pd.DataFrame
) -> None:
    results = request.getfixturevalue(name).results_
    channels = results["channels"]
    for col, channel in channels.items():
        assert channel["spend"] == pytest.approx(mmm_frame[col].sum(), rel=1e-12)
        assert channel["roi"] == pytest.approx(channel["contribution"] / channel["spend"])
        assert channel["share"] >= 0.0
    assert sum(c["share"] for c in channels.values()) == pytest.approx(1.0, abs=1e-12)
    total = sum(c["contribution"] for c in channels.values())
    for channel in channels.values():
        assert channel["share"] == pytest.approx(channel["contribution"] / total)


def test_performance_matches_the_fitted_values(
    default_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    perf = default_mmm.results_["performance"]
    y = mmm_frame["revenue"].to_numpy()
    pred = default_mmm.predict(mmm_frame)
    assert perf["mean_actual"] == pytest.approx(y.mean(), rel=1e-12)
    assert perf["mean_predicted"] == pytest.approx(pred.mean(), rel=1e-9)
    assert perf["rmse"] == pytest.approx(np.sqrt(np.mean((y - pred) ** 2)), rel=1e-9)
    assert perf["mape"] == pytest.approx(100 * np.mean(np.abs((y - pred) / y)), rel=1e-9)
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert perf["r2_score"] == pytest.approx(r2, rel=1e-9)


@pytest.mark.parametrize("name", ["default_mmm", "auto_mmm", "synergy_mmm"])
def test_get_attribution_on_training_data_equals_the_results_shares(
    name: str, request: pytest.FixtureRequest, mmm_frame: pd.DataFrame
) -> None:
    model = request.getfixturevalue(name)
    attribution = model.get_attribution(mmm_frame)
    assert list(attribution) == model.spend_columns_
    assert all(isinstance(v, float) for v in attribution.values())
    assert sum(attribution.values()) == pytest.approx(1.0, abs=1e-12)
    for col, share in attribution.items():
        assert share == pytest.approx(model.results_["channels"][col]["share"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ["default_mmm", "auto_mmm", "synergy_mmm"])
def test_predict_is_an_array_equal_to_the_sum_of_decompose(
    name: str, request: pytest.FixtureRequest, mmm_frame: pd.DataFrame
) -> None:
    model = request.getfixturevalue(name)
    pred = model.predict(mmm_frame)
    assert isinstance(pred, np.ndarray)
    assert pred.shape == (len(mmm_frame),)
    parts = model.decompose(mmm_frame)
    assert list(parts.columns) == [
        "baseline",
        *model.control_columns_,
        *model.spend_columns_,
    ]
    assert len(parts) == len(mmm_frame)
    np.testing.assert_allclose(parts.sum(axis=1).to_numpy(), pred, rtol=1e-10)


def test_decompose_channel_totals_equal_the_results_contributions(
    synergy_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    parts = synergy_mmm.decompose(mmm_frame)
    for col in synergy_mmm.spend_columns_:
        assert parts[col].sum() == pytest.approx(
            synergy_mmm.results_["channels"][col]["contribution"], rel=1e-9
        )


def test_mroi_is_the_steady_state_gradient_at_mean_spend(
    synergy_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    mean_spend = mmm_frame[synergy_mmm.spend_columns_].mean().to_numpy()
    gradient = synergy_mmm.steady_state_gradient(mean_spend)
    for j, col in enumerate(synergy_mmm.spend_columns_):
        assert synergy_mmm.results_["channels"][col]["mroi"] == pytest.approx(gradient[j], rel=1e-9)


# ============================================================================ 2. options


@pytest.fixture(scope="module")
def mixed_mmm(
    mmm_frame: pd.DataFrame, spend_columns: list[str], fast_fit: dict[str, Any]
) -> EconometricMMM:
    """tv fixed (geometric 0.3, Hill 25000/1.5), search Weibull fixed, social searched."""
    model = EconometricMMM(
        adstock_rate={
            "tv_spend": 0.3,
            "search_spend": {"type": "weibull", "shape": 2.0, "scale": 3.0},
            "social_spend": "auto",
        },
        saturation_param={"tv_spend": {"half_saturation": 25_000.0, "shape": 1.5}},
        **fast_fit,
    )
    model.fit(mmm_frame, "revenue", spend_columns)
    return model


def test_per_channel_dicts_fix_the_named_channels_and_search_the_rest(
    mixed_mmm: EconometricMMM,
) -> None:
    channels = mixed_mmm.results_["channels"]
    tv = channels["tv_spend"]
    assert tv["adstock"] == {"type": "geometric", "max_lag": 13, "rate": 0.3}
    assert tv["saturation"] == {"type": "hill", "half_saturation": 25_000.0, "shape": 1.5}
    assert tv["hyperparameters_searched"] is False
    assert channels["social_spend"]["hyperparameters_searched"] is True
    assert mixed_mmm.results_["diagnostics"]["search"]["candidates_evaluated"] > 0


def test_weibull_adstock_spec_is_honoured(mixed_mmm: EconometricMMM) -> None:
    search = mixed_mmm.results_["channels"]["search_spend"]
    assert search["adstock"] == {"type": "weibull", "max_lag": 13, "shape": 2.0, "scale": 3.0}
    # the adstock was fixed, the saturation (not named in saturation_param) searched
    assert search["hyperparameters_searched"] is True


def test_weibull_family_is_searched_for_auto_channels(
    mmm_frame: pd.DataFrame, spend_columns: list[str], fast_fit: dict[str, Any]
) -> None:
    model = EconometricMMM(adstock="weibull", **{**fast_fit, "n_bootstrap": 0})
    results = model.fit(mmm_frame, "revenue", spend_columns)
    for col in spend_columns:
        adstock = results["channels"][col]["adstock"]
        assert adstock["type"] == "weibull"
        assert adstock["shape"] > 0 and adstock["scale"] > 0
    assert results["hyperparameters"]["adstock_family"] == "weibull"


def test_fit_does_not_mutate_dict_params(mmm_frame: pd.DataFrame, spend_columns: list[str]) -> None:
    adstock_rate = {
        "tv_spend": {"type": "weibull", "shape": 2.0, "scale": 3.0},
        "social_spend": 0.2,
    }
    saturation = {"tv_spend": {"half_saturation": 25_000.0, "shape": 1.5}, "search_spend": 0.9}
    before = copy.deepcopy((adstock_rate, saturation))
    model = EconometricMMM(
        adstock_rate=adstock_rate,
        saturation_param=saturation,
        n_bootstrap=0,
        n_candidates=8,
        n_sweeps=1,
    )
    model.fit(mmm_frame, "revenue", spend_columns)
    assert (adstock_rate, saturation) == before
    assert model.get_params()["adstock_rate"] is adstock_rate


def test_auto_regularization_picks_a_value_from_the_grid(synergy_mmm: EconometricMMM) -> None:
    hyper = synergy_mmm.results_["hyperparameters"]
    assert hyper["regularization_alpha"] in mmm_config.ALPHA_GRID
    assert synergy_mmm.alpha_ == hyper["regularization_alpha"]
    assert {float(k) for k in hyper["alpha_cv_mse"]} == set(mmm_config.ALPHA_GRID)


def test_synergies_report_every_pair_with_non_negative_coefficients(
    synergy_mmm: EconometricMMM, spend_columns: list[str]
) -> None:
    synergies = synergy_mmm.results_["synergies"]
    expected = {f"{a}:{b}" for i, a in enumerate(spend_columns) for b in spend_columns[i + 1 :]}
    assert set(synergies) == expected
    for name, entry in synergies.items():
        assert entry["channels"] == name.split(":")
        assert entry["coefficient"] >= 0.0
        assert entry["contribution"] >= 0.0


def test_without_baseline_there_is_no_intercept(
    mmm_frame: pd.DataFrame, spend_columns: list[str]
) -> None:
    model = EconometricMMM(**{**FIXED, "include_baseline": False})
    results = model.fit(mmm_frame, "revenue", spend_columns)
    assert "intercept" not in model.feature_names_
    assert model.feature_names_ == spend_columns
    assert results["baseline"]["intercept"] == 0.0
    assert results["baseline"]["total"] == 0.0
    parts = model.decompose(mmm_frame)
    assert (parts["baseline"] == 0.0).all()
    np.testing.assert_allclose(parts.sum(axis=1).to_numpy(), model.predict(mmm_frame), rtol=1e-10)


def test_control_columns_are_used(
    synergy_mmm: EconometricMMM, control_columns: list[str], mmm_frame: pd.DataFrame
) -> None:
    results = synergy_mmm.results_
    assert list(results["baseline"]["controls"]) == control_columns
    assert synergy_mmm.control_columns_ == control_columns
    assert set(control_columns) <= set(synergy_mmm.feature_names_)
    parts = synergy_mmm.decompose(mmm_frame)
    # promotions and price move revenue in the generated data: the controls are not ignored
    assert any(np.abs(parts[col]).max() > 0 for col in control_columns)
    with pytest.raises(MMModelError) as info:
        synergy_mmm.predict(mmm_frame.drop(columns="promo"))
    assert info.value.code == Codes.COLUMNS_MISMATCH
    assert "promo" in str(info.value)


def test_date_column_is_detected(default_mmm: EconometricMMM) -> None:
    diagnostics = default_mmm.results_["diagnostics"]
    assert diagnostics["date_column"] == "date"
    assert diagnostics["periods_per_year"] == pytest.approx(52.1775)


def test_date_column_is_detected_by_name_from_iso_strings(
    mmm_frame: pd.DataFrame, spend_columns: list[str], default_mmm: EconometricMMM
) -> None:
    frame = mmm_frame.rename(columns={"date": "week"})
    frame["week"] = frame["week"].dt.strftime("%Y-%m-%d")
    model = EconometricMMM(**FIXED)
    results = model.fit(frame, "revenue", spend_columns)
    assert results["diagnostics"]["date_column"] == "week"
    np.testing.assert_allclose(model.coef_, default_mmm.coef_, rtol=1e-9)


def test_explicit_date_column_and_shuffled_rows_fit_like_sorted_data(
    mmm_frame: pd.DataFrame, spend_columns: list[str], default_mmm: EconometricMMM
) -> None:
    shuffled = mmm_frame.sample(frac=1.0, random_state=0)
    model = EconometricMMM(**FIXED)
    results = model.fit(shuffled, "revenue", spend_columns, date_column="date")
    assert results["diagnostics"]["date_column"] == "date"
    np.testing.assert_allclose(model.coef_, default_mmm.coef_, rtol=1e-9)


def test_data_without_dates_fits_and_predicts(
    mmm_frame: pd.DataFrame, spend_columns: list[str], default_mmm: EconometricMMM
) -> None:
    frame = mmm_frame.drop(columns="date")
    model = EconometricMMM(**FIXED)
    results = model.fit(frame, "revenue", spend_columns)
    assert results["diagnostics"]["date_column"] is None
    assert any("no date column" in w for w in results["diagnostics"]["warnings"])
    # consecutive weekly rows without dates are the same design as with weekly dates
    np.testing.assert_allclose(model.coef_, default_mmm.coef_, rtol=1e-9, atol=1e-12)
    pred = model.predict(frame)
    assert pred.shape == (len(frame),) and np.all(np.isfinite(pred))
    assert list(model.decompose(frame).index) == list(frame.index)


def test_same_random_state_gives_identical_results(
    mmm_frame: pd.DataFrame, spend_columns: list[str], fast_fit: dict[str, Any]
) -> None:
    runs = [
        EconometricMMM(random_state=seed, **fast_fit).fit(mmm_frame, "revenue", spend_columns)
        for seed in (3, 3, 4)
    ]
    assert _without_timings(runs[0]) == _without_timings(runs[1])
    # a different seed is actually used (the bootstrap draws differ); both fits are valid
    assert _without_timings(runs[0]) != _without_timings(runs[2])
    assert sum(c["share"] for c in runs[2]["channels"].values()) == pytest.approx(1.0)


def test_n_bootstrap_zero_gives_no_intervals(
    mmm_frame: pd.DataFrame, spend_columns: list[str]
) -> None:
    results = EconometricMMM(**FIXED).fit(mmm_frame, "revenue", spend_columns)
    for channel in results["channels"].values():
        assert channel["roi_interval"] is None
    assert results["diagnostics"]["bootstrap"]["replicates"] == 0
    json.dumps(results, allow_nan=False)


# ============================================================================ 3. response


def test_response_curve_draws_are_one_curve_per_replicate_and_the_results_band_their_quantiles(
    auto_mmm: EconometricMMM,
) -> None:
    replicates = auto_mmm.results_["diagnostics"]["bootstrap"]["replicates"]
    for col, curve in auto_mmm.results_["response_curves"].items():
        spend = np.asarray(curve["spend"])
        draws = auto_mmm.response_curve(col, spend, draws=True)
        assert draws.shape == (replicates, spend.size)
        assert np.all(draws[:, 0] == 0.0) and np.all(np.diff(draws, axis=1) >= 0.0)
        lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
        np.testing.assert_allclose(curve["revenue_interval"], [lo, hi], rtol=1e-12)
        assert np.all(lo <= hi)


def test_without_replicates_curve_draws_are_the_point_curve_and_results_have_no_band(
    mmm_frame: pd.DataFrame, spend_columns: list[str]
) -> None:
    model = EconometricMMM(**FIXED)
    results = model.fit(mmm_frame, "revenue", spend_columns)
    spend = np.linspace(0.0, 2 * model.mean_spend_[0], 9)
    draws = model.response_curve(spend_columns[0], spend, draws=True)
    np.testing.assert_array_equal(draws, model.response_curve(spend_columns[0], spend)[None, :])
    assert all("revenue_interval" not in c for c in results["response_curves"].values())


@pytest.mark.parametrize("name", ["default_mmm", "auto_mmm"])
def test_response_curve_starts_at_zero_rises_and_matches_steady_state_response(
    name: str, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(name)
    m = len(model.spend_columns_)
    for j, col in enumerate(model.spend_columns_):
        spend = np.linspace(0.0, 5 * model.mean_spend_[j], 41)
        curve = model.response_curve(col, spend)
        assert curve.shape == spend.shape
        assert curve[0] == 0.0
        assert np.all(np.diff(curve) >= 0.0)
        steady = np.zeros((spend.size, m))
        steady[:, j] = spend
        np.testing.assert_allclose(curve, model.steady_state_response(steady), rtol=1e-12)


def test_response_curve_with_synergies_holds_other_channels_at_mean_spend(
    synergy_mmm: EconometricMMM,
) -> None:
    mean = synergy_mmm.mean_spend_
    for j, col in enumerate(synergy_mmm.spend_columns_):
        spend = np.linspace(0.0, 3 * mean[j], 13)
        curve = synergy_mmm.response_curve(col, spend)
        assert curve[0] == 0.0
        assert np.all(np.diff(curve) >= 0.0)
        at = np.tile(mean, (spend.size, 1))
        at[:, j] = spend
        off = mean.copy()
        off[j] = 0.0
        expected = synergy_mmm.steady_state_response(at) - synergy_mmm.steady_state_response(off)
        np.testing.assert_allclose(curve, expected, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("name", ["default_mmm", "auto_mmm", "synergy_mmm"])
def test_steady_state_gradient_matches_finite_differences(
    name: str, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(name)
    mean = model.mean_spend_
    m = mean.size
    for point in (mean, 2.0 * mean, mean * np.linspace(0.5, 1.5, m)):
        gradient = model.steady_state_gradient(point)
        assert gradient.shape == (m,)
        for j in range(m):
            h = 1e-4 * point[j]
            step = np.zeros(m)
            step[j] = h
            numeric = (
                model.steady_state_response(point + step)
                - model.steady_state_response(point - step)
            ) / (2 * h)
            assert gradient[j] == pytest.approx(numeric, rel=1e-5, abs=1e-9)


def test_steady_state_functions_broadcast_over_leading_axes(auto_mmm: EconometricMMM) -> None:
    grid = np.stack([auto_mmm.mean_spend_ * f for f in (0.5, 1.0, 2.0)])
    response = auto_mmm.steady_state_response(grid)
    gradient = auto_mmm.steady_state_gradient(grid)
    assert response.shape == (3,)
    assert gradient.shape == (3, len(auto_mmm.spend_columns_))
    for k in range(3):
        assert response[k] == pytest.approx(auto_mmm.steady_state_response(grid[k]))


def test_response_curve_with_an_unknown_channel_suggests_the_right_one(
    auto_mmm: EconometricMMM,
) -> None:
    with pytest.raises(MMModelError) as info:
        auto_mmm.response_curve("tv_spnd", [0.0, 1.0])
    assert info.value.code == Codes.UNKNOWN_CHANNEL
    assert "tv_spnd" in info.value.message
    assert "did you mean 'tv_spend'" in (info.value.hint or "")


def test_response_curve_rejects_negative_spend(auto_mmm: EconometricMMM) -> None:
    with pytest.raises(DataIntegrationError) as info:
        auto_mmm.response_curve("tv_spend", [-1.0, 1.0])
    assert info.value.code == Codes.NEGATIVE_SPEND


# ============================================================================ 4. persistence


@pytest.mark.parametrize("name", ["default_mmm", "synergy_mmm"])
def test_save_then_load_gives_identical_predictions_and_results(
    name: str, request: pytest.FixtureRequest, tmp_path: Path, mmm_frame: pd.DataFrame
) -> None:
    model = request.getfixturevalue(name)
    written = model.save(tmp_path)
    assert written == tmp_path / "model.json"
    loaded = EconometricMMM.load(tmp_path)
    for frame in (mmm_frame, mmm_frame.iloc[-20:], mmm_frame.drop(columns="date")):
        np.testing.assert_allclose(loaded.predict(frame), model.predict(frame), rtol=1e-12)
    pd.testing.assert_frame_equal(loaded.decompose(mmm_frame), model.decompose(mmm_frame))
    assert loaded.results_ == json.loads(json.dumps(model.results_))
    assert loaded.get_params() == model.get_params()
    assert loaded.to_dict() == model.to_dict()
    assert loaded.get_attribution(mmm_frame) == model.get_attribution(mmm_frame)
    spend = model.mean_spend_
    np.testing.assert_allclose(
        loaded.steady_state_gradient(spend), model.steady_state_gradient(spend), rtol=1e-12
    )


def test_save_to_a_file_path_and_load_from_it(
    auto_mmm: EconometricMMM, tmp_path: Path, mmm_frame: pd.DataFrame
) -> None:
    target = tmp_path / "nested" / "dir" / "my-model.json"
    assert auto_mmm.save(target) == target
    loaded = EconometricMMM.load(str(target))
    np.testing.assert_allclose(loaded.predict(mmm_frame), auto_mmm.predict(mmm_frame), rtol=1e-12)


def test_save_is_atomic_and_leaves_no_temp_file(
    auto_mmm: EconometricMMM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auto_mmm.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    first = (tmp_path / "model.json").read_bytes()

    # a write that fails at the rename leaves the old file intact and no temp file behind
    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("mmm_core.models.econometric_mmm.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        auto_mmm.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    assert (tmp_path / "model.json").read_bytes() == first


def test_saved_model_is_plain_json_with_a_schema(auto_mmm: EconometricMMM, tmp_path: Path) -> None:
    path = auto_mmm.save(tmp_path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["schema"] == "mmm_core.EconometricMMM"
    assert doc["schema_version"] == SCHEMA_VERSION


def test_loading_never_unpickles(
    auto_mmm: EconometricMMM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(auto_mmm.to_dict()))

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("load() must not unpickle")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(pickled)
    assert info.value.code == Codes.CORRUPT_MODEL_FILE
    auto_mmm.save(tmp_path)
    EconometricMMM.load(tmp_path)  # a real model loads without pickle


def _write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="corrupt-json"),
        pytest.param(b"", id="empty-file"),
        pytest.param(b"\xff\xfe\x00garbage", id="binary"),
        pytest.param(b'["a", "list"]', id="json-list"),
        pytest.param(b'{"schema": "someone.else", "schema_version": 1}', id="wrong-schema"),
        pytest.param(b"null", id="json-null"),
    ],
)
def test_load_of_a_damaged_file_is_a_corrupt_model_error(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(content)
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(path)
    assert info.value.code == Codes.CORRUPT_MODEL_FILE


def test_load_of_a_truncated_file_is_a_corrupt_model_error(
    auto_mmm: EconometricMMM, tmp_path: Path
) -> None:
    path = auto_mmm.save(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(path)
    assert info.value.code == Codes.CORRUPT_MODEL_FILE
    assert "model.json" in info.value.message


def test_load_of_a_missing_file_is_a_corrupt_model_error(tmp_path: Path) -> None:
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(tmp_path / "nope")
    assert info.value.code == Codes.CORRUPT_MODEL_FILE
    assert "nope" in info.value.message


@pytest.mark.parametrize(
    "key",
    [
        "config",
        "target_column",
        "spend_columns",
        "control_columns",
        "time",
        "baseline",
        "scaling",
        "alpha",
        "channels",
        "feature_names",
        "coef",
        "results",
    ],
)
def test_load_with_a_missing_key_is_a_corrupt_model_error(
    key: str, auto_mmm: EconometricMMM, tmp_path: Path
) -> None:
    doc = auto_mmm.to_dict()
    del doc[key]
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(_write(tmp_path / "model.json", doc))
    assert info.value.code == Codes.CORRUPT_MODEL_FILE


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d.update(coef=d["coef"][:-1]), id="short-coef"),
        pytest.param(lambda d: d.update(coef=["x"] * len(d["coef"])), id="text-coef"),
        pytest.param(lambda d: d.update(channels=d["channels"][:-1]), id="short-channels"),
        pytest.param(lambda d: d["config"].update(bogus=1), id="unknown-config-key"),
        pytest.param(lambda d: d.update(time=[1, 2, 3]), id="time-not-a-dict"),
    ],
)
def test_load_with_wrong_values_is_a_corrupt_model_error(
    damage: Any, auto_mmm: EconometricMMM, tmp_path: Path
) -> None:
    doc = auto_mmm.to_dict()
    damage(doc)
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(_write(tmp_path / "model.json", doc))
    assert info.value.code == Codes.CORRUPT_MODEL_FILE


def test_load_with_a_channel_missing_saturation_keys_is_a_corrupt_model_error(
    auto_mmm: EconometricMMM, tmp_path: Path, mmm_frame: pd.DataFrame
) -> None:
    doc = auto_mmm.to_dict()
    del doc["channels"][0]["saturation"]["half_saturation"]
    path = _write(tmp_path / "model.json", doc)
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(path).predict(mmm_frame)
    assert info.value.code == Codes.CORRUPT_MODEL_FILE


def test_load_with_an_unknown_adstock_type_is_a_corrupt_model_error(
    auto_mmm: EconometricMMM, tmp_path: Path
) -> None:
    doc = auto_mmm.to_dict()
    doc["channels"][0]["adstock"]["type"] = "nope"
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(_write(tmp_path / "model.json", doc))
    assert info.value.code == Codes.CORRUPT_MODEL_FILE


def test_load_without_schema_version_is_a_corrupt_model_error(
    auto_mmm: EconometricMMM, tmp_path: Path
) -> None:
    doc = auto_mmm.to_dict()
    del doc["schema_version"]
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(_write(tmp_path / "model.json", doc))
    assert info.value.code == Codes.CORRUPT_MODEL_FILE


def test_load_of_a_newer_schema_version_asks_for_an_upgrade(
    auto_mmm: EconometricMMM, tmp_path: Path
) -> None:
    doc = auto_mmm.to_dict()
    doc["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(MMModelError) as info:
        EconometricMMM.load(_write(tmp_path / "model.json", doc))
    assert info.value.code == Codes.NEWER_SCHEMA
    assert str(SCHEMA_VERSION + 1) in info.value.message


# ============================================================================ 5. errors


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda m, df: m.predict(df), id="predict"),
        pytest.param(lambda m, df: m.decompose(df), id="decompose"),
        pytest.param(lambda m, df: m.get_attribution(df), id="get_attribution"),
        pytest.param(lambda m, df: m.response_curve("tv_spend", [1.0]), id="response_curve"),
        pytest.param(lambda m, df: m.steady_state_response([1.0, 1.0, 1.0]), id="steady_state"),
        pytest.param(lambda m, df: m.steady_state_gradient([1.0, 1.0, 1.0]), id="gradient"),
        pytest.param(lambda m, df: m.to_dict(), id="to_dict"),
    ],
)
def test_using_an_unfitted_model_is_a_not_fitted_error(call: Any, mmm_frame: pd.DataFrame) -> None:
    with pytest.raises(MMModelError) as info:
        call(EconometricMMM(), mmm_frame)
    assert info.value.code == Codes.NOT_FITTED
    assert "not fitted" in info.value.message
    assert "fit(" in (info.value.hint or "")


def test_save_of_an_unfitted_model_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(MMModelError) as info:
        EconometricMMM().save(tmp_path)
    assert info.value.code == Codes.NOT_FITTED
    assert list(tmp_path.iterdir()) == []


def test_predict_with_a_missing_spend_column_names_it(
    auto_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    with pytest.raises(MMModelError) as info:
        auto_mmm.predict(mmm_frame.drop(columns="search_spend"))
    assert info.value.code == Codes.COLUMNS_MISMATCH
    assert "search_spend" in info.value.message


def test_misspelled_spend_column_at_fit_suggests_the_right_one(
    mmm_frame: pd.DataFrame,
) -> None:
    with pytest.raises(DataIntegrationError) as info:
        EconometricMMM(**FIXED).fit(mmm_frame, "revenue", ["tv_spnd", "search_spend"])
    assert info.value.code == Codes.MISSING_COLUMN
    assert "tv_spnd" in info.value.message
    assert "did you mean 'tv_spend'" in str(info.value)


def _edit(frame: pd.DataFrame, column: str, row: int, value: Any) -> pd.DataFrame:
    out = frame.copy()
    if isinstance(value, str) and column != "date":
        out[column] = out[column].astype(object)
    out.loc[out.index[row], column] = value
    return out


@pytest.mark.parametrize(
    ("make", "code", "named"),
    [
        pytest.param(
            lambda f: _edit(f, "tv_spend", 5, np.nan), Codes.NON_FINITE, "tv_spend", id="nan"
        ),
        pytest.param(
            lambda f: _edit(f, "revenue", 7, np.inf), Codes.NON_FINITE, "revenue", id="inf"
        ),
        pytest.param(
            lambda f: _edit(f, "search_spend", 3, -10.0),
            Codes.NEGATIVE_SPEND,
            "search_spend",
            id="negative-spend",
        ),
        pytest.param(lambda f: f.iloc[:20], Codes.TOO_FEW_ROWS, "20 rows", id="too-few-rows"),
        pytest.param(
            lambda f: f.assign(social_spend=0.0),
            Codes.ZERO_CHANNEL,
            "social_spend",
            id="all-zero-channel",
        ),
        pytest.param(
            lambda f: _edit(f, "date", 1, f["date"].iloc[0]),
            Codes.DUPLICATE_DATES,
            "2022-01-03",
            id="duplicate-dates",
        ),
        pytest.param(
            lambda f: f.assign(revenue=1000.0), Codes.CONSTANT_TARGET, "revenue", id="constant"
        ),
        pytest.param(
            lambda f: _edit(f, "tv_spend", 2, "lots"), Codes.NON_NUMERIC, "tv_spend", id="text"
        ),
    ],
)
def test_bad_training_data_raises_a_data_error_naming_the_problem(
    make: Any, code: str, named: str, mmm_frame: pd.DataFrame, spend_columns: list[str]
) -> None:
    frame = make(mmm_frame)
    with pytest.raises(DataIntegrationError) as info:
        EconometricMMM(**FIXED).fit(frame, "revenue", spend_columns)
    assert info.value.code == code
    assert named in info.value.message


def test_bad_prediction_data_raises_a_data_error(
    auto_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    with pytest.raises(DataIntegrationError) as info:
        auto_mmm.predict(_edit(mmm_frame, "tv_spend", 4, -1.0))
    assert info.value.code == Codes.NEGATIVE_SPEND
    assert "tv_spend" in info.value.message
    with pytest.raises(DataIntegrationError) as info:
        auto_mmm.get_attribution(_edit(mmm_frame, "tv_spend", 4, np.nan))
    assert info.value.code == Codes.NON_FINITE


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        pytest.param({"adstock_rate": 1.5}, Codes.INVALID_PARAMETER, "1.5", id="rate-1.5"),
        pytest.param({"adstock_rate": -0.1}, Codes.INVALID_PARAMETER, "-0.1", id="rate-neg"),
        pytest.param(
            {"saturation_param": -1}, Codes.INVALID_PARAMETER, "saturation_param", id="sat-neg"
        ),
        pytest.param(
            {"saturation_param": "big"}, Codes.INVALID_PARAMETER, "saturation_param", id="sat-str"
        ),
        pytest.param(
            {"regularization_alpha": "x"},
            Codes.INVALID_PARAMETER,
            "regularization_alpha",
            id="alpha-str",
        ),
        pytest.param(
            {"regularization_alpha": -1.0},
            Codes.INVALID_PARAMETER,
            "regularization_alpha",
            id="alpha-neg",
        ),
        pytest.param({"n_bootstrap": -1}, Codes.INVALID_PARAMETER, "n_bootstrap", id="boot"),
        pytest.param({"n_bootstrap": 2.5}, Codes.INVALID_PARAMETER, "n_bootstrap", id="boot-f"),
        pytest.param({"max_lag": 0}, Codes.INVALID_PARAMETER, "max_lag", id="max-lag"),
        pytest.param({"adstock": "foo"}, Codes.INVALID_PARAMETER, "foo", id="adstock-foo"),
        pytest.param(
            {"include_baseline": "yes"}, Codes.INVALID_PARAMETER, "include_baseline", id="base"
        ),
        pytest.param(
            {"adstock_rate": {"tv_spend": {"type": "weibull", "shape": 2.0}}},
            Codes.INVALID_PARAMETER,
            "scale",
            id="weibull-missing-scale",
        ),
        pytest.param({"adstock_rate": {"tv": 0.3}}, Codes.UNKNOWN_CHANNEL, "'tv'", id="dict-tv"),
        pytest.param(
            {"saturation_param": {"tv_spnd": 0.3}},
            Codes.UNKNOWN_CHANNEL,
            "tv_spnd",
            id="dict-typo",
        ),
    ],
)
def test_bad_hyperparameters_are_rejected_at_fit(
    params: dict[str, Any],
    code: str,
    named: str,
    mmm_frame: pd.DataFrame,
    spend_columns: list[str],
) -> None:
    model = EconometricMMM(**{**FIXED, **params})  # the constructor accepts anything
    with pytest.raises(MMModelError) as info:
        model.fit(mmm_frame, "revenue", spend_columns)
    assert info.value.code == code
    assert named in info.value.message
    assert not hasattr(model, "coef_")


def test_unknown_channel_in_a_dict_suggests_the_spend_column(
    mmm_frame: pd.DataFrame, spend_columns: list[str]
) -> None:
    with pytest.raises(MMModelError) as info:
        EconometricMMM(saturation_param={"tv_spnd": 0.3}).fit(mmm_frame, "revenue", spend_columns)
    assert "did you mean 'tv_spend'" in (info.value.hint or "")


def test_predict_follows_the_row_order_of_unsorted_data(
    default_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    reversed_rows = mmm_frame.iloc[::-1]
    np.testing.assert_allclose(
        default_mmm.predict(reversed_rows), default_mmm.predict(mmm_frame)[::-1], rtol=1e-12
    )


def test_a_failed_refit_leaves_the_previous_fit_intact(
    mmm_frame: pd.DataFrame, spend_columns: list[str], control_columns: list[str]
) -> None:
    model = EconometricMMM(**FIXED)
    model.fit(mmm_frame, "revenue", spend_columns, control_columns=control_columns)
    before = model.predict(mmm_frame)
    # same columns, but revenue tripled and a control that never varies: the refit fails
    bad = mmm_frame.assign(revenue=mmm_frame["revenue"] * 3, promo=0)
    with pytest.raises(DataIntegrationError) as info:
        model.fit(bad, "revenue", spend_columns, control_columns=control_columns)
    assert "promo" in info.value.message
    np.testing.assert_allclose(model.predict(mmm_frame), before, rtol=1e-12)


# ============================================================================ 6. properties


@pytest.fixture(scope="module", params=["auto_mmm", "synergy_mmm"])
def any_model(request: pytest.FixtureRequest) -> EconometricMMM:
    """A fitted model without and one with synergies and controls."""
    return request.getfixturevalue(request.param)


_spend_value = st.one_of(
    st.just(0.0), st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_subnormal=False)
)


def _spend_matrix(m: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, st.tuples(st.integers(1, 25), st.just(m)), elements=_spend_value)


_PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
)


@_PROPERTY
@given(data=st.data())
def test_predictions_on_any_spend_are_finite_and_decompose_sums_to_them(
    any_model: EconometricMMM, data: st.DataObject
) -> None:
    spend = data.draw(_spend_matrix(len(any_model.spend_columns_)))
    frame = _spend_only(any_model, spend)
    pred = any_model.predict(frame)
    assert pred.shape == (len(frame),)
    assert np.all(np.isfinite(pred))
    parts = any_model.decompose(frame)
    np.testing.assert_allclose(
        parts.sum(axis=1).to_numpy(), pred, rtol=1e-9, atol=1e-6 * any_model.y_scale_
    )
    assert (parts[any_model.spend_columns_].to_numpy() >= 0.0).all()


@_PROPERTY
@given(data=st.data())
def test_attribution_on_any_spend_sums_to_one_or_is_all_zero(
    any_model: EconometricMMM, data: st.DataObject
) -> None:
    spend = data.draw(_spend_matrix(len(any_model.spend_columns_)))
    shares = any_model.get_attribution(_spend_only(any_model, spend))
    assert list(shares) == any_model.spend_columns_
    values = np.array(list(shares.values()))
    assert np.all(np.isfinite(values)) and np.all(values >= 0.0)
    if not spend.any():
        assert np.all(values == 0.0)
    elif values.any():
        assert values.sum() == pytest.approx(1.0, abs=1e-9)


@_PROPERTY
@given(data=st.data())
def test_more_spend_in_a_row_never_lowers_that_rows_prediction(
    any_model: EconometricMMM, data: st.DataObject
) -> None:
    m = len(any_model.spend_columns_)
    spend = data.draw(_spend_matrix(m))
    row = data.draw(st.integers(0, spend.shape[0] - 1))
    channel = data.draw(st.integers(0, m - 1))
    extra = data.draw(st.floats(min_value=1.0, max_value=1e7))
    raised = spend.copy()
    raised[row, channel] += extra
    before = any_model.predict(_spend_only(any_model, spend))
    after = any_model.predict(_spend_only(any_model, raised))
    tolerance = 1e-9 * max(abs(before[row]), any_model.y_scale_)
    assert after[row] >= before[row] - tolerance
    # and no other row falls either (spend only carries forward, with non-negative effects)
    assert np.all(after >= before - tolerance)


def test_zero_spend_everywhere_gives_zero_attribution_and_baseline_only(
    synergy_mmm: EconometricMMM,
) -> None:
    frame = _spend_only(synergy_mmm, np.zeros((10, len(synergy_mmm.spend_columns_))))
    assert set(synergy_mmm.get_attribution(frame).values()) == {0.0}
    parts = synergy_mmm.decompose(frame)
    assert (parts[synergy_mmm.spend_columns_].to_numpy() == 0.0).all()
    np.testing.assert_allclose(
        synergy_mmm.predict(frame),
        parts[["baseline", *synergy_mmm.control_columns_]].sum(axis=1).to_numpy(),
        rtol=1e-12,
    )
