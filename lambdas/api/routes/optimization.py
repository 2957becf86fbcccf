"""``POST /optimization/optimize``: split a budget across channels on a trained model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body

from lambdas.api.deps import ModelCache, ModelsDep, ServicesDep
from lambdas.api.errors import InvalidRequestError
from lambdas.api.routing import JSONRoute
from lambdas.api.schemas.common import error_responses
from lambdas.api.schemas.optimization import (
    OPTIMIZE_EXAMPLES,
    Constraints,
    OptimizeRequest,
    OptimizeResponse,
)

__all__ = ["ChannelNames", "router"]

router = APIRouter(prefix="/optimization", tags=["optimization"], route_class=JSONRoute)

_SUFFIX = "_spend"


class ChannelNames:
    """Reads the request's channel names as the model's spend columns.

    A name is the column itself (``tv_spend``), the column without ``_spend`` (``tv``), or
    either in another case (``TV``); anything else, or two names for one column, is a 422 that
    names them. ``used`` records every name read another way, for the response.
    """

    def __init__(self, columns: Iterable[str]) -> None:
        self.columns = list(columns)
        self._lookup: dict[str, str] = {}
        for column in self.columns:
            short = column.removesuffix(_SUFFIX)
            for key in (column, short, column.lower(), short.lower()):
                self._lookup.setdefault(key, column)
        self.used: dict[str, str] = {}

    def column(self, name: str) -> str | None:
        """The spend column ``name`` means, or ``None``."""
        return self._lookup.get(name) or self._lookup.get(name.lower())

    def map(self, names: Iterable[str], where: str) -> dict[str, str]:
        """``{name: column}`` for every name; unknown or doubled names are a 422."""
        out: dict[str, str] = {}
        unknown = []
        for name in names:
            column = self.column(name)
            if column is None:
                unknown.append(name)
                continue
            if column in out.values():
                first = next(n for n, c in out.items() if c == column)
                raise InvalidRequestError(
                    f"{where} names the channel {column!r} twice ({first!r} and {name!r}).",
                    hint="give each channel once.",
                )
            out[name] = column
            if name != column:
                self.used[name] = column
        if unknown:
            raise InvalidRequestError(
                f"{where} names channels the model does not have: {sorted(unknown)}.",
                hint=f"the model's channels are {self.columns} (short names like "
                f"{self.columns[0].removesuffix(_SUFFIX)!r} work too).",
                details={"unknown_channels": sorted(unknown), "channels": self.columns},
            )
        return out

    def amounts(self, amounts: Mapping[str, float], where: str) -> dict[str, float]:
        """``amounts`` keyed by spend column; every channel of the model must be there."""
        mapping = self.map(amounts, where)
        out = {mapping[name]: float(value) for name, value in amounts.items()}
        missing = [c for c in self.columns if c not in out]
        if missing:
            raise InvalidRequestError(
                f"{where} must give every channel of the model; missing {missing}.",
                hint="give a (possibly zero) spend for each of " + ", ".join(self.columns) + ".",
                details={"missing_channels": missing, "channels": self.columns},
            )
        return out

    def constraints(self, given: Constraints | None) -> dict[str, Any]:
        """The optimizer's ``constraints`` dict, channel names mapped to spend columns.

        ``max_change`` absent leaves the optimizer's safety limits; ``null`` removes them.
        """
        if given is None:
            return {}
        out: dict[str, Any] = {}
        for key in ("total_budget", "min_channel_spend"):
            value = getattr(given, key)
            if value is not None:
                out[key] = value
        if "max_change" in given.model_fields_set:
            out["max_change"] = given.max_change
        if given.locked:
            out["locked"] = list(self.map(given.locked, "constraints.locked").values())
        extra = given.model_extra or {}
        mapping = self.map(extra, "constraints")
        for name, spec in extra.items():
            limits = spec.model_dump(exclude_none=True)
            if "max_change" in spec.model_fields_set and spec.max_change is None:
                limits["max_change"] = None
            out[mapping[name]] = limits
        return out


@router.post(
    "/optimize",
    response_model=OptimizeResponse,
    summary="Multi-objective budget optimization across channels",
    responses=error_responses(404, 409),
)
async def optimize(
    body: Annotated[OptimizeRequest, Body(openapi_examples=OPTIMIZE_EXAMPLES)],
    services: ServicesDep,
    models: ModelsDep,
) -> Any:
    """Allocate a budget across the channels of a trained model (``model_id``, default the
    production model), on its response curves and their uncertainty.

    The budget is ``constraints.total_budget``, else the sum of ``current_budget``, else what
    the model's channels spent over the horizon. ``current_budget`` is today's mix (default:
    the fitted period's, scaled to the budget); unless ``max_change`` says otherwise each
    channel moves at most a safety limit from it. Loaded models are cached in memory; nothing
    is refitted.
    """
    return await services.compute(_plan, body, models)


def _plan(body: OptimizeRequest, models: ModelCache) -> dict[str, Any]:
    from mmm_core.optimize import BudgetOptimizer

    model_id, model = models.resolve(body.model_id)
    names = ChannelNames(model.spend_columns_)
    current = (
        names.amounts(body.current_budget, "current_budget")
        if body.current_budget is not None
        else None
    )
    constraints = names.constraints(body.constraints)
    budget = constraints.pop("total_budget", None)
    if budget is None and current is not None:
        budget = sum(current.values())
    if budget is None:
        periods = body.horizon or int(model.baseline_.n_train)
        budget = float(model.mean_spend_.sum()) * periods
    optimizer = BudgetOptimizer(
        objective=body.objective, frontier_points=11 if body.include_frontier else 0
    )
    plan = optimizer.optimize(
        model,
        budget,
        constraints or None,
        horizon=body.horizon,
        current_allocation=current,
        target_roas=body.target_roas,
    )
    return {**plan, "model_id": model_id, "channel_names": names.used}
