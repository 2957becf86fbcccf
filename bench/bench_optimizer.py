"""Budget optimizer benchmark: speed by channel count, and plans judged against the truth.

Run from the repo root: ``.venv/bin/python bench/bench_optimizer.py [--quick]``. Prints figures;
asserts nothing.

1. Time of one plan (the grid optimum, then SLSQP, on the expected response over 200
   uncertainty draws), with and without the 11-point efficient frontier, for 5, 20 and 50
   channels. The first plan on a model tabulates its curves (kept with the model); later plans,
   what a server with loaded models answers, reuse them: both are printed. Response
   surfaces with more channels than the generator has presets are drawn at random around
   realistic values (half-saturation near the current spend, shapes 0.7-2.5).
2. Plans on generated data, judged by the TRUE response curves: the default plan (expected
   response, safety limits) against the classic point-estimate plan without limits.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmm_core import EconometricMMM
from mmm_core.data.synthetic import generate_mmm_data
from mmm_core.optimize import BudgetOptimizer, ResponseSurface

WEEKS = 156


def random_surface(
    m: int, draws: int, rng: np.random.Generator
) -> tuple[ResponseSurface, np.ndarray]:
    """A response surface of ``m`` channels with ``draws`` uncertainty draws, and current spend."""
    spend = rng.uniform(2_000, 60_000, m)  # per period
    half = spend * rng.uniform(0.5, 1.5, m) * rng.lognormal(0, 0.15, (draws, m))
    shape = rng.uniform(0.7, 2.5, m) * rng.lognormal(0, 0.1, (draws, m))
    beta = spend * rng.uniform(1.0, 4.0, m) * rng.lognormal(0, 0.25, (draws, m))
    surface = ResponseSurface([f"ch{j}_spend" for j in range(m)], half, shape, beta)
    return surface, spend * WEEKS


def bench_speed(channel_counts: list[int], repeats: int) -> None:
    print("== 1. plan time (200 draws), median over repeats")
    print(
        f"{'channels':>8}  {'first plan':>10}  {'next plans':>10}  {'+ frontier':>10}  "
        f"{'success':>8}"
    )
    for m in channel_counts:
        first, plain, full, ok = [], [], [], 0
        for r in range(repeats):
            surface, current = random_surface(m, 200, np.random.default_rng(r))
            budget = float(current.sum())
            for points, store in ((0, first), (0, plain), (0, plain), (11, full)):
                optimizer = BudgetOptimizer("revenue", frontier_points=points)
                started = time.perf_counter()
                plan = optimizer.optimize_surface(
                    surface, budget, current, {"max_change": 0.5}, horizon=WEEKS
                )
                store.append(time.perf_counter() - started)
                ok += plan["convergence"]["success"] and store is first
        print(
            f"{m:>8}  {statistics.median(first) * 1e3:>8.1f}ms  "
            f"{statistics.median(plain) * 1e3:>8.1f}ms  {statistics.median(full) * 1e3:>8.1f}ms  "
            f"{ok:>4}/{repeats}"
        )


def bench_truth(seeds: list[int]) -> None:
    print("\n== 2. plans judged by the true response curves (re-plan the fitted 156 weeks)")
    scenarios = [
        (
            "clean: independent 5ch, noise 0.01",
            ["tv", "display", "radio", "video", "podcast"],
            0.01,
        ),
        ("default mix 5ch, noise 0.03", 5, 0.03),
        ("default mix 8ch, noise 0.05", 8, 0.05),
    ]
    print(f"{'scenario':<36}  {'default plan: true uplift':>26}  {'point plan, no limits':>22}")
    for label, channels, noise in scenarios:
        safe, naive = [], []
        for seed in seeds:
            data, truth = generate_mmm_data(WEEKS, channels, seed=seed, noise=noise)
            model = EconometricMMM()
            model.fit(data, **truth.fit_arguments())
            spent = float(data[truth.spend_columns].to_numpy().sum())
            plan = BudgetOptimizer("revenue", frontier_points=0).optimize(model, spent)
            point = BudgetOptimizer("revenue", frontier_points=0, uncertainty=False).optimize(
                model, spent, {"max_change": None}
            )
            current = truth.steady_state_response(
                np.array(list(plan["current"]["allocation"].values())) / WEEKS
            )
            for p, store in ((plan, safe), (point, naive)):
                x = np.array(list(p["allocation"].values())) / WEEKS
                store.append(100 * (truth.steady_state_response(x) / current - 1))
        print(f"{label:<36}  {_span(safe):>26}  {_span(naive):>22}")
    print("  true uplift: the plan's true media revenue against the current mix's, in %")
    print("  (median [min, max] over seeds); below 0 the plan loses money.")


def _span(values: list[float]) -> str:
    return f"{statistics.median(values):+.1f}% [{min(values):+.1f}, {max(values):+.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and seeds")
    args = parser.parse_args()
    started = time.perf_counter()
    bench_speed([5, 20, 50], 3 if args.quick else 7)
    bench_truth([0, 1] if args.quick else [0, 1, 2, 3, 4, 5])
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
