"""Planning a geo test: power and minimum detectable effect, by placebo tests on past data.

How it works
------------
The data are history without a test. For each proposed duration ``d`` the analysis is run as
if the proposed treated geos had been tested over ``n_windows`` past windows of ``d`` periods
(evenly spaced; each uses only the data before and during it, as a real test would), with a
lift ``tau`` injected into the treated geos' window. Because the counterfactual and the
placebos are fitted on the pre-period only and the placebo geos are untreated, injecting
``tau`` changes nothing but the treated statistic, ``e -> e + log(1 + tau)``: one
:func:`~mmm_core.incrementality.geo.fit_lift` per window gives the p-value of every injected
lift exactly, with no refitting (the tests check this against re-running
:func:`~mmm_core.incrementality.geo.geo_lift` on data with the lift added).

* ``power(tau)``: share of windows where the test rejects (``p_value <= 1 - level``).
* ``mde_pct``: the smallest positive lift detected in ``power`` (default 80%) of windows.
  With ``n`` placebos a p-value cannot go below ``1 / (n + 1)``; when that is above the test
  level nothing can be detected and ``mde_pct`` is ``None``.
* ``false_positive_rate``: power at ``tau = 0``. Placebo inference is exact on average over
  which geos are treated; for a given set of geos it is near ``1 - level`` when the controls
  reproduce them as well as they reproduce each other. Much more (a note says so) means these
  geos are hard to reproduce and their p-values and intervals would be too optimistic.
* ``coverage``: share of windows whose interval covers the injected lift (any ``tau``, since
  the interval moves with it): near ``level`` when the intervals are honest on these data.

This is simulation on the user's own data rather than an analytic formula, so it reflects the
real noise, seasonality and fit of the proposed geos; its precision is limited by the number of
windows (20 windows: power in steps of 5%).

Examples
--------
>>> from mmm_core.incrementality.simulate import simulate_geo_panel
>>> frame, truth = simulate_geo_panel(n_geos=20, n_periods=240, lift=0.0, seed=0)
>>> plan = power_analysis(frame, "geo", "date", "kpi", truth.treated_geos, [14, 28],
...                       n_windows=10)
>>> [d["duration"] for d in plan["designs"]]
[14, 28]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mmm_core.errors import Codes, DataIntegrationError
from mmm_core.incrementality.geo import (
    MIN_PRE_PERIODS,
    SCHEMA_VERSION,
    GeoOptions,
    conformal_ranks,
    fit_lift,
    invalid_option,
    placebo_p_value,
    prepare_geo_panel,
)

__all__ = ["DEFAULT_EFFECTS", "power_analysis"]

DEFAULT_EFFECTS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2)
FloatArray = NDArray[np.float64]


def power_analysis(
    data: pd.DataFrame,
    geo_column: str,
    date_column: str,
    kpi_column: str,
    treated_geos: Any,
    test_duration: int | Sequence[int],
    *,
    effects: Sequence[float] = DEFAULT_EFFECTS,
    power: float = 0.8,
    n_windows: int = 20,
    min_pre_periods: int | None = None,
    method: str = "synthetic_control",
    augment: bool = False,
    ridge: float | None = None,
    penalty: float = 0.0,
    level: float = 0.9,
    n_placebos: int = 200,
    studentize: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Power and minimum detectable lift of a proposed geo test, from placebo tests on history.

    Parameters
    ----------
    data, geo_column, date_column, kpi_column
        Long panel of past data without a test (as for
        :func:`~mmm_core.incrementality.geo.geo_lift`).
    treated_geos : label or list of labels
        Geos proposed for the test.
    test_duration : int or list of int
        Proposed test lengths, in periods (rows per geo) of the data.
    effects : sequence of float
        Lifts at which to report power (``0.05`` = +5%).
    power : float, default 0.8
        Target power of the minimum detectable effect.
    n_windows : int, default 20
        Past windows tried per duration.
    min_pre_periods : int, optional
        Fewest periods before a window; default half the data (at least 8), so each window
        has a pre-period like a real test's.
    method, augment, ridge, penalty, level, n_placebos, studentize, seed
        As in :func:`~mmm_core.incrementality.geo.geo_lift`.

    Returns
    -------
    dict
        JSON-serialisable: ``method``, ``level``, ``alpha``, ``power_target``,
        ``treated_geos``, ``control_geos``, ``approach`` (one sentence) and ``designs``, one
        per duration with ``duration``, ``windows``, ``window_starts`` (row positions of the
        windows' first dates), ``mde_pct``, ``mde_abs`` (KPI units over the whole test),
        ``power_curve`` (``effects`` and ``power``), ``false_positive_rate``, ``coverage``,
        ``placebos``, ``min_p_value``; plus ``notes``.

    Raises
    ------
    DataIntegrationError
        Bad data as in ``geo_lift``; ``TOO_FEW_ROWS`` when a duration leaves no window with
        enough history.
    MMModelError
        ``MMM_006`` for an option out of range.
    """
    options = GeoOptions(method, augment, ridge, penalty, level, n_placebos, studentize, seed)
    durations = _durations(test_duration)
    effects_arr = _effects(effects)
    if not (isinstance(power, float | int) and 0 < power < 1):
        raise invalid_option("power", power, "must be between 0 and 1 (e.g. 0.8)")
    if not (isinstance(n_windows, int | np.integer) and n_windows >= 1):
        raise invalid_option("n_windows", n_windows, "must be an integer >= 1")
    panel = prepare_geo_panel(data, geo_column, date_column, kpi_column, treated_geos)
    T = len(panel.dates)
    min_pre = max(MIN_PRE_PERIODS, T // 2) if min_pre_periods is None else int(min_pre_periods)
    if min_pre < MIN_PRE_PERIODS:
        raise invalid_option("min_pre_periods", min_pre_periods, f"must be >= {MIN_PRE_PERIODS}")

    designs, notes = [], []
    for d in durations:
        last_start = T - d
        if last_start < min_pre:
            raise DataIntegrationError(
                Codes.TOO_FEW_ROWS,
                f"a {d}-period test needs {min_pre} periods of history before it, and the data "
                f"have {T} periods in all.",
                hint="shorten the test, lower min_pre_periods or add history.",
                details={"duration": d, "periods": T, "min_pre_periods": min_pre},
            )
        starts = np.unique(np.linspace(min_pre, last_start, n_windows).round().astype(int))
        designs.append(_design(panel.kpi, panel.treated, starts, d, effects_arr, power, options))
        fp = designs[-1]["false_positive_rate"]
        if len(starts) >= 5 and fp > 2 * options.alpha:
            notes.append(
                f"{d} periods: the test found a lift where there was none in {fp:.0%} of past "
                f"windows (nominal {options.alpha:.0%}): the proposed geos are hard to "
                "reproduce from the controls, so p-values and intervals would be too "
                "optimistic for them; try augment=True, or other or more treated geos."
            )
        if designs[-1]["mde_pct"] is None:
            notes.append(
                f"{d} periods: with {designs[-1]['placebos']} placebos no p-value reaches "
                f"{options.alpha:.2f}; add control geos or lower the level."
            )
    return {
        "schema_version": SCHEMA_VERSION,
        "method": options.label,
        "level": float(level),
        "alpha": options.alpha,
        "power_target": float(power),
        "treated_geos": panel.treated_labels,
        "control_geos": panel.n_controls,
        "approach": (
            "placebo tests on past windows with the lift injected into the proposed geos; "
            "power = share of windows where the placebo test rejects"
        ),
        "designs": designs,
        "notes": notes,
    }


def _design(
    kpi: FloatArray,
    treated: NDArray[np.bool_],
    starts: NDArray[np.intp],
    d: int,
    effects: FloatArray,
    power: float,
    options: GeoOptions,
) -> dict[str, Any]:
    """Power curve, MDE, size and coverage of one duration over the windows ``starts``."""
    W = len(starts)
    mde = np.full(W, np.inf)  # per window: smallest positive lift detected
    rejects = np.zeros((W, effects.size), dtype=bool)
    covered = np.zeros(W, dtype=bool)
    false_positive = np.zeros(W, dtype=bool)
    totals = np.zeros(W)
    n_placebos = 0
    for i, start in enumerate(starts):
        fit = fit_lift(kpi[: start + d], treated, int(start), options)
        z, z_p = fit.z(options.studentize)
        s = fit.scale if options.studentize else 1.0
        n = z_p.size
        n_placebos = n
        lo, hi, _ = conformal_ranks(n, options.alpha)
        ordered = np.sort(z_p)
        covered[i] = ordered[lo - 1] <= z <= ordered[hi - 1]
        false_positive[i] = placebo_p_value(z, z_p) <= options.alpha + 1e-12
        z_tau = (np.log1p(effects) + fit.effect) / s
        rejects[i] = placebo_p_value(z_tau, z_p) <= options.alpha + 1e-12
        allowed = math.floor(options.alpha * (n + 1) + 1e-9) - 1  # placebos allowed >= |z|
        if allowed >= 0:
            critical = np.sort(np.abs(z_p))[::-1][allowed] if allowed < n else 0.0
            mde[i] = max(0.0, math.expm1(critical * s - fit.effect))
        totals[i] = fit.counterfactual[start:].sum()
    finite = np.isfinite(mde)
    if finite.mean() >= power:
        mde_pct = float(np.quantile(mde, power, method="higher"))
        mde_pct = None if not math.isfinite(mde_pct) else mde_pct
    else:
        mde_pct = None
    return {
        "duration": int(d),
        "windows": int(W),
        "window_starts": [int(s) for s in starts],
        "mde_pct": mde_pct,
        "mde_abs": None if mde_pct is None else mde_pct * float(totals.mean()),
        "power_curve": {
            "effects": effects.tolist(),
            "power": rejects.mean(axis=0).tolist(),
        },
        "false_positive_rate": float(false_positive.mean()),
        "coverage": float(covered.mean()),
        "placebos": int(n_placebos),
        "min_p_value": 1.0 / (n_placebos + 1),
    }


def _durations(test_duration: Any) -> list[int]:
    values = (
        [test_duration]
        if isinstance(test_duration, int | np.integer)
        else list(test_duration)
        if isinstance(test_duration, Sequence | np.ndarray)
        else None
    )
    if not values or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise invalid_option(
            "test_duration", test_duration, "must be an integer >= 1 or a list of them"
        )
    return [int(v) for v in values]


def _effects(effects: Any) -> FloatArray:
    arr = np.asarray(effects, dtype=float).ravel() if effects is not None else np.array([])
    if arr.size == 0 or not np.isfinite(arr).all() or (arr <= -1).any():
        raise invalid_option("effects", effects, "must be finite lifts > -1 (0.05 = +5%)")
    return arr
