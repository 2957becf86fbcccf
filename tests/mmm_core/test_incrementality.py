"""Incrementality: geo lift, single-series impact, power analysis and MMM calibration.

Experiments are generated with a known lift (``mmm_core.incrementality.simulate``); intervals
are checked for honesty over several seeds, not just one.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmm_core import Codes, DataIntegrationError, EconometricMMM, MMModelError
from mmm_core.incrementality import (
    IncrementalityAnalyzer,
    causal_impact,
    compare_with_experiment,
    geo_lift,
    mmm_implied_lift,
    power_analysis,
    simulate_geo_panel,
    simulate_impact_series,
)
from mmm_core.incrementality.geo import (
    conformal_ranks,
    placebo_groups,
    placebo_p_value,
    ridge_augmentation,
    simplex_weights,
)

SEEDS = range(10)
SMALL = {"n_geos": 20, "n_periods": 200}


def _json_roundtrip(result: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(result, allow_nan=False))


@pytest.fixture(scope="module")
def experiment() -> tuple[pd.DataFrame, Any]:
    """20 geos x 200 days, one treated geo, +10% over the last 28 days."""
    return simulate_geo_panel(lift=0.10, seed=1, **SMALL)


@pytest.fixture(scope="module")
def experiment_result(experiment: tuple[pd.DataFrame, Any]) -> dict[str, Any]:
    frame, truth = experiment
    return geo_lift(frame, **truth.geo_lift_arguments())


# ------------------------------------------------------------------------------ maths


def test_simplex_weights_are_nonnegative_sum_to_one_and_match_slsqp() -> None:
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    A = np.exp(rng.normal(0, 0.1, (120, 12)))
    A /= A.mean(axis=0)
    y = A[:, :3] @ np.array([0.5, 0.3, 0.2]) + rng.normal(0, 0.01, 120)
    w = simplex_weights(A, y)
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0, abs=1e-12)
    slsqp = minimize(
        lambda v: ((A @ v - y) ** 2).sum(),
        np.full(12, 1 / 12),
        bounds=[(0, None)] * 12,
        constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    assert ((A @ w - y) ** 2).sum() <= slsqp.fun + 1e-9


def test_simplex_weights_penalty_pulls_towards_equal_weights() -> None:
    rng = np.random.default_rng(1)
    A = np.exp(rng.normal(0, 0.1, (30, 40)))  # more controls than periods
    A /= A.mean(axis=0)
    y = A[:, 0]
    sparse, dense = simplex_weights(A, y), simplex_weights(A, y, penalty=10.0)
    assert np.abs(dense - 1 / 40).sum() < np.abs(sparse - 1 / 40).sum()
    assert dense.sum() == pytest.approx(1.0)


def test_ridge_augmentation_matches_the_closed_form() -> None:
    rng = np.random.default_rng(2)
    X, r = rng.normal(size=(80, 6)), rng.normal(size=80)
    sv2 = np.linalg.svd(X, compute_uv=False) ** 2
    lam = 0.7 * sv2.mean()
    expected = np.linalg.solve(X.T @ X + lam * np.eye(6), X.T @ r)
    np.testing.assert_allclose(ridge_augmentation(X, r, ridge=0.7), expected, atol=1e-10)
    assert np.isfinite(ridge_augmentation(X, r)).all()  # lambda by GCV


def test_conformal_ranks_cover_at_least_the_level_with_enough_placebos() -> None:
    assert conformal_ranks(19, 0.1) == (1, 19, 0.9)
    lo, hi, achieved = conformal_ranks(49, 0.1)
    assert (lo, hi) == (2, 48) and achieved >= 0.9
    assert conformal_ranks(9, 0.1)[2] == pytest.approx(0.8)  # too few: says so


def test_placebo_p_value_counts_the_treated_unit() -> None:
    z_p = np.array([-2.0, -1.0, 0.5, 1.5])
    assert placebo_p_value(3.0, z_p) == pytest.approx(1 / 5)
    assert placebo_p_value(1.0, z_p) == pytest.approx(4 / 5)
    np.testing.assert_allclose(placebo_p_value(np.array([0.0, 3.0]), z_p), [1.0, 0.2])


def test_placebo_groups_enumerate_all_or_draw_distinct() -> None:
    assert placebo_groups(5, 2, 200, 0).shape == (10, 2)
    drawn = placebo_groups(30, 3, 50, 0)
    assert drawn.shape == (50, 3) and len({tuple(g) for g in drawn}) == 50


# ------------------------------------------------------------------------------ geo lift


def test_geo_lift_recovers_a_known_lift_within_its_interval(
    experiment: tuple[pd.DataFrame, Any], experiment_result: dict[str, Any]
) -> None:
    _, truth = experiment
    r = experiment_result
    assert r["method"] == "synthetic_control"
    assert r["ci_pct"][0] < truth.lift_pct < r["ci_pct"][1]
    assert r["ci_pct"][0] < r["lift_pct"] < r["ci_pct"][1]
    assert r["ci_abs"][0] < truth.lift_abs < r["ci_abs"][1]
    assert r["lift_abs"] == pytest.approx(r["treated_total"] - r["counterfactual_total"])
    assert r["lift_pct"] == pytest.approx(r["treated_total"] / r["counterfactual_total"] - 1)
    assert r["p_value"] <= 0.1
    assert r["test_window"] == {"start": truth.test_start, "end": truth.test_end, "periods": 28}


def test_geo_lift_weights_are_on_the_simplex_and_name_control_geos(
    experiment: tuple[pd.DataFrame, Any], experiment_result: dict[str, Any]
) -> None:
    _, truth = experiment
    weights = experiment_result["weights"]
    assert all(w > 0 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
    assert not set(weights) & set(truth.treated_geos)


def test_geo_lift_result_is_json_and_has_the_contract_keys(
    experiment_result: dict[str, Any],
) -> None:
    r = _json_roundtrip(experiment_result)
    for key in ("lift_pct", "lift_abs", "ci_pct", "p_value", "method"):
        assert key in r
    assert len(r["ci_pct"]) == 2
    assert len(r["series"]["dates"]) == len(r["series"]["counterfactual"]) == 200
    assert r["cross_check"]["method"] == "did"
    assert r["inference"]["placebos"] == 19 and r["inference"]["exhaustive"]


@pytest.mark.parametrize(
    ("options", "sim"),
    [
        ({}, {}),
        ({}, {"n_treated": 3}),
        ({"augment": True}, {}),
        ({"method": "did"}, {}),
    ],
    ids=["sc-1-geo", "sc-3-geos", "augmented", "did"],
)
def test_geo_lift_90pct_interval_covers_the_true_lift_in_most_experiments(
    options: dict[str, Any], sim: dict[str, Any]
) -> None:
    covered = []
    for seed in SEEDS:
        frame, truth = simulate_geo_panel(lift=0.05, seed=100 + seed, **SMALL, **sim)
        r = geo_lift(frame, **truth.geo_lift_arguments(), cross_check=False, **options)
        covered.append(r["ci_pct"][0] <= truth.lift_pct <= r["ci_pct"][1])
        assert r["ci_pct"][0] <= r["lift_pct"] <= r["ci_pct"][1]
    assert sum(covered) >= 8, covered


def test_geo_lift_null_case_covers_zero_and_rejects_near_the_nominal_rate() -> None:
    rejected, covered = [], []
    for seed in range(20):
        frame, truth = simulate_geo_panel(lift=0.0, seed=200 + seed, **SMALL)
        r = geo_lift(frame, **truth.geo_lift_arguments(), cross_check=False)
        rejected.append(r["p_value"] <= 0.1)
        covered.append(r["ci_pct"][0] <= 0.0 <= r["ci_pct"][1])
    assert sum(rejected) <= 5, rejected  # nominal 10%: 2 of 20 expected
    assert sum(covered) >= 15, covered
    frame, truth = simulate_geo_panel(lift=0.0, seed=3, **SMALL)
    r = geo_lift(frame, **truth.geo_lift_arguments())
    assert r["ci_pct"][0] < 0.0 < r["ci_pct"][1] and r["ci_abs"][0] < 0.0 < r["ci_abs"][1]


def test_geo_lift_interval_narrows_with_more_treated_geos() -> None:
    widths = {}
    for k in (1, 5):
        frame, truth = simulate_geo_panel(n_geos=40, n_periods=200, n_treated=k, seed=7)
        r = geo_lift(frame, **truth.geo_lift_arguments(), cross_check=False)
        widths[k] = r["ci_pct"][1] - r["ci_pct"][0]
        assert r["inference"]["group_size"] == k
    assert widths[5] < widths[1]


def test_geo_lift_ignores_rows_order_and_dates_after_the_test(
    experiment: tuple[pd.DataFrame, Any], experiment_result: dict[str, Any]
) -> None:
    frame, truth = experiment
    args = truth.geo_lift_arguments()
    shuffled = frame.sample(frac=1.0, random_state=0)
    assert geo_lift(shuffled, **args)["lift_pct"] == pytest.approx(experiment_result["lift_pct"])
    early_end = str((pd.Timestamp(truth.test_end) - pd.Timedelta(days=7)).date())
    r = geo_lift(frame, **{**args, "test_end": early_end})
    assert r["test_window"]["periods"] == 21 and len(r["series"]["dates"]) == 193


def test_geo_lift_matches_geos_given_as_text() -> None:
    frame, truth = simulate_geo_panel(lift=0.1, seed=4, **SMALL)
    frame["geo"] = frame["geo"].str[4:].astype(int)
    as_text = [str(int(g[4:])) for g in truth.treated_geos]  # "geo_007" -> "7" for geo 7
    r = geo_lift(frame, **{**truth.geo_lift_arguments(), "treated_geos": as_text})
    assert r["treated_geos"] == [int(g) for g in as_text]


def test_analyzer_geo_lift_passes_options_and_rejects_unknown_ones(
    experiment: tuple[pd.DataFrame, Any],
) -> None:
    frame, truth = experiment
    a = truth.geo_lift_arguments()
    positional = [a[k] for k in ("geo_column", "date_column", "kpi_column", "treated_geos")]
    analyzer = IncrementalityAnalyzer()
    r = analyzer.geo_lift(frame, *positional, a["test_start"], a["test_end"], level=0.8)
    assert r["level"] == 0.8
    with pytest.raises(MMModelError) as err:
        analyzer.geo_lift(frame, *positional, a["test_start"], a["test_end"], n_placebo=10)
    assert err.value.code == Codes.INVALID_PARAMETER and "n_placebos" in err.value.hint


def _bad_inputs() -> list[tuple[str, Any, str]]:
    frame, truth = simulate_geo_panel(n_geos=8, n_periods=60, test_periods=14, seed=0)
    args = truth.geo_lift_arguments()
    text_kpi = frame.assign(kpi=frame["kpi"].astype(str))
    with_nan = frame.copy()
    with_nan.loc[5, "kpi"] = np.nan
    unbalanced = frame.drop(index=[3])
    doubled = pd.concat([frame, frame.iloc[:1]])
    cases = [
        ("missing kpi column", (frame, {**args, "kpi_column": "sales"}), Codes.MISSING_COLUMN),
        ("missing geo column", (frame.drop(columns="geo"), args), Codes.MISSING_COLUMN),
        ("treated geo unknown", (frame, {**args, "treated_geos": ["geo_999"]}), Codes.DATA_ERROR),
        ("no treated geo", (frame, {**args, "treated_geos": []}), Codes.DATA_ERROR),
        ("non-numeric kpi", (text_kpi, args), Codes.NON_NUMERIC),
        ("NaN kpi", (with_nan, args), Codes.NON_FINITE),
        ("unbalanced panel", (unbalanced, args), Codes.IRREGULAR_DATES),
        ("duplicate geo-date", (doubled, args), Codes.DUPLICATE_DATES),
        ("window after data", (frame, {**args, "test_start": "2030-01-01"}), Codes.BAD_DATES),
        ("window past the end", (frame, {**args, "test_end": "2030-01-01"}), Codes.BAD_DATES),
        (
            "end before start",
            (frame, {**args, "test_start": args["test_end"], "test_end": args["test_start"]}),
            Codes.BAD_DATES,
        ),
        (
            "empty pre-period",
            (frame, {**args, "test_start": "2023-01-02"}),
            Codes.TOO_FEW_ROWS,
        ),
        (
            "too few controls",
            (frame, {**args, "treated_geos": [f"geo_00{g}" for g in range(5)]}),
            Codes.TOO_FEW_ROWS,
        ),
        ("not a date", (frame, {**args, "test_start": "soon"}), Codes.BAD_DATES),
        ("empty data", (frame.iloc[:0], args), Codes.EMPTY_DATA),
    ]
    return [(name, inputs, code) for name, inputs, code in cases]


@pytest.mark.parametrize(
    ("inputs", "code"),
    [(inputs, code) for _, inputs, code in _bad_inputs()],
    ids=[name for name, _, _ in _bad_inputs()],
)
def test_geo_lift_bad_input_raises_data_error_with_code_and_hint(
    inputs: tuple[pd.DataFrame, dict[str, Any]], code: str
) -> None:
    frame, args = inputs
    with pytest.raises(DataIntegrationError) as err:
        geo_lift(frame, **args)
    assert err.value.code == code
    assert err.value.hint
    json.dumps(err.value.to_dict())


def test_geo_lift_bad_option_raises_invalid_parameter(
    experiment: tuple[pd.DataFrame, Any],
) -> None:
    frame, truth = experiment
    for bad in ({"method": "synthetic"}, {"level": 1.5}, {"n_placebos": 0}, {"ridge": -1.0}):
        with pytest.raises(MMModelError) as err:
            geo_lift(frame, **truth.geo_lift_arguments(), **bad)
        assert err.value.code == Codes.INVALID_PARAMETER
    with pytest.raises(MMModelError, match="synthetic_control"):
        geo_lift(frame, **truth.geo_lift_arguments(), method="synthetic")


# ------------------------------------------------------------------------------ single series


@pytest.fixture(scope="module")
def impact_result() -> tuple[dict[str, Any], Any]:
    frame, truth = simulate_impact_series(n_pre=150, n_post=28, lift=0.08, seed=3)
    out = causal_impact(frame["y"], frame.drop(columns="y"), truth.pre_period, truth.post_period)
    return out, truth


def test_causal_impact_recovers_the_effect_with_pointwise_and_cumulative_intervals(
    impact_result: tuple[dict[str, Any], Any],
) -> None:
    r, truth = impact_result
    assert r["ci_abs"][0] < truth.lift_abs < r["ci_abs"][1]
    assert r["ci_pct"][0] < r["lift_pct"] < r["ci_pct"][1]
    s = r["series"]
    post = s["post_start_index"]
    assert len(s["point_effect"]) == len(s["cumulative_effect"]) == 28
    assert s["cumulative_effect"][-1] == pytest.approx(r["lift_abs"])
    width = np.subtract(s["cumulative_effect_hi"], s["cumulative_effect_lo"])
    assert width[-1] > width[0]  # uncertainty accumulates
    assert all(lo <= hi for lo, hi in zip(s["point_effect_lo"], s["point_effect_hi"], strict=True))
    assert s["predicted"][0] is None and s["predicted"][post] is not None  # filter burn-in
    assert _json_roundtrip(r)["method"] == "causal_impact_local_level"


def test_causal_impact_intervals_cover_the_truth_and_zero_under_the_null() -> None:
    covered, rejected = [], []
    for seed in SEEDS:
        for lift in (0.05, 0.0):
            frame, truth = simulate_impact_series(n_pre=120, n_post=21, lift=lift, seed=seed)
            r = causal_impact(
                frame,
                pre_period=truth.pre_period,
                post_period=truth.post_period,
                n_simulations=400,
            )
            covered.append(r["ci_abs"][0] <= truth.lift_abs <= r["ci_abs"][1])
            if lift == 0.0:
                rejected.append(r["p_value"] <= 0.1)
    assert sum(covered) >= 16, covered  # of 20 at nominal 90%
    assert sum(rejected) <= 3, rejected


def test_causal_impact_takes_positions_arrays_and_the_ar1_model() -> None:
    frame, _ = simulate_impact_series(n_pre=100, n_post=20, lift=0.1, seed=5)
    y, X = frame["y"].to_numpy(), frame.drop(columns="y").to_numpy()
    r = causal_impact(y, X, [0, 99], [100, 119], model="ar1", n_simulations=200)
    assert r["post_period"] == [100, 119] and r["method"] == "causal_impact_ar1"
    assert r["lift_pct"] > 0.03
    gap = causal_impact(y, X, [0, 89], [100, 119], n_simulations=200)  # 10 ramp-up rows
    assert len(gap["series"]["point_effect"]) == 20 and gap["notes"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"pre_period": [0, 50], "post_period": [40, 60]}, Codes.BAD_DATES),
        ({"pre_period": [0, 3], "post_period": [10, 20]}, Codes.TOO_FEW_ROWS),
        ({"pre_period": [0, 50], "post_period": [60, 500]}, Codes.BAD_DATES),
        ({"pre_period": [0, 50], "post_period": None}, Codes.BAD_DATES),
    ],
    ids=["overlap", "short-pre", "post-outside", "no-post"],
)
def test_causal_impact_bad_periods_raise(kwargs: dict[str, Any], code: str) -> None:
    frame, _ = simulate_impact_series(n_pre=60, n_post=10, seed=0)
    with pytest.raises(DataIntegrationError) as err:
        causal_impact(frame["y"].to_numpy(), frame.drop(columns="y").to_numpy(), **kwargs)
    assert err.value.code == code and err.value.hint


def test_causal_impact_bad_series_raise() -> None:
    frame, truth = simulate_impact_series(n_pre=60, n_post=10, seed=0)
    periods = {"pre_period": truth.pre_period, "post_period": truth.post_period}
    with pytest.raises(DataIntegrationError) as err:
        causal_impact(frame["y"].astype(str), frame.drop(columns="y"), **periods)
    assert err.value.code == Codes.NON_NUMERIC
    with pytest.raises(DataIntegrationError) as err:
        causal_impact(frame["y"] * 0 + 1, frame.drop(columns="y"), **periods)
    assert err.value.code == Codes.CONSTANT_TARGET
    with pytest.raises(DataIntegrationError) as err:
        causal_impact(frame["y"], frame.drop(columns="y").iloc[:-1].to_numpy(), **periods)
    assert err.value.code == Codes.DATA_ERROR


# ------------------------------------------------------------------------------ power


@pytest.fixture(scope="module")
def history() -> tuple[pd.DataFrame, Any]:
    """Past data without a test: 20 geos x 240 days."""
    return simulate_geo_panel(n_geos=20, n_periods=240, lift=0.0, seed=11)


def test_power_analysis_gives_a_rising_power_curve_and_an_mde(
    history: tuple[pd.DataFrame, Any],
) -> None:
    frame, truth = history
    plan = power_analysis(frame, "geo", "date", "kpi", truth.treated_geos, [14, 28], n_windows=12)
    plan = _json_roundtrip(plan)
    for design in plan["designs"]:
        power = design["power_curve"]["power"]
        assert power[-1] >= 0.8  # +20% is detected
        assert power[-1] >= power[2]  # +2% is harder
        assert 0 < design["mde_pct"] < 0.2
        assert design["mde_abs"] > 0
        assert design["false_positive_rate"] <= 0.35
        assert design["windows"] == 12 and design["placebos"] == 19
    d28 = plan["designs"][1]
    at_mde = power_analysis(
        frame,
        "geo",
        "date",
        "kpi",
        truth.treated_geos,
        28,
        n_windows=12,
        effects=[d28["mde_pct"] * 0.98, d28["mde_pct"] * 1.0001],
    )["designs"][0]["power_curve"]["power"]
    assert at_mde[0] < 0.8 <= at_mde[1]  # the MDE is where power crosses the target


def test_power_analysis_injected_lift_matches_geo_lift_on_data_with_that_lift(
    history: tuple[pd.DataFrame, Any],
) -> None:
    frame, truth = history
    d, lift = 28, 0.03
    plan = power_analysis(
        frame, "geo", "date", "kpi", truth.treated_geos, d, effects=[lift], n_windows=3
    )
    design = plan["designs"][0]
    dates = np.sort(frame["date"].unique())
    rejected = []
    for start in design["window_starts"]:
        window = (frame["date"] >= dates[start]) & (frame["date"] <= dates[start + d - 1])
        boosted = frame[frame["date"] <= dates[start + d - 1]].copy()
        treated = boosted["geo"].isin(truth.treated_geos) & window
        boosted.loc[treated, "kpi"] *= 1 + lift
        r = geo_lift(
            boosted, "geo", "date", "kpi", truth.treated_geos, dates[start], dates[start + d - 1]
        )
        rejected.append(r["p_value"] <= 0.1)
    assert design["power_curve"]["power"][0] == pytest.approx(np.mean(rejected))


def test_power_analysis_too_long_a_test_raises(history: tuple[pd.DataFrame, Any]) -> None:
    frame, truth = history
    with pytest.raises(DataIntegrationError) as err:
        power_analysis(frame, "geo", "date", "kpi", truth.treated_geos, 200)
    assert err.value.code == Codes.TOO_FEW_ROWS
    with pytest.raises(MMModelError) as err:
        power_analysis(frame, "geo", "date", "kpi", truth.treated_geos, 0)
    assert err.value.code == Codes.INVALID_PARAMETER


# ------------------------------------------------------------------------------ calibration


def test_implied_lift_of_switching_off_over_all_data_is_the_channel_contribution(
    default_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    first, last = mmm_frame["date"].iloc[0], mmm_frame["date"].iloc[-1]
    implied = mmm_implied_lift(default_mmm, mmm_frame, "tv_spend", first, last)
    contribution = default_mmm.decompose(mmm_frame)["tv_spend"].sum()
    assert implied == pytest.approx(contribution, rel=1e-9)


def test_implied_lift_includes_carry_over_after_the_window(
    default_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    start, end = mmm_frame["date"].iloc[40], mmm_frame["date"].iloc[47]
    total = mmm_implied_lift(default_mmm, mmm_frame, "tv_spend", start, end)
    within = mmm_implied_lift(
        default_mmm, mmm_frame[mmm_frame["date"] <= end], "tv_spend", start, end
    )
    assert total > within > 0
    half = mmm_implied_lift(default_mmm, mmm_frame, "tv_spend", start, end, spend_change=-0.5)
    assert 0 < half < total  # saturation: the first half of the spend brings more than half
    boosted = mmm_implied_lift(default_mmm, mmm_frame, "tv_spend", start, end, spend_change=0.5)
    assert boosted < 0  # data minus more spend
    by_rows = mmm_implied_lift(default_mmm, mmm_frame.drop(columns="date"), "tv_spend", 40, 47)
    assert by_rows == pytest.approx(total, rel=1e-6)


def test_compare_with_experiment_agrees_inside_the_interval_and_reports_z(
    default_mmm: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    start, end = mmm_frame["date"].iloc[40], mmm_frame["date"].iloc[47]
    implied = mmm_implied_lift(default_mmm, mmm_frame, "tv_spend", start, end)
    analyzer = IncrementalityAnalyzer()
    same = analyzer.compare_with_experiment(
        default_mmm, mmm_frame, "tv_spend", start, end, implied, [0.8 * implied, 1.2 * implied]
    )
    assert same["agrees"] and same["z"] == pytest.approx(0.0, abs=1e-9)
    far = compare_with_experiment(
        default_mmm, mmm_frame, "tv_spend", start, end, 3 * implied, [2.5 * implied, 3.5 * implied]
    )
    assert not far["agrees"] and far["z"] < -1.645
    assert far["se"] == pytest.approx(implied / (2 * 1.6448536269514722), rel=1e-6)
    assert set(_json_roundtrip(far)) >= {"implied", "measured", "ci", "agrees", "z"}
    assert analyzer.mmm_implied_lift(default_mmm, mmm_frame, "tv_spend", start, end) == implied


def test_calibration_bad_inputs_raise(default_mmm: EconometricMMM, mmm_frame: pd.DataFrame) -> None:
    start, end = mmm_frame["date"].iloc[40], mmm_frame["date"].iloc[47]
    with pytest.raises(MMModelError) as err:
        mmm_implied_lift(default_mmm, mmm_frame, "tv", start, end)
    assert err.value.code == Codes.UNKNOWN_CHANNEL and "tv_spend" in err.value.hint
    with pytest.raises(DataIntegrationError) as err:
        mmm_implied_lift(default_mmm, mmm_frame, "tv_spend", "2040-01-01", "2040-02-01")
    assert err.value.code == Codes.BAD_DATES
    with pytest.raises(MMModelError) as err:
        mmm_implied_lift(default_mmm, mmm_frame, "tv_spend", start, end, spend_change=-2)
    assert err.value.code == Codes.INVALID_PARAMETER
    with pytest.raises(MMModelError) as err:
        mmm_implied_lift(EconometricMMM(), mmm_frame, "tv_spend", start, end)
    assert err.value.code == Codes.NOT_FITTED
    with pytest.raises(MMModelError) as err:
        compare_with_experiment(default_mmm, mmm_frame, "tv_spend", start, end, 1.0, [2.0, 1.0])
    assert err.value.code == Codes.INVALID_PARAMETER


# ------------------------------------------------------------------------------ generators


def test_simulated_panel_holds_the_stated_lift() -> None:
    frame, truth = simulate_geo_panel(
        n_geos=5, n_periods=50, n_treated=2, lift=0.2, seed=0, test_periods=10
    )
    assert len(frame) == 250 and (frame["kpi"] > 0).all()
    assert sorted(frame.loc[frame["treated"], "geo"].unique()) == sorted(truth.treated_geos)
    assert truth.lift_abs == pytest.approx(0.2 * truth.counterfactual_total)
    in_test = frame["treated"] & (frame["date"] >= truth.test_start)
    assert frame.loc[in_test, "kpi"].sum() == pytest.approx(1.2 * truth.counterfactual_total)
    with pytest.raises(MMModelError) as err:
        simulate_geo_panel(n_geos=5, n_treated=5)
    assert err.value.code == Codes.INVALID_PARAMETER


def test_geo_lift_with_few_controls_says_the_interval_is_short_of_its_level() -> None:
    frame, truth = simulate_geo_panel(n_geos=8, n_periods=120, lift=0.1, seed=2)
    r = geo_lift(frame, **truth.geo_lift_arguments())
    assert r["inference"]["placebos"] == 7
    assert r["inference"]["ci_level_achieved"] == pytest.approx(0.75)
    assert r["inference"]["min_p_value"] == pytest.approx(0.125)
    assert any("only 7 placebos" in note for note in r["notes"])
