"""``EconometricMMM``: the reference's media mix model, with adstock, saturation and synergies.

Model, for period ``t`` and spend channels ``c``:

    y_t = baseline_t + sum_c beta_c h_c(a_c(x_c))_t + sum_{i<j} beta_ij h_i h_j
          + sum_k gamma_k z_kt + e_t

``a_c`` is a normalised adstock (geometric or Weibull), ``h_c`` a Hill curve, ``beta >= 0`` for
media and synergies (media cannot sell negative revenue), ``z`` optional controls, and the
baseline an intercept, a linear trend and yearly Fourier seasonality. Coefficients are fitted by
ridge regression with sign constraints; the transforms' hyperparameters are fixed by the user or
chosen by a vectorised search scored with rolling-origin cross-validation
(:mod:`mmm_core.models.search`). Uncertainty comes from a moving-block bootstrap over periods
that also redraws each channel's hyperparameters among those the data cannot tell apart.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mmm_core.errors import Codes, DataIntegrationError, MMModelError
from mmm_core.files import write_atomic
from mmm_core.json_values import json_value
from mmm_core.models.bootstrap import block_bootstrap_indices, block_length
from mmm_core.models.calibration import parse_calibration
from mmm_core.models.config import (
    AUTO,
    MMM_DEFAULT_CONFIG,
    parse_adstock,
    parse_alpha,
    parse_saturation,
)
from mmm_core.models.design import BaselineSpec
from mmm_core.models.metrics import performance_metrics
from mmm_core.models.persistence import (
    SCHEMA_VERSION,
    from_document,
    read_document,
    to_document,
)
from mmm_core.models.results import build_results
from mmm_core.models.search import (
    SearchProblem,
    SearchResult,
    rolling_origin_folds,
    search_hyperparameters,
)
from mmm_core.models.solver import fit_constrained_ridge
from mmm_core.models.validation import (
    PreparedData,
    prepare_prediction_data,
    prepare_training_data,
)
from mmm_core.transforms import Adstock, HillSaturation

__all__ = ["MMM_DEFAULT_CONFIG", "SCHEMA_VERSION", "EconometricMMM"]

FloatArray = NDArray[np.float64]
_HILL = HillSaturation()
_VIF_WARNING = 10.0


class EconometricMMM:
    """Media mix model with adstock, Hill saturation, optional synergies and a baseline.

    Parameters
    ----------
    adstock_rate : float, dict or "auto", default "auto"
        Carry-over. A float is the geometric decay rate for every channel (the reference's
        behaviour); a dict gives it per spend column (a rate, ``"auto"``, or
        ``{"type": "weibull", "shape": 2, "scale": 3}``); ``"auto"`` searches it per channel.
    saturation_param : float, dict or "auto", default "auto"
        Diminishing returns. A float is the Hill half-saturation point as a multiple of the
        channel's typical spend (shape 1); a dict gives it per column (a multiple, ``"auto"``, or
        ``{"half_saturation": 25000, "shape": 1.5}`` in spend units); ``"auto"`` searches it.
    regularization_alpha : float or "auto", default 0.1
        Ridge strength on standardised columns (scikit-learn's convention); ``"auto"`` chooses it
        by the same cross-validation.
    include_baseline : bool, default True
        Model an intercept, a linear trend and yearly seasonality.
    max_iterations : int, optional
        With a search: the most candidate evaluations in total; without one: the most
        iterations of the constrained solver.
    adstock : {"geometric", "weibull"}, default "geometric"
        Adstock family searched for channels on ``"auto"``.
    max_lag : int, default 13
        Periods over which a period's spend acts.
    n_fourier : int, default 2
        Yearly seasonality harmonics (used when at least a year of data is fitted).
    n_candidates : int, default 256
        Candidates per channel per sweep of the search.
    n_sweeps : int, default 3
        Sweeps of the block-coordinate search over the channels.
    cv_folds : int, default 8
        Rolling-origin folds.
    holdout_periods : int or "auto", default "auto"
        Final periods scored out of sample in ``performance["holdout"]``: the coefficients are
        refitted without them and predict them. ``"auto"`` is a twelfth of the data, 4 to 13
        periods; 0 disables it.
    blind_holdout : bool, default False
        Also keep the hold-out periods out of the hyperparameter search, so the hold-out score
        is fully blind. Off by default because the search is already free of look-ahead
        (rolling-origin CV) and loses accuracy without the latest periods (on the generator's
        clean case, 11% rather than 8% misattributed media revenue).
    n_bootstrap : int, default 200
        Block-bootstrap replicates for intervals (0 disables them).
    random_state : int, default 0
        Seed of the search and the bootstrap: the same data and seed give the same model.

    Attributes
    ----------
    spend_columns_ : list of str
    coef_ : ndarray
        Coefficients on the scaled target, in the order of ``feature_names_``.
    feature_names_ : list of str
    results_ : dict
        What :meth:`fit` returned.

    Examples
    --------
    >>> from mmm_core.data.synthetic import generate_mmm_data
    >>> data, truth = generate_mmm_data(weeks=104, channels=3, seed=1)
    >>> mmm = EconometricMMM(n_bootstrap=20)
    >>> results = mmm.fit(data, "revenue", truth.spend_columns)
    >>> sorted(results["channels"]) == sorted(truth.spend_columns)
    True
    """

    def __init__(
        self,
        adstock_rate: float | dict[str, Any] | str = AUTO,
        saturation_param: float | dict[str, Any] | str = AUTO,
        regularization_alpha: float | str = 0.1,
        include_baseline: bool = True,
        *,
        max_iterations: int | None = None,
        adstock: str = "geometric",
        max_lag: int = 13,
        n_fourier: int = 2,
        n_candidates: int = 256,
        n_sweeps: int = 3,
        cv_folds: int = 8,
        holdout_periods: int | str = AUTO,
        blind_holdout: bool = False,
        n_bootstrap: int = 200,
        random_state: int = 0,
    ) -> None:
        self.adstock_rate = adstock_rate
        self.saturation_param = saturation_param
        self.regularization_alpha = regularization_alpha
        self.include_baseline = include_baseline
        self.max_iterations = max_iterations
        self.adstock = adstock
        self.max_lag = max_lag
        self.n_fourier = n_fourier
        self.n_candidates = n_candidates
        self.n_sweeps = n_sweeps
        self.cv_folds = cv_folds
        self.holdout_periods = holdout_periods
        self.blind_holdout = blind_holdout
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    # ------------------------------------------------------------------ configuration
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (scikit-learn style)."""
        return {
            name: getattr(self, name)
            for name in (
                "adstock_rate",
                "saturation_param",
                "regularization_alpha",
                "include_baseline",
                "max_iterations",
                "adstock",
                "max_lag",
                "n_fourier",
                "n_candidates",
                "n_sweeps",
                "cv_folds",
                "holdout_periods",
                "blind_holdout",
                "n_bootstrap",
                "random_state",
            )
        }

    def _check_settings(self) -> None:
        def positive_int(name: str, value: Any, minimum: int) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise MMModelError(
                    Codes.INVALID_PARAMETER,
                    f"{name} must be an integer >= {minimum}, got {value!r}.",
                    hint=f"see help(EconometricMMM) for what {name} does.",
                )

        positive_int("max_lag", self.max_lag, 1)
        positive_int("n_fourier", self.n_fourier, 0)
        positive_int("n_candidates", self.n_candidates, 2)
        positive_int("n_sweeps", self.n_sweeps, 1)
        positive_int("cv_folds", self.cv_folds, 1)
        positive_int("n_bootstrap", self.n_bootstrap, 0)
        if self.max_iterations is not None:
            positive_int("max_iterations", self.max_iterations, 1)
        if self.holdout_periods != AUTO:
            positive_int("holdout_periods", self.holdout_periods, 0)
        for name in ("include_baseline", "blind_holdout"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise MMModelError(
                    Codes.INVALID_PARAMETER,
                    f"{name} must be True or False, got {getattr(self, name)!r}.",
                    hint=f"pass {name}=True or {name}=False.",
                )

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        data: pd.DataFrame,
        target_column: str,
        spend_columns: Sequence[str],
        include_synergies: bool = False,
        *,
        control_columns: Sequence[str] | None = None,
        date_column: str | None = None,
        calibration: Sequence[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Fit the model and return the results dict.

        Parameters
        ----------
        data : DataFrame
            One row per period (week), sorted or with a date column.
        target_column : str
            The KPI (e.g. ``"revenue"``).
        spend_columns : list of str
            Media spend columns, non-negative.
        include_synergies : bool, default False
            Add pairwise interactions of the saturated media (non-negative).
        control_columns : list of str, optional
            Non-media drivers (price, promotions, competitor activity); free sign.
        date_column : str, optional
            Detected when not given (a datetime column, or one named date/week/ds...).
        calibration : list of dict, optional
            Measured lifts (experiments) the searched hyperparameters should agree with, e.g.
            ``[{"channel": "tv_spend", "start": "2023-03-06", "end": "2023-04-24",
            "lift": 412000, "ci": [350000, 474000]}]`` (see :mod:`mmm_core.models.calibration`).
            Reported back under ``results["calibration"]``.

        Returns
        -------
        dict
            JSON-serialisable: ``performance`` (in-sample, plus ``holdout``), ``channels``
            (spend, contribution, share, roi, mroi, roi_interval, adstock, saturation...),
            ``baseline``, ``synergies``, ``hyperparameters``, ``diagnostics``.

        Raises
        ------
        DataIntegrationError
            Bad input data (codes ``MMM_1xx``).
        MMModelError
            Bad settings (``MMM_006``) or a failed fit.
        """
        snapshot = dict(self.__dict__)
        try:
            return self._fit(
                data,
                target_column,
                spend_columns,
                include_synergies,
                control_columns,
                date_column,
                calibration,
            )
        except BaseException:
            # A failed (re)fit leaves the estimator exactly as it was: fitted or not.
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise

    def _fit(
        self,
        data: pd.DataFrame,
        target_column: str,
        spend_columns: Sequence[str],
        include_synergies: bool,
        control_columns: Sequence[str] | None,
        date_column: str | None,
        calibration: Sequence[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        self._check_settings()
        spend_list = list(spend_columns) if not isinstance(spend_columns, str) else [spend_columns]
        controls_list = list(control_columns or [])
        n_pairs = len(spend_list) * (len(spend_list) - 1) // 2 if include_synergies else 0
        n_params = 2 + 2 * self.n_fourier + len(controls_list) + len(spend_list) + n_pairs
        prepared = prepare_training_data(
            data,
            target_column,
            spend_list,
            controls_list,
            date_column,
            min_rows=max(2 * n_params, n_params + 20),
        )
        rng = np.random.default_rng(self.random_state)
        n, m = prepared.spend.shape
        scales = _typical_spend(prepared.spend)
        adstock_specs = parse_adstock(self.adstock_rate, spend_list, self.adstock, self.max_lag)
        saturation_specs = parse_saturation(self.saturation_param, spend_list, scales)
        alphas = parse_alpha(self.regularization_alpha)

        self.spend_columns_ = spend_list
        self.control_columns_ = controls_list
        self.target_column_ = target_column
        self.date_column_ = prepared.date_column
        self.include_synergies_ = bool(include_synergies)
        self.pairs_ = list(combinations(range(m), 2)) if include_synergies else []
        self.y_scale_ = float(np.mean(np.abs(prepared.y)))
        self._set_time(prepared)
        self.baseline_ = BaselineSpec.for_training(
            self.include_baseline, n, prepared.periods_per_year, self.n_fourier
        )
        self.mean_spend_ = prepared.spend.mean(axis=0)
        sd = prepared.controls.std(axis=0)
        self.control_sd_ = np.where(sd > 0, sd, 1.0)
        _check_controls(controls_list, sd)

        y = prepared.y / self.y_scale_
        base = self._base_columns(self._positions(prepared), prepared.controls)
        base_free = np.zeros(base.shape[1], dtype=bool)
        if self.include_baseline:
            base_free[0] = True  # the intercept is not shrunk

        searched = any(len(s) < 3 for s in saturation_specs) or any(
            len(p) < len(a.param_names) for a, p in adstock_specs
        )
        holdout = self._holdout_size(n, n_params, searched or len(alphas) > 1)
        n_search = n - holdout if self.blind_holdout else n
        folds = rolling_origin_folds(n_search, self.cv_folds, min_train=n_params + 5)
        if (searched or len(alphas) > 1) and not folds:
            raise DataIntegrationError(
                Codes.TOO_FEW_ROWS,
                f"{n} periods are too few to choose hyperparameters by cross-validation "
                f"with {n_params} parameters.",
                hint="give more periods, or fix adstock_rate, saturation_param and "
                "regularization_alpha to numbers so nothing is searched.",
                details={"rows": n, "parameters": n_params},
            )
        fixed = [
            {**params, **sat}
            for (_, params), sat in zip(adstock_specs, saturation_specs, strict=True)
        ]
        targets, experiments = parse_calibration(calibration, prepared, spend_list, self.y_scale_)
        problem = SearchProblem(
            base=base[:n_search],
            base_unpenalized=base_free,
            y=y[:n_search],
            folds=folds,
            calibration=targets,
        )
        search = search_hyperparameters(
            prepared.spend,
            problem,
            [a for a, _ in adstock_specs],
            _HILL,
            fixed,
            scales,
            alphas,
            n_candidates=self.n_candidates,
            n_sweeps=self.n_sweeps,
            max_evaluations=self.max_iterations if searched else None,
            rng=rng,
        )
        self.alpha_ = search.alpha
        self.adstocks_: list[Adstock] = [s.adstock for s in search.spaces]
        self.adstock_params_ = []
        self.saturation_params_ = []
        for space, idx in zip(search.spaces, search.choice, strict=True):
            cand = space.candidate(idx)
            self.adstock_params_.append({p: cand[p] for p in space.adstock.param_names})
            self.saturation_params_.append(
                {"half_saturation": cand["half_saturation"], "shape": cand["shape_hill"]}
            )

        media = search.features()
        X, nonneg, free = self._assemble(base, media, base_free)
        solver_iterations = None if searched else self.max_iterations
        sigma = math.sqrt(search.cv_mse)
        exp_rows = self._experiment_rows(targets, media, X.shape[1], sigma)
        coef = self._solve(X, y, nonneg, free, solver_iterations, exp_rows)
        self.coef_ = coef
        self.feature_names_ = self._feature_names()

        fitted = X @ coef * self.y_scale_
        performance = performance_metrics(prepared.y, fitted)
        if holdout:
            head = slice(0, n - holdout)
            coef_head = self._solve(X[head], y[head], nonneg, free, solver_iterations, exp_rows)
            tail_pred = X[n - holdout :] @ coef_head * self.y_scale_
            performance["holdout"] = {
                **performance_metrics(prepared.y[n - holdout :], tail_pred),
                "periods": holdout,
                "blind": bool(self.blind_holdout),
            }
        else:
            performance["holdout"] = None

        draws = self._bootstrap(
            X, y, base, base_free, search, rng, solver_iterations, (targets, sigma)
        )
        self.results_ = self._results(
            prepared, X, media, coef, performance, search, draws, started, folds, holdout
        )
        self.results_["calibration"] = json_value(
            [
                self._implied_lift(exp, t, media, coef, searched)
                for exp, t in zip(experiments, targets, strict=True)
            ]
        )
        return self.results_

    def _implied_lift(
        self,
        experiment: dict[str, Any],
        target: Any,
        media: FloatArray,
        coef: FloatArray,
        searched: bool,
    ) -> dict[str, Any]:
        """The fitted model's contribution of the experiment's channel over its window."""
        q = len(self.baseline_.names) + len(self.control_columns_)
        j = target.channel
        implied = float(coef[q + j] * media[target.window, j].sum() * self.y_scale_)
        z = (implied - experiment["measured"]) / experiment["se"]
        return {
            **experiment,
            "implied": implied,
            "z": z,
            "agrees": abs(z) <= 2.0,
            "used_in_search": searched,
        }

    def _holdout_size(self, n: int, n_params: int, searching: bool) -> int:
        if self.holdout_periods != AUTO:
            size = int(self.holdout_periods)
            if size and n - size < n_params + 10:
                raise DataIntegrationError(
                    Codes.TOO_FEW_ROWS,
                    f"holdout_periods={size} leaves {n - size} periods for {n_params} parameters.",
                    hint="lower holdout_periods or give more data.",
                )
            return size
        size = min(13, max(4, n // 12))
        minimum = n_params + 10 if not searching else int(1.5 * (n_params + 5)) + size
        return size if n - size >= minimum else 0

    def _solve(
        self,
        X: FloatArray,
        y: FloatArray,
        nonneg: NDArray[np.bool_],
        free: NDArray[np.bool_],
        max_iterations: int | None,
        experiments: tuple[FloatArray, FloatArray] | None = None,
    ) -> FloatArray:
        """Constrained ridge; ``experiments`` are extra weighted rows (see
        :meth:`_experiment_rows`) appended after the penalties are set from ``X``."""
        pen = np.where(free, 0.0, self.alpha_ * X.var(axis=0))
        if experiments is not None and len(experiments[0]):
            X = np.vstack([X, experiments[0]])
            y = np.concatenate([y, experiments[1]])
        return fit_constrained_ridge(X, y, pen, nonneg, max_iterations)

    def _experiment_rows(
        self,
        targets: Sequence[Any],
        media: FloatArray,
        width: int,
        sigma: float,
        rng: np.random.Generator | None = None,
    ) -> tuple[FloatArray, FloatArray] | None:
        """Each experiment as one more observation of the regression (GLS weighting).

        It says ``beta_j * sum_{t in window} F_j(t) = lift +- se``; scaled by ``sigma / se``
        (``sigma``: the model's residual sd) it weighs as much as its precision warrants. With
        ``rng`` (bootstrap replicates) the measured lift is redrawn from ``N(lift, se)``, so the
        experiment's own uncertainty reaches the intervals.
        """
        if not targets:
            return None
        q = len(self.baseline_.names) + len(self.control_columns_)
        rows = np.zeros((len(targets), width))
        values = np.zeros(len(targets))
        for k, t in enumerate(targets):
            weight = sigma / t.se
            lift = t.lift if rng is None else t.lift + t.se * rng.standard_normal()
            rows[k, q + t.channel] = weight * media[t.window, t.channel].sum()
            values[k] = weight * lift
        return rows, values

    def _assemble(
        self, base: FloatArray, media: FloatArray, base_free: NDArray[np.bool_]
    ) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
        """Design ``[baseline, controls, media, synergies]`` with its sign and penalty masks."""
        syn = [media[:, i] * media[:, j] for i, j in self.pairs_]
        X = np.column_stack([base, media, *syn]) if syn else np.column_stack([base, media])
        q = base.shape[1]
        nonneg = np.zeros(X.shape[1], dtype=bool)
        nonneg[q:] = True
        free = np.zeros(X.shape[1], dtype=bool)
        free[:q] = base_free
        return X, nonneg, free

    def _feature_names(self) -> list[str]:
        names = self.baseline_.names + list(self.control_columns_) + list(self.spend_columns_)
        return names + [self._pair_name(i, j) for i, j in self.pairs_]

    def _pair_name(self, i: int, j: int) -> str:
        return f"{self.spend_columns_[i]}:{self.spend_columns_[j]}"

    # ------------------------------------------------------------------ time axis
    def _set_time(self, prepared: PreparedData) -> None:
        if prepared.dates is not None and len(prepared.dates) > 1:
            steps = np.diff(prepared.dates.values).astype("timedelta64[s]").astype(float)
            self.time_ = {
                "start": prepared.dates[0].isoformat(),
                "step_days": float(np.median(steps)) / 86400.0,
            }
        else:
            self.time_ = {"start": None, "step_days": None}

    def _positions(self, prepared: PreparedData) -> FloatArray:
        """Period positions ``t`` counted from the first fitted period."""
        n = prepared.spend.shape[0]
        if prepared.dates is not None and self.time_["start"] is not None:
            offset = (prepared.dates - pd.Timestamp(self.time_["start"])).total_seconds()
            return np.asarray(offset, dtype=float) / (self.time_["step_days"] * 86400.0)
        return np.arange(n, dtype=float)

    def _base_columns(self, t: FloatArray, controls: FloatArray) -> FloatArray:
        # Scaled, not centred: a control's contribution is measured from zero (as for media).
        z = controls / self.control_sd_
        return np.hstack([self.baseline_.features(t), z])

    # ------------------------------------------------------------------ transforms
    def _media_features(self, spend: FloatArray) -> FloatArray:
        cols = []
        for j, adstock in enumerate(self.adstocks_):
            adstocked = adstock.transform(spend[:, j], self.adstock_params_[j])
            cols.append(_HILL.transform(adstocked, self.saturation_params_[j]))
        return np.column_stack(cols)

    # ------------------------------------------------------------------ bootstrap
    def _bootstrap(
        self,
        X: FloatArray,
        y: FloatArray,
        base: FloatArray,
        base_free: NDArray[np.bool_],
        search: SearchResult,
        rng: np.random.Generator,
        max_iterations: int | None,
        calibration: tuple[Sequence[Any], float] = ((), 1.0),
    ) -> dict[str, Any]:
        """Replicates of (hyperparameters, coefficients) by moving-block bootstrap; experiments
        enter every replicate as they enter the fit."""
        B = self.n_bootstrap
        n = X.shape[0]
        m = len(self.spend_columns_)
        if B == 0:
            return {"coef": np.empty((0, X.shape[1])), "choice": np.empty((0, m), dtype=int)}
        block = block_length(n)
        rows = block_bootstrap_indices(n, B, block, rng)
        choice = np.column_stack(
            [rng.choice(search.plausible[j], size=B) for j in range(m)]
        ).astype(int)
        coefs = np.empty((B, X.shape[1]))
        designs = []
        for b in range(B):
            media = np.column_stack([search.spaces[j].features[choice[b, j]] for j in range(m)])
            Xb, nonneg, free = self._assemble(base, media, base_free)
            extra = self._experiment_rows(calibration[0], media, Xb.shape[1], calibration[1], rng)
            coefs[b] = self._solve(Xb[rows[b]], y[rows[b]], nonneg, free, max_iterations, extra)
            designs.append(media)
        params = []
        for j in range(m):
            space = search.spaces[j]
            params.append(
                {
                    **{p: space.params[p][choice[:, j]] for p in space.adstock.param_names},
                    "half_saturation": space.params["half_saturation"][choice[:, j]],
                    "shape": space.params["shape_hill"][choice[:, j]],
                }
            )
        return {
            "coef": coefs,
            "choice": choice,
            "media": np.stack(designs),
            "params": params,
            "block_length": block,
        }

    # ------------------------------------------------------------------ results
    def _channel_contributions(self, media: FloatArray, coef: FloatArray) -> FloatArray:
        """Weekly contribution per channel incl. half of each synergy it is in, ``(n, m)``."""
        q = len(self.baseline_.names) + len(self.control_columns_)
        m = media.shape[1]
        out = media * coef[q : q + m]
        for k, (i, j) in enumerate(self.pairs_):
            half = 0.5 * coef[q + m + k] * media[:, i] * media[:, j]
            out[:, i] += half
            out[:, j] += half
        return out * self.y_scale_

    def _results(self, *args: Any) -> dict[str, Any]:
        return build_results(self, *args)

    # ------------------------------------------------------------------ using the model
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise MMModelError(
                Codes.NOT_FITTED,
                "this EconometricMMM is not fitted yet.",
                hint="call fit(data, target_column, spend_columns) or EconometricMMM.load(path).",
            )

    def _prepare(self, data: pd.DataFrame) -> tuple[PreparedData, FloatArray, FloatArray]:
        self._check_fitted()
        date_col = (
            self.date_column_
            if isinstance(data, pd.DataFrame) and self.date_column_ in data
            else False
        )
        try:
            prepared = prepare_prediction_data(
                data, self.spend_columns_, self.control_columns_, date_col
            )
        except DataIntegrationError as exc:
            if exc.code == Codes.MISSING_COLUMN:
                raise MMModelError(
                    Codes.COLUMNS_MISMATCH,
                    f"the data lacks columns the model was fitted on: {exc.message}",
                    hint=f"give the spend columns {self.spend_columns_}"
                    + (f" and controls {self.control_columns_}" if self.control_columns_ else "")
                    + ".",
                    details=exc.details,
                ) from exc
            raise
        t = self._positions(prepared)
        base = self._base_columns(t, prepared.controls)
        media = self._media_features(prepared.spend)
        return prepared, base, media

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Predicted target per row of ``data``.

        Adstock is computed from ``data``'s own spend history (periods before its first row
        count as zero spend); the trend and season follow its dates, or continue from the first
        fitted period when it has none.

        Returns
        -------
        ndarray, shape (n,)
        """
        prepared, base, media = self._prepare(data)
        X, _, _ = self._assemble(base, media, np.zeros(base.shape[1], dtype=bool))
        return prepared.restore_order(X @ self.coef_ * self.y_scale_)

    def decompose(self, data: pd.DataFrame) -> pd.DataFrame:
        """Per period: ``baseline`` (intercept, trend, season), each control, each channel.

        Channel columns include half of each synergy the channel is part of. The columns sum to
        :meth:`predict` row by row. Rows follow ``data``'s order, indexed by its dates when it
        has them (else by its index).
        """
        prepared, base, media = self._prepare(data)
        q_base = len(self.baseline_.names)
        parts = base * self.coef_[: base.shape[1]] * self.y_scale_
        out = {"baseline": parts[:, :q_base].sum(axis=1)}
        for k, col in enumerate(self.control_columns_):
            out[col] = parts[:, q_base + k]
        channel = self._channel_contributions(media, self.coef_)
        for j, col in enumerate(self.spend_columns_):
            out[col] = channel[:, j]
        out = {k: prepared.restore_order(v) for k, v in out.items()}
        if prepared.dates is not None:
            index = pd.DatetimeIndex(prepared.restore_order(prepared.dates.values), name="date")
        else:
            index = data.index
        return pd.DataFrame(out, index=index)

    def get_attribution(self, data: pd.DataFrame) -> dict[str, float]:
        """Each channel's share of the media contribution on ``data`` (sums to 1).

        When the model attributes nothing to media on ``data`` (all spend zero) every share is 0.
        """
        _, _, media = self._prepare(data)
        contrib = self._channel_contributions(media, self.coef_).sum(axis=0)
        total = contrib.sum()
        shares = contrib / total if total > 0 else np.zeros_like(contrib)
        return {col: float(s) for col, s in zip(self.spend_columns_, shares, strict=True)}

    def _channel_index(self, channel: str) -> int:
        self._check_fitted()
        if channel not in self.spend_columns_:
            from mmm_core.errors import suggest_name

            close = suggest_name(channel, self.spend_columns_)
            raise MMModelError(
                Codes.UNKNOWN_CHANNEL,
                f"{channel!r} is not a channel of this model ({self.spend_columns_}).",
                hint=f"did you mean {close!r}?"
                if close
                else f"use one of the spend columns: {', '.join(self.spend_columns_)}.",
            )
        return self.spend_columns_.index(channel)

    def _media_coef(self) -> tuple[FloatArray, FloatArray]:
        q = len(self.baseline_.names) + len(self.control_columns_)
        m = len(self.spend_columns_)
        return self.coef_[q : q + m] * self.y_scale_, self.coef_[q + m :] * self.y_scale_

    def response_parameters(self, draws: bool = False) -> dict[str, Any]:
        """Parameters of the steady-state response surface, in revenue units.

        ``response(x) = sum_c beta_c h_c(x_c) + sum_k beta_syn_k h_i(x_i) h_j(x_j)`` with Hill
        ``h_c(x) = x^s / (x^s + K^s)``, for spend ``x`` per period. The optimizer works on it.

        Parameters
        ----------
        draws : bool, default False
            ``False``: the point estimate (one row). ``True``: one row per bootstrap replicate
            (hyperparameters and coefficients redrawn), the model's uncertainty; falls back to
            the point estimate when the model has no replicates.

        Returns
        -------
        dict
            ``half_saturation``, ``shape``, ``beta``: arrays ``(D, m)``; ``beta_synergy``:
            ``(D, P)``; ``pairs``: list of ``(i, j)``; ``channels``: the spend columns.
        """
        self._check_fitted()
        m = len(self.spend_columns_)
        if draws and self.draws_ is not None:
            params = self.draws_["params"]
            coef = np.asarray(self.draws_["coef"]) * self.y_scale_
            half = np.column_stack([params[j]["half_saturation"] for j in range(m)])
            shape = np.column_stack([params[j]["shape"] for j in range(m)])
            beta, beta_syn = coef[:, :m], coef[:, m:]
        else:
            beta1, syn1 = self._media_coef()
            half = np.array([[p["half_saturation"] for p in self.saturation_params_]])
            shape = np.array([[p["shape"] for p in self.saturation_params_]])
            beta, beta_syn = beta1[None, :], syn1[None, :]
        return {
            "channels": list(self.spend_columns_),
            "half_saturation": half,
            "shape": shape,
            "beta": beta,
            "beta_synergy": beta_syn,
            "pairs": list(self.pairs_),
        }

    def steady_state_response(self, spend: ArrayLike) -> np.ndarray:
        """Expected media revenue per period at a steady spend per period.

        Adstock is normalised, so a constant spend ``x`` has the steady state ``x`` and the
        response is ``sum_c beta_c h_c(x_c) + sum_{i<j} beta_ij h_i(x_i) h_j(x_j)``.

        Parameters
        ----------
        spend : array_like, shape (..., m)
            Spend per period per channel, in ``spend_columns_`` order.
        """
        self._check_fitted()
        x = np.asarray(spend, dtype=float)
        h = self._hill_stack(x, derivative=False)
        beta, beta_syn = self._media_coef()
        out = h @ beta
        for k, (i, j) in enumerate(self.pairs_):
            out = out + beta_syn[k] * h[..., i] * h[..., j]
        return out

    def steady_state_gradient(self, spend: ArrayLike) -> np.ndarray:
        """``d response / d spend_c`` at a steady spend (the marginal ROI), shape ``(..., m)``."""
        self._check_fitted()
        x = np.asarray(spend, dtype=float)
        h = self._hill_stack(x, derivative=False)
        dh = self._hill_stack(x, derivative=True)
        beta, beta_syn = self._media_coef()
        grad = dh * beta
        for k, (i, j) in enumerate(self.pairs_):
            grad[..., i] += beta_syn[k] * dh[..., i] * h[..., j]
            grad[..., j] += beta_syn[k] * h[..., i] * dh[..., j]
        return grad

    def _hill_stack(self, x: FloatArray, derivative: bool) -> FloatArray:
        fn = _HILL.derivative if derivative else _HILL.transform
        cols = [fn(x[..., j], self.saturation_params_[j]) for j in range(x.shape[-1])]
        return np.stack(cols, axis=-1)

    def response_curve(self, channel: str, spend: ArrayLike, draws: bool = False) -> np.ndarray:
        """Expected revenue per period from ``channel`` at a steady spend per period.

        Other channels are held at their mean fitted spend; with synergies the curve includes
        the whole interaction with them. Example: ``mmm.response_curve("tv_spend",
        np.linspace(0, 50_000, 50))``.

        Parameters
        ----------
        channel : str
            A spend column of the fit.
        spend : array_like
            Spend per period, finite and >= 0.
        draws : bool, default False
            ``False``: the point estimate, shape ``(len(spend),)``. ``True``: one curve per
            bootstrap replicate, shape ``(D, len(spend))`` (the point estimate alone, ``D = 1``,
            when the model has no replicates); their quantiles are the curve's interval.
        """
        j = self._channel_index(channel)
        x = np.atleast_1d(np.asarray(spend, dtype=float))
        if np.any(x < 0) or not np.all(np.isfinite(x)):
            raise DataIntegrationError(
                Codes.NEGATIVE_SPEND,
                "response_curve needs finite spend >= 0.",
                hint="pass spend >= 0.",
            )
        p = self.response_parameters(draws=draws)

        def hill(values: FloatArray, c: int) -> FloatArray:  # (D, len(values))
            params = {"half_saturation": p["half_saturation"][:, c], "shape": p["shape"][:, c]}
            return _HILL.transform(values, params)

        h = hill(x, j)
        out = p["beta"][:, j, None] * h
        for k, (a, b) in enumerate(p["pairs"]):
            if j in (a, b):
                other = b if a == j else a
                h_other = hill(np.array([self.mean_spend_[other]]), other)
                out = out + p["beta_synergy"][:, k, None] * h * h_other
        return out if draws else out[0]

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The fitted model as a JSON-serialisable dict (schema-versioned)."""
        self._check_fitted()
        return to_document(self)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model as JSON, atomically (a reader never sees a half-written file)."""
        target = Path(path)
        if target.is_dir() or str(path).endswith(os.sep):
            target = target / "model.json"
        return write_atomic(target, json.dumps(self.to_dict(), allow_nan=False))

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> EconometricMMM:
        """Rebuild a fitted model from :meth:`to_dict` output."""
        return from_document(cls, doc)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EconometricMMM:
        """Read a model written by :meth:`save` (a file, or a directory holding ``model.json``)."""
        return from_document(cls, read_document(path))


def _typical_spend(spend: FloatArray) -> list[float]:
    """Mean of each channel's non-zero periods (the scale of its half-saturation point)."""
    out = []
    for j in range(spend.shape[1]):
        col = spend[:, j]
        out.append(float(col[col > 0].mean()) if np.any(col > 0) else 1.0)
    return out


def _check_controls(columns: Sequence[str], sd: FloatArray) -> None:
    for col, s in zip(columns, sd, strict=True):
        if s == 0:
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"control column {col!r} is constant: it cannot be told apart from the baseline.",
                hint=f"drop {col!r} from control_columns.",
            )
