"""Journeys simulated from a known Markov chain, with the true removal effects (for tests, bench).

Customers walk an absorbing first-order chain: they enter at a channel drawn from ``start``,
move from channel to channel (repeats included) with the probabilities of ``transitions``, and
stop at ``(conversion)`` or ``(null)``. A conversion's value is drawn from a gamma distribution
(shape 2) whose mean depends on the channel converted from. Touch times start uniformly within a
year and are spaced by exponential gaps; a converted journey converts at its last touch; each
touch is a view with probability ``view_share``, otherwise a click.

The truth (:class:`ChainTruth`) is computed from the chain's parameters alone, by dense linear
solves independent of :mod:`mmm_core.attribution.markov`: the conversion probability, each
channel's removal effect ``1 - P_{-c} / P`` for conversions and for value, and the attribution
shares they imply. A first-order Markov attribution of enough simulated journeys (no lookback,
views kept) converges to these shares.

Examples
--------
>>> frame, truth = simulate_journeys(2_000, n_channels=3, seed=1)
>>> sorted(frame.columns)
['channel', 'conversion_value', 'converted', 'interaction', 'journey_id', 'timestamp']
>>> truth.channels, round(float(truth.attribution.sum()), 6)
(('display', 'search', 'social'), 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mmm_core.attribution.journeys import NS_PER_DAY, to_journey_list

__all__ = ["ChainTruth", "chain_truth", "random_chain", "simulate_journeys"]

FloatArray = NDArray[np.float64]

CHANNEL_NAMES = (
    "search",
    "social",
    "display",
    "email",
    "video",
    "affiliate",
    "direct",
    "tv",
    "radio",
    "podcast",
)
_MAX_STEPS = 1_000  # journeys still walking after this many touches end without converting


@dataclass(frozen=True, eq=False)
class ChainTruth:
    """A first-order journey chain and the attribution it implies.

    Attributes
    ----------
    channels : tuple of str
        Channel names, sorted (the order of every per-channel array here and in the models).
    start : ndarray, shape (k,)
        Probability of entering at each channel.
    transitions : ndarray, shape (k, k + 2)
        From each channel to each channel, then to ``(conversion)`` and ``(null)``; rows sum to 1.
    value_mean : ndarray, shape (k,)
        Mean conversion value when converting from each channel.
    conversion_probability : float
    removal_effects, removal_effects_value : ndarray, shape (k,)
    attribution, value_attribution : ndarray, shape (k,)
        Removal effects normalised to sum to 1.
    """

    channels: tuple[str, ...]
    start: FloatArray
    transitions: FloatArray
    value_mean: FloatArray
    conversion_probability: float
    removal_effects: FloatArray
    removal_effects_value: FloatArray
    attribution: FloatArray
    value_attribution: FloatArray


def chain_truth(
    channels: tuple[str, ...], start: FloatArray, transitions: FloatArray, value_mean: FloatArray
) -> ChainTruth:
    """The true conversion probability and removal effects of a chain (dense solves)."""
    k = len(channels)
    q = transitions[:, :k]
    rhs = np.column_stack([transitions[:, k], transitions[:, k] * value_mean])

    def absorbed(keep: NDArray[np.intp]) -> FloatArray:
        if len(keep) == 0:
            return np.zeros(2)
        x = np.linalg.solve(np.eye(len(keep)) - q[np.ix_(keep, keep)], rhs[keep])
        return start[keep] @ x

    everything = absorbed(np.arange(k))
    removal = np.array([1.0 - absorbed(np.delete(np.arange(k), c)) / everything for c in range(k)])
    return ChainTruth(
        channels=tuple(channels),
        start=start,
        transitions=transitions,
        value_mean=value_mean,
        conversion_probability=float(everything[0]),
        removal_effects=removal[:, 0],
        removal_effects_value=removal[:, 1],
        attribution=removal[:, 0] / removal[:, 0].sum(),
        value_attribution=removal[:, 1] / removal[:, 1].sum(),
    )


def random_chain(
    n_channels: int, seed: int = 0, *, drop: tuple[float, float] = (0.25, 0.5)
) -> ChainTruth:
    """A plausible chain: each channel converts 2-15% of the time per step and ends the journey
    without converting with a probability drawn from ``drop`` (lower: longer journeys)."""
    rng = np.random.default_rng(seed)
    channels = _channel_names(n_channels)
    start = rng.dirichlet(np.ones(n_channels))
    convert = rng.uniform(0.02, 0.15, n_channels)
    stop = rng.uniform(drop[0], drop[1], n_channels)
    moves = rng.dirichlet(np.full(n_channels, 0.7), size=n_channels) * (1 - convert - stop)[:, None]
    transitions = np.column_stack([moves, convert, stop])
    value_mean = rng.uniform(50.0, 150.0, n_channels)
    return chain_truth(channels, start, transitions, value_mean)


def simulate_journeys(
    n_journeys: int,
    n_channels: int = 5,
    *,
    seed: int = 0,
    chain: ChainTruth | None = None,
    view_share: float = 0.3,
    mean_gap_days: float = 2.0,
    kind: str = "frame",
) -> tuple[pd.DataFrame | list[dict[str, Any]], ChainTruth]:
    """Simulate journeys from ``chain`` (default ``random_chain(n_channels, seed)``).

    Parameters
    ----------
    n_journeys : int
    n_channels : int, default 5
        Channels of the default chain (ignored when ``chain`` is given).
    seed : int, default 0
    chain : ChainTruth, optional
    view_share : float, default 0.3
        Probability that a touch is a view.
    mean_gap_days : float, default 2.0
        Mean of the exponential gaps between consecutive touches.
    kind : {"frame", "list"}
        The long DataFrame (integer ``journey_id``, categorical ``channel`` and ``interaction``,
        UTC ``timestamp``) or the API's list form.

    Returns
    -------
    (journeys, ChainTruth)
    """
    truth = random_chain(n_channels, seed) if chain is None else chain
    rng = np.random.default_rng(seed + 1)
    k = len(truth.channels)
    step_cdf = np.cumsum(truth.transitions, axis=1)
    step_cdf[:, -1] = np.inf
    state = np.minimum(np.searchsorted(np.cumsum(truth.start), rng.random(n_journeys)), k - 1)
    walking = np.arange(n_journeys)
    converted = np.zeros(n_journeys, dtype=bool)
    last_channel = np.zeros(n_journeys, dtype=np.int64)
    journeys, channels = [], []
    for _ in range(_MAX_STEPS):
        if len(walking) == 0:
            break
        journeys.append(walking)
        channels.append(state)
        u = rng.random(len(walking))
        nxt = (u[:, None] >= step_cdf[state]).sum(axis=1)
        done = nxt >= k
        converted[walking[nxt == k]] = True
        last_channel[walking[done]] = state[done]
        walking, state = walking[~done], nxt[~done]
    journey = np.concatenate(journeys)
    channel = np.concatenate(channels)
    order = np.argsort(journey, kind="stable")
    journey, channel = journey[order], channel[order]

    lengths = np.bincount(journey, minlength=n_journeys)  # every journey has a touch
    first = np.zeros(len(journey), dtype=bool)
    first[np.cumsum(lengths) - lengths] = True
    gaps = np.where(first, 0.0, rng.exponential(mean_gap_days, len(journey)))
    cumulative = np.cumsum(gaps)
    since_start = cumulative - np.repeat(cumulative[first], lengths)
    begin = rng.uniform(0.0, 365.0, n_journeys)
    days = begin[journey] + since_start
    epoch = pd.Timestamp("2024-01-01", tz="UTC").value
    stamps = epoch + np.round(days * NS_PER_DAY / 1e9).astype(np.int64) * 10**9
    value = np.where(
        converted, np.round(rng.gamma(2.0, truth.value_mean[last_channel] / 2.0), 2), 0.0
    )
    frame = pd.DataFrame(
        {
            "journey_id": journey,
            "timestamp": pd.to_datetime(stamps, utc=True),
            "channel": pd.Categorical.from_codes(channel, categories=list(truth.channels)),
            "interaction": pd.Categorical.from_codes(
                (rng.random(len(journey)) < view_share).astype(np.int8),
                categories=["click", "view"],
            ),
            "converted": converted[journey],
            "conversion_value": value[journey],
        }
    )
    if kind == "list":
        return to_journey_list(frame), truth
    if kind != "frame":
        raise ValueError(f"kind must be 'frame' or 'list', got {kind!r}")
    return frame, truth


def _channel_names(n: int) -> tuple[str, ...]:
    names = list(CHANNEL_NAMES[:n]) + [f"channel_{i}" for i in range(len(CHANNEL_NAMES), n)]
    return tuple(sorted(names))
