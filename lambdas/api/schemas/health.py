"""``GET /health``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HealthResponse"]


class HealthResponse(BaseModel):
    """Service status and the state of what it depends on (the reference's format)."""

    status: Literal["healthy", "degraded", "unhealthy"] = Field(
        description="healthy: all checks pass; degraded: it serves, but something optional is "
        "missing (no production model, MLflow unreachable); unhealthy: a library or the store "
        "is missing (answered with 503)."
    )
    timestamp: str = Field(description="UTC, ISO 8601.")
    version: str = Field(description="The platform's version.")
    dependencies: dict[str, str] = Field(
        description="Each dependency's state: libraries 'available' or 'missing'; 'store' "
        "'available' or 'unavailable'; 'production_model' the id in production or 'none'; "
        "'mlflow' 'available', 'not configured' or 'not installed'."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "healthy",
                    "timestamp": "2025-08-20T13:11:54.123456Z",
                    "version": "0.1.0",
                    "dependencies": {
                        "pandas": "available",
                        "numpy": "available",
                        "scipy": "available",
                        "sklearn": "available",
                        "statsmodels": "available",
                        "store": "available",
                        "production_model": "mmm-20250106-093000-a1b2c3",
                        "mlflow": "not configured",
                    },
                }
            ]
        }
    )
