"""The contract every store keeps; each test runs on a local folder and on S3 (moto)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmm_core import Codes, DeploymentError, EconometricMMM, MMModelError
from mmm_core.store import (
    HISTORY_LIMIT,
    PRODUCTION_KEY,
    ArtifactNotFoundError,
    ArtifactStore,
    LocalStore,
    S3Store,
)
from mmm_core.store.base import WriteConflictError

from .conftest import BUCKET

PASSED = {"passed": True, "mape": 4.2, "threshold": 10.0}
DOC = {"schema": "test.Model", "schema_version": 1, "spend_columns": ["tv", "search"]}
RESULTS = {
    "performance": {"r2_score": 0.9, "mape": 4.2, "rmse": 10.0, "holdout": {"mape": 5.0}},
    "channels": {"tv": {}, "search": {}},
}


def save(store: ArtifactStore, model_id: str) -> str:
    store.save_model(model_id, DOC, RESULTS)
    return model_id


def reason(err: pytest.ExceptionInfo[MMModelError]) -> str:
    return err.value.details["reason"]


# --------------------------------------------------------------------------------------------
# Keys, bytes and JSON


def test_bytes_round_trip_and_uri(store: ArtifactStore) -> None:
    uri = store.put_bytes("raw/demo.csv", b"date,tv\n2024-01-01,1\n")
    assert store.get_bytes("raw/demo.csv") == b"date,tv\n2024-01-01,1\n"
    assert uri == store.uri("raw/demo.csv") and uri.endswith("/raw/demo.csv")
    expected = "file://" if isinstance(store, LocalStore) else f"s3://{BUCKET}/lake/"
    assert uri.startswith(expected)


def test_json_round_trip_turns_numpy_into_numbers_and_nan_into_null(
    store: ArtifactStore,
) -> None:
    store.put_json("models/m1/notes.json", {"n": np.int64(3), "x": [1.5, float("nan")]})
    assert store.get_json("models/m1/notes.json") == {"n": 3, "x": [1.5, None]}


def test_exists_list_and_delete(store: ArtifactStore) -> None:
    for key in ("models/a/model.json", "models/ab/model.json", "raw/x.csv"):
        store.put_bytes(key, b"{}")
    assert store.exists("models/a/model.json") and not store.exists("models/a/other.json")
    assert store.list("models/a") == ["models/a/model.json"]  # not models/ab
    assert store.list() == ["models/a/model.json", "models/ab/model.json", "raw/x.csv"]
    assert store.list("nothing") == []
    store.delete("models/a/model.json")
    store.delete("models/a/model.json")  # twice is fine
    assert not store.exists("models/a/model.json")


def test_a_missing_key_is_not_found(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError) as err:
        store.get_json("models/none/model.json")
    assert err.value.code == Codes.MODEL_ERROR and reason(err) == "not_found"
    assert err.value.hint


def test_overwriting_replaces_the_whole_object(store: ArtifactStore) -> None:
    store.put_json("raw/doc.json", {"long": "x" * 1000})
    store.put_json("raw/doc.json", {"short": 1})
    assert store.get_json("raw/doc.json") == {"short": 1}


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "/abs/key", "a//b", "a/./b", "a/../b", ".hidden", "a\\b", "", "a/"]
)
def test_unsafe_keys_are_refused(store: ArtifactStore, key: str) -> None:
    with pytest.raises(MMModelError) as err:
        store.put_bytes(key, b"x")
    assert err.value.code == Codes.INVALID_PARAMETER and err.value.hint


@pytest.mark.parametrize("model_id", ["..", "../x", "a/b", "", ".x", "a b", "a..b"])
def test_unsafe_ids_are_refused(store: ArtifactStore, model_id: str) -> None:
    with pytest.raises(MMModelError) as err:
        store.save_model(model_id, DOC)
    assert err.value.code == Codes.INVALID_PARAMETER and err.value.hint
    assert store.list() == []


def test_corrupt_json_is_a_corrupt_model_file(store: ArtifactStore) -> None:
    store.put_bytes("models/m1/model.json", b'{"schema": "mmm_core.Econ')
    for read in (lambda: store.get_json("models/m1/model.json"), lambda: store.load_model("m1")):
        with pytest.raises(MMModelError) as err:
            read()
        assert err.value.code == Codes.CORRUPT_MODEL_FILE and err.value.hint


def test_a_model_file_that_is_not_an_object_is_corrupt(store: ArtifactStore) -> None:
    store.put_bytes("models/m1/model.json", b"[1, 2]")
    with pytest.raises(MMModelError) as err:
        store.load_model_doc("m1")
    assert err.value.code == Codes.CORRUPT_MODEL_FILE


def test_a_stale_conditional_write_is_refused(store: ArtifactStore) -> None:
    store.put_json("models/p.json", {"v": 1})
    _, version = store._get_versioned("models/p.json")
    store.put_json("models/p.json", {"v": 2})
    with pytest.raises(WriteConflictError):
        store._put("models/p.json", b"{}", "application/json", if_match=version)
    with pytest.raises(WriteConflictError):
        store._put("models/p.json", b"{}", "application/json", if_none_match=True)
    assert store.get_json("models/p.json") == {"v": 2}


# --------------------------------------------------------------------------------------------
# Models and their status


def test_new_model_ids_have_the_cli_format(store: ArtifactStore) -> None:
    first, second = store.new_model_id(), store.new_model_id()
    assert first != second
    assert first.startswith("mmm-") and len(first.split("-")) == 4 and len(first) == 26


def test_saved_model_round_trips_with_results_card_and_ready_status(
    store: ArtifactStore,
) -> None:
    card = store.save_model("m1", DOC, RESULTS, metadata={"brand": "acme"})
    assert store.load_model_doc("m1") == DOC
    assert store.load_results("m1") == RESULTS
    assert card["channels"] == ["tv", "search"] and card["metadata"] == {"brand": "acme"}
    assert card["metrics"] == {"r2_score": 0.9, "mape": 4.2, "rmse": 10.0, "holdout": {"mape": 5.0}}
    assert store.get_status("m1")["state"] == "ready"
    assert store.get_json("models/m1/metrics.json") == card


def test_list_models_summarises_each_model_newest_first(store: ArtifactStore) -> None:
    save(store, "mmm-20240101-000000-aaaaaa")
    save(store, "mmm-20240301-000000-bbbbbb")
    store.set_status("mmm-20240401-000000-cccccc", "training", "fitting 3 channels")
    listed = store.list_models()
    assert [m["model_id"] for m in listed] == [
        "mmm-20240401-000000-cccccc",
        "mmm-20240301-000000-bbbbbb",
        "mmm-20240101-000000-aaaaaa",
    ]
    assert [m["status"] for m in listed] == ["training", "ready", "ready"]
    assert listed[1]["channels"] == ["tv", "search"] and listed[1]["metrics"]["mape"] == 4.2
    assert listed[0]["created"] == "2024-04-01T00:00:00Z" and listed[0]["channels"] == []
    assert not any(m["production"] for m in listed)


def test_status_moves_through_the_states(store: ArtifactStore) -> None:
    queued = store.set_status("m1", "queued")
    assert queued["state"] == "queued" and queued["updated"].endswith("Z")
    store.set_status("m1", {"state": "training", "message": "started", "job": "train-1"})
    status = store.get_status("m1")
    assert status["state"] == "training" and status["job"] == "train-1"
    failed = store.set_status("m1", "failed", "out of memory")
    assert store.get_status("m1") == failed and failed["message"] == "out of memory"


def test_ready_needs_the_model_file(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError):
        store.set_status("m1", "ready")
    assert not store.exists("models/m1/status.json")


def test_an_unknown_state_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(MMModelError) as err:
        store.set_status("m1", "done")
    assert err.value.code == Codes.INVALID_PARAMETER


def test_a_missing_model_is_not_found_with_the_stored_ids_as_hint(store: ArtifactStore) -> None:
    save(store, "m1")
    for read in (store.load_model_doc, store.load_model, store.get_status):
        with pytest.raises(ArtifactNotFoundError) as err:
            read("m2")
        assert reason(err) == "not_found" and "m1" in (err.value.hint or "")


def test_a_fitted_model_predicts_the_same_after_the_round_trip(
    store: ArtifactStore, fitted: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    model_id = store.new_model_id()
    store.save_model(model_id, fitted.to_dict(), fitted.results_)
    loaded = store.load_model(model_id)
    np.testing.assert_array_equal(loaded.predict(mmm_frame), fitted.predict(mmm_frame))
    summary = store.list_models()[0]
    assert summary["channels"] == list(fitted.spend_columns_)
    assert summary["metrics"]["r2_score"] == pytest.approx(
        fitted.results_["performance"]["r2_score"]
    )


# --------------------------------------------------------------------------------------------
# Datasets and reports


def test_dataset_round_trip(store: ArtifactStore, mmm_frame: pd.DataFrame) -> None:
    uri = store.put_dataset("weekly", mmm_frame)
    assert uri.endswith("curated/weekly/data.parquet")
    back = store.get_dataset("weekly")
    # S3 (awswrangler) gives datetimes in ns, pandas+pyarrow in us: the values are the same.
    pd.testing.assert_frame_equal(back, mmm_frame.reset_index(drop=True), check_dtype=False)
    assert [d.kind for d in back.dtypes] == [d.kind for d in mmm_frame.dtypes]
    store.put_dataset("daily", mmm_frame.head(3))
    assert store.list_datasets() == ["daily", "weekly"]


def test_a_missing_dataset_is_not_found(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError) as err:
        store.get_dataset("weekly")
    assert reason(err) == "not_found" and err.value.hint


def test_reports_are_stored_per_model(store: ArtifactStore) -> None:
    uris = store.put_report("m1", {"report.html": "<h1>ROI</h1>", "summary.json": b"{}"})
    assert set(uris) == {"report.html", "summary.json"}
    assert uris["report.html"] == store.uri("reports/m1/report.html")
    assert store.get_bytes("reports/m1/report.html") == b"<h1>ROI</h1>"
    with pytest.raises(MMModelError):
        store.put_report("m1", {"../escape.html": "x"})


# --------------------------------------------------------------------------------------------
# Production


def test_promotion_needs_a_passed_gate_and_leaves_the_pointer_otherwise(
    store: ArtifactStore,
) -> None:
    save(store, "m1")
    save(store, "m2")
    assert store.production() is None
    for gate in ({"passed": False}, {"passed": "yes"}, {"mape": 3.0}):
        with pytest.raises(DeploymentError) as err:
            store.promote("m1", gate)
        assert err.value.code == Codes.DEPLOYMENT_ERROR and reason(err) == "gate_failed"
    assert store.production() is None and not store.exists(PRODUCTION_KEY)

    pointer = store.promote("m1", PASSED)
    assert pointer["model_id"] == "m1" and pointer["previous"] == []
    assert pointer["gate"] == PASSED and pointer["promoted_at"].endswith("Z")
    with pytest.raises(DeploymentError):
        store.promote("m2", {"passed": False})
    assert store.production() == pointer


def test_a_model_not_ready_or_missing_is_not_promoted(store: ArtifactStore) -> None:
    save(store, "m1")
    store.promote("m1", PASSED)
    store.set_status("m2", "training")
    save(store, "m3")
    store.set_status("m3", "failed", "gate check crashed")
    for model_id, why in (("m2", "not_ready"), ("m3", "not_ready"), ("m9", "not_found")):
        with pytest.raises(DeploymentError) as err:
            store.promote(model_id, PASSED)
        assert reason(err) == why and err.value.hint
        assert store.production()["model_id"] == "m1"


def test_promotion_keeps_history_and_rollback_restores_the_previous(
    store: ArtifactStore,
) -> None:
    for model_id in ("m1", "m2", "m3"):
        save(store, model_id)
        store.promote(model_id, PASSED)
    assert store.production()["previous"] == ["m2", "m1"]
    assert [m["model_id"] for m in store.list_models() if m["production"]] == ["m3"]

    back = store.rollback()
    assert back["model_id"] == "m2" and back["previous"] == ["m1"]
    assert back["action"] == "rollback" and back["gate"]["rollback_from"] == "m3"
    assert store.rollback()["model_id"] == "m1"
    with pytest.raises(DeploymentError) as err:
        store.rollback()
    assert reason(err) == "no_previous" and store.production()["model_id"] == "m1"


def test_rollback_without_production_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(DeploymentError) as err:
        store.rollback()
    assert reason(err) == "no_production"


def test_history_keeps_the_last_ten(store: ArtifactStore) -> None:
    ids = [f"m{i:02d}" for i in range(HISTORY_LIMIT + 3)]
    for model_id in ids:
        save(store, model_id)
        store.promote(model_id, PASSED)
    pointer = store.production()
    assert pointer["model_id"] == ids[-1]
    assert pointer["previous"] == ids[-2::-1][:HISTORY_LIMIT]


def test_promoting_the_production_model_again_changes_nothing(store: ArtifactStore) -> None:
    save(store, "m1")
    save(store, "m2")
    store.promote("m1", PASSED)
    pointer = store.promote("m2", PASSED)
    assert store.promote("m2", {"passed": True, "again": 1}) == pointer


def test_the_production_model_cannot_be_overwritten(store: ArtifactStore) -> None:
    save(store, "m1")
    store.promote("m1", PASSED)
    with pytest.raises(DeploymentError) as err:
        store.save_model("m1", {"other": True})
    assert reason(err) == "in_production"
    assert store.load_model_doc("m1") == DOC


def test_a_promotion_racing_another_is_retried_on_the_new_pointer(
    store: ArtifactStore,
) -> None:
    for model_id in ("m1", "m2", "m3"):
        save(store, model_id)
    store.promote("m1", PASSED)
    raced: list[str] = []

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if not raced:  # another process promotes m2 between our read and our write
            raced.append("m2")
            store.promote("m2", PASSED)
        assert current is not None
        return {"model_id": "m3", "previous": [current["model_id"], *current["previous"]]}

    pointer = store._swap_pointer(change)
    assert pointer["model_id"] == "m3" and pointer["previous"] == ["m2", "m1"]
    assert store.production()["previous"] == ["m2", "m1"]


def test_a_corrupt_pointer_is_a_corrupt_file(store: ArtifactStore) -> None:
    store.put_bytes(PRODUCTION_KEY, b'"m1"')
    with pytest.raises(MMModelError) as err:
        store.production()
    assert err.value.code == Codes.CORRUPT_MODEL_FILE


# --------------------------------------------------------------------------------------------
# One home for the CLI and the store; S3 failures


def test_the_local_store_reads_what_the_cli_wrote(tmp_path: Path) -> None:
    from mmm_core.cli import main

    assert main(["demo", "--weeks", "104", "--channels", "2", "--home", str(tmp_path)]) == 0
    store = LocalStore(tmp_path)
    (summary,) = store.list_models()
    model_id = summary["model_id"]
    assert summary["status"] == "ready" and len(summary["channels"]) == 2
    assert summary["created"] and {"r2_score", "mape"} <= set(summary["metrics"])

    data = pd.read_csv(tmp_path / "raw" / "demo.csv")
    assert store.get_bytes("raw/demo.csv") == (tmp_path / "raw" / "demo.csv").read_bytes()
    from_cli = EconometricMMM.load(tmp_path / "models" / model_id)
    np.testing.assert_array_equal(store.load_model(model_id).predict(data), from_cli.predict(data))
    assert store.load_results(model_id) == json.loads(
        (tmp_path / "models" / model_id / "results.json").read_text()
    )
    assert store.get_json(f"models/{model_id}/optimization.json")["allocation"]
    assert store.promote(model_id, PASSED)["model_id"] == model_id


@pytest.mark.usefixtures("aws")
def test_a_missing_bucket_is_a_deployment_error_with_a_hint() -> None:
    store = S3Store("no-such-bucket-here")
    calls = [
        lambda: store.put_json("raw/x.json", {}),
        lambda: store.get_json("raw/x.json"),
        lambda: store.exists("raw/x.json"),
        store.list_models,
        store.production,
    ]
    for call in calls:
        with pytest.raises(DeploymentError) as err:
            call()
        assert err.value.code == Codes.DEPLOYMENT_ERROR
        assert err.value.details["error"] == "NoSuchBucket"
        assert "no-such-bucket-here" in (err.value.hint or "")
