"""Speed and accuracy figures for ``EconometricMMM`` on generated data with a known truth.

Run from the repository root::

    .venv/bin/python bench/bench_fit.py            # full run, about 1-3 minutes
    .venv/bin/python bench/bench_fit.py --quick    # fewer repeats and seeds, well under a minute

Prints plain text and never asserts: the figures are for reading and comparing between
versions, not a test. See ``bench/README.md`` for what each section measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing

import numpy as np

from mmm_core.data.synthetic import SyntheticTruth, generate_mmm_data
from mmm_core.models.config import MMM_DEFAULT_CONFIG
from mmm_core.models.econometric_mmm import EconometricMMM

Results = dict[str, Any]
SPEED_WEEKS = 156
SPEED_CHANNELS = 8
SPEED_NOISE = 0.03


@dataclass(frozen=True)
class Scenario:
    """A generated data set family for the accuracy benchmark.

    Parameters
    ----------
    name : str
        Label printed in the table.
    data : dict
        Keyword arguments of :func:`generate_mmm_data` (``seed`` is added per run).
    model : dict
        Keyword arguments of :class:`EconometricMMM`.
    """

    name: str
    data: dict[str, Any]
    model: dict[str, Any] = field(default_factory=dict)


#: Channels whose spend varies on its own (flights, pulses, campaigns, deals): the clean case.
INDEPENDENT = ["tv", "display", "radio", "video", "podcast"]

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("clean: independent 5ch, noise 0.01", {"channels": INDEPENDENT, "noise": 0.01}),
    Scenario("independent 5ch, noise 0.03", {"channels": INDEPENDENT, "noise": 0.03}),
    Scenario("default mix 5ch, noise 0.01", {"channels": 5, "noise": 0.01}),
    Scenario("default mix 5ch, noise 0.03", {"channels": 5, "noise": 0.03}),
    Scenario("default mix 8ch, noise 0.05", {"channels": 8, "noise": 0.05}),
    Scenario(
        "weibull truth, geometric model, indep. 5ch",
        {"channels": INDEPENDENT, "noise": 0.01, "adstock": "weibull"},
    ),
    Scenario(
        "weibull truth, weibull model, indep. 5ch",
        {"channels": INDEPENDENT, "noise": 0.01, "adstock": "weibull"},
        {"adstock": "weibull"},
    ),
)
"""The default mix has search spend following demand and social following search: even the
true transforms misattribute a large part of media revenue there, so it tests honest intervals
rather than point accuracy."""


@dataclass
class Score:
    """Accuracy of one fit against the truth."""

    misattribution: float
    covered: list[bool]
    roi_errors: list[float]
    seconds: float
    #: per channel: (extrapolated_share, |est / true ROI - 1|, interval covers the truth)
    by_channel: list[tuple[float, float, bool]]
    #: per channel: the response curve's band holds the true curve at the mean spend
    curve_covered: list[bool]
    #: per channel: ``mroi_interval`` holds the true marginal ROI
    mroi_covered: list[bool]


# --------------------------------------------------------------------------------------------
# Measuring.
# --------------------------------------------------------------------------------------------


def fit_once(
    make_model: Callable[[], EconometricMMM], frame: Any, truth: SyntheticTruth
) -> tuple[Results, float]:
    """Fit a fresh model on ``frame`` with the truth's columns; return results and wall time."""
    model = make_model()
    started = time.perf_counter()
    results = model.fit(frame, **truth.fit_arguments())
    return results, time.perf_counter() - started


def score(results: Results, truth: SyntheticTruth, seconds: float) -> Score:
    """Misattributed media revenue, ROI errors and the coverage of each interval in one fit."""
    covered, errors, by_channel, curve_covered, mroi_covered = [], [], [], [], []
    error_revenue = 0.0
    true_revenue = 0.0
    for column, true in truth.channels.items():
        est = results["channels"][column]
        error_revenue += abs(est["contribution"] - true["contribution"])
        true_revenue += true["contribution"]
        errors.append(abs(est["roi"] - true["roi"]))
        bounds = est.get("roi_interval")
        if bounds:
            covered.append(bounds[0] <= true["roi"] <= bounds[1])
            by_channel.append(
                (est["extrapolated_share"], abs(est["roi"] / true["roi"] - 1), covered[-1])
            )
            lo, hi = est["mroi_interval"]
            mroi_covered.append(lo <= true["mroi"] <= hi)
        curve = results["response_curves"][column]
        if "revenue_interval" in curve:
            curve_covered.append(_curve_holds_truth(curve, column, truth))
    return Score(
        error_revenue / true_revenue,
        covered,
        errors,
        seconds,
        by_channel,
        curve_covered,
        mroi_covered,
    )


