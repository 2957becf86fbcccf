"""Pieces every router's schemas share: the error body, table inputs, names and ids."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "CLIENT_ERRORS",
    "ColumnName",
    "DatasetName",
    "ErrorBody",
    "ErrorResponse",
    "ModelId",
    "Row",
    "Strict",
    "TableInput",
    "error_responses",
]

#: A model id or dataset name as the store accepts it (letters, digits, ``.``, ``_``, ``-``).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$"
ModelId = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(
        description="A model id, e.g. mmm-20250106-093000-a1b2c3.",
        examples=["mmm-20250106-093000-a1b2c3"],
    ),
]
DatasetName = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(
        description="A dataset in the store (curated/<name>/*.parquet), for inputs larger than "
        "a request can carry.",
        examples=["weekly_sales"],
    ),
]
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
#: One value of a table cell.
Cell = float | int | str | bool | None
#: One row of a table: ``{"date": "2025-01-06", "tv_spend": 50000, "revenue": 612000}``.
Row = dict[Annotated[str, StringConstraints(min_length=1, max_length=255)], Cell]


class Strict(BaseModel):
    """A request body: unknown fields are an error (a typo must not pass silently), and values
    are not coerced across JSON types (``"5"`` is not a number, ``0`` is not ``false``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class TableInput(Strict):
    """A table given inline (``rows``) or by reference to a stored dataset (``dataset``).

    Requests are limited to ``MMM_MAX_BODY_BYTES`` (6 MB by default, Lambda's limit): larger
    tables go to the store first (``ArtifactStore.put_dataset``, the data lake's curated area)
    and are named here.
    """

    rows: list[Row] | None = Field(
        default=None,
        min_length=1,
        description="The table, one object per row (column name to value).",
    )
    dataset: DatasetName | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TableInput:
        if (self.rows is None) == (self.dataset is None):
            raise ValueError("give the table either inline as 'rows' or as a stored 'dataset'")
        return self


class ErrorBody(BaseModel):
    """The reference's error format, plus the request id (and details for some 4xx)."""

    type: str = Field(description="The exception's class, e.g. DataIntegrationError.")
    message: str = Field(description="What is wrong, and how to fix it.")
    code: str = Field(description="A stable code, e.g. MMM_101 (see the README's error codes).")
    timestamp: str = Field(description="When (UTC, ISO 8601).")
    request_id: str | None = Field(default=None, description="Quote it when reporting a problem.")
    details: dict[str, Any] | None = Field(
        default=None, description="Machine-readable context (validation problems, gate checks)."
    )


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer."""

    error: ErrorBody

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "type": "DataIntegrationError",
                        "message": "column 'tv' not found. How to fix: use 'tv_spend'.",
                        "code": "MMM_101",
                        "timestamp": "2025-08-17T22:15:00Z",
                        "request_id": "4f1c2b9e8d7a4e0f9b1a2c3d4e5f6a7b",
                    }
                }
            ]
        }
    )


_DESCRIPTIONS = {
    400: "Malformed request (the body is not JSON).",
    401: "Missing or wrong API key (when MMM_API_KEY is set).",
    404: "No such model, dataset or report.",
    409: "ConflictError: the model is not ready, or its quality gate failed.",
    413: "Request body over the size limit: send large tables as a stored dataset.",
    422: "The request does not match the schema, or the data cannot be used as given.",
    500: "Unexpected server error (the message carries the request id).",
    503: "A dependency (the store, SageMaker) is unavailable.",
}
#: What any request may answer besides success.
CLIENT_ERRORS = (400, 401, 413, 422, 500, 503)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses plus :data:`CLIENT_ERRORS`."""
    return {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        for status in sorted({*CLIENT_ERRORS, *statuses})
    }
