"""Every error in the reference's JSON with the right status; no traceback leaves the server;
request ids in headers, bodies and logs; no payload in the logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from lambdas.api.config import Settings
from lambdas.api.errors import ConflictError, NotFoundError, error_body, status_of
from lambdas.api.main import create_app
from mmm_core.errors import (
    Codes,
    DataIntegrationError,
    DeploymentError,
    MMModelError,
    OptimizationError,
)
from mmm_core.store import ArtifactStore
from tests.lambdas.api.conftest import MODEL_ID

ERROR_KEYS = {"type", "message", "code", "timestamp", "request_id"}


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) >= ERROR_KEYS
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body["error"]


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/attribution/analyze", content=b"{not json", headers={"content-type": "application/json"}
    )
    error = _error(response, 400)
    assert error["code"] == "MMM_400" and error["type"] == "BadRequestError"


@pytest.mark.parametrize(
    "body",
    [b'{"customer_journeys": [], "lookback_window": NaN}', b'{"a": "\xff"}', b"[1, 2,]"],
    ids=["nan-literal", "not-utf8", "trailing-comma"],
)
def test_bodies_that_are_not_strict_json_are_400_not_500(client: TestClient, body: bytes) -> None:
    response = client.post(
        "/attribution/analyze", content=body, headers={"content-type": "application/json"}
    )
    assert _error(response, 400)["code"] == "MMM_400"


def test_every_route_parses_its_body_with_the_same_json_reader(tmp_path: Path) -> None:
    from fastapi.routing import APIRoute

    from lambdas.api.routing import JSONRoute

    app = create_app(Settings(home=str(tmp_path)))
    included = [getattr(r, "original_router", None) for r in app.routes]
    routes = [r for router in included if router for r in router.routes]
    routes = [r for r in routes if isinstance(r, APIRoute)]
    assert routes and all(isinstance(r, JSONRoute) for r in routes), [
        r.path for r in routes if not isinstance(r, JSONRoute)
    ]


def test_an_unknown_route_is_404_and_a_wrong_method_405(client: TestClient) -> None:
    assert _error(client.get("/nowhere"), 404)["code"] == "MMM_404"
    response = client.delete("/health")
    assert _error(response, 405)["code"] == "MMM_405"
    assert response.headers["allow"] == "GET"


def test_validation_problems_are_listed_and_counted(client: TestClient) -> None:
    journeys = [{"touchpoints": "x", "converted": "maybe"} for _ in range(4)]
    error = _error(client.post("/attribution/analyze", json={"customer_journeys": journeys}), 422)
    assert error["code"] == "MMM_422"
    assert "(and 3 more)" in error["message"]
    assert len(error["details"]["problems"]) == 8
    assert error["details"]["problems"][0]["location"].startswith("body.customer_journeys.0")


@pytest.mark.parametrize("with_length", [True, False])
def test_a_body_over_the_limit_is_413(tmp_path: Path, with_length: bool) -> None:
    app = create_app(Settings(home=str(tmp_path), max_body_bytes=4096))
    body = json.dumps({"customer_journeys": [], "pad": "x" * 10_000}).encode()

    def chunks() -> Any:  # no Content-Length: the limit counts the bytes as they come
        yield body[:5000]
        yield body[5000:]

    with TestClient(app) as client:
        response = client.post(
            "/attribution/analyze",
            content=body if with_length else chunks(),
            headers={"content-type": "application/json"},
        )
    error = _error(response, 413)
    assert error["code"] == "MMM_413"
    assert "4,096 bytes" in error["message"] and "dataset" in error["message"]


@pytest.fixture
def failing_app(settings: Settings) -> FastAPI:
    """The app with one extra route that fails the way a bug would."""
    app = create_app(settings)
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail at /etc/passwords")

    app.include_router(router)
    return app


def test_an_unexpected_error_is_a_generic_500_and_its_traceback_is_logged(
    failing_app: FastAPI, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    with TestClient(failing_app) as client:
        response = client.get("/boom")
    error = _error(response, 500)
    assert error["code"] == "MMM_500" and error["type"] == "InternalError"
    assert "secret" not in response.text
    assert error["request_id"] in error["message"]
    failures = [line for line in log_lines() if line["message"] == "request failed"]
    assert len(failures) == 1
    assert failures[0]["request_id"] == error["request_id"]
    assert "secret detail" in failures[0]["exception"]  # the traceback stays server-side
    access = [line for line in log_lines() if line["message"] == "request"][-1]
    assert access["status"] == 500 and access["error_code"] == "MMM_500"


def test_a_damaged_model_file_is_500_with_its_code_and_no_path(
    client: TestClient, store: ArtifactStore
) -> None:
    store.put_bytes("models/mmm-broken/model.json", b"{truncated")
    response = client.post("/optimization/optimize", json={"model_id": "mmm-broken"})
    error = _error(response, 500)
    assert error["code"] == "MMM_004"
    assert "damaged" in error["message"]
    assert "model.json" not in error["message"] and "://" not in error["message"]


def test_a_store_outage_is_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    store = client.app.state.services.store()

    def outage(model_id: str) -> None:
        raise DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            "cannot read s3://secret-bucket/models: AccessDenied",
            details={"reason": "storage_error"},
        )

    monkeypatch.setattr(store, "get_status", outage)
    error = _error(client.get(f"/models/{MODEL_ID}"), 503)
    assert error["code"] == "MMM_300"
    assert "secret-bucket" not in error["message"]


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (DataIntegrationError(Codes.MISSING_COLUMN, "no tv"), 422),
        (OptimizationError(Codes.OPTIMIZATION_ERROR, "infeasible"), 422),
        (MMModelError(Codes.NOT_FITTED, "not fitted"), 409),
        (MMModelError(Codes.COLUMNS_MISMATCH, "columns"), 422),
        (MMModelError(Codes.INVALID_PARAMETER, "bad"), 422),
        (MMModelError(Codes.UNKNOWN_CHANNEL, "radio?"), 422),
        (MMModelError(Codes.CORRUPT_MODEL_FILE, "corrupt"), 500),
        (MMModelError(Codes.NEWER_SCHEMA, "newer"), 500),
        (MMModelError(Codes.MODEL_ERROR, "gone", details={"reason": "not_found"}), 404),
        (DeploymentError(Codes.DEPLOYMENT_ERROR, "gate", details={"reason": "gate_failed"}), 409),
        (DeploymentError(Codes.DEPLOYMENT_ERROR, "race", details={"reason": "conflict"}), 409),
        (DeploymentError(Codes.DEPLOYMENT_ERROR, "s3", details={"reason": "storage_error"}), 503),
        (DeploymentError(Codes.DEPLOYMENT_ERROR, "other"), 500),
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (ValueError("x"), 500),
    ],
)
def test_each_error_maps_to_its_status(exc: Exception, status: int) -> None:
    assert status_of(exc) == status
    code, body = error_body(exc, "rid")
    assert code == status
    assert body["error"]["request_id"] == "rid"
    assert ("rid" in body["error"]["message"]) == (status >= 500)


def test_client_errors_keep_the_core_message_and_hint(client: TestClient) -> None:
    body = {"rows": [{"date": "2025-01-06", "kpi": 1.0}] * 3, "kpi_column": "sales"}
    error = _error(client.post("/performance/analyze", json=body), 422)
    assert error["type"] == "DataIntegrationError"
    assert "How to fix:" in error["message"]


# ------------------------------------------------------------------------------------------
# Request ids and logs


def test_every_response_has_a_request_id_and_a_sane_client_one_is_kept(client: TestClient) -> None:
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/health", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    odd = client.get("/health", headers={"x-request-id": "no spaces <script>"})
    assert odd.headers["x-request-id"] != "no spaces <script>"


def test_logs_are_json_with_the_request_id_and_no_payload(
    client: TestClient, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    secret = "customer-4711-SECRET"
    journeys = [
        {
            "journey_id": secret,
            "touchpoints": [{"channel": secret, "timestamp": "2025-05-01T09:00:00Z"}],
            "converted": True,
            "conversion_value": 12.5,
        }
    ]
    ok = client.post("/attribution/analyze", json={"customer_journeys": journeys})
    bad = client.post("/attribution/analyze", json={"customer_journeys": journeys * 2})
    assert ok.status_code == 200 and bad.status_code == 422
    lines = log_lines()
    assert secret not in json.dumps(lines)
    access = [line for line in lines if line["message"] == "request"]
    assert [line["request_id"] for line in access] == [
        ok.headers["x-request-id"],
        bad.headers["x-request-id"],
    ]
    first = access[0]
    assert first["method"] == "POST" and first["route"] == "/attribution/analyze"
    assert first["status"] == 200 and first["duration_ms"] > 0
    assert first["service"] == "mmm-api" and first["level"] == "INFO"
    assert access[1]["status"] == 422 and access[1]["error_code"] == "MMM_100"


def test_details_with_non_finite_numbers_still_make_json() -> None:
    exc = ConflictError("gate", details={"gate": {"mape": float("nan"), "r2": [float("inf"), 1.0]}})
    status, body = error_body(exc, "rid")
    assert status == 409
    assert body["error"]["details"] == {"gate": {"mape": None, "r2": [None, 1.0]}}
    json.dumps(body, allow_nan=False)
