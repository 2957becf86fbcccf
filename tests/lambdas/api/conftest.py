"""Fixtures of the API tests: settings on a local folder or a moto S3 store, each holding a small
trained model promoted to production; TestClients; API Gateway REST (v1) and HTTP API (v2)
events; a JSON log capture.

The fitted model is built once per session (``EconometricMMM(n_bootstrap=20, n_candidates=32,
n_sweeps=1)`` on ``generate_mmm_data(104, 3, seed=1)``, about 0.1 s) and saved into a fresh
store for every test, so tests may promote, train and delete freely.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lambdas.api.config import Settings
from lambdas.api.log import logger
from lambdas.api.main import create_app
from mmm_core import EconometricMMM
from mmm_core.store import ArtifactStore, open_store
from tests.conftest import moto_s3

BUCKET = "mmm-api-test"
MODEL_ID = "mmm-20250106-093000-a1b2c3"
DATASET = f"training-{MODEL_ID}"
#: Settings that fit the test data in about 0.1 s.
QUICK_FIT: dict[str, Any] = {"n_bootstrap": 20, "n_candidates": 32, "n_sweeps": 1}


def rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON rows (dates as ISO strings)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return json.loads(out.to_json(orient="records"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MMM_* or MLflow setting of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("MMM_") or name.startswith("MLFLOW_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def fitted(mmm_frame: pd.DataFrame, spend_columns: list[str]) -> EconometricMMM:
    """The shared model (read-only)."""
    model = EconometricMMM(**QUICK_FIT)
    model.fit(mmm_frame, "revenue", spend_columns)
    return model


@pytest.fixture(scope="package")
def aws() -> Iterator[None]:
    """Fake credentials and a moto S3 holding the bucket :data:`BUCKET`, for this package's
    tests (each test gets its own prefix in it); nothing leaves the process."""
    with moto_s3(BUCKET):
        yield


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """API settings on an empty store: a folder under ``tmp_path``, or a fresh prefix in the
    moto bucket."""
    if request.param == "local":
        return Settings(home=str(tmp_path / "home"))
    request.getfixturevalue("aws")
    return Settings(data_lake_uri=f"s3://{BUCKET}/{tmp_path.name}")


@pytest.fixture
def store(settings: Settings) -> ArtifactStore:
    """The store the settings point at (the app opens its own on the same place)."""
    return open_store(settings.store_location)


def save_trained(
    store: ArtifactStore,
    model: EconometricMMM,
    frame: pd.DataFrame,
    model_id: str = MODEL_ID,
    promote: bool = True,
    with_data: bool = False,
) -> str:
    """Save ``model`` under ``model_id`` as the API's trainer does (its training data too when
    ``with_data``)."""
    dataset = f"training-{model_id}"
    if with_data:
        store.put_dataset(dataset, frame)
    store.save_model(
        model_id,
        model.to_dict(),
        model.results_,
        metadata={"training": {"dataset": dataset, "target_column": "revenue"}},
    )
    if promote:
        store.promote(model_id, {"passed": True})
    return model_id


@pytest.fixture
def trained(store: ArtifactStore, fitted: EconometricMMM, mmm_frame: pd.DataFrame) -> str:
    """The shared model saved in the store and promoted to production; its id."""
    return save_trained(store, fitted, mmm_frame)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """A fresh app on the settings (its own model cache and trainer)."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI, trained: str) -> Iterator[TestClient]:
    """A client of the app, with a model in production."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def empty_client(app: FastAPI) -> Iterator[TestClient]:
    """A client of the app on an empty store (nothing trained, nothing in production)."""
    with TestClient(app) as test_client:
        yield test_client


def wait_for_training(app: FastAPI, timeout: float = 60.0) -> None:
    """Wait for the app's local training jobs."""
    app.state.services.trainer().wait(timeout)


# ------------------------------------------------------------------------------------------
# Logs


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The API's JSON log records of the test, parsed (a function to call at the end)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)  # Powertools exposes no other hook
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line]
    finally:
        logger._logger.removeHandler(handler)


# ------------------------------------------------------------------------------------------
# API Gateway events (shapes as AWS documents them for Lambda proxy integrations)


class LambdaContext:
    """The fields of the Lambda context object Mangum and the app read."""

    function_name = "mmm-api"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:mmm-api"
    memory_limit_in_mb = 1024
    aws_request_id = "6bc28136-xmpl-4365-b021-0ce6b2e64ab0"
    log_group_name = "/aws/lambda/mmm-api"
    log_stream_name = "2025/01/06/[$LATEST]abcdef"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 28_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


def rest_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST API (payload v1.0) proxy event, stage ``v1``."""
    text = json.dumps(body) if body is not None else None
    if text is not None and base64_body:
        text = base64.b64encode(text.encode()).decode()
    all_headers = {
        "Accept": "application/json",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "pytest",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **({"Content-Type": "application/json"} if body is not None else {}),
        **(headers or {}),
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "extendedRequestId": "Xyz0FExmplEFtQ=",
            "httpMethod": method,
            "identity": {
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
                "userArn": "arn:aws:iam::123456789012:user/analyst",
                "caller": "AIDAEXAMPLE",
                "user": "AIDAEXAMPLE",
                "accessKey": "ASIAEXAMPLE",
            },
            "path": f"/v1{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "06/Jan/2025:09:30:00 +0000",
            "requestTimeEpoch": 1736155800000,
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "stage": "v1",
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def http_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2.0) event, ``$default`` stage."""
    all_headers = {
        "accept": "application/json",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "pytest",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **({"content-type": "application/json"} if body is not None else {}),
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "06/Jan/2025:09:30:00 +0000",
            "timeEpoch": 1736155800000,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = json.dumps(body)
    return event
