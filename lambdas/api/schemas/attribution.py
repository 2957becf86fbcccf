"""``POST /attribution/analyze``: multi-touch attribution of customer journeys.

Journeys are validated into plain dicts (``TypedDict``): the analyzer reads dicts, so a
thousand journeys go through without building and dumping a model object per touch.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, model_validator, with_config
from typing_extensions import TypedDict

from lambdas.api.schemas.common import DatasetName, Strict

__all__ = [
    "ATTRIBUTION_MODELS",
    "AttributionOptions",
    "AttributionRequest",
    "AttributionResponse",
    "Journey",
    "Touchpoint",
]

ATTRIBUTION_MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
)
Timestamp = Annotated[
    str | Annotated[float, Field(ge=0, le=1e11)],
    Field(description="ISO 8601 (2025-01-06T10:00:00Z) or seconds since 1970 (UTC)."),
]
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]


@with_config(ConfigDict(extra="forbid", strict=True))
class Touchpoint(TypedDict):
    """One touch of a journey."""

    channel: Annotated[str, Field(min_length=1, max_length=200)]
    timestamp: Timestamp
    interaction: NotRequired[Literal["click", "view"]]


@with_config(ConfigDict(extra="forbid", strict=True))
class Journey(TypedDict):
    """One customer's touches and whether (and for how much) they converted."""

    journey_id: NotRequired[Annotated[str, Field(max_length=200)] | int]
    touchpoints: list[Touchpoint]
    converted: bool
    conversion_value: NotRequired[Amount]
    conversion_timestamp: NotRequired[Timestamp | None]


class AttributionOptions(Strict):
    """Options of some models (an option of another model is refused with 422)."""

    half_life: float | None = Field(
        default=None, gt=0, le=3650, description="time_decay: days for a touch's credit to halve."
    )
    position_weights: tuple[float, float, float] | None = Field(
        default=None,
        strict=False,  # a JSON array
        description="position_based: (first, middle, last), default (0.4, 0.2, 0.4).",
    )
    order: int | None = Field(default=None, ge=1, le=3, description="markov: chain order.")
    max_exact_channels: int | None = Field(
        default=None, ge=1, le=15, description="shapley: exact up to this many channels."
    )
    n_samples: int | None = Field(
        default=None, ge=10, le=20_000, description="shapley: channel orders sampled beyond."
    )
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1, description="shapley: seed.")
    after_conversion: Literal["error", "drop"] | None = Field(
        default=None,
        description="Touches later than the journey's conversion_timestamp: an error (default) "
        "or dropped.",
    )


class AttributionRequest(Strict):
    """The reference's body: ``customer_journeys``, ``attribution_model``, ``lookback_window``,
    ``include_view_through``; ``options`` and ``dataset`` are optional additions."""

    customer_journeys: list[Journey] | None = Field(
        default=None,
        min_length=1,
        description="One object per journey: touchpoints (channel, timestamp, interaction "
        "click|view), converted, conversion_value, optional journey_id and "
        "conversion_timestamp.",
    )
    attribution_model: Literal[
        "first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley"
    ] = "markov"
    lookback_window: float | None = Field(
        default=30,
        gt=0,
        le=3650,
        description="Days before the conversion in which touches count; null: no limit.",
    )
    include_view_through: bool = Field(
        default=True, description="Keep view (impression) touches; false keeps clicks only."
    )
    options: AttributionOptions | None = None
    dataset: DatasetName | None = Field(
        default=None,
        description="Instead of customer_journeys: a stored long table, one row per touch "
        "(journey_id, timestamp, channel, interaction, converted, conversion_value).",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_journeys": [
                        {
                            "journey_id": "u1",
                            "touchpoints": [
                                {
                                    "channel": "display",
                                    "timestamp": "2025-05-01T09:00:00Z",
                                    "interaction": "view",
                                },
                                {
                                    "channel": "search",
                                    "timestamp": "2025-05-03T10:00:00Z",
                                    "interaction": "click",
                                },
                            ],
                            "converted": True,
                            "conversion_value": 90.0,
                        },
                        {
                            "journey_id": "u2",
                            "touchpoints": [
                                {"channel": "social", "timestamp": "2025-05-02T12:00:00Z"},
                                {"channel": "search", "timestamp": "2025-05-04T08:30:00Z"},
                            ],
                            "converted": True,
                            "conversion_value": 60.0,
                        },
                        {
                            "journey_id": "u3",
                            "touchpoints": [
                                {"channel": "display", "timestamp": "2025-05-02T15:00:00Z"}
                            ],
                            "converted": False,
                        },
                    ],
                    "attribution_model": "time_decay",
                    "lookback_window": 30,
                    "include_view_through": True,
                }
            ]
        }
    )

    @model_validator(mode="after")
    def _one_source(self) -> AttributionRequest:
        if (self.customer_journeys is None) == (self.dataset is None):
            raise ValueError("give either customer_journeys or a stored dataset")
        return self

    def analyzer_options(self) -> dict[str, Any]:
        """The options that were given, as the analyzer's keyword arguments."""
        return self.options.model_dump(exclude_none=True) if self.options else {}


class AttributionResponse(BaseModel):
    """Shares of the attributed conversions by channel (the reference's ``attribution`` and
    ``method``) with amounts, value shares, totals and the model's own diagnostics."""

    model_config = ConfigDict(extra="allow")

    attribution: dict[str, float] = Field(description="Channel share of the conversions (sum 1).")
    method: str
    attributed_conversions: dict[str, float]
    attributed_value: dict[str, float]
    value_attribution: dict[str, float] = Field(description="Channel share of the value.")
    table: list[dict[str, Any]]
    totals: dict[str, float]
    parameters: dict[str, Any]
    description: str
    notes: list[str]
    markov: dict[str, Any] | None = None
    shapley: dict[str, Any] | None = None
