"""Incrementality: geo experiments, single-series impact, test planning and MMM calibration.

::

    from mmm_core.incrementality import IncrementalityAnalyzer
    result = IncrementalityAnalyzer().geo_lift(data, "geo", "date", "sales",
                                               ["geo_007"], "2024-03-01", "2024-03-28")
    result["lift_pct"], result["ci_pct"], result["p_value"]
"""

from mmm_core.incrementality.analyzer import IncrementalityAnalyzer
from mmm_core.incrementality.calibration import compare_with_experiment, mmm_implied_lift
from mmm_core.incrementality.geo import geo_lift
from mmm_core.incrementality.impact import causal_impact
from mmm_core.incrementality.power import power_analysis
from mmm_core.incrementality.simulate import simulate_geo_panel, simulate_impact_series

__all__ = [
    "IncrementalityAnalyzer",
    "causal_impact",
    "compare_with_experiment",
    "geo_lift",
    "mmm_implied_lift",
    "power_analysis",
    "simulate_geo_panel",
    "simulate_impact_series",
]
