"""``POST /attribution/incrementality``: the measured lift of an experiment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from lambdas.api.deps import Services, ServicesDep, read_table
from lambdas.api.errors import InvalidRequestError
from lambdas.api.routing import JSONRoute
from lambdas.api.schemas.common import error_responses
from lambdas.api.schemas.incrementality import (
    INCREMENTALITY_EXAMPLES,
    CausalImpactRequest,
    GeoLiftRequest,
    IncrementalityRequest,
    IncrementalityResponse,
)

__all__ = ["router"]

router = APIRouter(prefix="/attribution", tags=["incrementality"], route_class=JSONRoute)


def _series(body: CausalImpactRequest) -> tuple[Any, Any]:
    """``y`` and ``X`` as pandas objects, indexed by the dates when given."""
    import pandas as pd

    index = None
    if body.dates is not None:
        try:
            index = pd.DatetimeIndex(pd.to_datetime(body.dates, format="ISO8601", utc=True))
        except (ValueError, TypeError):
            index = None
        if index is None or index.hasnans:
            raise InvalidRequestError(
                "some dates are not ISO 8601 dates.",
                hint="give dates like 2025-01-06 (one per value of y).",
            )
    y = pd.Series(body.y, index=index, dtype=float, name="y")
    X = pd.DataFrame(body.X, index=index, dtype=float) if body.X else None
    return y, X


@router.post(
    "/incrementality",
    response_model=IncrementalityResponse,
    summary="Lift of a geo test or of one series after an intervention",
    responses=error_responses(404),
)
async def incrementality(
    body: Annotated[IncrementalityRequest, Body(openapi_examples=INCREMENTALITY_EXAMPLES)],
    services: ServicesDep,
) -> Any:
    """Measure an experiment's incremental effect, with an interval and a p-value.

    - ``design: geo_lift``: a panel of geos by date (inline ``rows`` or a stored ``dataset``),
      the treated geos and the test window; a synthetic control (or difference-in-differences)
      built from the other geos gives the counterfactual, placebo tests in space the interval.
    - ``design: causal_impact``: one treated series ``y`` and control series ``X``; a
      state-space model fitted before the intervention forecasts what would have happened.
    """
    return await services.compute(_measure, body, services)


def _measure(body: GeoLiftRequest | CausalImpactRequest, services: Services) -> dict[str, Any]:
    from mmm_core.incrementality import IncrementalityAnalyzer

    analyzer = IncrementalityAnalyzer()
    if isinstance(body, GeoLiftRequest):
        frame = read_table(body.rows, body.dataset, services.store)
        result = analyzer.geo_lift(
            frame,
            body.geo_column,
            body.date_column,
            body.kpi_column,
            list(body.treated_geos),
            body.test_start,
            body.test_end,
            **body.options.model_dump(),
        )
    else:
        y, X = _series(body)
        result = analyzer.causal_impact(
            y, X, body.pre_period, body.post_period, **body.options.model_dump()
        )
    return {"design": body.design, **result}
