"""Every setting of the API, read from the environment in one place (pydantic-settings).

Variables (prefix ``MMM_``; the same names the CLI, the SageMaker jobs and the CDK stacks use):

=================================  ==========================================================
``MMM_DATA_LAKE_URI``              ``s3://bucket/prefix`` (or a local folder) of the store;
                                   unset: the folder ``MMM_HOME``
``MMM_HOME``                       local store folder (default ``.mmm``)
``MMM_API_KEY``                    when set, every request but ``/health`` and the docs needs
                                   it in ``x-api-key`` (in AWS, API Gateway authenticates)
``MMM_CORS_ORIGINS``               allowed browser origins, comma-separated or a JSON list
                                   (default none: CORS closed)
``MMM_MAX_BODY_BYTES``             largest request body (default 6,000,000: Lambda's limit)
``MMM_TRAINING_BACKEND``           ``local`` (a worker thread) or ``sagemaker``
``MMM_TRAINING_WORKERS``           local training threads (default 1)
``MMM_SAGEMAKER_ROLE_ARN``         execution role of SageMaker training jobs
``MMM_SAGEMAKER_IMAGE_URI``        training image (``sagemaker_jobs``)
``MMM_SAGEMAKER_INSTANCE_TYPE``    default ``ml.m5.large``
``MMM_AWS_REGION``                 else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else us-east-1
``MMM_COMPUTE_THREADS``            science computations run at once per process (default 1:
                                   they hold the GIL, so a second thread only takes turns,
                                   and the turns cost ~25% throughput; serve with one uvicorn
                                   worker process per core instead, as ``make serve`` does)
``MMM_MODEL_CACHE_SIZE``           fitted models kept loaded in memory (default 8)
``MMM_PRODUCTION_TTL_SECONDS``     how long the production pointer is cached (default 5)
``MMM_GATE_MIN_R2``                quality gate: in-sample R² floor (default 0.5)
``MMM_GATE_MAX_HOLDOUT_MAPE``      quality gate: hold-out MAPE ceiling in % (default 25)
``MMM_GATE_MAX_REGRESSION``        quality gate: hold-out MAPE at most this much worse than
                                   production's, relative (default 0.10)
``MMM_ROOT_PATH``                  path prefix the API is served under (``/v1`` behind API
                                   Gateway's stage) so ``/docs`` finds its schema
``MMM_LOG_LEVEL``                  else Powertools' ``POWERTOOLS_LOG_LEVEL`` / ``LOG_LEVEL``
``MLFLOW_TRACKING_URI``            read by :mod:`mmm_core.tracking` (health check, training)
=================================  ==========================================================
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "get_settings"]

#: Lambda refuses invocation payloads over 6 MB; larger inputs go by store reference.
LAMBDA_PAYLOAD_LIMIT = 6_000_000


class Settings(BaseSettings):
    """The API's settings (see the module for the environment variables)."""

    model_config = SettingsConfigDict(env_prefix="MMM_", extra="ignore", frozen=True)

    data_lake_uri: str | None = None
    home: str = ".mmm"
    api_key: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=LAMBDA_PAYLOAD_LIMIT, ge=1024)
    training_backend: Literal["local", "sagemaker"] = "local"
    training_workers: int = Field(default=1, ge=1, le=16)
    sagemaker_role_arn: str | None = None
    sagemaker_image_uri: str | None = None
    sagemaker_instance_type: str = "ml.m5.large"
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("MMM_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    compute_threads: int = Field(default=1, ge=1, le=64)
    model_cache_size: int = Field(default=8, ge=1, le=256)
    production_ttl_seconds: float = Field(default=5.0, ge=0)
    gate_min_r2: float = 0.5
    gate_max_holdout_mape: float = Field(default=25.0, gt=0)
    gate_max_regression: float = Field(default=0.10, ge=0)
    root_path: str = ""
    log_level: str | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """``"https://a.example,https://b.example"`` or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: object) -> object:
        """``MMM_API_KEY=""`` means no key (auth off), not an empty key everyone knows."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def store_location(self) -> str:
        """Where the artifact store lives: the data lake URI, else the local home folder."""
        return (self.data_lake_uri or "").strip() or self.home


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
