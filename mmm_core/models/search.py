"""Vectorised hyperparameter search scored by rolling-origin cross-validation.

Each channel has a transform chain ``hill(adstock(x))`` with 3-4 hyperparameters. Robyn
searches the joint space with thousands of sequential Nevergrad trials, each a full glmnet fit.
Here the search is block-coordinate: for one channel at a time, with the other channels held at
their current choice, *all* of that channel's candidates (a few hundred) are scored at once.
Changing one channel changes one column of the design, so every candidate's ridge problem is
built from shared Gram blocks and solved in one batched ``numpy.linalg.solve`` per fold.
Sweeps repeat over the channels; after the first, half of the candidates are drawn around the
current choice (local refinement) and half from the prior (exploration).

Scoring is rolling-origin time-series cross-validation: fold ``k`` trains on periods
``[0, o_k)`` and predicts ``[o_k, o_k + h)``, so no fold ever sees its future. The score is the
pooled out-of-fold mean squared error.

Besides the best candidate, each channel keeps its *plausible set*: the candidates whose
out-of-fold error is within one paired standard error of the best, i.e. those the data cannot
tell apart from it. The bootstrap draws hyperparameters from these sets, so the intervals carry
the uncertainty about carry-over and saturation as well as about the coefficients. Where the
data pin a channel down more finely than the candidates are spaced (fewer than
:data:`MIN_PLAUSIBLE` qualify), its set is sampled again closer around the best.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from mmm_core.models.solver import batched_ridge_solve
from mmm_core.transforms import Adstock, HillSaturation

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Where the local refinement may move each hyperparameter (relative bounds for half_saturation).
_BOUNDS = {
    "rate": (0.0, 0.95),
    "shape": (0.3, 6.0),
    "scale": (0.3, 40.0),
    "half_saturation": (0.25, 5.0),
    "shape_hill": (0.5, 3.0),
}
#: A candidate whose Hill curve is already this flat at the channel's typical adstocked spend
#: (elasticity ``d log h / d log x = s / (1 + (x/K)^s)`` below it) is not considered: its
#: feature is nearly constant whenever the channel is on, so it cannot be told apart from the
#: baseline and would let media take credit for base sales. The generator's channels all have
#: elasticities between 0.4 and 1.2 at their typical spend; Robyn's bounded inflexion point
#: (gamma in [0.3, 1]) plays the same role.
MIN_ELASTICITY = 0.25
#: Width of the plausible sets in paired standard errors. With 1, the 90% ROI intervals covered
#: the truth for 0.75-0.95 of the channels on the generator's scenarios; with 2, 0.80-1.00.
PLAUSIBLE_SE = 2.0
#: A plausible set smaller than this is sampled again, closer around the best candidate (at
#: half the spread each time, up to ``REFINE_ROUNDS`` times).
MIN_PLAUSIBLE = 8
REFINE_ROUNDS = 3
# Centre of the search prior: the "plain" channel the tie-break leans to.
_CENTRE = {"rate": 0.3, "shape": 1.0, "scale": 2.0, "half_saturation": 1.0}


@dataclass
class ChannelSpace:
    """The candidate transforms of one channel.

    Attributes
    ----------
    adstock : Adstock
        The adstock family (geometric or Weibull).
    params : dict of str to ndarray
        Adstock and Hill parameters, each of shape ``(R,)``; ``half_saturation`` in spend units.
    features : ndarray, shape (R, n)
        ``hill(adstock(x))`` for every candidate.
    scale : float
        The channel's typical spend (mean of non-zero periods), which scales ``half_saturation``.
    fixed : bool
        True when the user fixed this channel's transforms (one candidate, never searched).
    """

    adstock: Adstock
    params: dict[str, FloatArray]
    features: FloatArray
    scale: float
    fixed: bool = False

    @property
    def size(self) -> int:
        return int(self.features.shape[0])

    def candidate(self, index: int) -> dict[str, float]:
        """Parameters of one candidate as plain floats."""
        return {name: float(values[index]) for name, values in self.params.items()}


def build_channel_space(
    x: FloatArray,
    adstock: Adstock,
    saturation: HillSaturation,
    params: dict[str, FloatArray],
    scale: float,
    fixed: bool = False,
    size: int | None = None,
) -> ChannelSpace:
    """Compute the features of candidates (``shape_hill`` is the Hill shape).

    Unless ``fixed``, candidates flatter than :data:`MIN_ELASTICITY` at the channel's typical
    adstocked spend are dropped (candidate 0 is always kept) and the first ``size`` kept.
    """
    params = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in params.items()}
    adstocked = adstock.transform(x, {p: params[p] for p in adstock.param_names})
    adstocked = np.atleast_2d(adstocked)
    if not fixed:
        on = adstocked > 0
        typical = adstocked.sum(axis=1) / np.maximum(on.sum(axis=1), 1)  # mean of on-periods
        k, s = params["half_saturation"], params["shape_hill"]
        elasticity = s / (1.0 + (typical / k) ** s)
        keep = np.flatnonzero((elasticity >= MIN_ELASTICITY) | (np.arange(len(k)) == 0))
        keep = keep[: size or len(keep)]
        params = {name: values[keep] for name, values in params.items()}
        adstocked = adstocked[keep]
    features = saturation.transform(
        adstocked, {"half_saturation": params["half_saturation"], "shape": params["shape_hill"]}
    )
    return ChannelSpace(
        adstock=adstock, params=params, features=np.atleast_2d(features), scale=scale, fixed=fixed
    )


def _prior_candidates(
    adstock: Adstock, saturation: HillSaturation, rng: np.random.Generator, size: int, scale: float
) -> dict[str, FloatArray]:
    params = adstock.sample(rng, size)
    hill = saturation.sample(rng, size, scale)
    lo, hi = _BOUNDS["half_saturation"]
    params["half_saturation"] = np.clip(hill["half_saturation"], lo * scale, hi * scale)
    params["shape_hill"] = np.clip(hill["shape"], *_BOUNDS["shape_hill"])
    # Candidate 0 is the centre of the prior, so the plain answer is always on the table.
    for name in adstock.param_names:
        params[name][0] = _CENTRE[name]
    params["half_saturation"][0] = scale
    params["shape_hill"][0] = 1.0
    return params


def _local_candidates(
    best: dict[str, float], rng: np.random.Generator, size: int, scale: float, spread: float
) -> dict[str, FloatArray]:
    out: dict[str, FloatArray] = {}
    for name, value in best.items():
        lo, hi = _BOUNDS[name]
        if name == "half_saturation":
            lo, hi = lo * scale, hi * scale
        if name == "rate":
            draw = value + rng.normal(0.0, 0.15 * spread, size)
        else:
            draw = value * np.exp(rng.normal(0.0, 0.35 * spread, size))
        draw = np.clip(draw, lo, hi)
        draw[0] = value  # keep the incumbent
        out[name] = draw
    return out


def _pin(params: dict[str, FloatArray], pinned: dict[str, float]) -> dict[str, FloatArray]:
    """Overwrite the user-fixed parameters in every candidate."""
    for name, value in pinned.items():
        params[name] = np.full_like(params[name], float(value))
    return params


def _merge(a: ChannelSpace, b: ChannelSpace) -> ChannelSpace:
    """One space holding the candidates of ``a`` then ``b`` (``a``'s first stays first)."""
    return ChannelSpace(
        adstock=a.adstock,
        params={k: np.concatenate([a.params[k], b.params[k]]) for k in a.params},
        features=np.vstack([a.features, b.features]),
        scale=a.scale,
    )


def prior_penalty(space: ChannelSpace) -> FloatArray:
    """``0.5 * sum z^2`` per candidate: distance from the prior centre in standard units.

    Rate: (rate - 0.3) / 0.3; Hill half-saturation: log(K / typical spend); Hill shape: log(s);
    Weibull shape: log(k); Weibull scale: log(scale / 2). (Tighter priors on the Hill terms,
    sd 0.5-0.7, pulled S-shaped curves towards shape 1 and cost 4-5 points of misattributed
    revenue on the generator's scenarios.) User-fixed parameters
    cost nothing. The weight of this prior against the data is ``prior_weight``.
    """
    z2 = np.zeros(space.size)
    if space.fixed:
        return z2
    p = space.params
    for name, values in p.items():
        if np.ptp(values) == 0 and space.size > 1:
            continue  # pinned by the user
        if name == "rate":
            z = (values - _CENTRE["rate"]) / 0.3
        elif name == "half_saturation":
            z = np.log(values / space.scale)
        elif name == "shape_hill":
            z = np.log(values)
        else:
            z = np.log(values / _CENTRE[name])
        z2 += z**2
    return 0.5 * z2


def rolling_origin_folds(n: int, n_folds: int, min_train: int) -> list[tuple[int, int]]:
    """Fold ends ``(o_k, o_k + h)``: train on ``[0, o_k)``, test on ``[o_k, o_k + h)``.

    ``n_folds`` folds of ``h = ceil(n / (2 n_folds))`` periods (at least 3) tile the second half
    of the series, so about half of the periods are scored out of sample, each by a model that
    never saw it or anything after it. Folds whose training part would be shorter than
    ``min_train`` are dropped.
    """
    horizon = max(3, -(-n // (2 * n_folds)))
    folds = []
    for k in range(n_folds, 0, -1):
        origin = n - k * horizon
        if origin >= min_train:
            folds.append((origin, min(origin + horizon, n)))
    return folds


@dataclass(frozen=True)
class CalibrationTarget:
    """A measured lift the model should agree with (an experiment, as Robyn's calibration).

    Attributes
    ----------
    channel : int
        Index of the spend column the experiment measured.
    window : ndarray of bool, shape (n,)
        Periods over which the lift was measured.
    lift : float
        Measured incremental KPI over the window, on the scaled target.
    se : float
        Its standard error, on the same scale.
    """

    channel: int
    window: BoolArray
    lift: float
    se: float


@dataclass
class SearchProblem:
    """Everything the search scores against, fixed for the whole search.

    Attributes
    ----------
    base : ndarray, shape (n, q)
        Baseline and control columns (free sign).
    base_unpenalized : ndarray of bool, shape (q,)
        Columns without ridge penalty (the intercept).
    y : ndarray, shape (n,)
        Scaled target; ``n`` may be shorter than the media series (the held-out tail).
    folds : list of (int, int)
        From :func:`rolling_origin_folds`.
    calibration : list of CalibrationTarget
        Experiments; each adds ``0.5 * ((implied - lift) / se)^2`` to a candidate's score, where
        ``implied`` is the channel's contribution over the window under a fit on all periods.
    """

    base: FloatArray
    base_unpenalized: BoolArray
    y: FloatArray
    folds: list[tuple[int, int]]
    calibration: list[CalibrationTarget] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        """Number of out-of-fold periods ``N``."""
        return sum(end - origin for origin, end in self.folds)

    def errors(self, media: FloatArray, alpha: float) -> FloatArray:
        """Out-of-fold prediction errors only (see :meth:`evaluate`)."""
        return self.evaluate(media, alpha)[0]

    def evaluate(self, media: FloatArray, alpha: float) -> tuple[FloatArray, FloatArray]:
        """Out-of-fold prediction errors of ``R`` candidate designs ``[base, media_r]``, and
        each candidate's calibration penalty (zeros without experiments).

        Parameters
        ----------
        media : ndarray, shape (R, n, m)
            Media features of each candidate (non-negative coefficients).
        alpha : float
            Ridge strength (scikit-learn convention on standardised columns).

        Returns
        -------
        errors : ndarray, shape (R, N)
        calibration : ndarray, shape (R,)
        """
        rows = self.y.shape[0]
        R, _, m = media.shape
        q = self.base.shape[1]
        p = q + m
        X = np.empty((R, rows, p))
        X[:, :, :q] = self.base
        X[:, :, q:] = media[:, :rows]
        nonneg = np.zeros(p, dtype=bool)
        nonneg[q:] = True
        unpenalized = np.zeros(p, dtype=bool)
        unpenalized[:q] = self.base_unpenalized
        diag = np.arange(p)
        # Training windows are nested ([0, o_1) within [0, o_2) ...): accumulate the normal
        # equations segment by segment instead of recomputing them for every fold.
        gram = np.zeros((R, p, p))
        xty = np.zeros((R, p))
        col_sum = np.zeros((R, p))
        col_sq = np.zeros((R, p))
        start = 0
        out = []

        def solve_through(origin: int) -> FloatArray:
            nonlocal start, gram, xty, col_sum, col_sq
            seg, y_seg = X[:, start:origin], self.y[start:origin]
            gram += seg.transpose(0, 2, 1) @ seg
            xty += seg.transpose(0, 2, 1) @ y_seg
            col_sum += seg.sum(axis=1)
            col_sq += np.einsum("rtp,rtp->rp", seg, seg)
            start = origin
            var = np.maximum(col_sq / origin - (col_sum / origin) ** 2, 0.0)
            system = gram.copy()
            system[:, diag, diag] += np.where(unpenalized, 0.0, alpha * var) + 1e-10
            return batched_ridge_solve(system, xty, nonneg)

        for origin, end in self.folds:
            coef = solve_through(origin)
            pred = (X[:, origin:end] @ coef[:, :, None])[:, :, 0]
            out.append(self.y[origin:end][None, :] - pred)
        penalty = np.zeros(R)
        if self.calibration:
            coef = solve_through(rows)  # all periods
            for target in self.calibration:
                exposure = media[:, target.window, target.channel].sum(axis=1)
                implied = coef[:, q + target.channel] * exposure
                penalty += 0.5 * ((implied - target.lift) / target.se) ** 2
        return np.concatenate(out, axis=1), penalty

    def score(
        self,
        errors: FloatArray,
        penalty: FloatArray,
        prior_weight: float,
        calibration: FloatArray | float = 0.0,
    ) -> FloatArray:
        """``N/2 log(MSE) + prior_weight * penalty + calibration``: a Gaussian CV
        log-likelihood, the prior, and the experiments' likelihood."""
        mse = np.mean(errors**2, axis=1)
        fit = 0.5 * errors.shape[1] * np.log(np.maximum(mse, 1e-300))
        return fit + prior_weight * penalty + calibration


@dataclass
class SearchResult:
    """Outcome of :func:`search_hyperparameters`."""

    spaces: list[ChannelSpace]
    choice: list[int]
    plausible: list[NDArray[np.int64]]
    alpha: float
    cv_mse: float
    alpha_scores: dict[float, float] = field(default_factory=dict)
    n_evaluated: int = 0
    n_sweeps: int = 0
    seconds: float = 0.0

    def features(self) -> FloatArray:
        """``(n, m)`` media features of the chosen candidates."""
        return np.column_stack(
            [s.features[c] for s, c in zip(self.spaces, self.choice, strict=True)]
        )


def _plausible_set(
    errors: FloatArray, best: int, calibration: FloatArray | None = None
) -> NDArray[np.int64]:
    """Candidates whose pooled MSE is within :data:`PLAUSIBLE_SE` paired standard errors of the
    best one's: those a paired test on the out-of-fold errors cannot reject."""
    sq = errors**2
    diff = sq - sq[best]
    n_points = sq.shape[1]
    se = diff.std(axis=1, ddof=1) / np.sqrt(n_points) if n_points > 1 else np.zeros(len(sq))
    ok = diff.mean(axis=1) <= PLAUSIBLE_SE * se + 1e-15
    if calibration is not None and np.any(calibration):
        # ... and that agree with the experiments about as well (within 2 nats, ~2 SE).
        ok &= calibration <= calibration[best] + 2.0
    return np.flatnonzero(ok)


def search_hyperparameters(
    spend: FloatArray,
    problem: SearchProblem,
    adstocks: Sequence[Adstock],
    saturation: HillSaturation,
    fixed: Sequence[dict[str, float] | None],
    scales: Sequence[float],
    alphas: Sequence[float],
    *,
    n_candidates: int = 256,
    n_sweeps: int = 3,
    n_refine: int = 4,
    prior_weight: float = 4.0,
    max_evaluations: int | None = None,
    rng: np.random.Generator,
) -> SearchResult:
    """Choose every channel's adstock and Hill parameters (and ridge alpha) by CV.

    Three phases, every candidate scored by :meth:`SearchProblem.score`:

    1. ``n_sweeps`` block-coordinate sweeps: per channel, ``n_candidates`` candidates (after the
       first sweep half around the incumbent, half from the prior), others held fixed;
    2. ``n_refine`` generations of joint refinement: ``n_candidates`` perturbations of all
       channels at once around the incumbent, with a shrinking step (a (1, λ) evolution
       strategy), which moves correlated channels together where coordinate steps stall;
    3. a last coordinate sweep that records each channel's plausible set around the result.

    Parameters
    ----------
    spend : ndarray, shape (n, m)
        Raw spend per channel.
    problem : SearchProblem
        Baseline columns, scaled target and folds.
    adstocks : sequence of Adstock
        Per channel adstock family.
    saturation : HillSaturation
    fixed : sequence of dict or None
        Per channel: fixed parameters (adstock params + ``half_saturation`` + ``shape_hill``);
        those not given are searched.
    scales : sequence of float
        Per channel typical spend (mean of non-zero periods), the unit of ``half_saturation``.
    alphas : sequence of float
        Ridge strengths to choose from (one value: fixed).
    n_candidates, n_sweeps, n_refine : int
        Search effort (see above).
    prior_weight : float
        Weight of :func:`prior_penalty` against the CV log-likelihood; 0 is pure CV. On the
        generator's scenarios (``bench/bench_fit.py``) pure CV overfits the folds (18%
        misattributed media revenue on the clean case against 8-11% with the prior, whose
        weight 4 also brought 90% interval coverage from 0.55 to 0.8-0.95).
    max_evaluations : int, optional
        Upper bound on candidate evaluations in total (``max_iterations`` of the config).
    rng : numpy.random.Generator

    Returns
    -------
    SearchResult
    """
    started = time.perf_counter()
    m = spend.shape[1]
    hill_names = {"half_saturation", "shape_hill"}

    def draw(
        j: int, size: int, around: dict[str, float] | None = None, spread: float = 1.0
    ) -> ChannelSpace:
        """``size`` admissible candidates of channel ``j``: from the prior or around a point."""
        pinned = fixed[j] or {}
        space = None
        for _ in range(8):  # oversample, keep admissible ones; rarely needs a second round
            if around is None:
                raw = _prior_candidates(adstocks[j], saturation, rng, 3 * size, scales[j])
            else:
                raw = _local_candidates(around, rng, 3 * size, scales[j], spread)
            space = build_channel_space(
                spend[:, j], adstocks[j], saturation, _pin(raw, pinned), scales[j], size=size
            )
            if space.size == size:
                break
        return space

    spaces: list[ChannelSpace] = []
    for j in range(m):
        pinned = fixed[j] or {}
        if set(adstocks[j].param_names) | hill_names <= set(pinned):
            params = {k: np.array([v]) for k, v in pinned.items()}
            spaces.append(
                build_channel_space(spend[:, j], adstocks[j], saturation, params, scales[j], True)
            )
        else:
            spaces.append(draw(j, n_candidates))
    penalties = [prior_penalty(s) for s in spaces]
    choice = [0] * m
    plausible = [np.array([0]) for _ in range(m)]
    searched = [j for j in range(m) if not spaces[j].fixed]
    budget = max_evaluations if max_evaluations is not None else np.inf
    evaluated = 0

    def current() -> FloatArray:
        return np.column_stack([spaces[j].features[choice[j]] for j in range(m)])

    def current_penalty() -> float:
        return float(sum(penalties[j][choice[j]] for j in range(m)))

    def score_alphas() -> dict[float, float]:
        stack = current()[None]
        return {float(a): float(np.mean(problem.errors(stack, a) ** 2)) for a in alphas}

    def coordinate_step(j: int, space: ChannelSpace) -> None:
        nonlocal evaluated
        stack = np.repeat(current()[None], space.size, axis=0)
        stack[:, :, j] = space.features
        errors, calib = problem.evaluate(stack, alpha)
        evaluated += space.size
        pen = prior_penalty(space)
        best = int(np.argmin(problem.score(errors, pen, prior_weight, calib)))
        spaces[j], penalties[j], choice[j] = space, pen, best
        plausible[j] = _plausible_set(errors, best, calib)

    alpha_scores = score_alphas()
    alpha = min(alpha_scores, key=alpha_scores.get)
    sweeps_done = 0
    for sweep in range(n_sweeps):
        for j in searched:
            if evaluated >= budget:
                break
            if sweep == 0:
                space = spaces[j]
            else:
                local = draw(j, n_candidates // 2, spaces[j].candidate(choice[j]), 1.0 / sweep)
                space = _merge(local, draw(j, n_candidates - n_candidates // 2))
            coordinate_step(j, space)
        sweeps_done += 1
        if len(alphas) > 1:
            alpha_scores = score_alphas()
            alpha = min(alpha_scores, key=alpha_scores.get)

    # Joint refinement: all searched channels move at once.
    for generation in range(n_refine):
        if not searched or evaluated + n_candidates > budget:
            break
        spread = 0.5 / (generation + 1)
        moved = {j: draw(j, n_candidates, spaces[j].candidate(choice[j]), spread) for j in searched}
        size = min(s.size for s in moved.values())
        stack = np.repeat(current()[None], size, axis=0)
        pen = np.full(size, current_penalty())
        for j, space in moved.items():
            stack[:, :, j] = space.features[:size]
            pen += prior_penalty(space)[:size] - penalties[j][choice[j]]
        errors, calib = problem.evaluate(stack, alpha)
        evaluated += size
        best = int(np.argmin(problem.score(errors, pen, prior_weight, calib)))
        if best != 0:  # candidate 0 of every moved space is the incumbent
            for j, space in moved.items():
                keep = np.array([0, best])
                spaces[j] = ChannelSpace(
                    adstock=space.adstock,
                    params={k: v[keep] for k, v in space.params.items()},
                    features=space.features[keep],
                    scale=space.scale,
                )
                penalties[j] = prior_penalty(spaces[j])
                choice[j] = 1

    # Plausible sets around the final choice (one more coordinate sweep). Where the data pin a
    # channel down more finely than the candidates are spaced, hardly any candidate falls near
    # enough to the best, and a set of one would leave the hyperparameters' uncertainty out of
    # the intervals: sample closer around the best until the set shows its spread.
    for j in searched:
        spread = 0.5
        for _ in range(1 + REFINE_ROUNDS):
            if evaluated >= budget:
                break
            local = draw(j, n_candidates // 2, spaces[j].candidate(choice[j]), spread)
            coordinate_step(j, _merge(local, draw(j, n_candidates - n_candidates // 2)))
            if len(plausible[j]) >= MIN_PLAUSIBLE:
                break
            spread /= 2

    cv_mse = float(np.mean(problem.errors(current()[None], alpha) ** 2))
    return SearchResult(
        spaces=spaces,
        choice=choice,
        plausible=plausible,
        alpha=float(alpha),
        cv_mse=cv_mse,
        alpha_scores=alpha_scores,
        n_evaluated=int(evaluated),
        n_sweeps=sweeps_done,
        seconds=time.perf_counter() - started,
    )
