"""``POST /performance/analyze``: what moved the KPI, and when."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lambdas.api.deps import Services, ServicesDep, read_table
from lambdas.api.routing import JSONRoute
from lambdas.api.schemas.common import error_responses
from lambdas.api.schemas.performance import PerformanceRequest, PerformanceResponse

__all__ = ["router"]

router = APIRouter(prefix="/performance", tags=["performance"], route_class=JSONRoute)


@router.post(
    "/analyze",
    response_model=PerformanceResponse,
    summary="Trend, seasonality, change points, anomalies and efficiency of a KPI",
    responses=error_responses(404),
)
async def analyze(body: PerformanceRequest, services: ServicesDep) -> Any:
    """Comprehensive performance analysis with trend detection and anomaly identification.

    The KPI series (one row per period) is decomposed into trend and seasonality; breaks in
    level or slope are found as change points, unusual periods as anomalies; period-over-
    period figures compare the latest week/month/quarter with the one before and a year
    earlier; with spend (and conversions) per channel, ROAS and CPA and their trends. The
    findings come back in plain English under ``summary``.
    """
    return await services.compute(_analyze, body, services)


def _analyze(body: PerformanceRequest, services: Services) -> dict[str, Any]:
    from mmm_core.performance import PerformanceAnalyzer

    frame = read_table(body.rows, body.dataset, services.store)
    analyzer = PerformanceAnalyzer(**body.options.model_dump())
    return analyzer.analyze(
        frame,
        body.kpi_column,
        date_column=body.date_column,
        spend_columns=body.spend_columns,
        conversions_column=body.conversions_column,
    )
