"""SageMaker's four inference handlers, called in-process, and the errors clients see."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmm_core import EconometricMMM, MMModelError
from sagemaker_jobs import inference
from tests.sagemaker_jobs import fit_small_model, request_rows


@pytest.fixture(scope="module")
def model(
    mmm_frame: pd.DataFrame, spend_columns: list[str], control_columns: list[str]
) -> EconometricMMM:
    return fit_small_model(mmm_frame, spend_columns, control_columns)


@pytest.fixture(scope="module")
def rows(mmm_frame: pd.DataFrame) -> pd.DataFrame:
    return request_rows(mmm_frame)


@pytest.fixture(scope="module")
def expected(model: EconometricMMM, rows: pd.DataFrame) -> np.ndarray:
    return model.predict(rows)


def test_model_fn_loads_the_saved_model(
    model: EconometricMMM, rows: pd.DataFrame, expected: np.ndarray, tmp_path: Path
) -> None:
    model.save(tmp_path / "model.json")

    loaded = inference.model_fn(str(tmp_path))

    np.testing.assert_allclose(loaded.predict(rows), expected)


def test_model_fn_without_a_model_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(MMModelError) as err:
        inference.model_fn(str(tmp_path))
    assert err.value.code == "MMM_004" and "model.json" in err.value.message


def test_json_instances_are_predicted_in_order(
    model: EconometricMMM, rows: pd.DataFrame, expected: np.ndarray
) -> None:
    body = json.dumps({"instances": rows.to_dict("records")}).encode()

    request = inference.input_fn(body, "application/json; charset=utf-8")
    prediction = inference.predict_fn(request, model)
    text, media = inference.output_fn(prediction, "application/json")

    assert media == "application/json"
    doc = json.loads(text)
    np.testing.assert_allclose(doc["predictions"], expected)
    assert doc["target_column"] == "revenue" and "decomposition" not in doc


def test_json_columns_with_decomposition_add_up_to_the_predictions(
    model: EconometricMMM, rows: pd.DataFrame, expected: np.ndarray
) -> None:
    body = json.dumps({"data": rows.to_dict("list"), "decompose": True})

    prediction = inference.predict_fn(inference.input_fn(body, "application/json"), model)

    parts = prediction["decomposition"]
    assert parts["periods"] == list(rows["date"])
    assert set(parts["components"]) == {"baseline", *model.control_columns_, *model.spend_columns_}
    np.testing.assert_allclose(
        np.sum(list(parts["components"].values()), axis=0), expected, rtol=1e-9
    )
    np.testing.assert_allclose(prediction["predictions"], expected)


def test_csv_with_a_header_answers_one_prediction_per_line(
    model: EconometricMMM, rows: pd.DataFrame, expected: np.ndarray
) -> None:
    request = inference.input_fn(rows.to_csv(index=False), "text/csv")

    text, media = inference.output_fn(inference.predict_fn(request, model), "text/csv")

    assert media == "text/csv"
    np.testing.assert_allclose([float(v) for v in text.splitlines()], expected)


@pytest.mark.parametrize("with_date", [True, False])
def test_csv_without_a_header_is_read_in_the_models_column_order(
    model: EconometricMMM, rows: pd.DataFrame, with_date: bool
) -> None:
    ordered = ["date"] if with_date else []
    ordered += model.spend_columns_ + model.control_columns_
    body = rows[ordered].to_csv(index=False, header=False)

    request = inference.input_fn(body, "text/csv")
    prediction = inference.predict_fn(request, model)

    assert request.has_header is False
    np.testing.assert_allclose(prediction["predictions"], model.predict(rows[ordered]))


def test_csv_output_with_a_decomposition_has_a_header(
    model: EconometricMMM, rows: pd.DataFrame, expected: np.ndarray
) -> None:
    request = inference.PredictionRequest(rows, decompose=True)

    text, _ = inference.output_fn(inference.predict_fn(request, model), "text/csv, */*")

    table = pd.read_csv(io.StringIO(text))
    assert list(table.columns[:2]) == ["prediction", "baseline"]
    np.testing.assert_allclose(table["prediction"], expected)


def test_custom_attributes_ask_for_a_decomposition_of_csv(
    model: EconometricMMM, rows: pd.DataFrame
) -> None:
    status, text, media = inference.invoke(
        model, rows.to_csv(index=False), "text/csv", "*/*", "decompose=true"
    )

    assert (status, media) == (200, "application/json")
    assert "decomposition" in json.loads(text)


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "code"),
    [
        ("{not json", "application/json", None, 400, "MMM_100"),
        (b"\xff\xfe\x00", "application/json", None, 400, "MMM_100"),
        ('{"rows": []}', "application/json", None, 400, "MMM_100"),
        ('{"instances": []}', "application/json", None, 400, "MMM_110"),
        ('{"instances": [{"tv_spend": 1.0}]}', "application/json", None, 400, "MMM_003"),
        ('{"data": {"tv_spend": [1, 2], "promo": [0]}}', "application/json", None, 400, "MMM_100"),
        ("1,2\n3,4\n", "text/csv", None, 400, "MMM_003"),
        ("<rows/>", "application/xml", None, 415, "MMM_100"),
        ('{"instances": [{"tv_spend": 1.0}]}', "application/json", "image/png", 406, "MMM_100"),
    ],
)
def test_bad_requests_get_an_error_body_and_a_4xx(
    model: EconometricMMM,
    body: str | bytes,
    content_type: str,
    accept: str | None,
    status: int,
    code: str,
) -> None:
    got_status, text, media = inference.invoke(model, body, content_type, accept)

    assert (got_status, media) == (status, "application/json")
    error = json.loads(text)["error"]
    assert set(error) == {"type", "message", "code", "timestamp"}
    assert error["code"] == code and "How to fix:" in error["message"]
    assert "Traceback" not in text


def test_text_in_a_spend_column_is_a_400_naming_the_column(
    model: EconometricMMM, rows: pd.DataFrame
) -> None:
    bad = rows.astype({"tv_spend": object})
    bad.loc[3, "tv_spend"] = "$1,000"

    status, text, _ = inference.invoke(
        model, json.dumps({"instances": bad.to_dict("records")}), "application/json"
    )

    assert status == 400
    error = json.loads(text)["error"]
    assert error["code"] == "MMM_102" and "tv_spend" in error["message"]


def test_an_unexpected_failure_is_a_500_without_internals(
    rows: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    class Broken:
        target_column_ = "revenue"

        def predict(self, data: pd.DataFrame) -> np.ndarray:
            raise RuntimeError("secret internal state")

    status, text, _ = inference.invoke(
        Broken(),  # type: ignore[arg-type]
        json.dumps({"instances": rows.to_dict("records")}),
        "application/json",
    )

    assert status == 500
    error = json.loads(text)["error"]
    assert error["code"] == "MMM_001" and "secret" not in text and "Traceback" not in text
    assert "secret internal state" in capsys.readouterr().err  # logged for the operator


def test_custom_attributes_are_parsed_leniently() -> None:
    assert inference.parse_custom_attributes("decompose=true; trace = 1,junk") == {
        "decompose": "true",
        "trace": "1",
    }
    assert inference.parse_custom_attributes(None) == {}
