"""``POST /attribution/incrementality``: the lift of an experiment.

Two designs, told apart by ``design``:

- ``geo_lift``: a geo panel (one row per geo and date), the treated geos and the test window
  (synthetic control or difference-in-differences with placebo inference);
- ``causal_impact``: one treated series ``y`` with optional control series ``X`` and the pre-
  and post-periods (CausalImpact-style state-space forecast).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lambdas.api.schemas.common import ColumnName, Strict, TableInput

__all__ = [
    "CausalImpactOptions",
    "CausalImpactRequest",
    "GeoLiftOptions",
    "GeoLiftRequest",
    "IncrementalityRequest",
    "IncrementalityResponse",
]

Level = Annotated[float, Field(gt=0, lt=1, description="Confidence level of the intervals.")]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
#: A period bound: a date (ISO) when ``dates`` are given, else a 0-based row position.
Bound = int | Annotated[str, Field(min_length=1, max_length=40)] | None
Value = Annotated[float, Field(allow_inf_nan=False)]


def _week(w: int) -> str:
    """The Monday ``w`` weeks after 2025-01-06 (ISO)."""
    return (date(2025, 1, 6) + timedelta(weeks=w)).isoformat()


def _geo_rows() -> list[dict[str, Any]]:
    """A small balanced panel for the docs' example: 6 geos x 12 weeks, g1 lifted 10%."""
    rows = []
    for g in range(1, 7):
        for w in range(12):
            kpi = 1000.0 + 40.0 * g + 15.0 * ((w * 7 + g * 3) % 5) + 5.0 * w
            if g == 1 and w >= 9:
                kpi *= 1.10
            rows.append({"geo": f"g{g}", "date": _week(w), "kpi": round(kpi, 2)})
    return rows


class GeoLiftOptions(Strict):
    """Settings of the geo-lift estimator (see ``mmm_core.incrementality.geo``)."""

    method: Literal["synthetic_control", "did"] = "synthetic_control"
    augment: bool = Field(default=False, description="Ridge-augmented synthetic control.")
    ridge: float | None = Field(default=None, gt=0, description="Augmentation strength.")
    penalty: float = Field(default=0.0, ge=0, description="Pull weights towards equal ones.")
    level: Level = 0.9
    n_placebos: int = Field(default=200, ge=1, le=1000, description="Most placebo groups.")
    studentize: bool = True
    cross_check: bool = Field(default=True, description="Also run the other method.")
    seed: Seed = 0


class GeoLiftRequest(TableInput):
    """A geo test: the panel (inline ``rows`` or a stored ``dataset``), who was treated, when."""

    design: Literal["geo_lift"]
    geo_column: ColumnName = "geo"
    date_column: ColumnName = "date"
    kpi_column: ColumnName = "kpi"
    treated_geos: list[Annotated[str, Field(max_length=200)] | int] = Field(
        min_length=1, max_length=1000, description="Geos that ran the test."
    )
    test_start: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        description="First date of the test (inclusive)."
    )
    test_end: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="Last date of the test (inclusive); null: the last date."
    )
    options: GeoLiftOptions = Field(default_factory=GeoLiftOptions)


class CausalImpactOptions(Strict):
    """Settings of the single-series model (see ``mmm_core.incrementality.impact``)."""

    model: Literal["local_level", "ar1"] = "local_level"
    seasonal: int | None = Field(default=None, ge=2, le=366)
    level: Level = 0.9
    n_simulations: int = Field(default=1000, ge=10, le=5000)
    seed: Seed = 0


class CausalImpactRequest(Strict):
    """One treated series against control series, before and after an intervention."""

    design: Literal["causal_impact"]
    y: list[Value] = Field(min_length=2, max_length=100_000, description="The treated series.")
    X: dict[ColumnName, list[Value]] | None = Field(
        default=None,
        max_length=50,
        description="Control series by name, each as long as y (unaffected by the test).",
    )
    dates: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None,
        description="A date per value of y (ISO); then periods are dates, else row positions.",
    )
    pre_period: tuple[Bound, Bound] | None = Field(
        default=None,
        strict=False,  # a JSON array
        description="[start, end] of the pre-period; null: all before the post.",
    )
    post_period: tuple[Bound, Bound] = Field(
        strict=False, description="[start, end] of the post-period (null end: the last row)."
    )
    options: CausalImpactOptions = Field(default_factory=CausalImpactOptions)

    @model_validator(mode="after")
    def _aligned(self) -> CausalImpactRequest:
        n = len(self.y)
        for name, series in (self.X or {}).items():
            if len(series) != n:
                raise ValueError(f"control {name!r} has {len(series)} values, y has {n}")
        if self.dates is not None and len(self.dates) != n:
            raise ValueError(f"dates has {len(self.dates)} values, y has {n}")
        return self


IncrementalityRequest = Annotated[
    GeoLiftRequest | CausalImpactRequest, Field(discriminator="design")
]

_EXAMPLE_Y = [100, 103, 101, 104, 102, 106, 107, 105, 109, 110, 108, 112, 125, 128, 126, 130]
_EXAMPLE_CONTROL = [50, 51, 50.5, 52, 51.5, 52.5, 53.5, 53, 54, 55, 54.5, 55.5, 56, 56.5, 56, 57]

#: Named examples for /docs (both run as they are).
INCREMENTALITY_EXAMPLES: dict[str, dict[str, Any]] = {
    "causal_impact": {
        "summary": "One series against a control, 12 periods before and 4 after",
        "value": {
            "design": "causal_impact",
            "y": _EXAMPLE_Y,
            "X": {"control": _EXAMPLE_CONTROL},
            "pre_period": [0, 11],
            "post_period": [12, 15],
        },
    },
    "geo_lift": {
        "summary": "A geo test: g1 treated for the last 3 of 12 weeks",
        "value": {
            "design": "geo_lift",
            "rows": _geo_rows(),
            "treated_geos": ["g1"],
            "test_start": _week(9),
            "test_end": _week(11),
            "options": {"method": "synthetic_control"},
        },
    },
}


class IncrementalityResponse(BaseModel):
    """The measured lift with its interval and p-value; the rest depends on the design."""

    model_config = ConfigDict(extra="allow")

    design: Literal["geo_lift", "causal_impact"]
    method: str
    lift_abs: float | None = Field(description="Lift in KPI units over the test window.")
    lift_pct: float | None = Field(description="Lift relative to the counterfactual (0.1: 10%).")
    ci_abs: list[float | None] | None
    ci_pct: list[float | None] | None
    p_value: float | None
    level: float
    notes: list[str]
