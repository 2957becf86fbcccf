"""POST /attribution/incrementality: geo tests and single-series impact."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mmm_core.incrementality.simulate import simulate_geo_panel, simulate_impact_series
from mmm_core.store import ArtifactStore
from tests.lambdas.api.conftest import rows_of


@pytest.fixture(scope="module")
def geo_test() -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    frame, truth = simulate_geo_panel(n_geos=12, n_periods=60, lift=0.1, seed=1)
    arguments = truth.geo_lift_arguments()
    return rows_of(frame.drop(columns="treated")), arguments, truth.lift_pct


def _geo_body(rows: list[dict[str, Any]], arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "design": "geo_lift",
        "rows": rows,
        "treated_geos": arguments["treated_geos"],
        "test_start": arguments["test_start"],
        "test_end": arguments["test_end"],
        "options": {"n_placebos": 50},
    }


def test_a_geo_test_measures_the_planted_lift(client: TestClient, geo_test) -> None:
    rows, arguments, lift = geo_test
    response = client.post("/attribution/incrementality", json=_geo_body(rows, arguments))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["design"] == "geo_lift"
    assert result["method"] == "synthetic_control"
    assert result["ci_pct"][0] < lift < result["ci_pct"][1]
    assert 0 < result["p_value"] <= 1
    assert result["cross_check"]["method"] == "did"


def test_a_geo_panel_can_come_from_a_stored_dataset(
    client: TestClient, store: ArtifactStore, geo_test
) -> None:
    rows, arguments, _ = geo_test
    import pandas as pd

    store.put_dataset("geo-panel", pd.DataFrame(rows))
    body = _geo_body(rows, arguments)
    del body["rows"]
    body["dataset"] = "geo-panel"
    body["options"] = {"method": "did", "cross_check": False, "n_placebos": 20}
    response = client.post("/attribution/incrementality", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["method"] == "did"
    assert response.json()["cross_check"] is None


def test_a_series_with_dates_measures_the_lift(client: TestClient) -> None:
    frame, truth = simulate_impact_series(n_pre=60, n_post=10, lift=0.1, seed=2)
    body = {
        "design": "causal_impact",
        "y": frame["y"].tolist(),
        "X": {c: frame[c].tolist() for c in frame.columns if c != "y"},
        "dates": [d.strftime("%Y-%m-%d") for d in frame.index],
        "pre_period": truth.pre_period,
        "post_period": truth.post_period,
        "options": {"n_simulations": 200},
    }
    response = client.post("/attribution/incrementality", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["design"] == "causal_impact"
    assert result["ci_abs"][0] < truth.lift_abs < result["ci_abs"][1]
    assert result["post_period"] == truth.post_period


def test_a_series_without_dates_takes_row_positions(client: TestClient) -> None:
    y = [100.0 + (i % 7) * 2 + (i % 3) for i in range(30)] + [130.0 + (i % 5) for i in range(6)]
    body = {"design": "causal_impact", "y": y, "post_period": [30, None]}
    response = client.post("/attribution/incrementality", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["lift_abs"] > 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"design": "nope"}, "design"),
        ({"y": [1.0, 2.0], "post_period": [1, 1]}, "design"),
        (
            {
                "design": "causal_impact",
                "y": [1.0, 2.0, 3.0],
                "X": {"c": [1.0]},
                "post_period": [2, 2],
            },
            "control 'c' has 1 values",
        ),
        (
            {
                "design": "causal_impact",
                "y": [1.0, 2.0],
                "dates": ["2025-01-01"],
                "post_period": [1, 1],
            },
            "dates has 1 values",
        ),
        (
            {"design": "geo_lift", "treated_geos": ["g1"], "test_start": "2025-01-01"},
            "either inline as 'rows' or as a stored 'dataset'",
        ),
    ],
)
def test_a_body_off_the_schema_is_422(
    client: TestClient, body: dict[str, Any], fragment: str
) -> None:
    response = client.post("/attribution/incrementality", json=body)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["error"]["message"]


def test_dates_that_do_not_parse_are_422(client: TestClient) -> None:
    body = {
        "design": "causal_impact",
        "y": [1.0, 2.0, 3.0],
        "dates": ["2025-01-01", "someday", "2025-01-03"],
        "post_period": ["2025-01-03", None],
    }
    response = client.post("/attribution/incrementality", json=body)
    assert response.status_code == 422
    assert "ISO 8601" in response.json()["error"]["message"]


def test_data_the_analyzer_refuses_are_422_with_its_code(client: TestClient, geo_test) -> None:
    rows, arguments, _ = geo_test
    body = _geo_body(rows, arguments)
    body["treated_geos"] = ["atlantis"]
    response = client.post("/attribution/incrementality", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "DataIntegrationError"
    assert "atlantis" in error["message"]

    body = _geo_body(rows, arguments)
    body["kpi_column"] = "sales"
    error = client.post("/attribution/incrementality", json=body).json()["error"]
    assert error["code"] == "MMM_101"
