"""Performance analysis of a KPI series: trend, seasonality, change points, anomalies,
period-over-period figures and channel efficiency (:class:`PerformanceAnalyzer`).

>>> from mmm_core.performance import PerformanceAnalyzer
"""

from mmm_core.performance.analyzer import PerformanceAnalyzer

__all__ = ["PerformanceAnalyzer"]
