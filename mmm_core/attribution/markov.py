"""Markov-chain attribution with removal effects, first and higher order, solved exactly.

The journeys are read as walks of an absorbing Markov chain (Anderl, Becker, von Wangenheim and
Schumann 2016, "Mapping the customer journey: lessons learned from graph-based online
attribution modeling", IJRM 33(3)):

* states: ``(start)``, one state per channel (order 1) or per tuple of the last ``k`` channels
  (order ``k``), and the absorbing ``(conversion)`` and ``(null)``. A journey ``c1 > c2 > c3``
  walks ``(start) -> c1 -> c2 -> c3 -> (conversion)`` if it converted and ``-> (null)`` if not
  (journeys without a conversion are the null paths). In order ``k`` its states are its first
  ``k`` channels, then each window of ``k`` consecutive channels; a journey shorter than ``k``
  is one state, its whole path (the convention of the ChannelAttribution package). Repeated
  consecutive states are merged (``a > a > b`` walks ``a -> b``): a self-loop changes no
  absorption probability.
* transition probabilities: transition counts over all journeys divided by each state's
  outgoing count (the maximum-likelihood estimate), counted in one vectorised pass.
* conversion probability ``P``: the probability of absorption in ``(conversion)`` from
  ``(start)``, ``x_start`` of ``(I - Q) x = r`` (``Q`` among transient states, ``r`` the
  one-step probability of converting), not simulated: one batched dense solve for all removals
  for chains of up to 100 states, a sparse LU solve per removal up to 200 states; beyond
  (higher orders, whose LU factors fill in), ``x <- Q x + r`` iterated for all removals at once
  until the probability of still walking is below 1e-13 (LU if that takes more than 5,000
  steps).
* removal effect of channel ``c``: ``RE_c = 1 - P_{-c} / P``, ``P_{-c}`` the conversion
  probability when every state holding ``c`` leads to ``(null)``; equivalently the share of
  converting walks that visit ``c``. Channel ``c`` is credited ``RE_c / sum_k RE_k`` of the
  conversions of the journeys with touches.
* value: the same with a reward ``b_s = V_s / N_s`` per state, ``V_s`` the value of the
  conversions whose journey ended in ``s`` and ``N_s`` the transitions out of ``s`` (so a
  conversion's expected value depends on the state it converts from, as in ChannelAttribution's
  ``var_value``), giving value removal effects and attributed value.

ChannelAttribution's ``markov_model`` estimates the same quantities by simulating walks of this
chain (and cuts walks longer than the longest journey); the answers here are its limit for
infinitely many simulations and no cut.

Examples
--------
>>> from mmm_core.attribution.journeys import parse_journeys
>>> paths = [("a b", True), ("a b", False), ("a", False), ("b", True)]
>>> data = parse_journeys([
...     {"converted": conv, "touchpoints": [
...         {"channel": c, "timestamp": f"2024-01-0{i + 1}"} for i, c in enumerate(p.split())]}
...     for p, conv in paths])
>>> result = markov_attribution(data)
>>> round(result.conversion_probability, 6), result.removal_effects.round(6).tolist()
(0.5, [0.666667, 1.0])
>>> result.conversions.round(6).tolist()
[0.8, 1.2]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

from mmm_core.attribution.journeys import JourneyData
from mmm_core.errors import Codes, MMModelError

__all__ = ["MarkovResult", "markov_attribution"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_DENSE_COUNT_LIMIT = 4_000_000  # count transitions with bincount up to this many matrix cells
_DENSE_CODE_LIMIT = 1 << 22  # states numbered by counting up to this many possible codes
_DENSE_LIMIT = 100  # one batched dense solve up to this many states (8 MB at most for order 1)
_DIRECT_LIMIT = 200  # sparse LU up to this many states, then iterations (LU fills in)
_MAX_ITERATIONS = 5_000
_ITERATION_TOLERANCE = 1e-13  # probability of walking on that may still add to x_start


@dataclass(frozen=True, eq=False)
class MarkovResult:
    """A fitted chain and what it attributes.

    Attributes
    ----------
    channels : tuple of str
    order : int
    conversions, value : ndarray, shape (n_channels,)
        Attributed conversions and value; they sum to the conversions and value of the
        journeys with touches.
    removal_effects, removal_effects_value : ndarray, shape (n_channels,)
        ``1 - P_{-c} / P`` for conversions and for value (0 for a channel with no touches).
    conversion_probability : float
        ``P``: the chain's probability of converting from ``(start)``.
    value_per_journey : float
        The chain's expected conversion value from ``(start)``.
    state_names : tuple of str
        ``(start)``, the transient states (channel names joined by ``>`` in order ``k``),
        ``(conversion)``, ``(null)``: the rows and columns of ``counts``.
    counts : scipy.sparse.csr_matrix
        Transition counts between the states.
    """

    channels: tuple[str, ...]
    order: int
    conversions: FloatArray
    value: FloatArray
    removal_effects: FloatArray
    removal_effects_value: FloatArray
    conversion_probability: float
    value_per_journey: float
    state_names: tuple[str, ...]
    counts: sp.csr_matrix

    def transition_matrix(self) -> dict[str, dict[str, float]]:
        """Transition probabilities ``{from: {to: p}}`` (non-zero entries; rows sum to 1)."""
        counts = self.counts.tocsr()
        totals = np.asarray(counts.sum(axis=1)).ravel()
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        probabilities = counts.data / totals[rows]
        out: dict[str, dict[str, float]] = {}
        names = self.state_names
        for i, j, p in zip(
            rows.tolist(), counts.indices.tolist(), probabilities.tolist(), strict=True
        ):
            out.setdefault(names[i], {})[names[j]] = p
        return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def markov_attribution(data: JourneyData, order: int = 1) -> MarkovResult:
    """Fit the order-``order`` chain to the journeys and attribute by removal effects.

    Parameters
    ----------
    data : JourneyData
        Journeys (already filtered by lookback and view-through).
    order : int, default 1
        Channels remembered by a state.

    Returns
    -------
    MarkovResult

    Raises
    ------
    MMModelError
        ``INVALID_PARAMETER`` for an order that is not a positive integer or too large to code
        the states of this many channels in 62 bits.
    """
    k = len(data.channels)
    order = _check_order(order, k)
    codes, members, state_names, kept = _states(data, order)
    journey = data.journey_of_touch[kept]
    # Merge repeated consecutive states of a journey.
    repeat = np.zeros(len(codes), dtype=bool)
    repeat[1:] = (codes[1:] == codes[:-1]) & (journey[1:] == journey[:-1])
    state, journey = codes[~repeat], journey[~repeat]
    n_states = len(state_names)
    size = n_states + 3  # (start), states, (conversion), (null)
    conv_index, null_index = n_states + 1, n_states + 2

    first = np.ones(len(state), dtype=bool)
    first[1:] = journey[1:] != journey[:-1]
    last = np.ones(len(state), dtype=bool)
    last[:-1] = journey[:-1] != journey[1:]
    came_from = np.zeros(len(state), dtype=np.int64)
    came_from[1:] = state[:-1] + 1
    came_from[first] = 0
    end_state = state[last] + 1
    end_journey = journey[last]
    converted = data.converted[end_journey]
    rows = np.concatenate([came_from, end_state])
    cols = np.concatenate([state + 1, np.where(converted, conv_index, null_index)])
    counts = _count(rows, cols, size)
    reward = np.bincount(
        end_state[converted], data.value[end_journey[converted]], minlength=size
    ).astype(float)

    total_conversions = float(converted.sum())
    total_value = float(data.value[end_journey[converted]].sum())
    removal, removal_value, p, pv = _removal_effects(counts, reward, members, n_states)
    conversions = _share_out(removal, total_conversions)
    value = _share_out(removal_value, total_value)
    return MarkovResult(
        channels=data.channels,
        order=order,
        conversions=conversions,
        value=value,
        removal_effects=removal,
        removal_effects_value=removal_value,
        conversion_probability=p,
        value_per_journey=pv,
        state_names=(START, *state_names, CONVERSION, NULL),
        counts=counts,
    )


# ------------------------------------------------------------------------------------ helpers


def _check_order(order: Any, n_channels: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"order must be an integer >= 1, got {order!r}.",
            hint="order=1 (first-order chain) is the usual choice; 2-3 remember more history.",
        )
    if (n_channels + 1) ** int(order) >= 2**62:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"order {order} is too high for {n_channels} channels (states cannot be coded).",
            hint="use a lower order; beyond 3 or 4 most states are seen too rarely to estimate.",
        )
    return int(order)


def _states(
    data: JourneyData, order: int
) -> tuple[IntArray, NDArray[np.bool_], tuple[str, ...], NDArray[np.bool_]]:
    """State index of each touch that starts a state, membership (states x channels), names.

    Returns ``(state_of_kept_touch, members, names, kept)``: in order ``k`` a touch at position
    ``p`` of a journey of ``n`` touches ends a state when ``p >= min(k, n) - 1``; the state is
    the tuple of the (up to ``k``) channels ending there, coded in base ``n_channels + 1``.
    """
    k = len(data.channels)
    if order == 1:
        present = np.bincount(data.channel, minlength=k) > 0
        index = np.cumsum(present) - 1
        members = np.eye(k, dtype=bool)[present]
        names = tuple(name for name, p in zip(data.channels, present, strict=True) if p)
        return index[data.channel], members, names, np.ones(data.n_touches, dtype=bool)
    base = k + 1
    pos = data.position
    n = data.lengths[data.journey_of_touch]
    kept = pos >= np.minimum(order, n) - 1
    code = np.zeros(data.n_touches, dtype=np.int64)
    touches = np.arange(data.n_touches)
    for i in range(order):  # digit i holds the channel i touches back (newest = digit 0)
        earlier = data.channel[np.maximum(touches - i, 0)] + 1
        code += np.where(pos >= i, earlier, 0) * base**i
    unique, index = _compact(code[kept], base**order)
    digits = (unique[:, None] // base ** np.arange(order)[None, :]) % base  # states x order
    members = np.zeros((len(unique), k), dtype=bool)
    for i in range(order):
        has = digits[:, i] > 0
        members[np.nonzero(has)[0], digits[has, i] - 1] = True
    names = tuple(
        ">".join(data.channels[d - 1] for d in row[::-1] if d > 0) for row in digits.tolist()
    )
    return index, members, names, kept


def _compact(codes: IntArray, space: int) -> tuple[IntArray, IntArray]:
    """The distinct codes (sorted) and each code's index among them (``np.unique``, faster
    by counting when the code space is small)."""
    if space > _DENSE_CODE_LIMIT:
        unique, index = np.unique(codes, return_inverse=True)
        return unique, index.astype(np.int64)
    present = np.bincount(codes, minlength=space) > 0
    return np.flatnonzero(present), (np.cumsum(present) - 1)[codes]


def _count(rows: IntArray, cols: IntArray, size: int) -> sp.csr_matrix:
    if size * size <= _DENSE_COUNT_LIMIT:
        dense = np.bincount(rows * size + cols, minlength=size * size).reshape(size, size)
        return sp.csr_matrix(dense.astype(float))
    ones = np.ones(len(rows))
    return sp.coo_matrix((ones, (rows, cols)), shape=(size, size)).tocsr()


def _removal_effects(
    counts: sp.csr_matrix, reward: FloatArray, members: NDArray[np.bool_], n_states: int
) -> tuple[FloatArray, FloatArray, float, float]:
    """Removal effects (conversions, value), ``P`` and the expected value from ``(start)``."""
    k = members.shape[1]
    transient = n_states + 1
    outgoing = np.asarray(counts.sum(axis=1)).ravel()[:transient]
    if outgoing[0] == 0:  # no journey with touches
        return np.zeros(k), np.zeros(k), 0.0, 0.0
    # keep[:, c]: the states left when channel c is removed; the last column keeps them all
    keep = np.ones((transient, k + 1), dtype=bool)
    keep[1:, :k] = ~members
    present = members.any(axis=0)
    if transient <= min(_DENSE_LIMIT, _DIRECT_LIMIT):
        start = _absorb_dense(counts.toarray()[:transient], reward[:transient], outgoing, keep)
    else:
        start = _absorb_sparse(counts, reward, outgoing, keep, present)
    p, pv = start[k]
    removal = np.where(present, 1.0 - start[:k, 0] / p, 0.0) if p > 0 else np.zeros(k)
    removal_value = np.where(present, 1.0 - start[:k, 1] / pv, 0.0) if pv > 0 else np.zeros(k)
    return np.clip(removal, 0.0, 1.0), np.clip(removal_value, 0.0, 1.0), float(p), float(pv)


def _absorb_dense(
    block: FloatArray, reward: FloatArray, outgoing: FloatArray, keep: NDArray[np.bool_]
) -> FloatArray:
    """``x_start`` (conversion, value) for every column of ``keep``, by one batched dense solve.

    ``block`` holds the transition counts out of the transient states (all columns). A removed
    state's row and column become those of the identity and its right-hand side 0, so it is
    absorbed at once with nothing gained: the same solution as leaving the state out.
    """
    transient = len(block)
    safe = np.where(outgoing > 0, outgoing, 1.0)
    q = block[:, :transient] * (1.0 / safe)[:, None]
    rhs = np.column_stack([block[:, transient] * (1.0 / safe), reward / safe])
    kept = keep.T.astype(float)  # removals x states
    systems = (np.eye(transient) - q) * kept[:, :, None] * kept[:, None, :]
    systems += np.eye(transient) * (1.0 - kept)[:, None, :]
    return np.linalg.solve(systems, rhs * kept[:, :, None])[:, 0, :]


def _absorb_sparse(
    counts: sp.csr_matrix,
    reward: FloatArray,
    outgoing: FloatArray,
    keep: NDArray[np.bool_],
    present: NDArray[np.bool_],
) -> FloatArray:
    """``x_start`` (conversion, value) for the removals of the present channels and for none
    (the last row): iterated for large chains, else a sparse LU per removal."""
    transient = len(outgoing)
    k = keep.shape[1] - 1
    inv = sp.diags(1.0 / np.where(outgoing > 0, outgoing, 1.0))
    block = counts[:transient]
    q = (inv @ block[:, :transient]).tocsr()
    rhs = np.column_stack(
        [
            (inv @ block[:, transient : transient + 1]).toarray().ravel(),
            reward[:transient] / np.where(outgoing > 0, outgoing, 1.0),
        ]
    )
    start = None
    if transient > _DIRECT_LIMIT:
        start = _absorb_iteratively(q, rhs, keep)
    if start is None:
        system = (sp.identity(transient, format="csc") - q).tocsc()
        start = np.zeros((k + 1, 2))
        for c in [*np.nonzero(present)[0].tolist(), k]:
            rows = keep[:, c].nonzero()[0]
            start[c] = splu(system[rows][:, rows].tocsc()).solve(rhs[rows])[0]
    return start


def _absorb_iteratively(
    q: sp.csr_matrix, rhs: FloatArray, keep: NDArray[np.bool_]
) -> FloatArray | None:
    """``x_start`` for every removal at once by ``x <- keep * (Q x + r)``; None if too slow.

    After ``n`` steps ``x`` holds what is absorbed within ``n`` steps; what is missing is at most
    the probability ``u_n`` of still walking after ``n`` steps, tracked alongside. Large
    higher-order chains fill in under LU factorisation (a dense factor per removal), while each
    step here costs one sparse product for all ``2 (k + 1)`` right-hand sides.
    """
    k1 = keep.shape[1]
    mask = np.hstack([np.repeat(keep, 2, axis=1), keep]).astype(float)
    # columns: (conversion, value) per removal, then the probability of walking on per removal
    added = np.hstack([np.tile(rhs, (1, k1)), np.zeros(keep.shape)]) * mask
    state = added + np.hstack([np.zeros((len(keep), 2 * k1)), keep])
    for _ in range(_MAX_ITERATIONS):
        state = (q @ state) * mask + added
        if state[0, 2 * k1 :].max() < _ITERATION_TOLERANCE:
            return state[0, : 2 * k1].reshape(k1, 2)
    return None


def _share_out(effects: FloatArray, total: float) -> FloatArray:
    weight = effects.sum()
    return effects / weight * total if weight > 0 else np.zeros_like(effects)
