"""/models: train (local worker, SageMaker), list, inspect, predict, promote (quality gate),
report; and their refusals."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lambdas.api.config import Settings
from lambdas.api.training import SageMakerTrainer, TrainingJob
from mmm_core import EconometricMMM
from mmm_core.store import ArtifactStore
from tests.lambdas.api.conftest import MODEL_ID, QUICK_FIT, rows_of, save_trained, wait_for_training

CHANNELS = ["tv_spend", "search_spend", "social_spend"]


# ------------------------------------------------------------------------------------------
# Training


def _train(client: TestClient, app: FastAPI, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/models", json={"hyperparameters": QUICK_FIT, **body})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"]["state"] == "queued"
    assert response.headers["location"].endswith(f"/models/{accepted['model_id']}")
    wait_for_training(app)
    return accepted


def test_training_on_inline_rows_ends_ready_with_metrics(
    client: TestClient, app: FastAPI, mmm_frame: pd.DataFrame, store: ArtifactStore
) -> None:
    accepted = _train(client, app, {"rows": rows_of(mmm_frame), "spend_columns": CHANNELS})
    assert accepted["backend"] == "local"
    assert accepted["job_id"] == accepted["model_id"]
    model_id = accepted["model_id"]

    detail = client.get(f"/models/{model_id}").json()
    assert detail["status"]["state"] == "ready"
    assert detail["status"]["backend"] == "local"
    assert detail["channels"] == CHANNELS
    assert 0.5 < detail["metrics"]["r2_score"] <= 1
    assert "mape" in detail["metrics"]["holdout"]
    assert set(detail["channel_results"]) == set(CHANNELS)
    assert len(detail["channel_results"]["tv_spend"]["roi_interval"]) == 2
    assert detail["production"] is False
    assert detail["metadata"]["training"]["dataset"] == f"training-{model_id}"
    assert f"training-{model_id}" in store.list_datasets()


def test_training_detects_spend_columns_and_takes_synthetic_data(
    client: TestClient, app: FastAPI
) -> None:
    accepted = _train(client, app, {"synthetic": {"weeks": 60, "channels": 2, "seed": 3}})
    detail = client.get(f"/models/{accepted['model_id']}").json()
    assert detail["status"]["state"] == "ready"
    assert detail["channels"] == ["tv_spend", "search_spend"]
    assert detail["metadata"]["source"] == "synthetic"


def test_training_on_a_stored_dataset(
    client: TestClient, app: FastAPI, store: ArtifactStore, mmm_frame: pd.DataFrame
) -> None:
    store.put_dataset("weekly", mmm_frame)
    accepted = _train(client, app, {"dataset": "weekly", "spend_columns": CHANNELS})
    assert client.get(f"/models/{accepted['model_id']}").json()["status"]["state"] == "ready"


def test_data_the_model_refuses_end_failed_with_the_code(
    client: TestClient, app: FastAPI, mmm_frame: pd.DataFrame
) -> None:
    frame = mmm_frame.copy()
    frame["revenue"] = 1000.0  # a constant target
    accepted = _train(client, app, {"rows": rows_of(frame), "spend_columns": CHANNELS})
    status = client.get(f"/models/{accepted['model_id']}").json()["status"]
    assert status["state"] == "failed"
    assert status["error"]["code"] == "MMM_109"
    assert "same value" in status["message"]
    listed = client.get("/models").json()["models"]
    assert {"model_id": accepted["model_id"], "status": "failed"}.items() <= next(
        m for m in listed if m["model_id"] == accepted["model_id"]
    ).items()


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"rows": [{"revenue": 1.0, "tv": 2.0}]}, 422, "none end in '_spend'"),
        (
            {"rows": [{"revenue": 1.0, "tv_spend": 2.0}], "spend_columns": ["tv"]},
            422,
            "'tv' -> 'tv_spend'",
        ),
        ({"rows": [{"sales": 1.0, "tv_spend": 2.0}]}, 422, "no column 'revenue'"),
        ({"dataset": "absent", "spend_columns": ["tv_spend"]}, 404, "no dataset 'absent'"),
        ({"dataset": "weekly"}, 422, "spend_columns are needed"),
        ({"rows": [{"revenue": 1.0}], "synthetic": {}}, 422, "exactly one of"),
        ({"synthetic": {"weeks": 10}}, 422, "weeks"),
        ({"synthetic": {}, "hyperparameters": {"n_bootstrap": -1}}, 422, "n_bootstrap"),
    ],
)
def test_a_training_request_that_cannot_work_is_refused_at_once(
    client: TestClient,
    store: ArtifactStore,
    mmm_frame: pd.DataFrame,
    body: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    store.put_dataset("weekly", mmm_frame)
    response = client.post("/models", json=body)
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"]


# ------------------------------------------------------------------------------------------
# Listing and details


def test_the_list_shows_every_model_and_the_one_in_production(
    client: TestClient, store: ArtifactStore, fitted: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    other = save_trained(store, fitted, mmm_frame, "mmm-20250201-000000-bbbbbb", promote=False)
    listing = client.get("/models").json()
    assert listing["production"] == MODEL_ID
    ids = [m["model_id"] for m in listing["models"]]
    assert ids == [other, MODEL_ID]
    first = listing["models"][1]
    assert first["production"] is True and first["status"] == "ready"
    assert first["channels"] == CHANNELS


def test_an_empty_store_lists_nothing(empty_client: TestClient) -> None:
    assert empty_client.get("/models").json() == {"models": [], "production": None}


def test_details_of_the_production_model(client: TestClient) -> None:
    detail = client.get(f"/models/{MODEL_ID}").json()
    assert detail["production"] is True
    assert detail["status"]["state"] == "ready"


@pytest.mark.parametrize("path", ["/models/mmm-absent", "/models/mmm-absent/report"])
def test_an_unknown_model_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no model 'mmm-absent'."


def test_an_invalid_model_id_is_422(client: TestClient) -> None:
    assert client.get("/models/..hidden").status_code == 422


# ------------------------------------------------------------------------------------------
# Predict


def test_predict_matches_the_model(client: TestClient, fitted: EconometricMMM, mmm_frame) -> None:
    rows = mmm_frame[["date", *CHANNELS]].head(8)
    body = {"rows": rows_of(rows), "include_decomposition": True}
    response = client.post(f"/models/{MODEL_ID}/predict", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["predictions"] == pytest.approx(fitted.predict(rows).tolist())
    parts = result["decomposition"]
    assert set(parts) == {"baseline", *CHANNELS}
    total = [sum(values) for values in zip(*parts.values(), strict=True)]
    assert total == pytest.approx(result["predictions"])


def test_predict_without_the_model_columns_is_422(client: TestClient) -> None:
    body = {"rows": [{"date": "2024-01-01", "tv_spend": 1.0}]}
    response = client.post(f"/models/{MODEL_ID}/predict", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "MMM_003"


def test_predict_with_a_model_not_ready_is_409(client: TestClient, store: ArtifactStore) -> None:
    store.set_status("mmm-20250301-000000-cccccc", "queued")
    response = client.post(
        "/models/mmm-20250301-000000-cccccc/predict", json={"rows": [{"tv_spend": 1.0}]}
    )
    assert response.status_code == 409


# ------------------------------------------------------------------------------------------
# Promotion and the quality gate


def _second_model(
    store: ArtifactStore, fitted: EconometricMMM, frame: pd.DataFrame, change: Any = None
) -> str:
    """The shared model saved again under a new id, its results edited by ``change``."""
    model_id = "mmm-20250201-000000-bbbbbb"
    results = copy.deepcopy(fitted.results_)
    if change:
        change(results)
    store.put_dataset(f"training-{model_id}", frame)
    store.save_model(
        model_id,
        fitted.to_dict(),
        results,
        metadata={"training": {"dataset": f"training-{model_id}"}},
    )
    return model_id


def test_a_model_as_good_as_production_is_promoted(
    client: TestClient, store: ArtifactStore, fitted: EconometricMMM, mmm_frame
) -> None:
    candidate = _second_model(store, fitted, mmm_frame)
    response = client.post(f"/models/{candidate}/promote")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["promoted"] is True
    assert result["gate"]["passed"] is True
    assert result["gate"]["production"]["basis"] == "candidate_holdout"
    assert result["production"]["model_id"] == candidate
    assert result["production"]["previous"][0] == MODEL_ID
    assert store.production()["model_id"] == candidate
    # the app serves the new model at once (its cached pointer is dropped)
    assert client.post("/optimization/optimize", json={}).json()["model_id"] == candidate


def test_a_failed_gate_is_409_with_its_reasons_and_production_stays(
    client: TestClient, store: ArtifactStore, fitted: EconometricMMM, mmm_frame
) -> None:
    def worse(results: dict[str, Any]) -> None:
        results["performance"]["r2_score"] = 0.2
        results["performance"]["holdout"]["mape"] *= 3

    candidate = _second_model(store, fitted, mmm_frame, worse)
    response = client.post(f"/models/{candidate}/promote")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "MMM_409"
    assert "below 0.5" in error["message"] and "worse than production" in error["message"]
    assert error["details"]["gate"]["passed"] is False
    assert store.production()["model_id"] == MODEL_ID


def test_a_dry_run_evaluates_the_gate_only(
    client: TestClient, store: ArtifactStore, fitted: EconometricMMM, mmm_frame
) -> None:
    candidate = _second_model(store, fitted, mmm_frame)
    result = client.post(f"/models/{candidate}/promote", json={"dry_run": True}).json()
    assert result["promoted"] is False and result["gate"]["passed"] is True
    assert store.production()["model_id"] == MODEL_ID


def test_the_gate_settings_come_from_the_environment(
    settings: Settings, trained: str, store: ArtifactStore, fitted, mmm_frame
) -> None:
    from lambdas.api.main import create_app

    strict = settings.model_copy(update={"gate_min_r2": 0.99})
    candidate = _second_model(store, fitted, mmm_frame)
    with TestClient(create_app(strict)) as strict_client:
        response = strict_client.post(f"/models/{candidate}/promote")
    assert response.status_code == 409
    assert "below 0.99" in response.json()["error"]["message"]


def test_the_first_model_is_promoted_on_the_floors_alone(
    empty_client: TestClient, store: ArtifactStore, fitted: EconometricMMM, mmm_frame
) -> None:
    model_id = save_trained(store, fitted, mmm_frame, promote=False)
    result = empty_client.post(f"/models/{model_id}/promote").json()
    assert result["promoted"] is True
    assert result["gate"]["production"] is None


def test_promoting_the_production_model_changes_nothing(client: TestClient) -> None:
    result = client.post(f"/models/{MODEL_ID}/promote").json()
    assert result["promoted"] is True and result["production"]["model_id"] == MODEL_ID


def test_a_model_not_ready_cannot_be_promoted(client: TestClient, store: ArtifactStore) -> None:
    store.set_status("mmm-20250301-000000-cccccc", "training")
    response = client.post("/models/mmm-20250301-000000-cccccc/promote")
    assert response.status_code == 409


# ------------------------------------------------------------------------------------------
# Reports


def test_reports_in_every_format_are_rendered_once_and_kept(
    client: TestClient, store: ArtifactStore
) -> None:
    summary = client.get(f"/models/{MODEL_ID}/report")
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["summary"]["schema"] == "mmm_core.ExecutiveSummary"
    assert body["formats"] == ["json", "html", "text", "csv"]
    assert len(store.list(f"reports/{MODEL_ID}")) == 4
    for fmt, media, start in (
        ("html", "text/html", "<!DOCTYPE html>"),
        ("text", "text/plain", "MEDIA MIX MODEL"),
        ("csv", "text/csv", "channel,"),
    ):
        response = client.get(f"/models/{MODEL_ID}/report", params={"format": fmt})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        assert response.text.startswith(start)


def test_a_report_of_a_model_not_ready_is_409(client: TestClient, store: ArtifactStore) -> None:
    store.set_status("mmm-20250301-000000-cccccc", "failed", "no data")
    assert client.get("/models/mmm-20250301-000000-cccccc/report").status_code == 409


def test_an_unknown_report_format_is_422(client: TestClient) -> None:
    assert client.get(f"/models/{MODEL_ID}/report", params={"format": "pdf"}).status_code == 422


# ------------------------------------------------------------------------------------------
# SageMaker backend (a fake deployment; the real one is tested on moto in sagemaker_jobs)


class FakeDeployment:
    """``MMMSageMakerDeployment``'s training interface, scripted."""

    def __init__(self, model: EconometricMMM) -> None:
        self.model = model
        self.started: list[dict[str, Any]] = []
        self.state = "InProgress"
        self.failure: str | None = None

    def start_training_job(
        self, job_name, s3_data_uri, output_s3_uri, hyperparameters, instance_type
    ):
        self.started.append(
            {
                "job_name": job_name,
                "s3_data_uri": s3_data_uri,
                "output_s3_uri": output_s3_uri,
                "hyperparameters": hyperparameters,
                "instance_type": instance_type,
            }
        )
        return self.describe_training_job(job_name)

    def describe_training_job(self, job_name: str) -> dict[str, Any]:
        return {
            "training_job_name": job_name,
            "status": self.state,
            "secondary_status": "Training",
            "failure_reason": self.failure,
            "model_artifacts": f"s3://bucket/models/{job_name}/output/model.tar.gz",
            "final_metrics": {"r2": 0.8},
            "billable_seconds": 42,
        }

    def load_model_artifacts(self, uri: str) -> EconometricMMM:
        return self.model


