"""Single-series impact (CausalImpact style): a treated series against control series.

A state-space regression is fitted on the pre-period and forecast over the post-period, where
the controls are observed but the treated series is not (the intervention changed it)::

    local_level:  y_t = mu_t + x_t . beta + e_t,   mu_t = mu_{t-1} + eta_t
    ar1:          y_t = c + x_t . beta + u_t,      u_t = phi u_{t-1} + e_t

(``statsmodels`` ``UnobservedComponents`` and ``SARIMAX``, optionally with a seasonal
component). The regression coefficients are states of the model (``mle_regression=False``),
estimated by the Kalman filter, so their uncertainty is part of every forecast interval; the
variances and ``phi`` are maximum-likelihood estimates taken as known. Series are standardised
on the pre-period before fitting and the results put back in the KPI's units.

* Pointwise intervals are the exact Gaussian forecast intervals of ``y`` (state and noise).
* The cumulative effect and the totals come from ``n_simulations`` joint forecast paths
  (``simulate(anchor="end")``: the state at the end of the pre-period drawn from its filtered
  distribution, then shocks), because a sum's interval needs the forecasts' covariance.
* ``p_value`` is two-sided: twice the smaller share of paths whose total is above / below the
  observed total (``(1 + count) / (n + 1)``, at most 1).

Effects are ``actual - predicted``: ``lift_abs`` is the post-period total, ``lift_pct`` it
divided by the predicted total (CausalImpact's relative effect).

The local level (the default, CausalImpact's model) lets the counterfactual drift, so its
intervals widen with the horizon; on generated geo series (``bench/bench_incrementality.py``)
its 90% intervals cover the true effect about 90% of the time. ``ar1`` assumes the treated
series keeps a fixed relation with the controls up to short-memory noise: narrower intervals,
but when the relation drifts slowly (as in those generated series, where geos load on slow
demand factors differently) they cover only 60-70% and the null is rejected 30-40% of the
time at alpha 0.1. Use it only when the pre-period residuals show no slow drift.

Examples
--------
>>> from mmm_core.incrementality.simulate import simulate_impact_series
>>> frame, truth = simulate_impact_series(n_pre=120, n_post=20, lift=0.1, seed=2)
>>> out = causal_impact(frame["y"], frame.drop(columns="y"), truth.pre_period,
...                     truth.post_period)
>>> out["ci_abs"][0] < truth.lift_abs < out["ci_abs"][1]
True
"""

from __future__ import annotations

import inspect
import math
import warnings
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.api import types as ptypes

from mmm_core.errors import Codes, DataIntegrationError, MMModelError, suggest_name
from mmm_core.incrementality.geo import data_error, invalid_option, iso_day, parse_date

__all__ = ["IMPACT_MODELS", "SCHEMA_VERSION", "causal_impact"]

SCHEMA_VERSION = 1
IMPACT_MODELS = ("local_level", "ar1")
MIN_PRE_PERIODS = 8

FloatArray = NDArray[np.float64]


