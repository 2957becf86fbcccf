"""POST /optimization/optimize: the reference's body on the production model, channel names,
constraints, the model cache, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mmm_core.store import ArtifactStore

CHANNELS = ["tv_spend", "search_spend", "social_spend"]
REFERENCE = {
    "current_budget": {"tv": 45000, "search": 30000, "social": 15000},
    "constraints": {"total_budget": 100000, "min_channel_spend": 5000},
    "objective": "roi",
}


def test_the_reference_body_answers_the_reference_format(client: TestClient, trained: str) -> None:
    response = client.post("/optimization/optimize", json=REFERENCE)
    assert response.status_code == 200, response.text
    plan = response.json()
    for key in ("allocation", "projected_roi", "projected_revenue", "optimization_objective"):
        assert key in plan
    assert sorted(plan["allocation"]) == sorted(CHANNELS)
    assert plan["optimization_objective"] == "roi"
    assert plan["model_id"] == trained
    assert plan["channel_names"] == {
        "tv": "tv_spend",
        "search": "search_spend",
        "social": "social_spend",
    }
    assert sum(plan["allocation"].values()) <= 100000 * (1 + 1e-6)
    assert all(v >= 5000 * (1 - 1e-6) for v in plan["allocation"].values())
    assert plan["current"]["allocation"]["tv_spend"] == 45000
    assert plan["frontier"] == []


def test_revenue_spends_the_whole_budget_with_full_names(client: TestClient) -> None:
    body = {
        "current_budget": {"tv_spend": 50000, "search_spend": 30000, "social_spend": 20000},
        "objective": "revenue",
    }
    plan = client.post("/optimization/optimize", json=body).json()
    assert sum(plan["allocation"].values()) == pytest.approx(100000, rel=1e-6)
    assert plan["channel_names"] == {}


def test_an_empty_body_re_plans_the_fitted_period(client: TestClient, mmm_frame) -> None:
    plan = client.post("/optimization/optimize", json={}).json()
    spent = float(mmm_frame[CHANNELS].to_numpy().sum())
    assert plan["total_budget"] == pytest.approx(spent)
    assert plan["horizon"] == len(mmm_frame)


def test_per_channel_limits_locks_and_the_frontier(client: TestClient) -> None:
    body = {
        "constraints": {
            "total_budget": 1_300_000,
            "TV": {"min": 500_000, "max": 600_000},
            "locked": ["social"],
            "max_change": None,
        },
        "objective": "revenue",
        "horizon": 13,
        "include_frontier": True,
    }
    response = client.post("/optimization/optimize", json=body)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert 500_000 * (1 - 1e-6) <= plan["allocation"]["tv_spend"] <= 600_000 * (1 + 1e-6)
    assert plan["allocation"]["social_spend"] == pytest.approx(
        plan["current"]["allocation"]["social_spend"]
    )
    assert plan["horizon"] == 13
    assert len(plan["frontier"]) > 0
    assert plan["channel_names"] == {"TV": "tv_spend", "social": "social_spend"}


def test_target_roas_finds_a_spend_level(client: TestClient) -> None:
    body = {"objective": "target_roas", "target_roas": 2.0}
    response = client.post("/optimization/optimize", json=body)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["projected_roi"] >= 2.0 - 1e-6


def test_an_explicit_model_id_is_used(
    client: TestClient, store: ArtifactStore, fitted, mmm_frame
) -> None:
    from tests.lambdas.api.conftest import save_trained

    other = save_trained(store, fitted, mmm_frame, "mmm-20250201-000000-bbbbbb", promote=False)
    plan = client.post("/optimization/optimize", json={"model_id": other}).json()
    assert plan["model_id"] == other


def test_loaded_models_are_cached_not_reread(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = client.app.state.services.store()
    calls = {"load": 0, "production": 0}
    load, production = store.load_model, store.production

    def counted_load(model_id: str) -> Any:
        calls["load"] += 1
        return load(model_id)

    def counted_production() -> Any:
        calls["production"] += 1
        return production()

    monkeypatch.setattr(store, "load_model", counted_load)
    monkeypatch.setattr(store, "production", counted_production)
    for _ in range(5):
        assert client.post("/optimization/optimize", json=REFERENCE).status_code == 200
    assert calls == {"load": 1, "production": 1}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"current_budget": {"tv": 1, "digital": 2, "social": 3, "search": 4}}, "['digital']"),
        ({"current_budget": {"tv": 45000, "search": 30000}}, "missing ['social_spend']"),
        ({"current_budget": {"tv": 1, "tv_spend": 2, "search": 3, "social": 4}}, "twice"),
        ({"constraints": {"radio": {"min": 1}}}, "['radio']"),
        ({"constraints": {"locked": ["print"]}}, "['print']"),
    ],
)
def test_unknown_or_missing_channels_are_422_naming_them(
    client: TestClient, body: dict[str, Any], fragment: str
) -> None:
    response = client.post("/optimization/optimize", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "MMM_422"
    assert fragment in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"constraints": {"total_budget": 1000, "min_channel_spend": 5000}},
        {"objective": "reach"},
        {"objective": "target_roas"},
        {"constraints": {"tv": {"min": 9000, "max": 1000}}},
    ],
)
def test_plans_the_optimizer_cannot_make_are_422(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/optimization/optimize", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "OptimizationError"
    assert error["code"] == "MMM_200"


@pytest.mark.parametrize(
    "body",
    [
        {"objective": "profit"},
        {"constraints": {"total_budget": -5}},
        {"constraints": {"tv": {"minimum": 5}}},
        {"current_budget": {"tv": -1}},
        {"horizon": 0},
        {"model_id": "../etc"},
    ],
)
def test_a_body_off_the_schema_is_422(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/optimization/optimize", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "MMM_422"


def test_without_a_production_model_it_is_404(empty_client: TestClient) -> None:
    response = empty_client.post("/optimization/optimize", json=REFERENCE)
    assert response.status_code == 404
    assert "no model is in production" in response.json()["error"]["message"]


def test_an_unknown_model_is_404(client: TestClient) -> None:
    response = client.post("/optimization/optimize", json={"model_id": "mmm-nope"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no model 'mmm-nope'."


def test_a_model_still_training_is_409(client: TestClient, store: ArtifactStore) -> None:
    store.set_status("mmm-20250301-000000-cccccc", "training")
    response = client.post(
        "/optimization/optimize", json={"model_id": "mmm-20250301-000000-cccccc"}
    )
    assert response.status_code == 409
    assert "training, not ready" in response.json()["error"]["message"]
