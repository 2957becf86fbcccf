"""Each pipeline task on its own, through its Lambda ``handler``, on a local and an S3 lake."""

from __future__ import annotations

import io
import json
import math
import tarfile
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lambdas.pipeline import evaluate, promote, report, validate
from lambdas.pipeline.artifacts import read_candidate
from lambdas.pipeline.common import TaskError, error_body, jsonable
from mmm_core import DataIntegrationError, EconometricMMM, MMModelError
from tests.lambdas.pipeline.conftest import CONTROLS, Lake, put_production

MARKET = "us"
JOB = "mmm-us-0a1b2c3d"


def market_state(**extra: Any) -> dict[str, Any]:
    """The document the state machine gives each market's tasks (``cdk/pipeline.py``)."""
    return {"market": MARKET, "run_id": "run-1", "stage": "test", **extra}


def failure(exc: pytest.ExceptionInfo[TaskError]) -> dict[str, Any]:
    """The error JSON a failed task reports (its message, as Lambda passes it on)."""
    return json.loads(str(exc.value))["error"]


@pytest.fixture
def validated(lake: Lake, mmm_frame: pd.DataFrame) -> dict[str, Any]:
    """The market's table stored, and validate's result on it (with the controls)."""
    lake.put_table(MARKET, mmm_frame)
    return validate.handler(market_state(control_columns=CONTROLS), None)


@pytest.fixture
def weak_in_production(lake: Lake, weak_production: EconometricMMM) -> dict[str, Any]:
    """``mmm-us-old``, a weak model, serves the market; the pointer."""
    return put_production(lake.market_store(MARKET), "mmm-us-old", weak_production)


@pytest.fixture
def strong_in_production(lake: Lake, strong_production: EconometricMMM) -> dict[str, Any]:
    """``mmm-us-strong``, a model better than the plain candidate, serves; the pointer."""
    return put_production(lake.market_store(MARKET), "mmm-us-strong", strong_production)


def trained(lake: Lake, validated: dict[str, Any], archive: bytes) -> dict[str, Any]:
    """The state after training: ``archive`` stored where SageMaker puts a job's output."""
    uri = lake.put_candidate(MARKET, JOB, archive)
    return market_state(validation=validated, training={"job_name": JOB, "model_artifacts": uri})


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


def test_validate_accepts_the_table_and_pins_the_columns_for_training(
    lake: Lake, validated: dict[str, Any]
) -> None:
    assert validated["rows"] == 104 and validated["frequency"] == "weekly"
    assert validated["training_data_uri"] == lake.settings.curated_store().uri("curated/us") + "/"
    assert validated["training_data_uri"].startswith("s3://" if lake.kind == "s3" else "file://")
    assert validated["hyperparameters"] == {
        "target_column": "revenue",
        "spend_columns": "tv_spend,search_spend,social_spend",
        "control_columns": "price_index,promo",
        "date_column": "date",
    }
    assert all(isinstance(v, str) for v in validated["hyperparameters"].values())


def test_validate_detects_columns_and_passes_extra_training_settings(
    lake: Lake, mmm_frame: pd.DataFrame
) -> None:
    lake.put_table(MARKET, mmm_frame.rename(columns={"tv_spend": "TV Spend", "revenue": "Sales"}))

    out = validate.handler(market_state(hyperparameters={"n_bootstrap": 50, "blind": True}), None)

    assert out["target_column"] == "Sales" and "TV Spend" in out["spend_columns"]
    hyper = out["hyperparameters"]
    assert hyper["target_column"] == "Sales" and "TV Spend" in hyper["spend_columns"].split(",")
    assert hyper["control_columns"] == "" and hyper["n_bootstrap"] == "50"
    assert hyper["blind"] == "true"


