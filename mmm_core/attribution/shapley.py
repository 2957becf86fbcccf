"""Data-driven Shapley attribution over channel coalitions: exact by bitmask sums, or sampled.

The game (Dalessandro, Perlich, Stitelman and Provost 2012, "Causally motivated attribution for
online advertising", ADKDD; after Shao and Li 2011, "Data-driven multi-touch attribution
models", KDD): the worth of a coalition ``S`` of channels is the conversion rate of the journeys
exposed to exactly the channels ``S``,

    v(S) = conversions(S) / journeys(S),

estimated from the data (converting and non-converting journeys alike; ``v(S) = 0`` for a set
no journey was exposed to, and for the empty set). The conversions of the journeys exposed to
``S`` are shared among the channels of ``S`` by the Shapley value of ``v`` restricted to the
subsets of ``S``:

    credit_c = sum_S journeys(S) phi_c^S,
    phi_c^S  = sum_{T ⊆ S \\ {c}} |T|! (|S| - |T| - 1)! / |S|! (v(T ∪ {c}) - v(T)).

Since ``sum_c phi_c^S = v(S)``, the credits add up exactly to the conversions of the journeys
with touches; a channel earns credit only from journeys that touched it, and more when the
journeys with it convert better than those without it. Value is attributed the same way with
``v(S)`` the value per journey. A channel whose presence lowers the conversion rate can receive
negative credit (the Shapley value does not forbid it).

Why this game: the other common choice, ``v(S)`` = conversions of the journeys whose channel set
is a subset of ``S``, ignores the journeys that did not convert, and its Shapley value reduces to
splitting each converted journey equally among its distinct channels (Zhao, Mahboobi and
Bagheri 2018, "Shapley value methods for attribution modeling in online advertising",
arXiv:1804.05327): a linear rule, not data-driven.

Computation, exact wherever it is affordable:

* ``k <= max_exact_channels`` channels in all (15 by default): all coalitions at once. Write
  ``U = T ∪ {c}``; then ``credit_c = sum_{U ∋ c} (v(U) - v(U \\ {c})) G(U)`` with
  ``G(U) = sum_{S ⊇ U} journeys(S) w(|S|, |U| - 1)`` and ``w(s, t) = t! (s - t - 1)! / s!``:
  a superset sum over the ``2^k`` bitmasks for each of the ``k`` values of ``|U| - 1``,
  ``O(k^2 2^k)`` vectorised work whatever the number of journeys.
* more channels: each observed set ``S`` with at most ``max_exact_channels`` channels is solved
  exactly over its own ``2^|S|`` subsets (journeys rarely touch more than a handful of distinct
  channels, so this stays cheap for any ``k`` up to 62, the bitmask width);
* sets larger than that are estimated by Monte-Carlo over orders (Castro, Gómez and Tejada 2009,
  "Polynomial calculation of the Shapley value based on sampling", Computers & Operations
  Research 36(5)): a random order of all channels, restricted to each set, is a uniform order of
  that set, so one permutation scores every such set at once; each permutation is paired with
  its reverse (antithetic sampling), the credits still add up exactly, and the standard errors
  are reported. Seeded. ``max_exact_channels=0`` samples every set.

Examples
--------
>>> from mmm_core.attribution.journeys import parse_journeys
>>> def journeys(channels, n, conversions):
...     return [{"converted": i < conversions, "touchpoints": [
...         {"channel": c, "timestamp": "2024-01-01"} for c in channels]} for i in range(n)]
>>> data = parse_journeys(journeys("a", 100, 10) + journeys("b", 100, 5) + journeys("ab", 100, 20))
>>> shapley_attribution(data).conversions.tolist()  # a: 10 + 100 * 0.125, b: 5 + 100 * 0.075
[22.5, 12.5]
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
from numpy.typing import NDArray

from mmm_core.attribution.journeys import JourneyData
from mmm_core.errors import Codes, MMModelError

__all__ = [
    "DEFAULT_MAX_EXACT_CHANNELS",
    "DEFAULT_SHAPLEY_SAMPLES",
    "ShapleyResult",
    "shapley_attribution",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

DEFAULT_MAX_EXACT_CHANNELS = 15
DEFAULT_SHAPLEY_SAMPLES = 1000
_EXACT_LIMIT = 20  # 2^20 coalitions x 20 sizes is about 170 MB: the most we allow
_BITMASK_LIMIT = 62
_BATCH_CELLS = 1_000_000  # permutations x sets (or sets x subsets) per vectorised batch
_DENSE_LOOKUP_LIMIT = 20  # worth looked up in a table of 2^k rows up to k = 20 (16 MB)
_EXAMPLE_SETTINGS = {
    "max_exact_channels": DEFAULT_MAX_EXACT_CHANNELS,
    "n_samples": DEFAULT_SHAPLEY_SAMPLES,
    "seed": 0,
}


@dataclass(frozen=True, eq=False)
class ShapleyResult:
    """Shapley credits per channel.

    Attributes
    ----------
    channels : tuple of str
    conversions, value : ndarray, shape (n_channels,)
        Credited conversions and value; they sum to those of the journeys with touches.
    exact : bool
        False when the credits of some channel sets were sampled.
    n_samples : int
        Permutations drawn (0 when exact).
    standard_error, standard_error_value : ndarray, shape (n_channels,)
        Monte-Carlo standard errors of the credits (0 when exact).
    n_coalitions : int
        Distinct channel sets the journeys were exposed to.
    n_sampled_coalitions : int
        Those whose credits were sampled (more than ``max_exact_channels`` channels).
    """

    channels: tuple[str, ...]
    conversions: FloatArray
    value: FloatArray
    exact: bool
    n_samples: int
    standard_error: FloatArray
    standard_error_value: FloatArray
    n_coalitions: int
    n_sampled_coalitions: int


def shapley_attribution(
    data: JourneyData,
    *,
    max_exact_channels: int = DEFAULT_MAX_EXACT_CHANNELS,
    n_samples: int = DEFAULT_SHAPLEY_SAMPLES,
    seed: int = 0,
) -> ShapleyResult:
    """Credit conversions and value to channels by the Shapley value of the exposure game.

    Parameters
    ----------
    data : JourneyData
        Journeys (already filtered by lookback and view-through).
    max_exact_channels : int, default 15
        All coalitions at once up to this many channels with touches (at most 20); beyond,
        channel sets up to this size exactly one by one, larger ones sampled.
    n_samples : int, default 1000
        Permutations drawn for sampled sets (rounded up to an even number: pairs with reverses).
    seed : int, default 0
        Seed of the permutations.

    Returns
    -------
    ShapleyResult

    Raises
    ------
    MMModelError
        ``INVALID_PARAMETER`` for bad settings, or more than 62 channels with touches.
    """
    max_exact = _check_int("max_exact_channels", max_exact_channels, 0, _EXACT_LIMIT)
    samples = _check_int("n_samples", n_samples, 2, 10**7)
    samples += samples % 2
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    k = len(data.channels)
    present = np.nonzero(np.bincount(data.channel, minlength=k) > 0)[0]
    m = len(present)
    if m > _BITMASK_LIMIT:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"Shapley attribution handles at most {_BITMASK_LIMIT} channels, got {m}.",
            hint="group rare channels together, or use the markov model.",
        )
    zeros = np.zeros(k)
    if m == 0:
        return ShapleyResult(data.channels, zeros, zeros.copy(), True, 0, zeros, zeros, 0, 0)
    compact = np.full(k, -1, dtype=np.int64)
    compact[present] = np.arange(m)
    bits = np.left_shift(np.int64(1), compact[data.channel])
    has_touch = data.lengths > 0
    masks = np.bitwise_or.reduceat(bits, data.offsets[:-1][has_touch])
    sets, inverse = np.unique(masks, return_inverse=True)
    journeys = np.bincount(inverse).astype(float)
    worth = (
        np.column_stack(
            [
                np.bincount(inverse, data.converted[has_touch].astype(float)),
                np.bincount(inverse, data.value[has_touch]),
            ]
        )
        / journeys[:, None]
    )
    se = np.zeros((m, 2))
    large = np.zeros(len(sets), dtype=bool)
    if m <= max_exact:
        credit = _exact(sets, journeys, worth, m)
    else:
        lookup = _Worth(sets, worth, m)
        large = _popcount(sets, m) > max_exact
        credit = _exact_per_set(sets[~large], journeys[~large], lookup, m)
        if large.any():
            rng = np.random.default_rng(seed)
            sampled, se = _sampled(sets[large], journeys[large], lookup, m, samples, rng)
            credit += sampled
    full = np.zeros((k, 2))
    full[present] = credit
    full_se = np.zeros((k, 2))
    full_se[present] = se
    return ShapleyResult(
        channels=data.channels,
        conversions=full[:, 0],
        value=full[:, 1],
        exact=not large.any(),
        n_samples=samples if large.any() else 0,
        standard_error=full_se[:, 0],
        standard_error_value=full_se[:, 1],
        n_coalitions=len(sets),
        n_sampled_coalitions=int(large.sum()),
    )


# ------------------------------------------------------------------------------------ exact


def _popcount(masks: IntArray, m: int) -> IntArray:
    counts = np.zeros(masks.shape, dtype=np.int64)
    for i in range(m):
        counts += (masks >> i) & 1
    return counts


def _shapley_weights(s: int) -> FloatArray:
    """``w(s, t) = t! (s - t - 1)! / s! = 1 / (s C(s - 1, t))`` for ``t = 0 .. s - 1``."""
    return np.array([1.0 / (s * comb(s - 1, t)) for t in range(s)])


class _Worth:
    """``v(mask)`` for arrays of masks: the observed worth, 0 for sets nobody was exposed to."""

    def __init__(self, sets: IntArray, worth: FloatArray, m: int) -> None:
        self.sets, self.worth = sets, worth
        self.table: FloatArray | None = None
        if m <= _DENSE_LOOKUP_LIMIT:
            self.table = np.zeros((1 << m, 2))
            self.table[sets] = worth

    def __call__(self, masks: IntArray) -> FloatArray:
        if self.table is not None:
            return self.table[masks]
        index = np.searchsorted(self.sets, masks).clip(max=len(self.sets) - 1)
        found = self.sets[index] == masks
        return np.where(found[..., None], self.worth[index], 0.0)


def _exact(sets: IntArray, journeys: FloatArray, worth: FloatArray, m: int) -> FloatArray:
    """Credits (m x 2) by superset sums over all ``2^m`` coalitions."""
    size = 1 << m
    value = np.zeros((size, 2))
    value[sets] = worth
    sizes = _popcount(np.arange(size, dtype=np.int64), m)
    # weights[t, S] = journeys(S) * t! (s - t - 1)! / s! for t < s = |S|
    weights = np.zeros((m, size))
    set_sizes = sizes[sets]
    # w(s, t) = t! (s - t - 1)! / s! = 1 / (s * C(s - 1, t)), tabulated for s = 1..m
    table = np.array(
        [[1.0 / (s * comb(s - 1, t)) if t < s else 0.0 for t in range(m)] for s in range(m + 1)]
        if m
        else [[0.0]]
    )
    weights[:, sets] = (journeys[:, None] * table[set_sizes]).T
    for i in range(m):  # superset sum: every mask collects the masks with bit i added
        view = weights.reshape(m, -1, 2, 1 << i)
        view[:, :, 0, :] += view[:, :, 1, :]
    gathered = np.zeros(size)
    nonempty = sizes > 0
    gathered[nonempty] = weights[sizes[nonempty] - 1, np.nonzero(nonempty)[0]]
    credit = np.zeros((m, 2))
    for i in range(m):
        v = value.reshape(-1, 2, 1 << i, 2)
        g = gathered.reshape(-1, 2, 1 << i)[:, 1]
        credit[i] = np.einsum("ab,abc->c", g, v[:, 1] - v[:, 0])
    return credit


def _exact_per_set(sets: IntArray, journeys: FloatArray, worth: _Worth, m: int) -> FloatArray:
    """Credits (m x 2), each set's Shapley values over its own subsets, sets grouped by size."""
    credit = np.zeros((m, 2))
    sizes = _popcount(sets, m)
    for s in np.unique(sizes).tolist():
        group, weight = sets[sizes == s], journeys[sizes == s]
        local = np.arange(1 << s, dtype=np.int64)
        # w(s, |T|) for every local subset T (the full set, never a T without i, is clipped)
        weights = _shapley_weights(s)[np.minimum(_popcount(local, s), s - 1)]
        step = max(1, _BATCH_CELLS >> s)
        for lo in range(0, len(group), step):
            chunk, n = group[lo : lo + step], weight[lo : lo + step]
            bit_rows = (chunk[:, None] >> np.arange(m)) & 1
            members = np.nonzero(bit_rows)[1].reshape(len(chunk), s)  # channels, ascending
            subsets = np.zeros((len(chunk), 1 << s), dtype=np.int64)
            for i in range(s):
                subsets |= np.where((local >> i) & 1, 1, 0)[None, :] << members[:, i : i + 1]
            v = worth(subsets)  # (sets, 2^s, 2)
            for i in range(s):
                halves = v.reshape(len(chunk), -1, 2, 1 << i, 2)
                gain = halves[:, :, 1] - halves[:, :, 0]  # (sets, blocks, 2^i, 2)
                without = weights.reshape(-1, 2, 1 << i)[:, 0]  # subsets T without member i
                phi = np.einsum("nabc,ab->nc", gain, without)
                credit[:, 0] += np.bincount(members[:, i], n * phi[:, 0], minlength=m)
                credit[:, 1] += np.bincount(members[:, i], n * phi[:, 1], minlength=m)
    return credit


