"""POST /attribution/analyze: the reference's body, every model, stored journeys, errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from lambdas.api.schemas.attribution import ATTRIBUTION_MODELS
from mmm_core.attribution.journeys import to_journey_list
from mmm_core.attribution.simulate import simulate_journeys
from mmm_core.store import ArtifactStore

JOURNEYS: list[dict[str, Any]] = [
    {
        "journey_id": "u1",
        "touchpoints": [
            {"channel": "display", "timestamp": "2025-05-01T09:00:00Z", "interaction": "view"},
            {"channel": "search", "timestamp": "2025-05-03T10:00:00Z", "interaction": "click"},
        ],
        "converted": True,
        "conversion_value": 90.0,
    },
    {
        "journey_id": "u2",
        "touchpoints": [{"channel": "display", "timestamp": "2025-05-02T12:00:00Z"}],
        "converted": False,
    },
]


def _json_journeys(n: int, seed: int = 1) -> list[dict[str, Any]]:
    frame, _ = simulate_journeys(n, n_channels=4, seed=seed)
    journeys = to_journey_list(frame)
    for journey in journeys:
        for touch in journey["touchpoints"]:
            touch["timestamp"] = str(touch["timestamp"])
    return journeys


def test_the_reference_body_answers_shares_by_channel(client: TestClient) -> None:
    body = {
        "customer_journeys": JOURNEYS,
        "attribution_model": "linear",
        "lookback_window": 30,
        "include_view_through": True,
    }
    response = client.post("/attribution/analyze", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["method"] == "linear"
    assert result["attribution"] == {"display": 0.5, "search": 0.5}
    assert result["attributed_value"] == {"display": 45.0, "search": 45.0}
    assert result["totals"]["journeys"] == 2


@pytest.mark.parametrize("model", ATTRIBUTION_MODELS)
def test_every_model_credits_all_the_conversions(client: TestClient, model: str) -> None:
    journeys = _json_journeys(300)
    response = client.post(
        "/attribution/analyze", json={"customer_journeys": journeys, "attribution_model": model}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert sum(result["attribution"].values()) == pytest.approx(1.0)
    assert result["method"] == model
    assert (model == "markov") == (result.get("markov") is not None)


def test_view_through_off_keeps_clicks_only(client: TestClient) -> None:
    body = {"customer_journeys": JOURNEYS, "attribution_model": "linear"}
    result = client.post("/attribution/analyze", json={**body, "include_view_through": False})
    assert result.json()["attribution"] == {"display": 0.0, "search": 1.0}


def test_model_options_are_passed_to_the_analyzer(client: TestClient) -> None:
    body = {
        "customer_journeys": _json_journeys(200),
        "attribution_model": "time_decay",
        "options": {"half_life": 2.5},
    }
    result = client.post("/attribution/analyze", json=body).json()
    assert result["parameters"]["half_life"] == 2.5


def test_a_thousand_journeys_are_analysed(client: TestClient) -> None:
    response = client.post("/attribution/analyze", json={"customer_journeys": _json_journeys(1000)})
    assert response.status_code == 200
    assert response.json()["totals"]["journeys"] == 1000


def test_journeys_can_come_from_a_stored_dataset(client: TestClient, store: ArtifactStore) -> None:
    frame, _ = simulate_journeys(200, n_channels=3, seed=2)
    frame["channel"] = frame["channel"].astype(str)
    frame["interaction"] = frame["interaction"].astype(str)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    store.put_dataset("journeys", frame)
    response = client.post("/attribution/analyze", json={"dataset": "journeys"})
    assert response.status_code == 200, response.text
    assert response.json()["totals"]["journeys"] == 200


def test_a_missing_dataset_is_404(client: TestClient) -> None:
    response = client.post("/attribution/analyze", json={"dataset": "nothing-here"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["message"] == "no dataset 'nothing-here' in the store."
    assert "s3://" not in response.text and "file://" not in response.text


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "give either customer_journeys or a stored dataset"),
        ({"customer_journeys": []}, "customer_journeys"),
        ({"customer_journeys": JOURNEYS, "attribution_model": "magic"}, "attribution_model"),
        ({"customer_journeys": JOURNEYS, "lookback_window": 0}, "lookback_window"),
        ({"customer_journeys": JOURNEYS, "colour": "blue"}, "colour"),
        ({"customer_journeys": [{"touchpoints": []}]}, "converted"),
        (
            {"customer_journeys": [{**JOURNEYS[0], "touchpoints": [{"channel": "tv"}]}]},
            "timestamp",
        ),
    ],
)
def test_a_body_off_the_schema_is_422_naming_the_field(
    client: TestClient, body: dict[str, Any], fragment: str
) -> None:
    response = client.post("/attribution/analyze", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "MMM_422"
    assert fragment in error["message"]


def test_data_the_analyzer_refuses_is_422_with_its_code(client: TestClient) -> None:
    duplicated = [JOURNEYS[0], {**JOURNEYS[1], "journey_id": "u1"}]
    response = client.post("/attribution/analyze", json={"customer_journeys": duplicated})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "DataIntegrationError"
    assert error["code"] == "MMM_100"
    assert "more than once" in error["message"]


def test_an_option_of_another_model_is_422(client: TestClient) -> None:
    body = {
        "customer_journeys": JOURNEYS,
        "attribution_model": "markov",
        "options": {"half_life": 3},
    }
    response = client.post("/attribution/analyze", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "MMM_006"