def test_validate_reads_a_named_curated_dataset(lake: Lake, mmm_frame: pd.DataFrame) -> None:
    lake.settings.curated_store().put_dataset("north", mmm_frame)

    out = validate.handler({"dataset": "north"}, None)

    assert out["market"] is None and out["rows"] == 104
    assert out["training_data_uri"].endswith("/curated/north/")


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda f: f.assign(tv_spend=f["tv_spend"].where(f.index != 5, -10.0)), "MMM_104", "tv"),
        (lambda f: f.drop(columns="revenue").assign(revenue_x=f["revenue"]), "MMM_101", "target"),
        (lambda f: f.head(20), "MMM_105", "rows"),
    ],
    ids=["negative-spend", "no-target", "too-few-rows"],
)
def test_validate_fails_bad_data_with_a_clear_error_json(
    lake: Lake, mmm_frame: pd.DataFrame, change: Any, code: str, words: str
) -> None:
    lake.put_table(MARKET, change(mmm_frame.copy()))

    with pytest.raises(TaskError) as raised:
        validate.handler(market_state(control_columns=CONTROLS), None)

    # Lambda reports the class name as the error (what a Catch matches) and the message.
    assert type(raised.value).__name__ == "DataIntegrationError"
    error = failure(raised)
    assert error["type"] == "DataIntegrationError" and error["code"] == code
    assert words in error["message"] and "How to fix" in error["message"]
    assert error["task"] == "validate" and error["market"] == MARKET
    assert isinstance(raised.value.__cause__, DataIntegrationError)


def test_validate_fails_when_the_market_has_no_data(lake: Lake) -> None:
    with pytest.raises(TaskError) as raised:
        validate.handler(market_state(), None)
    assert failure(raised)["code"] == "MMM_110"


def test_validate_names_a_misspelt_column(lake: Lake, mmm_frame: pd.DataFrame) -> None:
    lake.put_table(MARKET, mmm_frame)
    with pytest.raises(TaskError) as raised:
        validate.handler(market_state(spend_columns=["tv_spend", "serch_spend"]), None)
    error = failure(raised)
    assert error["code"] == "MMM_101" and "serch_spend" in error["message"]


def test_a_malformed_input_fails_with_invalid_parameter(lake: Lake) -> None:
    with pytest.raises(TaskError) as raised:
        validate.handler(market_state(market="../us"), None)
    assert failure(raised)["code"] == "MMM_006"
    with pytest.raises(TaskError) as raised:
        validate.handler(["not", "a", "state"], None)
    assert failure(raised)["code"] == "MMM_006"


# --------------------------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------------------------


def test_evaluate_passes_a_candidate_that_beats_production(
    lake: Lake,
    validated: dict[str, Any],
    candidate_archives: dict[str, bytes],
    weak_in_production: dict[str, Any],
) -> None:

    out = evaluate.handler(trained(lake, validated, candidate_archives["good"]), None)

    assert out["passed"] is True and out["promote"] is True and out["reasons"] == []
    assert out["candidate_model_id"] == JOB
    production = out["production"]
    assert production["model_id"] == "mmm-us-old" and production["comparable"] is True
    assert production["holdout"]["periods"] == out["candidate"]["holdout"]["periods"] == 8
    assert out["candidate"]["holdout"]["mape"] < production["holdout"]["mape"]
    regression = next(c for c in out["checks"] if c["name"] == "no_regression")
    assert regression["passed"] and "production mmm-us-old" in out["reason"]


def test_evaluate_without_production_applies_the_floors_only(
    lake: Lake, validated: dict[str, Any], candidate_archives: dict[str, bytes]
) -> None:
    out = evaluate.handler(trained(lake, validated, candidate_archives["plain"]), None)

    assert out["promote"] is True and out["production"] is None
    assert {c["name"] for c in out["checks"]} == {"min_r2", "max_holdout_mape", "roi_intervals"}


def test_evaluate_refuses_a_model_worse_than_production(
    lake: Lake,
    validated: dict[str, Any],
    candidate_archives: dict[str, bytes],
    strong_in_production: dict[str, Any],
) -> None:
    store, before = lake.market_store(MARKET), strong_in_production

    out = evaluate.handler(trained(lake, validated, candidate_archives["plain"]), None)

    assert out["passed"] is False and out["promote"] is False
    assert [c["name"] for c in out["checks"] if not c["passed"]] == ["no_regression"]
    assert "worse than production" in out["reason"] and out["reasons"]
    assert store.production() == before  # evaluating writes nothing


