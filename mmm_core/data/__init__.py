"""Data sources: the synthetic ground-truth generator (and, later, real-data loaders)."""

from mmm_core.data.synthetic import SyntheticTruth, generate_mmm_data

__all__ = ["SyntheticTruth", "generate_mmm_data"]
