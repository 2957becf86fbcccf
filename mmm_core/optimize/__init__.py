"""Budget optimization on a fitted model's response curves."""

from mmm_core.optimize.budget_optimizer import BudgetOptimizer
from mmm_core.optimize.response import ResponseSurface

__all__ = ["BudgetOptimizer", "ResponseSurface"]
