"""BudgetOptimizer: correct maths, honest constraints, and plans that pay under the truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmm_core import EconometricMMM, OptimizationError
from mmm_core.data.synthetic import SyntheticTruth, generate_mmm_data
from mmm_core.optimize import BudgetOptimizer

CHANNELS = ["tv", "video", "radio"]
WEEKS = 104


@pytest.fixture(scope="module")
def fitted() -> tuple[EconometricMMM, SyntheticTruth, float]:
    data, truth = generate_mmm_data(WEEKS, CHANNELS, seed=3, noise=0.01)
    model = EconometricMMM(n_bootstrap=50, n_candidates=64, n_sweeps=2)
    model.fit(data, **truth.fit_arguments())
    spent = float(data[truth.spend_columns].to_numpy().sum())
    return model, truth, spent


def plain(objective: str = "revenue", **kwargs) -> BudgetOptimizer:
    """The point estimate, no frontier: for the maths tests."""
    return BudgetOptimizer(objective=objective, uncertainty=False, frontier_points=0, **kwargs)


FREE = {"max_change": None}  # no default safety limits


def vector(plan: dict, key: str = "allocation") -> np.ndarray:
    return np.array(list(plan[key].values()))


def test_plan_has_the_reference_keys_and_is_json(fitted) -> None:
    model, _, spent = fitted
    plan = BudgetOptimizer().optimize(model, spent)
    for key in ("allocation", "projected_roi", "projected_revenue", "optimization_objective"):
        assert key in plan
    assert plan["optimization_objective"] == "roi"
    assert plan["projected_roi"] == pytest.approx(plan["projected_revenue"] / plan["spent"])
    json.dumps(plan, allow_nan=False)
    assert len(plan["frontier"]) == 11


def test_revenue_plan_spends_the_budget_within_every_bound(fitted) -> None:
    model, truth, spent = fitted
    cols = truth.spend_columns
    constraints = {
        cols[0]: {"min": 0.2 * spent, "max": 0.5 * spent},
        "min_channel_spend": 0.1 * spent,
        "max_change": None,
    }
    plan = plain().optimize(model, spent, constraints)
    alloc = vector(plan)
    assert alloc.sum() == pytest.approx(spent, rel=1e-9)
    assert np.all(alloc >= 0.1 * spent * (1 - 1e-9))
    assert 0.2 * spent * (1 - 1e-9) <= plan["allocation"][cols[0]] <= 0.5 * spent * (1 + 1e-9)


def test_interior_channels_have_equal_marginal_roi_at_the_optimum(fitted) -> None:
    model, _, spent = fitted
    plan = plain().optimize(model, spent, FREE)
    interior = [
        c["marginal_roi"]
        for c in plan["channels"].values()
        if 1e-4 * spent < c["optimal"] < spent * (1 - 1e-4)
    ]
    assert len(interior) >= 2
    assert max(interior) == pytest.approx(min(interior), rel=2e-3)


def test_three_channel_plan_is_within_a_tenth_of_a_percent_of_a_grid_optimum(fitted) -> None:
    model, _, spent = fitted
    H = WEEKS
    plan = plain().optimize(model, spent, FREE)

    def best_on_grid(center: np.ndarray, width: float, steps: int) -> tuple[float, np.ndarray]:
        a = np.linspace(center[0] - width, center[0] + width, steps)
        b = np.linspace(center[1] - width, center[1] + width, steps)
        A, B = np.meshgrid(a, b, indexing="ij")
        C = spent - A - B
        ok = (A >= 0) & (B >= 0) & (C >= 0)
        x = np.stack([A, B, C], axis=-1) / H
        revenue = np.where(ok, H * model.steady_state_response(x), -np.inf)
        k = np.unravel_index(np.argmax(revenue), revenue.shape)
        return float(revenue[k]), np.array([A[k], B[k], C[k]])

    # Coarse grid over the whole simplex, then a finer one around its best point.
    value, point = best_on_grid(np.array([spent / 2, spent / 2]), spent / 2, 201)
    value, point = best_on_grid(point, spent / 100, 201)
    mine = WEEKS * float(model.steady_state_response(vector(plan) / H))
    assert mine >= value * (1 - 1e-3)


def test_roi_objective_leaves_money_unspent_where_the_next_unit_returns_less(fitted) -> None:
    model, _, spent = fitted
    plan = plain("roi").optimize(model, 10 * spent, FREE)
    assert plan["unspent"] > 0
    assert plan["spent"] + plan["unspent"] == pytest.approx(10 * spent)
    for channel in plan["channels"].values():
        if channel["optimal"] > 1e-3 * spent:
            assert channel["marginal_roi"] == pytest.approx(1.0, abs=0.02)
    assert {"channel": None, "constraint": "total_budget"} not in plan["binding_constraints"]


def test_target_roas_spends_the_most_that_still_meets_the_target(fitted) -> None:
    model, _, spent = fitted
    revenue_plan = plain().optimize(model, spent, FREE)
    target = 1.05 * revenue_plan["projected_roi"]  # reachable only by spending less
    plan = plain("target_roas").optimize(model, spent, FREE, target_roas=target)
    assert plan["projected_roi"] >= target * (1 - 1e-4)
    assert plan["spent"] < spent
    more = plain().optimize(model, plan["spent"] * 1.02, FREE)
    assert more["projected_roi"] < target


def test_unreachable_target_roas_says_what_is_reachable(fitted) -> None:
    model, _, spent = fitted
    with pytest.raises(OptimizationError, match="no spend level reaches target ROAS"):
        plain("target_roas").optimize(model, spent, FREE, target_roas=1e6)


def test_reach_needs_exposure_data(fitted) -> None:
    model, _, spent = fitted
    with pytest.raises(OptimizationError, match="exposure") as info:
        BudgetOptimizer(objective="reach").optimize(model, spent)
    assert info.value.code == "MMM_200"


@pytest.mark.parametrize(
    ("constraints", "fragment"),
    [
        ({"tv_spend": {"min": 500.0, "max": 100.0}}, "tv_spend"),
        ({"min_channel_spend": 1e12, **FREE}, "minimums add up"),
        (
            {"video_spend": {"max": 1.0}, "radio_spend": {"max": 1.0}, "tv_spend": {"max": 1.0}}
            | FREE,
            "maximums",
        ),
        ({"tv_spend": {"max": 1.0}}, "safety limit"),
        ({"tv_spend": {"mni": 3}}, "did you mean 'min'"),
        ({"tv": {"min": 3}}, "did you mean 'tv_spend'"),
        ({"locked": ["podcast_spend"]}, "podcast_spend"),
        ({"max_change": -0.2}, "negative"),
    ],
)
def test_infeasible_or_unknown_constraints_name_the_conflict(fitted, constraints, fragment) -> None:
    model, _, spent = fitted
    with pytest.raises(OptimizationError) as info:
        plain().optimize(model, spent, constraints)
    assert fragment in str(info.value)


def test_locked_and_max_change_channels_stay_within_their_limits(fitted) -> None:
    model, _, spent = fitted
    plan = plain().optimize(model, spent, {"locked": ["tv_spend"], "max_change": 0.1})
    current = plan["current"]["allocation"]
    assert plan["allocation"]["tv_spend"] == pytest.approx(current["tv_spend"])
    for col, value in plan["allocation"].items():
        assert abs(value - current[col]) <= 0.1 * current[col] * (1 + 1e-6)
    assert {"channel": "tv_spend", "constraint": "locked"} in plan["binding_constraints"]


def test_default_safety_limits_bound_every_move_and_are_reported(fitted) -> None:
    model, _, spent = fitted
    plan = BudgetOptimizer(objective="revenue").optimize(model, spent)
    for channel in plan["channels"].values():
        assert abs(channel["change_pct"]) <= 50.0 + 1e-6
    reasons = {b["constraint"] for b in plan["binding_constraints"]}
    assert reasons <= {"safety limit (thin data)", "total_budget"}


def test_plan_is_never_expected_to_earn_less_than_the_current_mix(fitted) -> None:
    model, _, spent = fitted
    for objective in ("revenue", "roi"):
        plan = BudgetOptimizer(objective=objective).optimize(model, spent)
        assert plan["uplift"]["revenue"] >= -1e-6 * spent
        assert 0.0 <= plan["uplift"]["probability_better"] <= 1.0
        lo, hi = plan["uplift"]["interval"]
        assert lo <= plan["uplift"]["revenue"] <= hi


def test_budget_may_come_in_the_constraints_like_the_api_body(fitted) -> None:
    model, _, spent = fitted
    plan = plain().optimize(model, None, {"total_budget": spent, "max_change": None})
    assert plan["total_budget"] == spent
    with pytest.raises(OptimizationError, match="disagrees"):
        plain().optimize(model, spent, {"total_budget": 2 * spent})


def test_a_shorter_horizon_plans_the_same_weekly_mix_for_the_same_weekly_budget(fitted) -> None:
    model, _, spent = fitted
    full = plain().optimize(model, spent, FREE)
    quarter = plain().optimize(model, spent * 13 / WEEKS, FREE, horizon=13)
    np.testing.assert_allclose(vector(quarter) / 13, vector(full) / WEEKS, rtol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "budget"),
    [({}, -1.0), ({}, float("nan")), ({"objective": "profit"}, 1.0), ({"n_starts": 0}, 1.0)],
)
def test_bad_settings_are_clear_errors(fitted, kwargs, budget) -> None:
    model, _, _ = fitted
    with pytest.raises(OptimizationError) as info:
        BudgetOptimizer(**kwargs).optimize(model, budget)
    assert info.value.hint


def test_an_unfitted_model_cannot_be_optimized() -> None:
    with pytest.raises(OptimizationError, match="not a fitted"):
        BudgetOptimizer().optimize(EconometricMMM(), 1000.0)


def test_safe_plans_earn_more_than_the_current_mix_under_the_true_curves() -> None:
    # The generator's default mix (search follows demand, social follows search) at 3% noise:
    # measured true uplift of the safe plan +1.2% to +2.7% over 6 seeds, where the classic
    # point-estimate plan without limits ranged from -4.1% to +5.5% (-24.6% on 8 channels).
    for seed in (0, 2):
        data, truth = generate_mmm_data(156, 5, seed=seed, noise=0.03)
        model = EconometricMMM()
        model.fit(data, **truth.fit_arguments())
        spent = float(data[truth.spend_columns].to_numpy().sum())
        plan = BudgetOptimizer(objective="revenue", frontier_points=0).optimize(model, spent)
        true_plan = truth.steady_state_response(vector(plan) / 156)
        true_current = truth.steady_state_response(vector(plan["current"]) / 156)
        assert true_plan > true_current


def test_target_roas_reaches_what_the_frontier_shows_is_reachable(fitted) -> None:
    model, _, spent = fitted
    frontier = BudgetOptimizer(objective="revenue").optimize(model, spent)["frontier"]
    best = max(frontier, key=lambda point: point["roi"])
    plan = BudgetOptimizer(objective="target_roas", frontier_points=0).optimize(
        model, spent, target_roas=0.99 * best["roi"]
    )
    assert plan["projected_roi"] >= 0.99 * best["roi"] * (1 - 1e-4)
    assert plan["spent"] >= best["total_budget"] * 0.99


def test_the_projection_onto_budget_and_bounds_is_exact() -> None:
    from mmm_core.optimize.budget_optimizer import _project

    rng = np.random.default_rng(0)
    for _ in range(500):
        m = int(rng.integers(2, 30))
        start, lower = rng.normal(0, 1, m), rng.uniform(0, 0.2, m)
        upper = lower + rng.uniform(0, 1, m)
        upper[rng.random(m) < 0.2] = np.inf
        reachable = np.where(np.isfinite(upper), upper, lower + 2.0).sum()
        total = rng.uniform(lower.sum(), reachable)
        x = _project(start, lower, upper, total)
        assert x.sum() == pytest.approx(total, rel=1e-9)
        assert np.all(x >= lower - 1e-12) and np.all(x <= upper + 1e-12)
        # Euclidean projection: x = clip(start + t) for one shift t on every free coordinate.
        free = (x > lower + 1e-9) & (x < upper - 1e-9)
        if free.sum() > 1:
            assert np.ptp((x - start)[free]) < 1e-9


def test_an_absurd_budget_gives_a_finite_saturated_plan_not_a_crash(fitted) -> None:
    model, _, _ = fitted
    plan = plain().optimize(model, 1e300, FREE)
    json.dumps(plan, allow_nan=False)
    assert plan["spent"] == pytest.approx(1e300)
    # Every curve is saturated: revenue is bounded by the sum of the channels' maximum effects.
    assert plan["projected_revenue"] <= WEEKS * model.response_parameters()["beta"].sum() * 1.0001


def test_value_and_gradient_in_one_pass_equal_the_separate_calls() -> None:
    from mmm_core.optimize import ResponseSurface

    rng = np.random.default_rng(1)
    surface = ResponseSurface(
        ["a", "b", "c"],
        half_saturation=rng.uniform(1, 3, (50, 3)),
        shape=rng.uniform(0.6, 2.5, (50, 3)),
        beta=rng.uniform(1, 4, (50, 3)),
        beta_synergy=rng.uniform(0, 1, (50, 3)),
        pairs=[(0, 1), (0, 2), (1, 2)],
    )
    x = np.array([0.5, 2.0, 4.0])
    value, grad = surface.expected_value_and_gradient(x)
    assert value == pytest.approx(surface.expected(x), rel=1e-12)
    np.testing.assert_allclose(grad, surface.expected_gradient(x), rtol=1e-12)
