"""The grid optimum of separable allocations: exact on its grid, and a start that local
solvers cannot be trapped from on S-shaped curves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mmm_core.optimize import BudgetOptimizer, ResponseSurface
from mmm_core.optimize.grid_search import ChannelCurves, best_split


def s_curves(seed: int, m: int = 3, draws: int = 20) -> ResponseSurface:
    """Steep S-shaped curves (shape 2-4) whose draws disagree: several local optima."""
    rng = np.random.default_rng(seed)
    return ResponseSurface(
        [f"c{j}" for j in range(m)],
        half_saturation=rng.uniform(20, 60, (draws, m)),
        shape=rng.uniform(2, 4, (draws, m)),
        beta=rng.uniform(50, 150, (draws, m)),
    )


def expected(surface: ResponseSurface, a: np.ndarray) -> np.ndarray:
    """The exact expected response at each row of ``a`` (separable surfaces)."""
    r = a[:, None, :] / surface.half_saturation[None]
    with np.errstate(divide="ignore"):
        h = 1.0 / (1.0 + r ** (-surface.shape[None]))
    return (surface.beta[None] * h).sum(axis=2).mean(axis=1)


def brute_force(surface, lower, upper, total, steps, net):
    """Every split of ``steps`` steps above ``lower``, scored on the exact surface."""
    m = len(lower)
    ks = np.array(list(itertools.product(range(steps + 1), repeat=m if net else m - 1)))
    ks = ks[ks.sum(axis=1) <= steps]
    if not net:  # the last channel takes the rest
        ks = np.column_stack([ks, steps - ks.sum(axis=1)])
    a = lower + (total - lower.sum()) / steps * ks
    a = a[np.all(a <= upper + 1e-9, axis=1)]
    values = expected(surface, a) - (a.sum(axis=1) if net else 0.0)
    k = int(np.argmax(values))
    return float(values[k]), a[k]


@pytest.mark.parametrize("net", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_split_is_the_exact_optimum_of_its_grid(seed, net) -> None:
    surface = s_curves(seed)
    lower = np.array([5.0, 0.0, 10.0])
    upper = np.array([np.inf, 80.0, 120.0])
    total, steps = 150.0, 30
    curves = surface.channel_curves(upper.clip(max=total))
    split = best_split(curves, lower, upper, total, 1.0, net=net, steps=steps)
    value, _ = brute_force(surface, lower, upper, total, steps, net)
    mine = surface.expected(split) - (split.sum() if net else 0.0)
    # the table is interpolated: equal to the brute force up to its (tiny) error
    assert mine == pytest.approx(value, rel=1e-4)
    assert np.all(split >= lower - 1e-9) and np.all(split <= upper + 1e-9)
    if net:
        assert split.sum() <= total + 1e-9
    else:
        assert split.sum() == pytest.approx(total)


def test_tabulated_curves_match_the_exact_expected_response() -> None:
    surface = s_curves(3, m=2, draws=50)
    curves = surface.channel_curves(np.array([500.0, 500.0]))
    for x in (0.0, 1e-3, 7.5, 33.0, 120.0, 499.0):
        exact = [
            surface.expected(np.array([x, 0.0])) - surface.expected(np.zeros(2)),
            surface.expected(np.array([0.0, x])) - surface.expected(np.zeros(2)),
        ]
        np.testing.assert_allclose([curves(0, x), curves(1, x)], exact, rtol=1e-3, atol=1e-6)


def test_curves_are_rebuilt_wider_when_a_larger_spend_is_asked_for() -> None:
    surface = s_curves(4)
    first = surface.channel_curves(np.full(3, 10.0))
    assert surface.channel_curves(np.full(3, 5.0)) is first
    huge = np.full(3, 100 * first.x_max.max())
    wider = surface.channel_curves(huge)
    assert wider is not first and np.all(wider.x_max >= huge)


@pytest.mark.parametrize("seed", range(6))
def test_plans_on_s_curves_reach_the_global_optimum(seed) -> None:
    """A budget that can lift only some channels past their threshold: the best plan puts
    the money in the right ones, which local search from an equal split often misses."""
    surface = s_curves(seed, m=4)
    budget = 120.0
    plan = BudgetOptimizer(objective="revenue", frontier_points=0).optimize_surface(
        surface, budget, np.full(4, budget / 4), {"max_change": None}, horizon=1
    )
    mine = surface.expected(np.array(list(plan["allocation"].values())))
    value, _ = brute_force(surface, np.zeros(4), np.full(4, np.inf), budget, 40, net=False)
    assert plan["convergence"]["method"] == "grid optimum + SLSQP"
    assert mine >= value * (1 - 1e-9)


def test_surfaces_with_synergies_keep_several_starts() -> None:
    rng = np.random.default_rng(5)
    surface = ResponseSurface(
        ["a", "b", "c"],
        half_saturation=rng.uniform(1, 3, (20, 3)),
        shape=rng.uniform(0.6, 2.5, (20, 3)),
        beta=rng.uniform(1, 4, (20, 3)),
        beta_synergy=rng.uniform(0.1, 1, (20, 1)),
        pairs=[(0, 1)],
    )
    assert not surface.separable
    plan = BudgetOptimizer(objective="revenue", frontier_points=0, n_starts=4).optimize_surface(
        surface, 6.0, np.full(3, 2.0), {"max_change": None}, horizon=1
    )
    assert plan["convergence"]["starts"] == 4
    assert plan["convergence"]["method"] == "SLSQP, several starts"


def test_a_model_keeps_its_tabulated_surface_until_it_is_refitted() -> None:
    from mmm_core import EconometricMMM
    from mmm_core.data.synthetic import generate_mmm_data
    from mmm_core.optimize.budget_optimizer import _cached_surface

    data, truth = generate_mmm_data(60, 2, seed=2)
    model = EconometricMMM(n_bootstrap=5, n_candidates=8, n_sweeps=1)
    model.fit(data, **truth.fit_arguments())
    first = _cached_surface(model, True)
    assert _cached_surface(model, True) is first
    assert _cached_surface(model, False) is not first
    model.fit(data.iloc[:50], **truth.fit_arguments())
    assert _cached_surface(model, True) is not first


def test_curves_of_one_point_estimate_are_its_hill_curves() -> None:
    curves = ChannelCurves.tabulate(
        np.array([[2.0]]), np.array([[1.5]]), np.array([[3.0]]), np.array([10.0])
    )
    x = np.array([0.5, 2.0, 9.0])
    np.testing.assert_allclose(curves(0, x), 3.0 / (1 + (x / 2.0) ** -1.5), rtol=1e-3)
