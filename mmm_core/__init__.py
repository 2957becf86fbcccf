"""mmm_core: the science core of the MMM platform (no AWS, no web).

Public names (the API reference's classes) are importable from the package root::

    from mmm_core import EconometricMMM, BudgetOptimizer, AttributionAnalyzer, MMM_DEFAULT_CONFIG
"""

from mmm_core.attribution import AttributionAnalyzer
from mmm_core.data.media_data_client import MediaDataClient
from mmm_core.dbt_integration import DBTIntegration
from mmm_core.errors import (
    Codes,
    DataIntegrationError,
    DeploymentError,
    MMModelError,
    OptimizationError,
)
from mmm_core.incrementality import IncrementalityAnalyzer
from mmm_core.models.config import MMM_DEFAULT_CONFIG
from mmm_core.models.econometric_mmm import EconometricMMM
from mmm_core.optimize import BudgetOptimizer
from mmm_core.performance import PerformanceAnalyzer
from mmm_core.reporting import ExecutiveReporting

__version__ = "0.1.0"

__all__ = [
    "MMM_DEFAULT_CONFIG",
    "AttributionAnalyzer",
    "BudgetOptimizer",
    "Codes",
    "DBTIntegration",
    "DataIntegrationError",
    "DeploymentError",
    "EconometricMMM",
    "ExecutiveReporting",
    "IncrementalityAnalyzer",
    "MMModelError",
    "MediaDataClient",
    "OptimizationError",
    "PerformanceAnalyzer",
    "__version__",
]
