"""Data sources: the synthetic ground-truth generator, file loaders and MediaDataClient."""

from mmm_core.data.media_data_client import MediaDataClient
from mmm_core.data.synthetic import SyntheticTruth, generate_mmm_data

__all__ = ["MediaDataClient", "SyntheticTruth", "generate_mmm_data"]
