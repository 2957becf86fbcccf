"""Models: the econometric MMM and its parts (transforms search, solver, bootstrap)."""

from mmm_core.models.config import MMM_DEFAULT_CONFIG
from mmm_core.models.econometric_mmm import EconometricMMM

__all__ = ["MMM_DEFAULT_CONFIG", "EconometricMMM"]
