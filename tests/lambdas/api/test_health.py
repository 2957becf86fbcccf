"""GET /health: status, libraries, the store, the production model, MLflow."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient


def test_health_is_healthy_with_a_model_in_production(client: TestClient, trained: str) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["timestamp"].endswith("Z")
    deps = body["dependencies"]
    for library in ("pandas", "numpy", "scipy", "sklearn", "statsmodels"):
        assert deps[library] == "available"
    assert deps["store"] == "available"
    assert deps["production_model"] == trained
    assert deps["mlflow"] == "not configured"


def test_health_is_degraded_without_a_production_model(empty_client: TestClient) -> None:
    body = empty_client.get("/health").json()
    assert body["status"] == "degraded"
    assert body["dependencies"]["production_model"] == "none"


def test_health_is_unhealthy_with_503_when_the_store_cannot_be_read(
    empty_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = empty_client.app.state.services

    def broken() -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(services, "store", broken)
    response = empty_client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["dependencies"]["store"] == "unavailable"
    assert "disk gone" not in response.text


def test_health_reports_a_missing_library_as_unhealthy(
    empty_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdas.api.routes import health

    real = health.find_spec
    monkeypatch.setattr(
        health, "find_spec", lambda name: None if name == "statsmodels" else real(name)
    )
    response = empty_client.get("/health")
    assert response.status_code == 503
    assert response.json()["dependencies"]["statsmodels"] == "missing"


def test_health_checks_mlflow_when_configured(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert client.get("/health").json()["dependencies"]["mlflow"] == "available"

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    body = client.get("/health").json()
    assert body["dependencies"]["mlflow"] == "unreachable"
    assert body["status"] == "degraded"