def _curve_holds_truth(curve: dict[str, Any], column: str, truth: SyntheticTruth) -> bool:
    """Whether a response curve's band holds the true curve at the grid point nearest the mean
    spend (the true curve of one channel: the others at zero, no synergies in these data)."""
    spend = np.asarray(curve["spend"])
    at = int(np.argmin(np.abs(spend - curve["mean_spend"])))
    alone = np.zeros(len(truth.spend_columns))
    alone[truth.spend_columns.index(column)] = spend[at]
    true = float(truth.steady_state_response(alone))
    lo, hi = curve["revenue_interval"]
    return lo[at] <= true <= hi[at]


def speed_data(seed: int) -> tuple[Any, SyntheticTruth]:
    """The speed benchmark's data set for ``seed`` (156 weeks x 8 channels, noise 0.03)."""
    return generate_mmm_data(
        weeks=SPEED_WEEKS, channels=SPEED_CHANNELS, seed=seed, noise=SPEED_NOISE
    )


# --------------------------------------------------------------------------------------------
# Printing.
# --------------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain fixed-width table, first column left-aligned, the others right-aligned."""
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def spread(values: Sequence[float], unit: str = "s", digits: int = 2) -> str:
    """``median (min-max)`` of ``values``."""
    return (
        f"{statistics.median(values):.{digits}f} {unit} "
        f"(min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})"
    )


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


# --------------------------------------------------------------------------------------------
# Benchmarks.
# --------------------------------------------------------------------------------------------


def bench_speed(seeds: Sequence[int]) -> list[Score]:
    """1. Searched ("auto") fit time on 156 weeks x 8 channels, one data set per seed."""
    section(
        f'1. "auto" fit, {SPEED_WEEKS} weeks x {SPEED_CHANNELS} channels, noise {SPEED_NOISE} '
        f"(seeds {list(seeds)})"
    )
    scores, evaluated, per_second, search_s, rest_s = [], [], [], [], []
    for seed in seeds:
        frame, truth = speed_data(seed)
        results, seconds = fit_once(EconometricMMM, frame, truth)
        diag = results["diagnostics"]
        scores.append(score(results, truth, seconds))
        evaluated.append(diag["search"]["candidates_evaluated"])
        per_second.append(diag["search"]["candidates_per_second"])
        search_s.append(diag["search"]["seconds"])
        rest_s.append(diag["fit_seconds"] - diag["search"]["seconds"])
        print(
            f"  seed {seed}: {seconds:.2f} s, {evaluated[-1]} candidates, "
            f"search {search_s[-1]:.2f} s, bootstrap/rest {rest_s[-1]:.2f} s",
            flush=True,
        )
    print(f"  fit time               {spread([s.seconds for s in scores])}")
    print(f"  candidates evaluated   {statistics.median(evaluated):.0f} (median)")
    print(f"  candidates per second  {spread(per_second, '/s', 0)}")
    print(f"  search                 {spread(search_s)}")
    print(f"  bootstrap and rest     {spread(rest_s)}")
    share = statistics.median(s / (s + r) for s, r in zip(search_s, rest_s, strict=True))
    print(f"  search share of fit    {100 * share:.0f}% (median)")
    return scores


def bench_accuracy(scenarios: Sequence[Scenario], seeds: Sequence[int], weeks: int) -> None:
    """2. Recovery of the true contributions and ROIs over generated scenarios."""
    section(f"2. accuracy, {weeks} weeks, seeds {list(seeds)} per scenario")
    rows = []
    pooled: list[tuple[float, float, bool]] = []
    for scenario in scenarios:
        scores = []
        for seed in seeds:
            frame, truth = generate_mmm_data(weeks=weeks, seed=seed, **scenario.data)
            results, seconds = fit_once(lambda s=scenario: EconometricMMM(**s.model), frame, truth)
            scores.append(score(results, truth, seconds))
            pooled += scores[-1].by_channel
        rows.append(accuracy_row(scenario.name, scores))
        print(f"  done: {scenario.name}", file=sys.stderr, flush=True)
    headers = [
        "scenario",
        "misattributed",
        "90% coverage",
        "|ROI err|",
        "curve cov.",
        "mROI cov.",
        "fit s",
    ]
    print(table(headers, rows))
    print(
        "  misattributed: median over seeds of sum|est - true contribution| / sum true "
        "contribution;\n  90% coverage: channels whose roi_interval holds the true ROI (pooled);"
        "\n  |ROI err|: median |est ROI - true ROI| over all channels and seeds;"
        "\n  curve cov.: response curves whose 90% band holds the true curve at mean spend;"
        "\n  mROI cov.: channels whose mroi_interval holds the true marginal ROI at mean spend."
    )
    print(extrapolation_table(pooled))


