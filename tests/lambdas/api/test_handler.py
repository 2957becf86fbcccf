"""The Lambda handler, in process, with API Gateway REST (v1) and HTTP API (v2) events."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdas.api import handler as handler_module
from lambdas.api.config import Settings
from lambdas.api.deps import Services
from tests.lambdas.api.conftest import (
    MODEL_ID,
    LambdaContext,
    http_event,
    rest_event,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def handler(settings: Settings, trained: str) -> Iterator[Any]:
    """``lambdas.api.handler.handler`` itself, its app serving the test store."""
    state = handler_module.app.state
    default = state.services
    state.services = Services(settings)
    try:
        yield handler_module.handler
    finally:
        state.services = default


def _body(response: dict[str, Any]) -> Any:
    text = response["body"]
    if response.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    return json.loads(text)


def test_the_handler_is_mangum_around_the_app_without_lifespan() -> None:
    from mangum import Mangum

    assert isinstance(handler_module.handler, Mangum)
    assert handler_module.handler.app is handler_module.app
    assert handler_module.handler.lifespan == "off"


def test_a_rest_api_event_gets_health(handler: Any, lambda_context: LambdaContext) -> None:
    response = handler(rest_event("GET", "/health"), lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["headers"]["x-request-id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert _body(response)["dependencies"]["production_model"] == MODEL_ID


@pytest.mark.parametrize("base64_body", [False, True])
def test_a_rest_api_event_optimizes(
    handler: Any, lambda_context: LambdaContext, base64_body: bool
) -> None:
    body = {"current_budget": {"tv": 45000, "search": 30000, "social": 15000}, "objective": "roi"}
    event = rest_event("POST", "/optimization/optimize", body, base64_body=base64_body)
    response = handler(event, lambda_context)
    assert response["statusCode"] == 200, response["body"]
    plan = _body(response)
    assert plan["model_id"] == MODEL_ID
    assert sum(plan["allocation"].values()) <= 90000 * (1 + 1e-6)


def test_a_rest_api_event_with_a_query_gets_a_report(
    handler: Any, lambda_context: LambdaContext
) -> None:
    event = rest_event("GET", f"/models/{MODEL_ID}/report", query={"format": "csv"})
    response = handler(event, lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("text/csv")
    assert response["body"].startswith("channel,")


def test_an_http_api_event_analyses_journeys(handler: Any, lambda_context: LambdaContext) -> None:
    journeys = [
        {
            "touchpoints": [
                {"channel": "search", "timestamp": "2025-05-01T10:00:00Z"},
                {"channel": "email", "timestamp": "2025-05-02T10:00:00Z"},
            ],
            "converted": True,
            "conversion_value": 10,
        }
    ]
    event = http_event(
        "POST",
        "/attribution/analyze",
        {"customer_journeys": journeys, "attribution_model": "last_touch"},
    )
    response = handler(event, lambda_context)
    assert response["statusCode"] == 200, response["body"]
    assert _body(response)["attribution"] == {"email": 1.0, "search": 0.0}
    assert response["headers"]["x-request-id"] == "JKJaXmPLvHcESHA="


def test_an_http_api_event_gets_a_model(handler: Any, lambda_context: LambdaContext) -> None:
    response = handler(http_event("GET", f"/models/{MODEL_ID}"), lambda_context)
    assert response["statusCode"] == 200
    assert _body(response)["status"]["state"] == "ready"


@pytest.mark.parametrize("make", [rest_event, http_event])
def test_errors_come_back_through_lambda_in_the_error_format(
    handler: Any, lambda_context: LambdaContext, make: Any
) -> None:
    missing = handler(make("GET", "/models/mmm-absent"), lambda_context)
    assert missing["statusCode"] == 404
    assert _body(missing)["error"]["code"] == "MMM_001"
    invalid = handler(make("POST", "/optimization/optimize", {"objective": "fame"}), lambda_context)
    assert invalid["statusCode"] == 422
    assert _body(invalid)["error"]["code"] == "MMM_422"


def test_the_handler_module_imports_without_the_science_stack() -> None:
    code = (
        "import json, sys\n"
        "import lambdas.api.handler\n"
        "heavy = ('pandas', 'numpy', 'scipy', 'sklearn', 'statsmodels', 'mmm_core', 'boto3')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_lambda_logs_carry_both_request_ids(
    handler: Any, lambda_context: LambdaContext, log_lines: Any
) -> None:
    handler(rest_event("GET", "/health"), lambda_context)
    access = [line for line in log_lines() if line["message"] == "request"][-1]
    assert access["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert access["lambda_request_id"] == LambdaContext.aws_request_id
    assert access["route"] == "/health" and access["status"] == 200
