"""Speed and detection figures for ``PerformanceAnalyzer`` on series with a planted truth.

Run from the repository root::

    .venv/bin/python bench/bench_performance.py            # full run, under a minute
    .venv/bin/python bench/bench_performance.py --quick    # fewer repeats and seeds

1. Time of one ``analyze`` call (median, min, max over repeats) for 3 years of daily data and
   10 years of weekly data, each with 3 spend channels and conversions, and for 10 years of
   daily data.
2. Detection over seeds on :func:`~mmm_core.performance.simulate.simulate_kpi_series` series
   (noise 3% of the level, anomalies 20-40%, level shifts of 20%):

   * anomalies: recall (planted anomalies flagged with the right direction) and precision
     (flags that are planted anomalies), pooled over seeds, and false alarms per series;
   * level shifts: share of planted shifts found within 2 periods, median |position error|,
     median relative error of the step, and false level shifts per series (found more than 2
     periods from the planted one, or on series without one).

Prints plain text and never asserts: figures to read and compare, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing

from mmm_core.performance import PerformanceAnalyzer
from mmm_core.performance.simulate import simulate_kpi_series


@dataclass(frozen=True)
class Scenario:
    """A family of generated series: ``simulate_kpi_series`` keyword arguments (no seed)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


SPEED = [
    Scenario("3 years daily, 3 channels", {"n_periods": 1095, "freq": "D", "channels": 3}),
    Scenario("10 years weekly, 3 channels", {"n_periods": 520, "freq": "W-MON", "channels": 3}),
    Scenario("10 years daily, KPI only", {"n_periods": 3650, "freq": "D"}),
]

DETECTION = [
    Scenario("weekly 3y, null", {"n_periods": 156, "n_anomalies": 0}),
    Scenario("weekly 3y, 3-6 anomalies", {"n_periods": 156}),
    Scenario("weekly 3y, anomalies + shift", {"n_periods": 156, "level_shift": 0.2}),
    Scenario("weekly 3y, anomalies + drop", {"n_periods": 156, "level_shift": -0.2}),
    Scenario("weekly 10y, anomalies + shift", {"n_periods": 520, "level_shift": 0.2}),
    Scenario("weekly 1.5y (no season), + shift", {"n_periods": 78, "level_shift": 0.2}),
    Scenario("daily 3y, null", {"n_periods": 1095, "freq": "D", "n_anomalies": 0}),
    Scenario("daily 3y, anomalies + shift", {"n_periods": 1095, "freq": "D", "level_shift": 0.2}),
    Scenario(
        "daily 1y (weekly season), + shift", {"n_periods": 365, "freq": "D", "level_shift": 0.2}
    ),
    Scenario("monthly 6y, anomalies + shift", {"n_periods": 72, "freq": "MS", "level_shift": 0.2}),
]


def bench_speed(repeats: int) -> None:
    print("== 1. analyze() time (median [min, max] over repeats)")
    for scenario in SPEED:
        times = []
        for seed in range(repeats):
            frame, truth = simulate_kpi_series(seed=seed, level_shift=0.2, **scenario.data)
            kwargs: dict[str, Any] = {}
            if truth.spend_columns:
                kwargs = {"spend_columns": truth.spend_columns, "conversions_column": "conversions"}
            started = time.perf_counter()
            PerformanceAnalyzer().analyze(frame, "kpi", **kwargs)
            times.append(time.perf_counter() - started)
        print(
            f"  {scenario.name:<30} {statistics.median(times) * 1e3:7.0f} ms "
            f"[{min(times) * 1e3:.0f}, {max(times) * 1e3:.0f}]"
        )


def bench_detection(seeds: int) -> None:
    print(f"\n== 2. detection over {seeds} seeds")
    print(
        f"  {'scenario':<36}{'recall':>7}{'prec.':>7}{'false/ser':>10}"
        f"{'shift found':>12}{'|pos err|':>10}{'step err':>9}{'false shifts':>13}"
    )
    for scenario in DETECTION:
        hits = flagged = planted = 0
        false_alarms, found, errors, steps, false_shifts = [], 0, [], [], []
        with_shift = bool(scenario.data.get("level_shift"))
        for seed in range(seeds):
            count = scenario.data.get("n_anomalies", 3 + seed % 4)
            data = {**scenario.data, "n_anomalies": count}
            frame, truth = simulate_kpi_series(seed=1000 + seed, **data)
            report = PerformanceAnalyzer().analyze(frame, "kpi")
            truth_dirs = dict(zip(truth.anomaly_indices, truth.anomaly_directions, strict=True))
            good = sum(truth_dirs.get(a["index"]) == a["direction"] for a in report["anomalies"])
            hits, flagged = hits + good, flagged + len(report["anomalies"])
            planted += len(truth.anomaly_indices)
            false_alarms.append(len(report["anomalies"]) - good)
            shifts = [c for c in report["change_points"] if c["kind"] == "level_shift"]
            near = []
            if truth.shift_index is not None:
                near = [c for c in shifts if abs(c["index"] - truth.shift_index) <= 2]
                if near:
                    found += 1
                    errors.append(abs(near[0]["index"] - truth.shift_index))
                    steps.append(abs(near[0]["change"] / truth.shift_size - 1))
            false_shifts.append(len(shifts) - len(near[:1]))
        recall = f"{hits / planted:.2f}" if planted else "-"
        precision = f"{hits / flagged:.2f}" if flagged and planted else "-"
        shift = f"{found}/{seeds}" if with_shift else "-"
        error = f"{statistics.median(errors):.0f}" if errors else "-"
        step = f"{100 * statistics.median(steps):.0f}%" if steps else "-"
        print(
            f"  {scenario.name:<36}{recall:>7}{precision:>7}"
            f"{statistics.mean(false_alarms):>10.2f}{shift:>12}{error:>10}{step:>9}"
            f"{statistics.mean(false_shifts):>13.2f}"
        )
        print(f"  done: {scenario.name}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats and 5 seeds")
    parser.add_argument("--repeats", type=int, help="speed repeats (default 7, quick 3)")
    parser.add_argument("--seeds", type=int, help="detection seeds (default 20, quick 5)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    seeds = args.seeds or (5 if args.quick else 20)
    PerformanceAnalyzer().analyze(simulate_kpi_series(60)[0], "kpi")  # imports, warm-up
    bench_speed(repeats)
    bench_detection(seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
