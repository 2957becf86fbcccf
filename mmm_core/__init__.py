"""mmm_core: the science core of the MMM platform (no AWS, no web).

Public names (the API reference's classes) are importable from the package root::

    from mmm_core import EconometricMMM, MMM_DEFAULT_CONFIG
"""

from mmm_core.errors import (
    Codes,
    DataIntegrationError,
    DeploymentError,
    MMModelError,
    OptimizationError,
)
from mmm_core.models.config import MMM_DEFAULT_CONFIG
from mmm_core.models.econometric_mmm import EconometricMMM

__version__ = "0.1.0"

__all__ = [
    "MMM_DEFAULT_CONFIG",
    "Codes",
    "DataIntegrationError",
    "DeploymentError",
    "EconometricMMM",
    "MMModelError",
    "OptimizationError",
    "__version__",
]
