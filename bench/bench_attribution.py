"""Journey attribution benchmark: journeys per second for every model, and agreement with truth.

Run from the repo root: ``.venv/bin/python bench/bench_attribution.py [--quick]``. Prints figures;
asserts nothing. Targets for 1M journeys over 10 channels: first-order Markov under 5 s, the
rules under 2 s.

1. Data: journeys simulated from a known first-order chain over 10 channels
   (:func:`mmm_core.attribution.simulate.simulate_journeys`; journeys end with probability
   0.15-0.3 per step, about 4 touches each), as the long DataFrame.
2. Reading: ``parse_journeys`` of the DataFrame (validation, sorting, the CSR arrays), and of the
   API's list form on a slice (Python dicts cost far more per journey than the arrays).
3. Models: ``AttributionAnalyzer().analyze_journeys`` on the parsed journeys (lookback 30 days,
   views kept) for each model, median of the repeats, and end to end from the DataFrame; plus
   the first-order Markov shares against the chain's true removal-effect shares. Shapley three
   ways: all coalitions at once (exact), channel sets of more than 4 channels sampled (1000
   orders), every set sampled.
4. ChannelAttribution 2.2.5 (if installed) on the same journeys: its input (one row per distinct
   path string) built here, then ``heuristic_models`` and ``markov_model`` (simulation, default
   settings but ``max_step=1000``), with its largest share difference from ours.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmm_core.attribution import AttributionAnalyzer
from mmm_core.attribution.journeys import JourneyData, parse_journeys, to_journey_list
from mmm_core.attribution.simulate import random_chain, simulate_journeys

MODELS: list[tuple[str, dict[str, Any]]] = [
    ("first_touch", {}),
    ("last_touch", {}),
    ("linear", {}),
    ("time_decay", {}),
    ("position_based", {}),
    ("markov", {"order": 1}),
    ("markov", {"order": 2}),
    ("markov", {"order": 3}),
    ("shapley", {}),
    ("shapley", {"max_exact_channels": 4}),
    ("shapley", {"max_exact_channels": 0}),
]


def timed(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds over ``repeats`` calls, and the last result."""
    seconds, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def label(model: str, options: dict[str, Any]) -> str:
    if model == "markov":
        return f"markov order {options['order']}"
    if model == "shapley":
        most = options.get("max_exact_channels")
        if most is None:
            return "shapley exact"
        return "shapley all sampled" if most == 0 else f"shapley sets>{most} sampled"
    return model


def channelattribution_paths(data: JourneyData) -> pd.DataFrame:
    names = np.array(data.channels, dtype=object)
    split = np.split(names[data.channel], data.offsets[1:-1])
    rows = pd.DataFrame(
        {
            "path": [" > ".join(p) for p in split],
            "conv": data.converted.astype(np.int64),
            "null": (~data.converted).astype(np.int64),
            "value": data.value,
        }
    )
    return rows[data.lengths > 0].groupby("path", as_index=False).sum()


def bench_channelattribution(data: JourneyData, ours: dict[str, dict[str, float]]) -> None:
    print("\n== 4. ChannelAttribution 2.2.5 on the same journeys (no lookback, views kept)")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
            ca = importlib.import_module("ChannelAttribution")
    except ImportError:
        print("not installed: skipped")
        return
    started = time.perf_counter()
    paths = channelattribution_paths(data)
    seconds = time.perf_counter() - started
    print(f"input table ({len(paths):,} distinct paths) built in {seconds:.2f} s")
    started = time.perf_counter()
    heuristics = ca.heuristic_models(paths, "path", "conv", var_value="value", flg_pro=False)
    print(f"heuristic_models (first, last, linear): {time.perf_counter() - started:.2f} s")
    linear = heuristics.set_index("channel_name")["linear_touch_conversions"]
    ours_linear = pd.Series(ours["linear"])
    gap = np.abs(linear[ours_linear.index] - ours_linear).max()
    print(f"  linear: max |difference| from ours {gap:.2e} conversions")
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        markov = ca.markov_model(
            paths, "path", "conv", var_value="value", var_null="null", max_step=1000,
            verbose=False, flg_pro=False,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    table = (
        markov.set_index("channel_name")
        if isinstance(markov, pd.DataFrame)
        else markov["result"].set_index("channel_name")
    )
    share = table["total_conversions"] / table["total_conversions"].sum()
    ours_share = pd.Series(ours["markov"])
    gap = np.abs(share[ours_share.index] - ours_share).max()
    print(
        f"markov_model order 1 (nsim_start=1e5, simulated): {seconds:.2f} s; "
        f"max |share difference| from ours {gap:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k journeys, 1 repeat")
    parser.add_argument("--journeys", type=int, default=None)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--no-channelattribution", action="store_true")
    args = parser.parse_args()
    n = args.journeys or (100_000 if args.quick else 1_000_000)
    repeats = args.repeats or (1 if args.quick else 3)

    print(f"== 1. data: {n:,} journeys x {args.channels} channels")
    started = time.perf_counter()
    chain = random_chain(args.channels, seed=0, drop=(0.15, 0.3))
    frame, truth = simulate_journeys(n, chain=chain, seed=0)
    assert isinstance(frame, pd.DataFrame)
    seconds = time.perf_counter() - started
    converted = frame.groupby("journey_id")["converted"].first().mean()
    print(
        f"simulated in {seconds:.1f} s: {len(frame):,} touches "
        f"({len(frame) / n:.2f} per journey), {converted:.1%} converted"
    )

    print("\n== 2. reading")
    seconds, data = timed(lambda: parse_journeys(frame), repeats)
    print(f"long DataFrame: {seconds:.2f} s = {n / seconds:,.0f} journeys/s")
    sliced = min(n, 50_000)
    as_list = to_journey_list(frame[frame["journey_id"] < sliced])
    list_seconds, _ = timed(lambda: parse_journeys(as_list), 1)
    rate = sliced / list_seconds
    print(f"API list form ({sliced:,} journeys): {list_seconds:.2f} s = {rate:,.0f} journeys/s")

    print("\n== 3. models (analyze_journeys, lookback 30 days, views kept)")
    print(f"{'model':<24}{'parsed s':>10}{'journeys/s':>14}{'from frame s':>14}")
    analyzer = AttributionAnalyzer()
    for model, options in MODELS:
        seconds, _ = timed(
            lambda m=model, o=options: analyzer.analyze_journeys(data, m, 30, True, **o), repeats
        )
        total, _ = timed(
            lambda m=model, o=options: analyzer.analyze_journeys(frame, m, 30, True, **o), repeats
        )
        print(f"{label(model, options):<24}{seconds:>10.2f}{n / seconds:>14,.0f}{total:>14.2f}")
    everything = {  # no lookback: the chain's truth and ChannelAttribution see all touches
        model: analyzer.analyze_journeys(data, model, lookback_window=None)
        for model in ("linear", "markov")
    }
    ours = np.array([everything["markov"]["attribution"][c] for c in truth.channels])
    print(
        f"markov order 1 without lookback vs the chain's true shares: max |error| "
        f"{np.abs(ours - truth.attribution).max():.4f}"
    )
    if not args.no_channelattribution:
        bench_channelattribution(
            data,
            {
                "linear": everything["linear"]["attributed_conversions"],
                "markov": everything["markov"]["attribution"],
            },
        )


if __name__ == "__main__":
    main()
