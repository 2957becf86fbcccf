"""Incrementality benchmark: speed of geo lift, power analysis and causal impact, and honesty
of their intervals on generated experiments with a known lift.

Run from the repo root: ``.venv/bin/python bench/bench_incrementality.py [--quick]``. Prints
figures; asserts nothing.

1. Time of ``geo_lift`` on 50 geos x 730 days (daily, 2 years, a 42-day test) with 1 and 5
   treated geos, plain and augmented (each with its DiD cross-check); of ``power_analysis``
   (3 durations x 20 past windows) on the same panel; of ``causal_impact`` (365 + 28 days,
   10 controls, 1000 paths).
2. Coverage over seeds: share of 90% intervals containing the true lift, the rejection rate
   at p <= 0.1 with a +5% lift (power) and without (size, nominal 10%), and the median
   interval width, for 30 geos x 365 days.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmm_core.incrementality import (
    causal_impact,
    geo_lift,
    power_analysis,
    simulate_geo_panel,
    simulate_impact_series,
)


def _timed(func: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def bench_speed(repeats: int) -> None:
    print("== 1. speed (median of repeats)")
    for k in (1, 5):
        frame, truth = simulate_geo_panel(
            n_geos=50, n_periods=730, n_treated=k, test_periods=42, seed=0
        )
        args = truth.geo_lift_arguments()
        for augment in (False, True):
            seconds, r = _timed(
                lambda f=frame, a=args, aug=augment: geo_lift(f, **a, augment=aug), repeats
            )
            label = f"geo_lift 50 geos x 730 d, {k} treated" + (", augmented" if augment else "")
            print(
                f"  {label:<48} {seconds * 1e3:8.0f} ms  "
                f"({r['inference']['placebos']} placebos x 2 methods)"
            )
    frame, truth = simulate_geo_panel(n_geos=50, n_periods=730, lift=0.0, seed=0)
    seconds, plan = _timed(
        lambda: power_analysis(frame, "geo", "date", "kpi", truth.treated_geos, [14, 28, 56]),
        max(1, repeats // 2),
    )
    print(f"  {'power_analysis 50 geos x 730 d, 3 durations':<48} {seconds * 1e3:8.0f} ms")
    for d in plan["designs"]:
        print(
            f"      {d['duration']:>3} days: MDE {d['mde_pct']:.1%} at 80% power, "
            f"false positives {d['false_positive_rate']:.0%}, coverage {d['coverage']:.0%} "
            f"({d['windows']} windows)"
        )
    frame, truth = simulate_impact_series(n_pre=365, n_post=28, n_controls=10, seed=0)
    seconds, _ = _timed(
        lambda: causal_impact(frame, pre_period=truth.pre_period, post_period=truth.post_period),
        repeats,
    )
    print(f"  {'causal_impact 365 + 28 d, 10 controls':<48} {seconds * 1e3:8.0f} ms")


def _geo_row(label: str, seeds: list[int], sim: dict[str, Any], opts: dict[str, Any]) -> None:
    covered, rejected, null_rejected, widths = [], [], [], []
    started = time.perf_counter()
    for seed in seeds:
        for lift in (0.05, 0.0):
            frame, truth = simulate_geo_panel(lift=lift, seed=seed, **sim)
            r = geo_lift(frame, **truth.geo_lift_arguments(), cross_check=False, **opts)
            lo, hi = r["ci_pct"]
            covered.append(lo <= lift <= hi)
            (rejected if lift else null_rejected).append(r["p_value"] <= 0.1)
            widths.append(hi - lo)
    per_fit = (time.perf_counter() - started) / (2 * len(seeds))
    print(
        f"  {label:<34} {np.mean(covered):>8.0%} {np.mean(rejected):>8.0%} "
        f"{np.mean(null_rejected):>8.0%} {np.median(widths):>9.1%} {per_fit * 1e3:>7.0f}ms"
    )


def bench_coverage(seeds: list[int]) -> None:
    print(f"\n== 2. honesty over {len(seeds)} seeds x (lift +5%, lift 0), nominal 90% / alpha 0.1")
    print(f"  {'scenario':<34} {'coverage':>8} {'power':>8} {'size':>8} {'width':>9} {'fit':>9}")
    base = {"n_geos": 30, "n_periods": 365, "test_periods": 28}
    _geo_row("synthetic control, 1 treated", seeds, base, {})
    _geo_row("synthetic control, 3 treated", seeds, {**base, "n_treated": 3}, {})
    _geo_row("augmented SC, 1 treated", seeds, base, {"augment": True})
    _geo_row("DiD, 1 treated", seeds, base, {"method": "did"})
    _geo_row("SC not studentised, 1 treated", seeds, base, {"studentize": False})
    _geo_row(
        "SC weekly 104 w, 8-week test",
        seeds,
        {**base, "freq": "W", "n_periods": 104, "test_periods": 8},
        {},
    )
    for model in ("local_level", "ar1"):
        covered, rejected, null_rejected, widths = [], [], [], []
        started = time.perf_counter()
        for seed in seeds:
            for lift in (0.05, 0.0):
                frame, truth = simulate_impact_series(n_pre=180, n_post=28, lift=lift, seed=seed)
                r = causal_impact(
                    frame, pre_period=truth.pre_period, post_period=truth.post_period, model=model
                )
                covered.append(r["ci_abs"][0] <= truth.lift_abs <= r["ci_abs"][1])
                (rejected if lift else null_rejected).append(r["p_value"] <= 0.1)
                widths.append(r["ci_pct"][1] - r["ci_pct"][0])
        per_fit = (time.perf_counter() - started) / (2 * len(seeds))
        label = f"causal_impact {model}, 8 controls"
        print(
            f"  {label:<34} {np.mean(covered):>8.0%} {np.mean(rejected):>8.0%} "
            f"{np.mean(null_rejected):>8.0%} {np.median(widths):>9.1%} {per_fit * 1e3:>7.0f}ms"
        )
    print("  coverage: share of intervals containing the true lift (both lifts pooled);")
    print("  power / size: share of p <= 0.1 with +5% / with no lift; width: median of the")
    print("  interval on the % lift; fit: mean seconds per analysis.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and seeds")
    parser.add_argument("--seeds", type=int, default=None, help="seeds of section 2")
    args = parser.parse_args()
    started = time.perf_counter()
    bench_speed(2 if args.quick else 5)
    n_seeds = args.seeds or (10 if args.quick else 100)
    bench_coverage(list(range(n_seeds)))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