def test_evaluate_falls_back_to_the_floors_when_production_cannot_score_the_data(
    lake: Lake,
    validated: dict[str, Any],
    candidate_archives: dict[str, bytes],
    mmm_frame: pd.DataFrame,
    spend_columns: list[str],
) -> None:
    with_radio = mmm_frame.assign(radio_spend=mmm_frame["tv_spend"].to_numpy()[::-1] / 3)
    retired = EconometricMMM(n_bootstrap=5, n_candidates=16, n_sweeps=1)
    retired.fit(with_radio, "revenue", [*spend_columns, "radio_spend"])
    put_production(lake.market_store(MARKET), "mmm-us-radio", retired)

    out = evaluate.handler(trained(lake, validated, candidate_archives["good"]), None)

    assert out["promote"] is True
    production = out["production"]
    assert production["model_id"] == "mmm-us-radio" and production["comparable"] is False
    assert "radio_spend" in production["note"]
    assert "no_regression" not in {c["name"] for c in out["checks"]}


def test_evaluate_follows_gate_settings_from_the_environment_and_the_input(
    lake: Lake,
    validated: dict[str, Any],
    candidate_archives: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = trained(lake, validated, candidate_archives["good"])
    monkeypatch.setenv("MMM_GATE_MIN_R2", "0.99")
    strict = evaluate.handler(state, None)
    relaxed = evaluate.handler({**state, "gate": {"min_r2": 0.2}}, None)

    assert strict["promote"] is False and strict["settings"]["min_r2"] == 0.99
    assert "below 0.99" in strict["reason"]
    assert relaxed["promote"] is True and relaxed["settings"]["min_r2"] == 0.2


def test_evaluate_fails_without_a_training_output(lake: Lake, validated: dict[str, Any]) -> None:
    missing = lake.settings.models_root().uri("models/candidates/us/none/output/model.tar.gz")
    with pytest.raises(TaskError) as raised:
        evaluate.handler(
            market_state(
                validation=validated, training={"job_name": JOB, "model_artifacts": missing}
            ),
            None,
        )
    assert failure(raised)["code"] == "MMM_001"
    with pytest.raises(TaskError) as raised:
        evaluate.handler(market_state(validation=validated), None)
    assert failure(raised)["code"] == "MMM_006"


# --------------------------------------------------------------------------------------------
# promote
# --------------------------------------------------------------------------------------------


def evaluated(lake: Lake, validated: dict[str, Any], archive: bytes) -> dict[str, Any]:
    state = trained(lake, validated, archive)
    return {**state, "evaluation": evaluate.handler(state, None)}


def test_promote_moves_production_and_remembers_the_previous_model(
    lake: Lake,
    validated: dict[str, Any],
    candidate_archives: dict[str, bytes],
    weak_in_production: dict[str, Any],
    mmm_frame: pd.DataFrame,
) -> None:
    store = lake.market_store(MARKET)
    state = evaluated(lake, validated, candidate_archives["good"])

    out = promote.handler(state, None)

    assert out["promoted"] is True and out["model_id"] == JOB
    assert out["previous_model_id"] == "mmm-us-old"
    pointer = store.production()
    assert pointer["model_id"] == JOB and pointer["previous"] == ["mmm-us-old"]
    assert pointer["gate"]["passed"] is True and pointer["gate"]["checks"]
    # The promoted model is the candidate, whole: it predicts as the job's model does.
    job_model = EconometricMMM.from_dict(
        read_candidate(state["evaluation"]["model_artifacts"]).model_doc
    )
    np.testing.assert_allclose(
        store.load_model(JOB).predict(mmm_frame), job_model.predict(mmm_frame)
    )
    listed = {m["model_id"]: m for m in store.list_models()}
    assert listed[JOB]["production"] is True and listed[JOB]["status"] == "ready"
    # A retried promotion (say the first answer was lost) changes nothing.
    again = promote.handler(state, None)
    assert again["promoted"] is True and again["previous_model_id"] == "mmm-us-old"
    assert store.production() == pointer


def test_promote_leaves_production_unchanged_on_a_failed_gate(
    lake: Lake,
    validated: dict[str, Any],
    candidate_archives: dict[str, bytes],
    strong_in_production: dict[str, Any],
) -> None:
    store, before = lake.market_store(MARKET), strong_in_production
    keys_before = store.list()
    state = evaluated(lake, validated, candidate_archives["plain"])
    assert state["evaluation"]["promote"] is False

    out = promote.handler(state, None)

    assert out["promoted"] is False and out["reasons"] == state["evaluation"]["reasons"]
    assert out["production"]["model_id"] == "mmm-us-strong"
    assert store.production() == before and store.list() == keys_before


def test_promote_refuses_an_evaluation_that_does_not_say_passed(
    lake: Lake, validated: dict[str, Any], candidate_archives: dict[str, bytes]
) -> None:
    state = evaluated(lake, validated, candidate_archives["good"])
    state["evaluation"] = {**state["evaluation"], "passed": "yes"}

    out = promote.handler(state, None)

    assert out["promoted"] is False and lake.market_store(MARKET).production() is None


def test_markets_keep_their_own_production_model(
    lake: Lake,
    validated: dict[str, Any],
    candidate_archives: dict[str, bytes],
    weak_production: EconometricMMM,
) -> None:
    uk_before = put_production(lake.market_store("uk"), "mmm-uk-old", weak_production)

    promote.handler(evaluated(lake, validated, candidate_archives["good"]), None)

    assert lake.market_store(MARKET).production()["model_id"] == JOB
    assert lake.market_store("uk").production() == uk_before


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def test_report_stores_the_report_and_summarises_a_promotion(
    lake: Lake, validated: dict[str, Any], candidate_archives: dict[str, bytes]
) -> None:
    state = evaluated(lake, validated, candidate_archives["good"])
    details = promote.handler(state, None)
    state["decision"] = {"outcome": "promoted", "details": details}

    out = report.handler(state, None)

    assert out["outcome"] == "promoted" and out["model_id"] == JOB
    assert sorted(out["files"]) == [
        "decision.json",
        "detailed.csv",
        "executive_summary.json",
        "executive_summary.txt",
        "report.html",
    ]
    reports = lake.settings.reports_store()
    assert all(uri == reports.uri(f"reports/{JOB}/{name}") for name, uri in out["files"].items())
    assert "<html" in reports.get_bytes(f"reports/{JOB}/report.html").decode().lower()
    decision = reports.get_json(f"reports/{JOB}/decision.json")
    assert decision["outcome"] == "promoted" and decision["evaluation"]["passed"] is True
    assert f"candidate {JOB} was promoted" in out["summary"]
    assert "market us" in out["summary"] and out["files"]["report.html"] in out["summary"]
    assert "\n" not in out["summary"]


def test_report_explains_why_production_was_kept(
    lake: Lake,
    validated: dict[str, Any],
    candidate_archives: dict[str, bytes],
    strong_in_production: dict[str, Any],
) -> None:
    state = evaluated(lake, validated, candidate_archives["plain"])
    state["decision"] = {"outcome": "kept"}

    out = report.handler(state, None)

    assert out["outcome"] == "kept" and out["production_model_id"] == "mmm-us-strong"
    assert "not promoted and production stays mmm-us-strong" in out["summary"]
    assert "worse than production" in out["summary"]


# --------------------------------------------------------------------------------------------
# shared code: common, artifacts
# --------------------------------------------------------------------------------------------


def test_error_body_keeps_codes_and_hints_and_wraps_the_unexpected() -> None:
    known = error_body(DataIntegrationError("MMM_104", "negative spend", hint="fix it"))
    assert known["error"]["code"] == "MMM_104"
    assert known["error"]["message"] == "negative spend How to fix: fix it"
    unexpected = error_body(KeyError("x"))["error"]
    assert unexpected["type"] == "KeyError" and unexpected["code"] == "MMM_001"
    assert set(unexpected) == {"type", "code", "message", "timestamp"}


def test_results_are_plain_json_for_step_functions() -> None:
    out = jsonable({"a": np.float64(1.5), "b": math.nan, "c": (np.int64(2), math.inf)})
    assert out == {"a": 1.5, "b": None, "c": [2, None]}
    json.dumps(out, allow_nan=False)


def test_a_damaged_training_output_is_refused(tmp_path: Any) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = b'{"not": "a model"}'
        member = tarfile.TarInfo("../metrics.json")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    path = tmp_path / "model.tar.gz"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(MMModelError) as raised:
        read_candidate(str(path))
    assert raised.value.code == "MMM_004" and "model.json" in raised.value.message
    path.write_bytes(b"not a tar file")
    with pytest.raises(MMModelError) as raised:
        read_candidate(str(path))
    assert raised.value.code == "MMM_004"
