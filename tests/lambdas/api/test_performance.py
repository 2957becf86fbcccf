"""POST /performance/analyze: the analysis of a KPI series, inline or stored, and its errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mmm_core.performance.simulate import simulate_kpi_series
from mmm_core.store import ArtifactStore
from tests.lambdas.api.conftest import rows_of


@pytest.fixture(scope="module")
def series():
    return simulate_kpi_series(104, "W-MON", level_shift=0.2, n_anomalies=2, seed=0)


def test_the_answer_is_the_analyzers_on_the_same_series(client: TestClient, series) -> None:
    from mmm_core.performance import PerformanceAnalyzer

    frame, _ = series
    body = {"rows": rows_of(frame), "kpi_column": "kpi", "options": {"include_series": False}}
    response = client.post("/performance/analyze", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    expected = PerformanceAnalyzer(include_series=False).analyze(frame, "kpi")
    assert result["frequency"] == "weekly"
    assert result["n_periods"] == 104
    assert result["dates"] == expected["dates"]
    assert result["trend"]["direction"] == expected["trend"]["direction"]
    assert [c["index"] for c in result["change_points"]] == [
        c["index"] for c in expected["change_points"]
    ]
    assert [a["index"] for a in result["anomalies"]] == [a["index"] for a in expected["anomalies"]]
    assert result["summary"] == expected["summary"]


def test_spend_and_conversions_give_efficiency(client: TestClient, mmm_frame) -> None:
    frame = mmm_frame[["date", "revenue", "tv_spend", "search_spend"]].copy()
    frame["conversions"] = (frame["revenue"] / 100).round()
    body = {
        "rows": rows_of(frame),
        "kpi_column": "revenue",
        "date_column": "date",
        "spend_columns": ["tv_spend", "search_spend"],
        "conversions_column": "conversions",
    }
    result = client.post("/performance/analyze", json=body).json()
    assert set(result["efficiency"]["channels"]) == {"tv_spend", "search_spend"}


def test_a_stored_series_is_analysed(client: TestClient, store: ArtifactStore, series) -> None:
    store.put_dataset("kpi-weekly", series[0])
    response = client.post(
        "/performance/analyze", json={"dataset": "kpi-weekly", "kpi_column": "kpi"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"rows": [{"date": "2025-01-06", "kpi": 1.0}], "kpi_column": "kpi"}, 422, "MMM_105"),
        ({"rows": [{"date": "2025-01-06", "kpi": 1.0}] * 3, "kpi_column": "sales"}, 422, "MMM_101"),
        ({"rows": [{"kpi": 1.0}], "options": {"seasonal": 5}}, 422, "MMM_422"),
        ({"rows": [{"kpi": 1.0}], "options": {"period": []}}, 422, "MMM_422"),
        ({"dataset": "absent"}, 404, "MMM_001"),
    ],
)
def test_unusable_input_is_refused_with_a_code(
    client: TestClient, body: dict, status: int, code: str
) -> None:
    response = client.post("/performance/analyze", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_a_bad_analyzer_setting_is_422(client: TestClient, series) -> None:
    body = {"rows": rows_of(series[0]), "kpi_column": "kpi", "options": {"seasonal": 8}}
    response = client.post("/performance/analyze", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "MMM_006"
