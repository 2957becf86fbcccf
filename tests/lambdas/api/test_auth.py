"""MMM_API_KEY (x-api-key) when set locally, open health and docs, CORS closed by default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lambdas.api.config import Settings
from lambdas.api.main import create_app

KEY = "k3y-for-tests-only"


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(home=str(tmp_path), api_key=KEY))) as client:
        yield client


def test_without_a_key_requests_are_401(locked: TestClient) -> None:
    response = locked.get("/models")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "MMM_401" and error["type"] == "UnauthorizedError"
    assert "x-api-key" in error["message"]
    assert response.headers["www-authenticate"].startswith("ApiKey")


def test_a_wrong_key_is_401_and_the_right_one_passes(locked: TestClient) -> None:
    assert locked.get("/models", headers={"x-api-key": "guess"}).status_code == 401
    assert locked.get("/models", headers={"x-api-key": KEY}).status_code == 200


def test_the_key_is_checked_before_the_body_is_read(locked: TestClient) -> None:
    response = locked.post(
        "/attribution/analyze", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/health", "/docs", "/openapi.json", "/redoc"])
def test_health_and_docs_need_no_key(locked: TestClient, path: str) -> None:
    assert locked.get(path).status_code == 200


def test_the_openapi_document_declares_the_key(locked: TestClient) -> None:
    schema = locked.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert schema["security"] == [{"ApiKey": []}]
    assert schema["paths"]["/health"]["get"]["security"] == []


def test_the_key_never_reaches_the_logs(
    locked: TestClient, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    locked.get("/models", headers={"x-api-key": KEY})
    locked.get("/models", headers={"x-api-key": "wrong-" + KEY})
    assert log_lines() and KEY not in str(log_lines())


def test_an_empty_key_means_no_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMM_API_KEY", "  ")
    monkeypatch.setenv("MMM_HOME", str(tmp_path))
    with TestClient(create_app(Settings())) as client:
        assert client.get("/models").status_code == 200


def test_cors_is_closed_by_default(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(home=str(tmp_path)))) as client:
        response = client.get("/health", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in response.headers
        preflight = client.options(
            "/models",
            headers={"origin": "https://evil.example", "access-control-request-method": "GET"},
        )
        assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_the_configured_origins_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MMM_CORS_ORIGINS", "https://app.example, https://bi.example")
    monkeypatch.setenv("MMM_API_KEY", KEY)
    monkeypatch.setenv("MMM_HOME", str(tmp_path))
    settings = Settings()
    assert settings.cors_origins == ["https://app.example", "https://bi.example"]
    with TestClient(create_app(settings)) as client:
        preflight = client.options(
            "/models",
            headers={
                "origin": "https://app.example",
                "access-control-request-method": "GET",
                "access-control-request-headers": "x-api-key",
            },
        )
        assert preflight.status_code == 200  # preflights carry no key and need none
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        refused = client.get("/models", headers={"origin": "https://app.example"})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == "https://app.example"
        other = client.get("/health", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cors_origins_may_be_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMM_CORS_ORIGINS", '["https://a.example"]')
    assert Settings().cors_origins == ["https://a.example"]