def extrapolation_table(pooled: Sequence[tuple[float, float, bool]]) -> str:
    """ROI error and coverage by the share of a channel's contribution that is extrapolated
    below its lowest spend (``extrapolated_share``; warned about above 15%), all scenarios."""
    rows = []
    for lo, hi in ((0.0, 0.15), (0.15, 0.5), (0.5, 1.01)):
        part = [(err, cov) for share, err, cov in pooled if lo <= share < hi]
        if part:
            errors, covered = zip(*part, strict=True)
            rows.append(
                [
                    f"{lo:.0%}-{min(hi, 1):.0%}",
                    str(len(part)),
                    f"{100 * statistics.median(errors):.0f}%",
                    f"{100 * np.mean(covered):.0f}%",
                ]
            )
    headers = ["extrapolated share", "channels", "median |ROI err| / ROI", "90% coverage"]
    return "  by extrapolated share (all scenarios pooled):\n" + table(headers, rows)


def accuracy_row(name: str, scores: Sequence[Score]) -> list[str]:
    """One printed row of the accuracy table."""
    covered = [c for s in scores for c in s.covered]
    errors = [e for s in scores for e in s.roi_errors]
    curves = [c for s in scores for c in s.curve_covered]
    marginal = [c for s in scores for c in s.mroi_covered]
    return [
        name,
        f"{100 * statistics.median(s.misattribution for s in scores):.1f}%",
        _share(covered),
        f"{statistics.median(errors):.2f}",
        _share(curves),
        _share(marginal),
        f"{statistics.median(s.seconds for s in scores):.2f}",
    ]


def _share(hits: Sequence[bool]) -> str:
    return f"{sum(hits)}/{len(hits)} = {100 * np.mean(hits):.0f}%" if hits else "n/a"


def bench_reference(seeds: Sequence[int], auto: Sequence[Score]) -> None:
    """3. The reference's fixed configuration on the speed benchmark's data, next to "auto"."""
    section(
        "3. reference fixed config EconometricMMM(**MMM_DEFAULT_CONFIG) on the data of 1\n"
        f"   {MMM_DEFAULT_CONFIG}"
    )
    fixed = []
    for seed in seeds:
        frame, truth = speed_data(seed)
        results, seconds = fit_once(lambda: EconometricMMM(**MMM_DEFAULT_CONFIG), frame, truth)
        fixed.append(score(results, truth, seconds))
    rows = [
        [label, spread([s.seconds for s in scores]), *accuracy_row(label, scores)[1:4]]
        for label, scores in (("fixed (MMM_DEFAULT_CONFIG)", fixed), ('"auto" (section 1)', auto))
    ]
    print(table(["config", "fit time", "misattributed", "90% coverage", "|ROI err|"], rows))
    ratio = statistics.median(s.seconds for s in auto) / statistics.median(s.seconds for s in fixed)
    print(f'  "auto" takes {ratio:.1f}x the fixed config\'s median fit time')


# --------------------------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(
        description="Speed and accuracy of EconometricMMM on generated data (printed, never "
        "asserted)."
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 speed repeats and 1 seed per scenario"
    )
    parser.add_argument("--repeats", type=int, help="speed repeats (default 5, quick 2)")
    parser.add_argument(
        "--seeds", type=int, help="seeds per accuracy scenario (default 5, quick 1)"
    )
    parser.add_argument("--weeks", type=int, default=156, help="weeks per accuracy data set")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three benchmarks and print their figures."""
    args = parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    repeats = args.repeats or (2 if args.quick else 5)
    n_seeds = args.seeds or (1 if args.quick else 5)
    started = time.perf_counter()
    print(
        f"bench_fit: python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}, {'quick' if args.quick else 'full'} run"
    )
    auto = bench_speed(range(repeats))
    bench_accuracy(SCENARIOS, range(100, 100 + n_seeds), args.weeks)
    bench_reference(range(repeats), auto)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
