"""``POST /optimization/optimize``: a budget plan on a trained model's response curves.

Channel names may be the model's spend columns (``tv_spend``) or the reference's short names
(``tv``): a name maps to the spend column it names unambiguously (``tv`` -> ``tv_spend``).
Every amount is money over the planning horizon (default: the period the model was fitted on).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lambdas.api.schemas.common import ModelId, Strict

__all__ = ["ChannelConstraint", "Constraints", "OptimizeRequest", "OptimizeResponse"]

#: Money over the horizon; a quadrillion is far beyond any budget and keeps the maths finite.
MAX_MONEY = 1e15
Money = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)]
Change = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
ChannelName = Annotated[str, Field(min_length=1, max_length=200)]


class ChannelConstraint(Strict):
    """Limits on one channel (the reference's ``{"min": ..., "max": ...}``)."""

    min: Money | None = None
    max: Money | None = None
    max_change: Change | None = Field(
        default=None, description="At most this fraction away from current spend (0.2: ±20%)."
    )
    locked: bool | None = Field(default=None, description="Keep the channel at current spend.")


class Constraints(BaseModel):
    """Global limits, plus per-channel limits keyed by channel name (``"tv": {"min": ...}``)."""

    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[ChannelName, ChannelConstraint] = Field(init=False)  # type: ignore[assignment]

    total_budget: Annotated[float, Field(gt=0, le=MAX_MONEY, allow_inf_nan=False)] | None = Field(
        default=None, description="Money to allocate over the horizon."
    )
    min_channel_spend: Money | None = Field(
        default=None, description="Every channel spends at least this."
    )
    max_change: Change | None = Field(
        default=None,
        description="Every channel within this fraction of its current spend. Absent: the "
        "optimizer's safety limits (±15-50% by how well the data pin the channel down); null: "
        "no limit.",
    )
    locked: list[ChannelName] | None = Field(
        default=None, description="Channels kept at their current spend."
    )


class OptimizeRequest(Strict):
    """The reference's body (``current_budget``, ``constraints``, ``objective``) and which
    model to plan on."""

    model_id: ModelId | None = Field(
        default=None, description="The trained model to use; default: the production model."
    )
    current_budget: dict[ChannelName, Money] | None = Field(
        default=None,
        description="Current spend per channel over the horizon, every channel of the model. "
        "Default: the fitted period's mix scaled to the budget.",
    )
    constraints: Constraints | None = None
    objective: Literal["roi", "revenue", "target_roas", "reach"] = Field(
        default="roi",
        description="roi: the most net return (may leave money unspent); revenue: spend all "
        "for the most revenue; target_roas: the largest spend keeping revenue/spend >= "
        "target_roas; reach needs exposure curves, which a spend model has not (422).",
    )
    target_roas: float | None = Field(default=None, gt=0, le=1000)
    horizon: int | None = Field(
        default=None, ge=1, le=520, description="Periods the budget covers (default: fitted)."
    )
    include_frontier: bool = Field(
        default=False, description="Add the efficient frontier (50%-150% of the budget)."
    )


#: Named examples for /docs.
OPTIMIZE_EXAMPLES: dict[str, dict[str, Any]] = {
    "reference": {
        "summary": "The reference's body (a model with tv, search and social spend)",
        "value": {
            "current_budget": {"tv": 45000, "search": 30000, "social": 15000},
            "constraints": {"total_budget": 100000, "min_channel_spend": 5000},
            "objective": "roi",
        },
    },
    "any_model": {
        "summary": "A budget for the production model, whatever its channels",
        "value": {"constraints": {"total_budget": 100000}, "objective": "revenue"},
    },
    "per_channel": {
        "summary": "Per-channel limits, a quarter ahead, with the frontier",
        "value": {
            "constraints": {
                "total_budget": 1300000,
                "tv_spend": {"min": 300000, "max": 700000},
                "max_change": 0.3,
            },
            "objective": "revenue",
            "horizon": 13,
            "include_frontier": True,
        },
    },
}


class OptimizeResponse(BaseModel):
    """The reference's Budget Optimization format (``allocation``, ``projected_roi``,
    ``projected_revenue``, ``optimization_objective``) and the plan's details."""

    model_config = ConfigDict(extra="allow")

    allocation: dict[str, float] = Field(description="Spend per channel over the horizon.")
    projected_roi: float
    projected_revenue: float = Field(description="Expected media revenue over the horizon.")
    optimization_objective: str
    model_id: str
    channel_names: dict[str, str] = Field(
        default_factory=dict, description="How the request's channel names were read."
    )
