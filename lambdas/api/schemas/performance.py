"""``POST /performance/analyze``: trend, seasonality, change points, anomalies, efficiency."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lambdas.api.schemas.common import ColumnName, Strict, TableInput

__all__ = ["PerformanceOptions", "PerformanceRequest", "PerformanceResponse"]


class PerformanceOptions(Strict):
    """Settings of the analysis (see ``mmm_core.performance.PerformanceAnalyzer``)."""

    period: int | list[int] | None = Field(
        default=None,
        description="Seasonal period(s) in rows; null: from the dates (52 weekly, 7 and 365 "
        "daily, 12 monthly); 1: no seasonality.",
    )
    anomaly_threshold: float = Field(default=3.5, gt=0, le=100)
    changepoint_penalty: float = Field(default=1.0, gt=0, le=1000)
    min_segment: int | None = Field(default=None, ge=3, le=10_000)
    changepoint_guard: int = Field(default=2, ge=0, le=1000)
    seasonal: int | None = Field(default=None, ge=7, le=10_001, description="Odd STL window.")
    robust: bool = True
    flat_tolerance: float = Field(default=0.05, ge=0, le=10)
    aggregate: Literal["sum", "mean"] = "sum"
    include_series: bool = Field(default=True, description="Per-period series in the answer.")

    @field_validator("period")
    @classmethod
    def _periods_in_range(cls, value: int | list[int] | None) -> int | list[int] | None:
        periods = value if isinstance(value, list) else [value] if value is not None else []
        if any(not 1 <= p <= 10_000 for p in periods) or (isinstance(value, list) and not value):
            raise ValueError("periods are whole numbers of rows from 1 (none) to 10000")
        return value


def _example_rows() -> list[dict[str, Any]]:
    """16 weeks of revenue, spend and conversions with a step up in week 10."""
    rows = []
    for w in range(16):
        spend = 20_000.0 + 1_000.0 * (w % 4)
        revenue = 100_000.0 + 1_500.0 * w + 3.0 * spend + (25_000.0 if w >= 10 else 0.0)
        rows.append(
            {
                "date": (date(2025, 1, 6) + timedelta(weeks=w)).isoformat(),
                "revenue": revenue,
                "tv_spend": spend,
                "conversions": round(revenue / 120.0),
            }
        )
    return rows


class PerformanceRequest(TableInput):
    """A KPI series (one row per period, inline or a stored dataset) and what is in it."""

    kpi_column: ColumnName = Field(default="revenue", description="The KPI column.")
    date_column: ColumnName | None = Field(
        default=None, description="The date column; null: detected (rows in order if none)."
    )
    spend_columns: list[ColumnName] | None = Field(
        default=None, max_length=100, description="Spend per channel, for ROAS and CPA."
    )
    conversions_column: ColumnName | None = None
    options: PerformanceOptions = Field(default_factory=PerformanceOptions)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rows": _example_rows(),
                    "kpi_column": "revenue",
                    "date_column": "date",
                    "spend_columns": ["tv_spend"],
                    "conversions_column": "conversions",
                    "options": {"include_series": False},
                }
            ]
        }
    )


class PerformanceResponse(BaseModel):
    """The analysis (``mmm_core.performance.PerformanceAnalyzer.analyze``'s result)."""

    model_config = ConfigDict(extra="allow")

    kpi_column: str
    n_periods: int
    frequency: str | None
    dates: list[str] | None
    trend: dict[str, Any]
    seasonality: dict[str, Any]
    change_points: list[dict[str, Any]]
    anomalies: list[dict[str, Any]]
    period_over_period: dict[str, Any]
    efficiency: dict[str, Any]
    summary: list[str] = Field(description="The findings in plain English.")
    parameters: dict[str, Any]
