"""The training container's contract, run against a temporary folder laid out like /opt/ml."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmm_core import EconometricMMM, MMModelError
from sagemaker_jobs import train
from sagemaker_jobs.paths import SageMakerPaths
from tests.sagemaker_jobs import SMALL_FIT

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def layout(tmp_path: Path) -> SageMakerPaths:
    paths = SageMakerPaths.under(tmp_path / "ml")
    paths.training_channel.mkdir(parents=True)
    paths.input_config_dir.mkdir(parents=True)
    return paths


def hyperparameters(**extra: Any) -> dict[str, str]:
    """What SageMaker writes: strings only."""
    base: dict[str, Any] = {
        "target_column": "revenue",
        "spend_columns": "tv_spend,search_spend,social_spend",
        "control_columns": "price_index,promo",
        **SMALL_FIT,
    }
    return {k: str(v) for k, v in {**base, **extra}.items()}


def write_job(paths: SageMakerPaths, frame: pd.DataFrame, params: dict[str, Any]) -> None:
    frame.to_csv(paths.training_channel / "data.csv", index=False)
    paths.hyperparameters_file.write_text(json.dumps(params), encoding="utf-8")


def test_success_writes_model_and_metrics_and_the_model_predicts(
    layout: SageMakerPaths, mmm_frame: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    params = hyperparameters(max_holdout_mape="50", min_r2="0.5", market="de", stage="prod")
    write_job(layout, mmm_frame, params)

    assert train.main(layout.as_env()) == 0

    files = sorted(p.name for p in layout.model_dir.iterdir())
    assert files == ["data_info.json", "metrics.json", "model.json", "results.json"]
    assert not layout.failure_file.exists()
    metrics = json.loads((layout.model_dir / "metrics.json").read_text())
    for key in ("r2", "mape", "holdout_mape", "holdout_rmse", "rows", "channels", "fit_seconds"):
        assert key in metrics
    assert metrics["rows"] == 104 and metrics["channels"] == 3
    assert metrics["r2"] > 0.5 and 0 < metrics["holdout_mape"] < 50
    assert metrics["gate"]["passed"] and len(metrics["gate"]["checks"]) == 2
    assert metrics["labels"] == {"market": "de", "stage": "prod"}  # not settings, kept

    model = EconometricMMM.load(layout.model_dir)
    results = json.loads((layout.model_dir / "results.json").read_text())
    assert model.control_columns_ == ["price_index", "promo"]
    np.testing.assert_allclose(
        model.predict(mmm_frame), results["series"]["fitted"], rtol=1e-9, atol=1e-6
    )

    # Each metric definition picks its own printed line (mape must not catch holdout_mape).
    out = capsys.readouterr().out
    for definition in train.METRIC_DEFINITIONS:
        found = re.findall(definition["Regex"], out, flags=re.MULTILINE)
        assert len(found) == 1, definition["Name"]
        assert float(found[0]) == pytest.approx(metrics[definition["Name"]], rel=1e-8)


def test_parquet_shards_with_raw_column_names_are_standardised(
    layout: SageMakerPaths, mmm_frame: pd.DataFrame
) -> None:
    raw = mmm_frame.rename(
        columns={
            "date": "Week",
            "tv_spend": "TV Spend",
            "search_spend": "Search Spend",
            "social_spend": "Social Spend",
            "revenue": "Sales",
        }
    )
    raw.iloc[:50].to_parquet(layout.training_channel / "part-0000.parquet", index=False)
    raw.iloc[50:].to_parquet(layout.training_channel / "part-0001.parquet", index=False)
    params = hyperparameters(
        target_column="Sales",
        spend_columns="TV Spend,Search Spend,Social Spend",
        holdout_periods="0",
    )
    layout.hyperparameters_file.write_text(json.dumps(params))

    assert train.main(layout.as_env()) == 0

    model = EconometricMMM.load(layout.model_dir / "model.json")
    assert model.spend_columns_ == ["tv_spend", "search_spend", "social_spend"]
    assert model.target_column_ == "revenue"
    info = json.loads((layout.model_dir / "data_info.json").read_text())
    assert info["files"] == ["part-0000.parquet", "part-0001.parquet"]
    assert info["rows"] == 104 and info["column_mapping"]["TV Spend"] == "tv_spend"
    metrics = json.loads((layout.model_dir / "metrics.json").read_text())
    assert metrics["holdout_mape"] is None and metrics["holdout_periods"] == 0


def test_bad_data_writes_the_error_code_to_the_failure_file_and_exits_non_zero(
    layout: SageMakerPaths, mmm_frame: pd.DataFrame
) -> None:
    write_job(layout, mmm_frame.drop(columns="revenue"), hyperparameters())
    env = {**os.environ, **layout.as_env(), "PYTHONPATH": str(REPO)}

    done = subprocess.run(
        [sys.executable, "-m", "sagemaker_jobs.train"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    reason = layout.failure_file.read_text()
    assert reason.startswith("[MMM_101]") and "How to fix:" in reason
    assert "revenue" in reason
    assert "Traceback" not in reason and "\n" not in reason
    assert "Traceback" not in done.stderr  # a known error needs no traceback in the log either
    assert not (layout.model_dir / "model.json").exists()


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"n_bootstap": "10"}, "MMM_006", "did you mean 'n_bootstrap'"),
        ({"n_bootstrap": "ten"}, "MMM_006", "expected an integer"),
        ({"regularization_alpha": "strong"}, "MMM_006", "regularization_alpha"),
        ({"spend_columns": "tv_spend,radio_spend"}, "MMM_101", "radio_spend"),
        ({"max_holdout_mape": "0.0001"}, "MMM_007", "quality gate"),
    ],
)
def test_bad_settings_fail_with_their_code(
    layout: SageMakerPaths,
    mmm_frame: pd.DataFrame,
    change: dict[str, str],
    code: str,
    words: str,
) -> None:
    write_job(layout, mmm_frame, {**hyperparameters(), **change})

    assert train.main(layout.as_env()) == 1

    reason = layout.failure_file.read_text()
    assert reason.startswith(f"[{code}]") and words in reason
    assert not (layout.model_dir / "model.json").exists()


def test_a_failed_gate_still_writes_the_metrics_it_judged(
    layout: SageMakerPaths, mmm_frame: pd.DataFrame
) -> None:
    write_job(layout, mmm_frame, hyperparameters(min_r2="0.999"))

    assert train.main(layout.as_env()) == 1

    metrics = json.loads((layout.model_dir / "metrics.json").read_text())
    assert metrics["gate"]["passed"] is False
    assert metrics["gate"]["checks"][0]["metric"] == "r2"
    assert "r2 is 0." in layout.failure_file.read_text()


def test_the_only_channel_is_read_whatever_its_name(
    layout: SageMakerPaths, mmm_frame: pd.DataFrame
) -> None:
    layout.training_channel.rmdir()
    other = layout.training_channel.parent / "train"
    other.mkdir()
    mmm_frame.to_csv(other / "weekly.csv", index=False)
    layout.hyperparameters_file.write_text(json.dumps({**SMALL_FIT, "holdout_periods": 0}))

    assert train.main(layout.as_env()) == 0

    info = json.loads((layout.model_dir / "data_info.json").read_text())
    assert (info["channel"], info["files"]) == ("train", ["weekly.csv"])
    # Detected from the data: the spend columns and the target, no controls.
    assert info["fit_arguments"]["spend_columns"] == ["tv_spend", "search_spend", "social_spend"]


def test_files_of_different_tables_fail_unless_data_file_picks_one(
    layout: SageMakerPaths, mmm_frame: pd.DataFrame
) -> None:
    write_job(layout, mmm_frame, hyperparameters())
    mmm_frame[["date", "revenue"]].to_csv(layout.training_channel / "targets.csv", index=False)

    assert train.main(layout.as_env()) == 1
    reason = layout.failure_file.read_text()
    assert reason.startswith("[MMM_100]") and "data_file" in reason

    layout.hyperparameters_file.write_text(json.dumps(hyperparameters(data_file="data.csv")))
    assert train.main(layout.as_env()) == 0
    assert not layout.failure_file.exists()  # the old failure is gone


def test_an_empty_channel_says_what_to_upload(layout: SageMakerPaths) -> None:
    (layout.training_channel / "notes.txt").write_text("no data here")
    layout.hyperparameters_file.write_text("{}")

    assert train.main(layout.as_env()) == 1

    reason = layout.failure_file.read_text()
    assert reason.startswith("[MMM_110]") and "notes.txt" in reason


def test_an_unexpected_error_is_reported_without_its_traceback(
    layout: SageMakerPaths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def explode(paths: SageMakerPaths) -> dict[str, Any]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(train, "train", explode)
    layout.failure_file.parent.mkdir(parents=True)
    layout.failure_file.write_text("an old failure")

    assert train.main(layout.as_env()) == 1

    reason = layout.failure_file.read_text()
    assert reason.startswith("[MMM_001]") and "RuntimeError: disk on fire" in reason
    assert "Traceback" not in reason
    assert "Traceback" in capsys.readouterr().err  # the log keeps it for debugging


def test_hyperparameter_strings_become_model_settings() -> None:
    spec = train.TrainingSpec.from_hyperparameters(
        {
            "spend_columns": " tv_spend , search_spend ",
            "control_columns": '["price, index", "promo"]',
            "date_column": "none",
            "adstock_rate": '{"tv_spend": 0.5}',
            "saturation_param": "auto",
            "regularization_alpha": "0.3",
            "holdout_periods": "auto",
            "include_baseline": "False",
            "max_iterations": "none",
            "n_bootstrap": "20.0",
            "include_synergies": "yes",
            "sagemaker_program": "ignored",
            "_tuning_objective_metric": "ignored",
        }
    )
    assert spec.spend_columns == ["tv_spend", "search_spend"]
    assert spec.control_columns == ["price, index", "promo"]
    assert spec.date_column is False and spec.include_synergies is True
    assert spec.model_config == {
        "adstock_rate": {"tv_spend": 0.5},
        "saturation_param": "auto",
        "regularization_alpha": 0.3,
        "holdout_periods": "auto",
        "include_baseline": False,
        "max_iterations": None,
        "n_bootstrap": 20,
    }
    EconometricMMM(**spec.model_config)._check_settings()


def test_encoded_hyperparameters_parse_back_to_the_same_settings() -> None:
    values = {
        "spend_columns": ["tv_spend", "search, display"],
        "include_synergies": True,
        "adstock_rate": {"tv_spend": {"type": "weibull", "shape": 2.0, "scale": 3.0}},
        "regularization_alpha": 0.1,
        "calibration": [{"channel": "tv_spend", "start": "2023-03-06", "lift": 1.0}],
        "max_holdout_mape": 15,
        "data_file": None,
    }
    encoded = train.encode_hyperparameters(values)
    assert all(isinstance(v, str) for v in encoded.values()) and "data_file" not in encoded

    spec = train.TrainingSpec.from_hyperparameters(encoded)
    assert spec.spend_columns == values["spend_columns"]
    assert spec.model_config["adstock_rate"] == values["adstock_rate"]
    assert spec.calibration == values["calibration"]
    assert spec.gate.max_holdout_mape == 15.0
    with pytest.raises(MMModelError) as err:
        train.encode_hyperparameters({"n_sweeps": 1.5})
    assert err.value.code == "MMM_006"


def test_every_model_setting_is_a_hyperparameter() -> None:
    assert set(train.MODEL_HYPERPARAMETERS) == set(EconometricMMM().get_params())
