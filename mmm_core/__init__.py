"""mmm_core: the science core of the MMM platform (no AWS, no web).

Public names (the API reference's classes) are importable from the package root::

    from mmm_core import EconometricMMM, BudgetOptimizer, AttributionAnalyzer, MMM_DEFAULT_CONFIG

They are imported when first used (PEP 562), so ``import mmm_core.errors`` or
``import mmm_core.store`` stays light: a Lambda's cold start pays only for what it touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mmm_core.errors import (
    Codes,
    DataIntegrationError,
    DeploymentError,
    MMModelError,
    OptimizationError,
)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from mmm_core.attribution import AttributionAnalyzer
    from mmm_core.data.media_data_client import MediaDataClient
    from mmm_core.dbt_integration import DBTIntegration
    from mmm_core.incrementality import IncrementalityAnalyzer
    from mmm_core.models.config import MMM_DEFAULT_CONFIG
    from mmm_core.models.econometric_mmm import EconometricMMM
    from mmm_core.optimize import BudgetOptimizer
    from mmm_core.performance import PerformanceAnalyzer
    from mmm_core.reporting import ExecutiveReporting

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_LAZY = {
    "MMM_DEFAULT_CONFIG": "mmm_core.models.config",
    "AttributionAnalyzer": "mmm_core.attribution",
    "BudgetOptimizer": "mmm_core.optimize",
    "DBTIntegration": "mmm_core.dbt_integration",
    "EconometricMMM": "mmm_core.models.econometric_mmm",
    "ExecutiveReporting": "mmm_core.reporting",
    "IncrementalityAnalyzer": "mmm_core.incrementality",
    "MediaDataClient": "mmm_core.data.media_data_client",
    "PerformanceAnalyzer": "mmm_core.performance",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name on first use and keep it."""
    if name not in _LAZY:
        raise AttributeError(f"module 'mmm_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
