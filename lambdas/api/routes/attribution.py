"""``POST /attribution/analyze``: multi-touch attribution of customer journeys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lambdas.api.deps import Services, ServicesDep, read_table
from lambdas.api.routing import JSONRoute
from lambdas.api.schemas.attribution import AttributionRequest, AttributionResponse
from lambdas.api.schemas.common import error_responses

__all__ = ["router"]

router = APIRouter(prefix="/attribution", tags=["attribution"], route_class=JSONRoute)


@router.post(
    "/analyze",
    response_model=AttributionResponse,
    summary="Multi-touch attribution of customer journeys",
    responses=error_responses(404),
)
async def analyze(body: AttributionRequest, services: ServicesDep) -> Any:
    """Credit each channel with its share of the conversions (and their value).

    Models: ``first_touch``, ``last_touch``, ``linear``, ``time_decay``, ``position_based``,
    ``markov`` (removal effects of an absorbing chain, exact) and ``shapley``. Touches older
    than ``lookback_window`` days before the conversion are dropped; ``include_view_through:
    false`` keeps clicks only. Journeys too many for one request (6 MB) go in a stored dataset
    (``dataset``).
    """
    return await services.compute(_analyze, body, services)


def _analyze(body: AttributionRequest, services: Services) -> dict[str, Any]:
    from mmm_core.attribution import AttributionAnalyzer

    journeys: Any = body.customer_journeys
    if journeys is None:
        journeys = read_table(None, body.dataset, services.store)
    return AttributionAnalyzer().analyze_journeys(
        journeys,
        attribution_model=body.attribution_model,
        lookback_window=body.lookback_window,
        include_view_through=body.include_view_through,
        **body.analyzer_options(),
    )