def causal_impact(
    y: Any,
    X: Any = None,
    pre_period: Any = None,
    post_period: Any = None,
    *,
    model: str = "local_level",
    seasonal: int | None = None,
    level: float = 0.9,
    n_simulations: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Effect of an intervention on ``y`` after ``post_period[0]``, against controls ``X``.

    Parameters
    ----------
    y : Series, 1-D array or DataFrame
        The treated series. A DataFrame with ``X=None`` is split: first column ``y``, the
        others the controls (CausalImpact's layout).
    X : DataFrame or 2-D array, optional
        Control series not affected by the intervention, one row per row of ``y``. ``None``:
        no controls (a pure time-series forecast).
    pre_period, post_period : [start, end]
        Inclusive bounds of each period: dates when ``y`` has a ``DatetimeIndex``, else 0-based
        positions. ``pre_period=None`` is everything before the post-period; an ``end`` of
        ``None`` is the last row. Rows between the two periods (a ramp-up) are forecast
        through but not counted.
    model : {"local_level", "ar1"}, default "local_level"
    seasonal : int, optional
        Period of a stochastic seasonal component (e.g. 7 for daily data without daily
        controls).
    level : float, default 0.9
        Level of all intervals.
    n_simulations : int, default 1000
        Forecast paths for the cumulative intervals and the p-value.
    seed : int, default 0

    Returns
    -------
    dict
        JSON-serialisable: ``lift_abs``, ``lift_pct``, ``ci_abs``, ``ci_pct``, ``p_value``,
        ``method``, ``level``, ``actual_total``, ``predicted_total``, ``average`` (per-period
        actual, predicted, effect and interval), ``pre_period`` and ``post_period`` (labels),
        ``model`` (kind, parameters, controls used), ``series`` (labels, actual, predicted
        with interval, point effect with interval, cumulative effect with interval; the
        pre-period's one-step-ahead predictions, ``None`` during the filter's burn-in),
        ``notes``.

    Raises
    ------
    DataIntegrationError
        ``NON_NUMERIC``, ``NON_FINITE``, ``CONSTANT_TARGET``, ``BAD_DATES`` (periods out of
        the data, overlapping or reversed), ``TOO_FEW_ROWS`` (under 8 pre-period rows, or
        fewer than controls + 3), ``DATA_ERROR`` (``X`` of another length).
    MMModelError
        ``MMM_006`` for an option out of range, ``MMM_007`` when the model cannot be fitted.
    """
    _check_options(model, seasonal, level, n_simulations, seed)
    y_series, controls = _as_frame(y, X)
    index = y_series.index
    pre, post = _periods(index, pre_period, post_period)
    (p0, p1), (q0, q1) = pre, post
    n_pre = p1 - p0 + 1
    notes: list[str] = []

    values = y_series.to_numpy(dtype=float)
    if not np.isfinite(values[p0 : q1 + 1]).all():
        raise data_error(
            Codes.NON_FINITE,
            "the treated series has missing or infinite values in the periods analysed.",
            "fill or trim them.",
        )
    Xv = controls.to_numpy(dtype=float) if controls.shape[1] else np.empty((len(values), 0))
    if not np.isfinite(Xv[p0 : q1 + 1]).all():
        raise data_error(
            Codes.NON_FINITE,
            "the controls have missing or infinite values in the periods analysed.",
            "fill them or drop the controls concerned.",
        )
    y_mu, y_sd = float(values[p0 : p1 + 1].mean()), float(values[p0 : p1 + 1].std())
    if not y_sd > 0:
        raise data_error(
            Codes.CONSTANT_TARGET,
            "the treated series is constant over the pre-period: nothing to model.",
            "check the series and the pre-period.",
        )
    x_mu, x_sd = Xv[p0 : p1 + 1].mean(axis=0), Xv[p0 : p1 + 1].std(axis=0)
    used = x_sd > 0
    if (~used).any():
        dropped = [str(c) for c, u in zip(controls.columns, used, strict=True) if not u]
        notes.append(f"constant controls dropped: {dropped}.")
    names = [str(c) for c, u in zip(controls.columns, used, strict=True) if u]
    k = len(names)
    minimum = max(MIN_PRE_PERIODS, k + 3)
    if n_pre < minimum:
        raise data_error(
            Codes.TOO_FEW_ROWS,
            f"{n_pre} pre-period rows for {k} controls; at least {minimum} are needed.",
            "lengthen the pre-period or use fewer controls.",
            pre_periods=n_pre,
            minimum=minimum,
        )
    if model == "ar1":
        notes.append(
            "ar1 intervals assume no slow drift between the treated series and the controls; "
            "they are too narrow when it drifts (compare with model='local_level')."
        )
    ys = (values - y_mu) / y_sd
    Xs = (Xv[:, used] - x_mu[used]) / x_sd[used]

    fitted = _fit(ys[p0 : p1 + 1], Xs[p0 : p1 + 1], model, seasonal)
    horizon = q1 - p1
    exog = Xs[p1 + 1 : q1 + 1] if k else None
    if model == "ar1":
        exog = np.column_stack([np.ones(horizon), exog]) if k else np.ones((horizon, 1))
    forecast = fitted.get_forecast(horizon, exog=exog)
    mean = np.asarray(forecast.predicted_mean)[-(q1 - q0 + 1) :] * y_sd + y_mu
    sd = np.sqrt(np.asarray(forecast.var_pred_mean)[-(q1 - q0 + 1) :]) * y_sd
    paths = _simulate(fitted, horizon, exog, n_simulations, seed)[-(q1 - q0 + 1) :] * y_sd + y_mu

    actual = values[q0 : q1 + 1]
    z = NormalDist().inv_cdf(0.5 + level / 2)
    q = [(1 - level) / 2, (1 + level) / 2]
    cum_paths = np.cumsum(paths, axis=0)
    cum_actual = np.cumsum(actual)
    cum_lo, cum_hi = (cum_actual - np.quantile(cum_paths, q[::-1], axis=1)).tolist()
    total, predicted = float(actual.sum()), float(mean.sum())
    ci_abs = [cum_lo[-1], cum_hi[-1]]
    sums = cum_paths[-1]
    above = 1 + int((sums >= total).sum())
    below = 1 + int((sums <= total).sum())
    p_value = min(1.0, 2.0 * min(above, below) / (n_simulations + 1))
    n_post = q1 - q0 + 1

    pre_pred = fitted.get_prediction()
    pre_mean = np.asarray(pre_pred.predicted_mean) * y_sd + y_mu
    pre_sd = np.sqrt(np.asarray(pre_pred.var_pred_mean)) * y_sd
    burn = int(getattr(fitted, "loglikelihood_burn", 0))
    resid = values[p0 + burn : p1 + 1] - pre_mean[burn:]
    centred = values[p0 + burn : p1 + 1] - values[p0 + burn : p1 + 1].mean()
    r2 = 1.0 - float(resid @ resid) / float(centred @ centred) if centred.any() else 0.0

    def pre_values(arr: FloatArray) -> list[float | None]:
        out: list[float | None] = arr.tolist()
        out[:burn] = [None] * min(burn, len(out))
        return out

    labels = [_label(v) for v in index[p0 : q1 + 1]]
    gap = q0 - p1 - 1
    none_gap: list[float | None] = [None] * gap
    if gap:
        notes.append(f"{gap} rows between the periods are forecast through but not counted.")
    point_lo = actual - (mean + z * sd)
    point_hi = actual - (mean - z * sd)
    return {
        "schema_version": SCHEMA_VERSION,
        "method": f"causal_impact_{model}",
        "lift_abs": total - predicted,
        "lift_pct": (total - predicted) / predicted if predicted else None,
        "ci_abs": ci_abs,
        "ci_pct": [b / predicted for b in ci_abs] if predicted else None,
        "p_value": p_value,
        "level": float(level),
        "actual_total": total,
        "predicted_total": predicted,
        "average": {
            "actual": total / n_post,
            "predicted": predicted / n_post,
            "effect": (total - predicted) / n_post,
            "ci": [b / n_post for b in ci_abs],
        },
        "pre_period": [_label(index[p0]), _label(index[p1])],
        "post_period": [_label(index[q0]), _label(index[q1])],
        "model": {
            "kind": model,
            "seasonal": seasonal,
            "controls": names,
            "params_standardised": {
                str(n): float(v)
                for n, v in zip(fitted.model.param_names, fitted.params, strict=True)
            },
            "pre_r2": r2,
            "simulations": int(n_simulations),
        },
        "series": {
            "index": labels,
            "actual": values[p0 : q1 + 1].tolist(),
            "predicted": pre_values(pre_mean) + none_gap + mean.tolist(),
            "predicted_lo": pre_values(pre_mean - z * pre_sd) + none_gap + (mean - z * sd).tolist(),
            "predicted_hi": pre_values(pre_mean + z * pre_sd) + none_gap + (mean + z * sd).tolist(),
            "post_start_index": q0 - p0,
            "point_effect": (actual - mean).tolist(),
            "point_effect_lo": point_lo.tolist(),
            "point_effect_hi": point_hi.tolist(),
            "cumulative_effect": (cum_actual - np.cumsum(mean)).tolist(),
            "cumulative_effect_lo": cum_lo,
            "cumulative_effect_hi": cum_hi,
        },
        "notes": notes,
    }


def _fit(y: FloatArray, X: FloatArray, model: str, seasonal: int | None) -> Any:
    """Fit the state-space model on the standardised pre-period."""
    # statsmodels takes ~0.5 s to import: only when a single-series analysis is run.
    from statsmodels.tsa.statespace.sarimax import SARIMAX
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    k = X.shape[1]
    try:
        if model == "local_level":
            spec = UnobservedComponents(
                y,
                level="llevel",
                exog=X if k else None,
                mle_regression=False,
                seasonal=seasonal,
            )
        else:
            exog = np.column_stack([np.ones(len(y)), X])
            spec = SARIMAX(
                y,
                exog=exog,
                order=(1, 0, 0),
                seasonal_order=(1, 0, 0, seasonal) if seasonal else (0, 0, 0, 0),
                trend="n",
                mle_regression=False,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return spec.fit(disp=False)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise MMModelError(
            Codes.FIT_FAILED,
            f"the {model} impact model could not be fitted ({exc}).",
            hint="try model='ar1' or 'local_level', fewer controls or a longer pre-period.",
        ) from exc


def _simulate(fitted: Any, horizon: int, exog: Any, n: int, seed: int) -> FloatArray:
    """``n`` joint forecast paths, shape ``(horizon, n)``, in standardised units."""
    rng = np.random.default_rng(seed)
    # statsmodels 0.15 names the generator ``rng``, 0.14 ``random_state``.
    key = "rng" if "rng" in inspect.signature(fitted.simulate).parameters else "random_state"
    sims = fitted.simulate(horizon, anchor="end", repetitions=n, exog=exog, **{key: rng})
    return np.asarray(sims, dtype=float).reshape(horizon, n)


def _as_frame(y: Any, X: Any) -> tuple[pd.Series, pd.DataFrame]:
    """``y`` as a float Series and the controls as a DataFrame on the same index."""
    if isinstance(y, pd.DataFrame):
        if X is None and y.shape[1] >= 1:
            y, X = y.iloc[:, 0], y.iloc[:, 1:]
        elif y.shape[1] == 1:
            y = y.iloc[:, 0]
        else:
            raise data_error(
                Codes.DATA_ERROR,
                "y is a DataFrame with several columns and X is also given.",
                "pass y as one column (a Series) and the controls as X.",
            )
    if not isinstance(y, pd.Series):
        arr = np.asarray(y)
        if arr.ndim != 1:
            raise data_error(Codes.DATA_ERROR, f"y has shape {arr.shape}.", "pass a 1-D series.")
        y = pd.Series(arr)
    if y.size == 0:
        raise data_error(Codes.EMPTY_DATA, "y is empty.", "pass the treated series.")
    if ptypes.is_bool_dtype(y) or not ptypes.is_numeric_dtype(y):
        raise data_error(
            Codes.NON_NUMERIC,
            f"y is not numeric (dtype {y.dtype}).",
            "convert it with pd.to_numeric.",
        )
    if X is None:
        controls = pd.DataFrame(index=y.index)
    elif isinstance(X, pd.DataFrame | pd.Series):
        controls = X.to_frame() if isinstance(X, pd.Series) else X
        if len(controls) != len(y):
            raise _length_error(len(controls), len(y))
        if not controls.index.equals(y.index):
            controls = controls.set_axis(y.index)
    else:
        arr = np.asarray(X)
        arr = arr[:, None] if arr.ndim == 1 else arr
        if arr.ndim != 2 or arr.shape[0] != len(y):
            raise _length_error(arr.shape[0] if arr.ndim else 0, len(y))
        controls = pd.DataFrame(arr, index=y.index, columns=[f"x{j}" for j in range(arr.shape[1])])
    for col in controls.columns:
        if ptypes.is_bool_dtype(controls[col]) or not ptypes.is_numeric_dtype(controls[col]):
            raise data_error(
                Codes.NON_NUMERIC,
                f"the control {col!r} is not numeric (dtype {controls[col].dtype}).",
                "convert it with pd.to_numeric or drop it.",
                column=str(col),
            )
    return y.astype(float), controls


def _length_error(got: int, want: int) -> DataIntegrationError:
    return data_error(
        Codes.DATA_ERROR,
        f"X has {got} rows but y has {want}.",
        "give one row of controls per row of y.",
    )


def _periods(index: pd.Index, pre: Any, post: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """0-based inclusive positions ``(start, end)`` of the pre- and post-periods."""
    n = len(index)
    dated = isinstance(index, pd.DatetimeIndex)
    if dated and not index.is_monotonic_increasing:
        raise data_error(
            Codes.BAD_DATES,
            "the dates of y are not in increasing order.",
            "sort the series by date first (y.sort_index()).",
        )
    if post is None:
        raise data_error(
            Codes.BAD_DATES,
            "post_period is required.",
            "pass post_period=[first, last] (dates or positions) of the intervention.",
        )
    q0, q1 = _bounds(index, post, "post_period", dated)
    if pre is None:
        p0, p1 = 0, q0 - 1
    else:
        p0, p1 = _bounds(index, pre, "pre_period", dated)
    if p1 >= q0:
        raise data_error(
            Codes.BAD_DATES,
            f"the pre-period ({_label(index[p0])} to {_label(index[min(p1, n - 1)])}) must end "
            f"before the post-period starts ({_label(index[q0])}).",
            "make the periods disjoint, pre first.",
        )
    if p1 < p0:
        raise data_error(
            Codes.TOO_FEW_ROWS,
            "the pre-period is empty.",
            "give rows before the intervention.",
        )
    return (p0, p1), (q0, q1)


def _bounds(index: pd.Index, period: Any, name: str, dated: bool) -> tuple[int, int]:
    if isinstance(period, str | bytes) or not hasattr(period, "__len__") or len(period) != 2:
        raise data_error(
            Codes.BAD_DATES,
            f"{name}={period!r} is not a [start, end] pair.",
            f"pass {name}=[first, last].",
        )
    n = len(index)
    start, end = period
    if dated:
        first = index[0] if start is None else parse_date(f"{name}[0]", start, index.tz)
        last = index[-1] if end is None else parse_date(f"{name}[1]", end, index.tz)
        a = int(index.searchsorted(first, side="left"))
        b = int(index.searchsorted(last, side="right")) - 1
        outside = first > index[-1] or last < index[0] or last > index[-1] or first < index[0]
    else:
        a = 0 if start is None else start
        b = n - 1 if end is None else end
        if not all(isinstance(v, int | np.integer) for v in (a, b)):
            raise data_error(
                Codes.BAD_DATES,
                f"{name}={period!r}: without a DatetimeIndex, periods are row positions.",
                "give integer positions, or index y by date.",
            )
        a, b = int(a), int(b)
        outside = a < 0 or b >= n
    if outside or b < a:
        raise data_error(
            Codes.BAD_DATES,
            f"{name}={period!r} is not inside the data ({_label(index[0])} to "
            f"{_label(index[-1])}) or ends before it starts.",
            f"give a {name} within the series.",
        )
    return a, b


def _check_options(model: str, seasonal: Any, level: Any, n_simulations: Any, seed: Any) -> None:
    if model not in IMPACT_MODELS:
        raise invalid_option(
            "model",
            model,
            f"is not one of {list(IMPACT_MODELS)}",
            suggest_name(str(model), IMPACT_MODELS),
        )
    if seasonal is not None and not (isinstance(seasonal, int | np.integer) and seasonal >= 2):
        raise invalid_option("seasonal", seasonal, "must be an integer >= 2 or None")
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise invalid_option("level", level, "must be between 0 and 1")
    if not (isinstance(n_simulations, int | np.integer) and n_simulations >= 10):
        raise invalid_option("n_simulations", n_simulations, "must be an integer >= 10")
    if not isinstance(seed, int | np.integer):
        raise invalid_option("seed", seed, "must be an integer")


def _label(value: Any) -> Any:
    """A JSON-friendly index label (dates as ISO text)."""
    if isinstance(value, pd.Timestamp):
        return iso_day(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return str(value)