# ------------------------------------------------------------------------------------ sampled


def _sampled(
    sets: IntArray,
    journeys: FloatArray,
    worth: _Worth,
    m: int,
    samples: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Mean credits (m x 2) over antithetic permutation pairs, and their standard errors."""
    pairs = samples // 2
    batch = max(1, _BATCH_CELLS // (2 * len(sets)))
    pair_credit = np.zeros((pairs, m, 2))
    done = 0
    while done < pairs:
        size = min(batch, pairs - done)
        orders = rng.permuted(np.tile(np.arange(m), (size, 1)), axis=1)
        both = np.concatenate([orders, orders[:, ::-1]])
        credit = _credit_along(both, sets, journeys, worth)
        pair_credit[done : done + size] = 0.5 * (credit[:size] + credit[size:])
        done += size
    mean = pair_credit.mean(axis=0)
    se = pair_credit.std(axis=0, ddof=1) / np.sqrt(pairs) if pairs > 1 else np.zeros_like(mean)
    return mean, se


def _credit_along(
    orders: IntArray, sets: IntArray, journeys: FloatArray, worth: _Worth
) -> FloatArray:
    """Credits (n_orders x m x 2) when channels join in each row's order."""
    n_orders, m = orders.shape
    prefix = np.zeros((n_orders, len(sets)), dtype=np.int64)
    before = np.zeros((n_orders, len(sets), 2))
    credit = np.zeros((n_orders, m, 2))
    rows = np.arange(n_orders)
    for step in range(m):
        channel = orders[:, step]
        bit = np.left_shift(np.int64(1), channel)[:, None]
        prefix |= sets[None, :] & bit
        after = worth(prefix)
        credit[rows, channel] = np.einsum("u,buc->bc", journeys, after - before)
        before = after
    return credit


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= int(value) <= high
    ):
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"{name} must be an integer from {low} to {high}, got {value!r}.",
            hint=f"pass e.g. {name}={_EXAMPLE_SETTINGS[name]}.",
        )
    return int(value)
