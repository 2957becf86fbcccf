"""``/models``: train, list, inspect, predict with, promote and report on models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lambdas.api.schemas.common import ColumnName, DatasetName, Row, Strict, TableInput

__all__ = [
    "CalibrationExperiment",
    "Hyperparameters",
    "ModelDetail",
    "ModelList",
    "ModelStatus",
    "ModelSummary",
    "PredictRequest",
    "PredictResponse",
    "PromoteRequest",
    "PromoteResponse",
    "ReportResponse",
    "SyntheticData",
    "TrainRequest",
    "TrainResponse",
]

Auto = Literal["auto"]
State = Literal["queued", "training", "ready", "failed"]


class Hyperparameters(Strict):
    """``EconometricMMM``'s settings (see its docstring); defaults as the library's."""

    adstock_rate: Annotated[float, Field(ge=0, lt=1)] | Auto | dict[str, Any] = "auto"
    saturation_param: Annotated[float, Field(gt=0, le=100)] | Auto | dict[str, Any] = "auto"
    regularization_alpha: Annotated[float, Field(ge=0, le=1e6)] | Auto = 0.1
    include_baseline: bool = True
    adstock: Literal["geometric", "weibull"] = "geometric"
    max_lag: int = Field(default=13, ge=1, le=52)
    n_fourier: int = Field(default=2, ge=0, le=6)
    n_candidates: int = Field(default=256, ge=2, le=1024)
    n_sweeps: int = Field(default=3, ge=1, le=5)
    cv_folds: int = Field(default=8, ge=1, le=20)
    holdout_periods: Annotated[int, Field(ge=0, le=104)] | Auto = "auto"
    n_bootstrap: int = Field(default=200, ge=0, le=500)
    random_state: int = Field(default=0, ge=0, le=2**32 - 1)


class CalibrationExperiment(Strict):
    """A measured lift the model should agree with (an experiment on one channel)."""

    channel: ColumnName
    start: Annotated[str, Field(min_length=1, max_length=40)]
    end: Annotated[str, Field(min_length=1, max_length=40)]
    lift: Annotated[float, Field(allow_inf_nan=False)]
    ci: tuple[float, float] | None = Field(
        default=None, strict=False, description="90% interval [lo, hi]."
    )
    se: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class SyntheticData(Strict):
    """Generated weekly data with known truth (``mmm_core.data.synthetic``), for trying the
    API without data of one's own."""

    weeks: int = Field(default=104, ge=52, le=520)
    channels: int = Field(default=3, ge=1, le=10)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    noise: float = Field(default=0.05, ge=0, le=0.5)


class TrainRequest(Strict):
    """What to fit: the data (inline ``rows``, a stored ``dataset`` or ``synthetic``), the
    columns and the model's settings."""

    rows: list[Row] | None = Field(default=None, min_length=1)
    dataset: DatasetName | None = None
    synthetic: SyntheticData | None = None
    target_column: ColumnName = "revenue"
    spend_columns: list[ColumnName] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Media spend columns; default: every column ending in _spend.",
    )
    control_columns: list[ColumnName] = Field(default_factory=list, max_length=50)
    date_column: ColumnName | None = Field(default=None, description="Default: detected.")
    include_synergies: bool = False
    calibration: list[CalibrationExperiment] | None = Field(default=None, max_length=50)
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    description: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "synthetic": {"weeks": 104, "channels": 3, "seed": 1},
                    "target_column": "revenue",
                    "spend_columns": ["tv_spend", "search_spend", "social_spend"],
                    "hyperparameters": {"n_bootstrap": 50},
                    "description": "three channels, synthetic",
                }
            ]
        }
    )

    @model_validator(mode="after")
    def _one_source(self) -> TrainRequest:
        given = [s for s in (self.rows, self.dataset, self.synthetic) if s is not None]
        if len(given) != 1:
            raise ValueError("give the data as exactly one of 'rows', 'dataset' or 'synthetic'")
        return self


class ModelStatus(BaseModel):
    """Where a model is in its training."""

    model_config = ConfigDict(extra="allow")

    state: State
    message: str = ""
    updated: str | None = None
    backend: str | None = None
    job_id: str | None = None
    error: dict[str, Any] | None = Field(
        default=None, description="When failed: the error (type, message, code)."
    )


class TrainResponse(BaseModel):
    """A training job was accepted (202): poll ``status_url`` until ``ready`` or ``failed``."""

    model_id: str
    job_id: str
    backend: Literal["local", "sagemaker"]
    status: ModelStatus
    status_url: str


class ModelSummary(BaseModel):
    """One stored model."""

    model_id: str
    created: str | None
    status: State
    channels: list[str]
    metrics: dict[str, Any]
    production: bool


class ModelList(BaseModel):
    """Every stored model, newest first, and the one in production."""

    models: list[ModelSummary]
    production: str | None


class ModelDetail(BaseModel):
    """A model's status, metrics and channels (with their ROI when ready)."""

    model_id: str
    status: ModelStatus
    production: bool
    created: str | None = None
    channels: list[str] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)
    channel_results: dict[str, dict[str, Any]] | None = Field(
        default=None,
        description="Per channel: spend, contribution, share, roi, roi_interval, mroi.",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class PredictRequest(TableInput):
    """Spend (and controls) per period to predict the KPI for."""

    include_decomposition: bool = Field(
        default=False, description="Add the baseline and each channel's part per row."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rows": [
                        {
                            "date": "2024-01-01",
                            "tv_spend": 50000,
                            "search_spend": 30000,
                            "social_spend": 20000,
                        },
                        {
                            "date": "2024-01-08",
                            "tv_spend": 0,
                            "search_spend": 32000,
                            "social_spend": 21000,
                        },
                    ],
                    "include_decomposition": True,
                }
            ]
        }
    )


class PredictResponse(BaseModel):
    """Predicted KPI per row, in the rows' order."""

    model_id: str
    predictions: list[float]
    decomposition: dict[str, list[float]] | None = None


class PromoteRequest(Strict):
    """Optional body of a promotion."""

    dry_run: bool = Field(
        default=False, description="Evaluate the quality gate without moving production."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"dry_run": True}]})


class PromoteResponse(BaseModel):
    """The gate's verdict and, when it passed, the new production pointer."""

    model_id: str
    promoted: bool
    gate: dict[str, Any] = Field(description="passed, reasons, checks, settings, production.")
    production: dict[str, Any] | None = Field(
        default=None, description="The production pointer after the call."
    )


class ReportResponse(BaseModel):
    """The executive summary (``format=json``); other formats answer the document itself."""

    model_id: str
    summary: dict[str, Any]
    formats: list[str] = Field(description="Formats this endpoint answers (?format=...).")
