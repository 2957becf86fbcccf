"""Attribution: rule-based and data-driven (MMM) methods compared on the same data."""

from mmm_core.attribution.attribution_analyzer import AttributionAnalyzer

__all__ = ["AttributionAnalyzer"]
