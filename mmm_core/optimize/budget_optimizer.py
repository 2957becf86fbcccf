"""``BudgetOptimizer``: where to move the money, and how sure we are that it pays.

A budget ``B`` is spent over a planning horizon of ``H`` periods; ``a_c`` is channel ``c``'s
share of it, so it spends ``a_c / H`` per period. At a steady spend the fitted model expects
media revenue ``F(a) = H * E_d[R_d(a / H)]`` over the horizon, where the expectation runs over
the model's bootstrap draws (:class:`~mmm_core.optimize.response.ResponseSurface`). Objectives:

- ``"revenue"``: maximise ``F(a)`` spending the whole budget (``sum a = B``);
- ``"roi"``: maximise the net return ``F(a) - sum a`` with ``sum a <= B``: money stays unspent
  where the next unit would return less than itself (marginal ROI below 1), and the result says
  how much;
- ``"target_roas"``: the largest spend ``S <= B`` whose best allocation still earns
  ``F / S >= target_roas`` (Robyn's ``target_efficiency``);
- ``"reach"``: needs exposure/reach curves, which a spend-only model does not have: it raises
  :class:`~mmm_core.errors.OptimizationError`.

Plans are solved with SLSQP on analytic gradients from several starts. They are scored on the
expected response over the model's uncertainty, each channel moves at most a safety limit from
its current spend unless told otherwise (:data:`~mmm_core.optimize.constraints.SAFETY_LIMITS`),
and a plan is never returned that is expected to do worse than the current mix: the result
gives the probability that it beats the current mix and the uplift's 90% interval.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from mmm_core.errors import Codes, OptimizationError
from mmm_core.optimize.constraints import Bounds, parse_bounds, safety_limit
from mmm_core.optimize.grid_search import best_split
from mmm_core.optimize.response import ResponseSurface

FloatArray = NDArray[np.float64]
OBJECTIVES = ("roi", "revenue", "target_roas", "reach")


def _project(start: FloatArray, lower: FloatArray, upper: FloatArray, total: float) -> FloatArray:
    """The point ``clip(start + t, lower, upper)`` whose sum is ``total``, solved exactly.

    ``f(t) = sum clip(start + t, lower, upper)`` is piecewise linear and non-decreasing in
    ``t`` with kinks at ``lower - start`` and ``upper - start``: evaluate it at every kink
    (vectorised), find the segment where it crosses ``total`` and interpolate. Totals outside
    ``[sum lower, sum upper]`` give the nearest end.
    """
    finite_upper = np.where(np.isfinite(upper), upper, total + lower.sum())
    kinks = np.sort(np.concatenate([lower - start, finite_upper - start]))
    sums = np.clip(start[None, :] + kinks[:, None], lower, finite_upper).sum(axis=1)
    k = int(np.searchsorted(sums, total))
    if k == 0:
        t = kinks[0]
    elif k == len(kinks):
        t = kinks[-1]
    else:
        lo_t, hi_t, lo_s, hi_s = kinks[k - 1], kinks[k], sums[k - 1], sums[k]
        t = hi_t if hi_s == lo_s else lo_t + (total - lo_s) * (hi_t - lo_t) / (hi_s - lo_s)
    return np.clip(start + t, lower, finite_upper)


class BudgetOptimizer:
    """Allocate a budget across channels on a fitted model's response curves.

    Parameters
    ----------
    objective : {"roi", "revenue", "target_roas", "reach"}, default "roi"
        What to maximise (module docstring).
    max_iterations : int, default 1000
        SLSQP iterations per start.
    tolerance : float, default 1e-6
        SLSQP tolerance on the scaled objective.
    n_starts : int, default 5
        SLSQP starts when the model has synergies: the grid optimum of the surface without
        them, an equal split, one proportional to expected marginal ROI, and random splits;
        the best wins. Without synergies the grid optimum is global
        (:mod:`~mmm_core.optimize.grid_search`) and is the only start.
    uncertainty : bool, default True
        Optimise the expected response over the model's bootstrap draws (False: the point
        estimate only, the classic way, which can recommend moves the data cannot support).
    frontier_points : int, default 11
        Budgets from 50% to 150% of ``total_budget`` on the efficient frontier (0: none).
    random_state : int, default 0

    Examples
    --------
    Re-plan the fitted period with the money actually spent, keeping TV between 5k and 50k:

    >>> from mmm_core import EconometricMMM
    >>> from mmm_core.data.synthetic import generate_mmm_data
    >>> data, truth = generate_mmm_data(104, 3, seed=1)
    >>> mmm = EconometricMMM(n_bootstrap=20)
    >>> _ = mmm.fit(data, **truth.fit_arguments())
    >>> spent = float(data[truth.spend_columns].to_numpy().sum())   # over the 104 weeks
    >>> plan = BudgetOptimizer(objective="revenue").optimize(mmm, spent)
    >>> abs(sum(plan["allocation"].values()) - spent) < 1e-6 * spent
    True

    A quarter ahead instead: ``optimize(mmm, 1_300_000, horizon=13)`` (the budget and every
    amount in ``allocation`` and ``constraints`` are then over 13 periods).
    """

    def __init__(
        self,
        objective: str = "roi",
        max_iterations: int = 1000,
        tolerance: float = 1e-6,
        *,
        n_starts: int = 5,
        uncertainty: bool = True,
        frontier_points: int = 11,
        random_state: int = 0,
    ) -> None:
        self.objective = objective
        self.max_iterations = max_iterations
        self.tolerance = tolerance
        self.n_starts = n_starts
        self.uncertainty = uncertainty
        self.frontier_points = frontier_points
        self.random_state = random_state

    # ------------------------------------------------------------------ entry point
    def optimize(
        self,
        mmm_model: Any,
        total_budget: float | None = None,
        constraints: Mapping[str, Any] | None = None,
        *,
        horizon: int | None = None,
        current_allocation: Mapping[str, float] | None = None,
        target_roas: float | None = None,
    ) -> dict[str, Any]:
        """Best allocation of ``total_budget`` over ``horizon`` periods.

        Parameters
        ----------
        mmm_model : EconometricMMM
            A fitted model.
        total_budget : float
            Money to allocate over the horizon (may also come as ``constraints["total_budget"]``).
        constraints : dict, optional
            See :mod:`mmm_core.optimize.constraints`.
        horizon : int, optional
            Periods the budget covers; default: the number of periods the model was fitted on,
            so the historical total spend re-plans the historical period.
        current_allocation : dict, optional
            The current plan over the horizon; default: the fitted period's mix, scaled to
            ``total_budget``.
        target_roas : float, optional
            Required with ``objective="target_roas"``.

        Returns
        -------
        dict
            ``allocation``, ``projected_roi``, ``projected_revenue``, ``optimization_objective``
            (the reference's keys) and ``horizon``, ``total_budget``, ``spent``, ``unspent``,
            ``current``, ``uplift``, ``channels``, ``binding_constraints``, ``frontier``,
            ``convergence``, ``uncertainty``.

        Raises
        ------
        OptimizationError
            Unfitted model, bad budget or settings, infeasible constraints, ``"reach"``.
        """
        surface = self._surface(mmm_model)
        H = self._horizon(mmm_model, horizon)
        budget = self._budget(total_budget, constraints)
        mean_spend = np.asarray(mmm_model.mean_spend_, dtype=float)
        current = self._current(surface.channels, current_allocation, mean_spend, H, budget)
        fitted = mmm_model.results_["channels"]
        safety = [
            safety_limit(fitted[c]["roi"], fitted[c].get("roi_interval")) for c in surface.channels
        ]
        return self.optimize_surface(
            surface, budget, current, constraints, horizon=H, safety=safety, target_roas=target_roas
        )

    def optimize_surface(
        self,
        surface: ResponseSurface,
        total_budget: float,
        current: FloatArray,
        constraints: Mapping[str, Any] | None = None,
        *,
        horizon: int,
        safety: FloatArray | list[float] | None = None,
        target_roas: float | None = None,
    ) -> dict[str, Any]:
        """:meth:`optimize` on a response surface directly (what ``optimize`` calls).

        ``current`` is the current allocation over the horizon (array in channel order) and
        ``safety`` each channel's default ``max_change`` (``None``: no default limit).
        """
        started = time.perf_counter()
        self._check_settings(target_roas)
        budget = self._budget(total_budget, constraints)
        H = self._horizon(None, horizon)
        channels = surface.channels
        current = np.asarray(current, dtype=float)
        safety = np.full(len(channels), np.inf) if safety is None else np.asarray(safety, float)
        bounds = parse_bounds(constraints, channels, current, safety)
        self._check_feasible(bounds, budget, channels)

        if self.objective == "target_roas":

            def bounds_at(total: float) -> Bounds:
                return parse_bounds(constraints, channels, current * total / budget, safety)

            allocation, info, bounds = self._target_roas(
                surface, bounds_at, budget, H, float(target_roas)
            )
        else:
            allocation, info = self._solve(surface, bounds, budget, H, self.objective)

        # Never worse than today: where the current mix is a feasible plan for the same
        # objective and scores better (a solver failure), keep it.
        cur_feasible = bool(
            np.all(current >= bounds.lower - 1e-6 * budget)
            and np.all(current <= bounds.upper + 1e-6 * budget)
            and current.sum() <= budget * (1 + 1e-9)
            and (self.objective != "revenue" or np.isclose(current.sum(), budget))
        )
        if (
            self.objective in ("revenue", "roi")
            and cur_feasible
            and self._score(surface, allocation, H) < self._score(surface, current, H)
        ):
            allocation = current.copy()
            info["message"] += "; no allocation beat the current mix, which is kept"

        result = self._result(surface, allocation, current, bounds, budget, H, info)
        result["frontier"] = self._frontier(surface, constraints, budget, H, current, safety)
        result["convergence"]["seconds"] = time.perf_counter() - started
        return result

    # ------------------------------------------------------------------ checks and inputs
    def _check_settings(self, target_roas: float | None) -> None:
        if self.objective not in OBJECTIVES:
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"objective={self.objective!r} is not known.",
                hint=f"use one of {list(OBJECTIVES)}.",
            )
        if self.objective == "reach":
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                "objective='reach' needs per-channel exposure or reach curves, and this model "
                "was fitted on spend only.",
                hint="use objective='revenue' or 'roi', or fit a model with exposure data.",
            )
        if self.objective == "target_roas" and (
            target_roas is None or not np.isfinite(target_roas) or target_roas <= 0
        ):
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"objective='target_roas' needs target_roas > 0, got {target_roas!r}.",
                hint="e.g. optimize(model, budget, target_roas=2.0) for 2 of revenue per 1 spent.",
            )
        for name, value, low in (
            ("max_iterations", self.max_iterations, 1),
            ("n_starts", self.n_starts, 1),
            ("frontier_points", self.frontier_points, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise OptimizationError(
                    Codes.OPTIMIZATION_ERROR,
                    f"{name} must be an integer >= {low}, got {value!r}.",
                    hint=f"see help(BudgetOptimizer) for {name}.",
                )
        if not (isinstance(self.tolerance, int | float) and self.tolerance > 0):
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"tolerance must be > 0, got {self.tolerance!r}.",
                hint="e.g. tolerance=1e-6.",
            )

    @staticmethod
    def _budget(total_budget: float | None, constraints: Mapping[str, Any] | None) -> float:
        in_constraints = (constraints or {}).get("total_budget")
        if total_budget is None:
            total_budget = in_constraints
        elif in_constraints is not None and not np.isclose(in_constraints, total_budget):
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"total_budget={total_budget} disagrees with constraints['total_budget']="
                f"{in_constraints}.",
                hint="give the budget once.",
            )
        if (
            total_budget is None
            or isinstance(total_budget, bool)
            or not isinstance(total_budget, int | float)
            or not np.isfinite(total_budget)
            or total_budget <= 0
        ):
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"total_budget must be a positive amount, got {total_budget!r}.",
                hint="the money to allocate over the planning horizon, e.g. 100000.",
            )
        return float(total_budget)

    def _surface(self, mmm_model: Any) -> ResponseSurface:
        if not hasattr(mmm_model, "response_parameters") or not hasattr(mmm_model, "coef_"):
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                "the model is not a fitted EconometricMMM.",
                hint="fit it first (mmm.fit(...)) or load one (EconometricMMM.load(path)).",
            )
        return _cached_surface(mmm_model, self.uncertainty)

    @staticmethod
    def _horizon(mmm_model: Any, horizon: int | None) -> int:
        if horizon is None and mmm_model is not None:
            return int(mmm_model.baseline_.n_train)
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"horizon must be a whole number of periods >= 1, got {horizon!r}.",
                hint="e.g. horizon=13 for a quarter of weeks.",
            )
        return horizon

    @staticmethod
    def _current(
        channels: list[str],
        given: Mapping[str, float] | None,
        mean_spend: FloatArray,
        H: int,
        budget: float,
    ) -> FloatArray:
        if given is None:
            mix = mean_spend * H
            return mix * budget / mix.sum() if mix.sum() > 0 else np.full(len(channels), 0.0)
        unknown = [k for k in given if k not in channels]
        missing = [c for c in channels if c not in given]
        if unknown or missing:
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"current_allocation must name exactly the model's channels; unknown {unknown}, "
                f"missing {missing}.",
                hint=f"give a spend for each of {channels}.",
            )
        out = np.array([float(given[c]) for c in channels])
        if np.any(out < 0) or not np.all(np.isfinite(out)):
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                "current_allocation has negative or non-finite amounts.",
                hint="give spend >= 0 per channel.",
            )
        return out

    def _check_feasible(self, bounds: Bounds, budget: float, channels: list[str]) -> None:
        if bounds.lower.sum() > budget * (1 + 1e-9):
            worst = np.argsort(-bounds.lower)[:3]
            named = ", ".join(
                f"{channels[j]} {bounds.lower_reason[j]} {bounds.lower[j]:,.0f}" for j in worst
            )
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"the channels' minimums add up to {bounds.lower.sum():,.2f}, more than the "
                f"budget {budget:,.2f} (largest: {named}).",
                hint="raise the budget or lower the minimums / max_change limits.",
            )
        if self.objective == "revenue" and bounds.upper.sum() < budget * (1 - 1e-9):
            worst = np.argsort(bounds.upper)[:3]
            named = ", ".join(
                f"{channels[j]} {bounds.upper_reason[j]} {bounds.upper[j]:,.0f}" for j in worst
            )
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"the channels' maximums add up to {bounds.upper.sum():,.2f}, less than the "
                f"budget {budget:,.2f} that objective='revenue' must spend (smallest: {named}).",
                hint="lower the budget, raise the maximums, pass max_change (None removes the "
                "default safety limits), or use objective='roi', which may leave budget unspent.",
            )

    # ------------------------------------------------------------------ solving
    @staticmethod
    def _value(surface: ResponseSurface, allocation: FloatArray, H: int) -> float:
        """Expected media revenue over the horizon."""
        return H * surface.expected(allocation / H)

    def _score(self, surface: ResponseSurface, allocation: FloatArray, H: int) -> float:
        """The objective's value: net return for ``"roi"``, revenue otherwise."""
        value = self._value(surface, allocation, H)
        return value - float(allocation.sum()) if self.objective == "roi" else value

    def _solve(
        self,
        surface: ResponseSurface,
        bounds: Bounds,
        budget: float,
        H: int,
        objective: str,
        warm: FloatArray | None = None,
    ) -> tuple[FloatArray, dict[str, Any]]:
        """SLSQP in scaled variables ``u = a / budget``: from ``warm`` alone when given (the
        frontier walks from one budget to the next), else from ``n_starts`` starts."""
        m = len(surface.channels)
        net = objective == "roi"
        lo = bounds.lower / budget
        hi = np.where(np.isfinite(bounds.upper), bounds.upper / budget, 1.0)
        hi = np.minimum(hi, 1.0)

        def fun(u: FloatArray) -> tuple[float, FloatArray]:
            x = u * budget / H
            value, grad = surface.expected_value_and_gradient(x)
            value *= H / budget
            if net:
                return -(value - u.sum()), -(grad - 1.0)
            return -value, -grad

        if net:
            cons = [{"type": "ineq", "fun": lambda u: 1.0 - u.sum(), "jac": lambda u: -np.ones(m)}]
        else:
            cons = [{"type": "eq", "fun": lambda u: u.sum() - 1.0, "jac": lambda u: np.ones(m)}]

        if warm is not None:
            seeds, method = [warm / warm.sum()], "SLSQP from the previous plan"
        elif surface.separable:
            seeds, method = self._seeds(surface, bounds, budget, H, net), "grid optimum + SLSQP"
        else:
            seeds, method = self._seeds(surface, bounds, budget, H, net), "SLSQP, several starts"
        best_u, best_f, best_res, successes = None, np.inf, None, 0
        for seed in seeds:
            start = np.clip(seed, lo, hi)
            if not net or start.sum() > 1.0:
                start = _project(seed, lo, hi, 1.0)
            res = minimize(
                fun,
                start,
                jac=True,
                method="SLSQP",
                bounds=list(zip(lo, hi, strict=True)),
                constraints=cons,
                options={"maxiter": self.max_iterations, "ftol": self.tolerance},
            )
            u = np.clip(res.x, lo, hi)
            if not net:
                u = _project(u, lo, hi, 1.0)
            elif u.sum() > 1.0:
                u = u / u.sum()
            successes += bool(res.success)
            # The start itself competes: SLSQP stopping early never loses the grid optimum.
            for point in (u, start):
                f = fun(point)[0]
                if f < best_f - 1e-12:
                    best_u, best_f, best_res = point, f, res
        if best_res is None:
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"no start gave a finite expected response for a budget of {budget:,.2f}.",
                hint="check that the budget is a realistic amount of money for the horizon.",
            )
        info = {
            "method": method,
            "success": bool(best_res.success),
            "message": str(best_res.message),
            "iterations": int(best_res.nit),
            "starts": len(seeds),
            "starts_converged": successes,
        }
        return best_u * budget, info

    def _seeds(
        self, surface: ResponseSurface, bounds: Bounds, budget: float, H: int, net: bool
    ) -> list[FloatArray]:
        """Starting points for SLSQP, as shares of the budget.

        A separable surface starts from its global optimum on a grid (:func:`best_split`):
        the local solver then only refines between grid points, and S-shaped curves cannot
        trap it in a worse local optimum. With synergies that optimum (of the surface without
        them) is one start among an equal split, one proportional to expected marginal ROI and
        random splits (``n_starts`` in all).
        """
        m = len(surface.channels)
        reach = np.minimum(bounds.upper, budget) / H
        grid = best_split(
            surface.channel_curves(reach), bounds.lower, bounds.upper, budget, 1.0 / H, net=net
        )
        seeds = [grid / budget]
        if surface.separable:
            return seeds
        rng = np.random.default_rng(self.random_state)
        mroi = np.maximum(surface.expected_gradient(np.full(m, budget / (m * H))), 1e-12)
        seeds += [np.full(m, 1.0 / m), mroi / mroi.sum()]
        seeds += [rng.dirichlet(np.ones(m)) for _ in range(max(0, self.n_starts - 3))]
        return seeds[: max(1, self.n_starts)]

    def _target_roas(
        self,
        surface: ResponseSurface,
        bounds_at: Any,
        budget: float,
        H: int,
        target: float,
    ) -> tuple[FloatArray, dict[str, Any], Bounds]:
        """Largest spend ``S <= budget`` whose revenue-optimal plan keeps ``F / S >= target``.

        ``bounds_at(S)`` gives the constraints at spend level ``S`` (the relative limits move
        with the current mix scaled to ``S``, as on the frontier). Spend levels are scanned on a
        grid of 20, then the crossing is refined by bisection; ROAS usually falls with spend
        (diminishing returns), and where S-shaped curves make it rise first the scan still
        finds the largest qualifying level on the grid.
        """

        def plan(total: float) -> tuple[FloatArray, dict[str, Any], float, Bounds] | None:
            try:
                bounds = bounds_at(total)
                self._check_feasible_for(bounds, total)
            except OptimizationError:
                return None
            alloc, info = self._solve(surface, bounds, total, H, "revenue")
            return alloc, info, self._value(surface, alloc, H) / total, bounds

        levels = budget * np.linspace(0.05, 1.0, 20)
        plans = [(level, plan(float(level))) for level in levels]
        feasible = [(level, p) for level, p in plans if p is not None]
        if not feasible:
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                "no spend level up to the budget satisfies the constraints.",
                hint="relax the minimum or change limits, or raise the budget.",
            )
        meeting = [(level, p) for level, p in feasible if p[2] >= target]
        if not meeting:
            level, best = max(feasible, key=lambda item: item[1][2])
            raise OptimizationError(
                Codes.OPTIMIZATION_ERROR,
                f"no spend level reaches target ROAS {target:g}: the best is {best[2]:.3f}, "
                f"at a spend of {level:,.2f}.",
                hint="ask for a lower target ROAS, or relax the spend constraints.",
            )
        lo_t, best = meeting[-1]
        if lo_t >= budget * (1 - 1e-12):
            best[1]["message"] += f"; the whole budget meets target ROAS {target:g}"
            return best[0], best[1], best[3]
        hi_t = float(levels[np.searchsorted(levels, lo_t) + 1])
        for _ in range(30):
            mid = 0.5 * (lo_t + hi_t)
            trial = plan(mid)
            if trial is not None and trial[2] >= target:
                lo_t, best = mid, trial
            else:
                hi_t = mid
            if hi_t - lo_t <= 1e-4 * budget:
                break
        best[1]["message"] += f"; largest spend meeting target ROAS {target:g}: {lo_t:,.2f}"
        return best[0], best[1], best[3]

    # ------------------------------------------------------------------ reporting
    def _result(
        self,
        surface: ResponseSurface,
        allocation: FloatArray,
        current: FloatArray,
        bounds: Bounds,
        budget: float,
        H: int,
        info: dict[str, Any],
    ) -> dict[str, Any]:
        channels = surface.channels
        rev_opt_d = H * surface.per_draw(allocation / H)
        rev_cur_d = H * surface.per_draw(current / H)
        revenue, revenue_cur = float(rev_opt_d.mean()), float(rev_cur_d.mean())
        spent = float(allocation.sum())
        delta = rev_opt_d - rev_cur_d
        # The objective's own gain: net return for "roi", revenue otherwise.
        gain = delta - (spent - float(current.sum())) if self.objective == "roi" else delta
        mroi = surface.expected_gradient(allocation / H)
        binding = bounds.binding(allocation, channels, tol=1e-6 * budget)
        if self.objective == "revenue" or spent >= budget * (1 - 1e-6):
            binding.append({"channel": None, "constraint": "total_budget"})
        return {
            "allocation": {c: float(a) for c, a in zip(channels, allocation, strict=True)},
            "projected_roi": revenue / spent if spent > 0 else 0.0,
            "projected_revenue": revenue,
            "optimization_objective": self.objective,
            "horizon": H,
            "total_budget": budget,
            "spent": spent,
            "unspent": budget - spent,
            "current": {
                "allocation": {c: float(a) for c, a in zip(channels, current, strict=True)},
                "revenue": revenue_cur,
                "roi": revenue_cur / current.sum() if current.sum() > 0 else 0.0,
            },
            "uplift": {
                "revenue": revenue - revenue_cur,
                "revenue_pct": 100.0 * (revenue - revenue_cur) / revenue_cur
                if revenue_cur > 0
                else 0.0,
                "net_return": float(gain.mean()),
                "interval": [float(q) for q in np.quantile(delta, [0.05, 0.95])],
                "probability_better": float(np.mean(gain > 0)) if np.any(gain != 0) else 0.5,
            },
            "channels": {
                c: {
                    "current": float(current[j]),
                    "optimal": float(allocation[j]),
                    "change_pct": 100.0 * (allocation[j] - current[j]) / current[j]
                    if current[j] > 0
                    else 0.0,
                    "marginal_roi": float(mroi[j]),
                    "bounds": [float(bounds.lower[j]), _finite(bounds.upper[j])],
                }
                for j, c in enumerate(channels)
            },
            "binding_constraints": binding,
            "convergence": info,
            "uncertainty": {
                "draws": surface.n_draws,
                "method": "expected response over the model's bootstrap draws"
                if surface.n_draws > 1
                else "point estimate",
            },
        }

    def _frontier(
        self,
        surface: ResponseSurface,
        constraints: Mapping[str, Any] | None,
        budget: float,
        H: int,
        current: FloatArray,
        safety: FloatArray,
    ) -> list[dict[str, float]]:
        """Revenue-optimal plans for budgets from 50% to 150% of ``budget`` (same limits)."""
        out: list[dict[str, float]] = []
        if not self.frontier_points:
            return out
        points = np.linspace(0.5, 1.5, self.frontier_points) if self.frontier_points > 1 else [1.0]
        limits = {k: v for k, v in (constraints or {}).items() if k != "total_budget"}
        warm = None
        for share in points:
            total = float(budget * share)
            try:
                bounds = parse_bounds(limits, surface.channels, current * share, safety)
                self._check_feasible_for(bounds, total)
                alloc, _ = self._solve(surface, bounds, total, H, "revenue", warm=warm)
            except OptimizationError:
                continue
            warm = alloc
            revenue = self._value(surface, alloc, H)
            mroi = surface.expected_gradient(alloc / H)
            free = (alloc > bounds.lower + 1e-6 * total) & (alloc < bounds.upper - 1e-6 * total)
            out.append(
                {
                    "total_budget": total,
                    "revenue": revenue,
                    "roi": revenue / total,
                    "marginal_roi": float(mroi[free].mean() if free.any() else mroi.mean()),
                }
            )
        return out

    @staticmethod
    def _check_feasible_for(bounds: Bounds, total: float) -> None:
        if bounds.lower.sum() > total or bounds.upper.sum() < total:
            raise OptimizationError(Codes.OPTIMIZATION_ERROR, "infeasible frontier point")


#: Surfaces by model and ``draws``, so that tabulated curves
#: (:meth:`ResponseSurface.channel_curves`) are built once per fitted model, not per plan. Each
#: entry holds the fitted arrays it was built from and is rebuilt when the model's are other
#: objects (a refit); holding them keeps their ids from being reused by a refit's arrays.
_SURFACES: weakref.WeakKeyDictionary[Any, dict[bool, tuple[Any, Any, ResponseSurface]]] = (
    weakref.WeakKeyDictionary()
)


def _cached_surface(model: Any, draws: bool) -> ResponseSurface:
    coef, replicates = getattr(model, "coef_", None), getattr(model, "draws_", None)
    try:
        entries = _SURFACES.setdefault(model, {})
    except TypeError:  # not weak-referenceable: no cache
        return ResponseSurface.from_model(model, draws=draws)
    entry = entries.get(draws)
    if entry is None or entry[0] is not coef or entry[1] is not replicates:
        entry = entries[draws] = (coef, replicates, ResponseSurface.from_model(model, draws=draws))
    return entry[2]


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
