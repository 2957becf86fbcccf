"""``IncrementalityAnalyzer``: measured lift from experiments, test planning and MMM calibration.

One object with a method per question; each returns a JSON-serialisable dict (or a float for
:meth:`~IncrementalityAnalyzer.mmm_implied_lift`):

* :meth:`~IncrementalityAnalyzer.geo_lift`: lift of a geo test (synthetic control, placebo
  inference, DiD cross-check), :mod:`mmm_core.incrementality.geo`;
* :meth:`~IncrementalityAnalyzer.causal_impact`: one treated series against controls,
  :mod:`mmm_core.incrementality.impact`;
* :meth:`~IncrementalityAnalyzer.power_analysis`: power and minimum detectable lift of a
  proposed test, :mod:`mmm_core.incrementality.power`;
* :meth:`~IncrementalityAnalyzer.mmm_implied_lift` and
  :meth:`~IncrementalityAnalyzer.compare_with_experiment`: a fitted MMM against a measured
  lift, :mod:`mmm_core.incrementality.calibration`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from mmm_core.errors import Codes, MMModelError, suggest_name
from mmm_core.incrementality.calibration import compare_with_experiment, mmm_implied_lift
from mmm_core.incrementality.geo import geo_lift
from mmm_core.incrementality.impact import causal_impact
from mmm_core.incrementality.power import power_analysis

__all__ = ["IncrementalityAnalyzer"]


class IncrementalityAnalyzer:
    """Incrementality measurement: geo tests, single-series impact, planning, calibration.

    The constructor takes no arguments and the analyzer keeps no state: every method is a
    pure function of its arguments. Options of each method are keyword arguments; an unknown
    option raises ``MMModelError`` ``MMM_006`` naming the closest valid one.

    Examples
    --------
    >>> from mmm_core.incrementality.simulate import simulate_geo_panel
    >>> frame, truth = simulate_geo_panel(n_geos=20, n_periods=200, lift=0.1, seed=1)
    >>> result = IncrementalityAnalyzer().geo_lift(
    ...     frame, "geo", "date", "kpi", truth.treated_geos, truth.test_start, truth.test_end
    ... )
    >>> sorted(k for k in ("lift_pct", "lift_abs", "ci_pct", "p_value", "method") if k in result)
    ['ci_pct', 'lift_abs', 'lift_pct', 'method', 'p_value']
    """

    def geo_lift(
        self,
        data: pd.DataFrame,
        geo_column: str,
        date_column: str,
        kpi_column: str,
        treated_geos: Any,
        test_start: Any,
        test_end: Any,
        **options: Any,
    ) -> dict[str, Any]:
        """Lift of a geo test over ``[test_start, test_end]``.

        Options (see :func:`mmm_core.incrementality.geo.geo_lift`): ``method``
        (``"synthetic_control"`` or ``"did"``), ``augment``, ``ridge``, ``penalty``,
        ``level`` (0.9), ``n_placebos`` (200), ``studentize``, ``cross_check``, ``seed``.

        Returns
        -------
        dict
            At least ``lift_pct``, ``lift_abs``, ``ci_pct`` ([lo, hi]), ``ci_abs``,
            ``p_value`` and ``method``; see ``geo_lift`` for the rest.
        """
        args = (data, geo_column, date_column, kpi_column, treated_geos, test_start, test_end)
        return _call(geo_lift, args, options)

    def causal_impact(
        self,
        y: Any,
        X: Any = None,
        pre_period: Any = None,
        post_period: Any = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Effect on one series after an intervention, against control series.

        Options (see :func:`mmm_core.incrementality.impact.causal_impact`): ``model``
        (``"local_level"`` or ``"ar1"``), ``seasonal``, ``level``, ``n_simulations``, ``seed``.
        """
        return _call(causal_impact, (y, X, pre_period, post_period), options)

    def power_analysis(
        self,
        data: pd.DataFrame,
        geo_column: str,
        date_column: str,
        kpi_column: str,
        treated_geos: Any,
        test_duration: int | Sequence[int],
        **options: Any,
    ) -> dict[str, Any]:
        """Power and minimum detectable lift of testing ``treated_geos`` for each duration.

        Options (see :func:`mmm_core.incrementality.power.power_analysis`): ``effects``,
        ``power`` (0.8), ``n_windows`` (20), ``min_pre_periods`` and the options of
        :meth:`geo_lift` except ``cross_check``.
        """
        args = (data, geo_column, date_column, kpi_column, treated_geos, test_duration)
        return _call(power_analysis, args, options)

    def mmm_implied_lift(
        self,
        mmm_model: Any,
        data: pd.DataFrame,
        channel: str,
        start: Any,
        end: Any,
        spend_change: float = -1.0,
    ) -> float:
        """Predicted KPI with ``channel``'s spend as in ``data`` minus with it changed by
        ``spend_change`` over ``[start, end]`` (carry-over included); see
        :func:`mmm_core.incrementality.calibration.mmm_implied_lift`."""
        return mmm_implied_lift(mmm_model, data, channel, start, end, spend_change)

    def compare_with_experiment(
        self,
        mmm_model: Any,
        data: pd.DataFrame,
        channel: str,
        start: Any,
        end: Any,
        measured_lift_abs: float,
        measured_ci_abs: Sequence[float],
        **options: Any,
    ) -> dict[str, Any]:
        """The model's implied lift against a measured one: ``{implied, measured, ci,
        agrees, z, ...}``. Options: ``spend_change`` (-1.0), ``level`` (0.9); see
        :func:`mmm_core.incrementality.calibration.compare_with_experiment`."""
        args = (mmm_model, data, channel, start, end, measured_lift_abs, measured_ci_abs)
        return _call(compare_with_experiment, args, options)


def _call(func: Callable[..., Any], args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    """``func(*args, **options)``, with unknown option names reported as ``MMM_006``."""
    valid = [
        name
        for name, p in inspect.signature(func).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    for name in options:
        if name not in valid:
            close = suggest_name(name, valid)
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"{func.__name__} has no option {name!r}.",
                hint=f"did you mean {close!r}?" if close else f"valid options: {valid}.",
                details={"parameter": name, "valid": valid},
            )
    return func(*args, **options)