@pytest.fixture
def sagemaker_app(settings: Settings, fitted: EconometricMMM) -> tuple[FastAPI, FakeDeployment]:
    configured = settings.model_copy(
        update={"training_backend": "sagemaker", "sagemaker_instance_type": "ml.m5.xlarge"}
    )
    from lambdas.api.main import create_app

    app = create_app(configured)
    deployment = FakeDeployment(fitted)
    services = app.state.services
    services._trainer = SageMakerTrainer(services.store, configured, deployment)
    return app, deployment


def test_sagemaker_training_runs_through_its_states(
    sagemaker_app, settings: Settings, mmm_frame: pd.DataFrame
) -> None:
    app, deployment = sagemaker_app
    body = {"rows": rows_of(mmm_frame), "spend_columns": CHANNELS, "hyperparameters": QUICK_FIT}
    with TestClient(app) as client:
        response = client.post("/models", json=body)
        if settings.data_lake_uri is None:  # a local store cannot feed SageMaker
            assert response.status_code == 503
            assert "MMM_DATA_LAKE_URI" in response.json()["error"]["message"]
            return
        assert response.status_code == 202, response.text
        accepted = response.json()
        model_id = accepted["model_id"]
        assert accepted["backend"] == "sagemaker"
        started = deployment.started[0]
        assert started["job_name"] == model_id
        lake = settings.data_lake_uri
        assert started["s3_data_uri"] == f"{lake}/curated/training-{model_id}/"
        assert started["output_s3_uri"] == f"{lake}/models/{model_id}/training"
        assert started["hyperparameters"]["spend_columns"] == CHANNELS
        assert started["hyperparameters"]["n_bootstrap"] == 20
        assert started["instance_type"] == "ml.m5.xlarge"

        status = client.get(f"/models/{model_id}").json()["status"]
        assert status["state"] == "training"

        deployment.state = "Completed"
        detail = client.get(f"/models/{model_id}").json()
        assert detail["status"]["state"] == "ready"
        assert detail["status"]["backend"] == "sagemaker"
        assert detail["metadata"]["sagemaker"]["billable_seconds"] == 42
        assert set(detail["channel_results"]) == set(CHANNELS)
        plan = client.post("/optimization/optimize", json={"model_id": model_id})
        assert plan.status_code == 200


@pytest.mark.parametrize("settings", ["s3"], indirect=True)
def test_a_failed_sagemaker_job_reports_its_reason(sagemaker_app) -> None:
    app, deployment = sagemaker_app
    with TestClient(app) as client:
        model_id = client.post("/models", json={"synthetic": {}}).json()["model_id"]
        deployment.state, deployment.failure = "Failed", "[MMM_109] the target is constant."
        status = client.get(f"/models/{model_id}").json()["status"]
    assert status["state"] == "failed"
    assert status["error"]["code"] == "MMM_109"
    assert status["message"] == "[MMM_109] the target is constant."


def test_a_training_job_describes_itself_without_its_metadata() -> None:
    job = TrainingJob("m1", "d1", "revenue", ["tv_spend"], metadata={"secret": "no"})
    assert "metadata" not in job.describe()
    assert job.describe()["dataset"] == "d1"
