"""MLflow tracking: off by default, one complete run per fit when configured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmm_core.tracking import log_fit, tracking_status


def test_tracking_is_off_without_the_environment_variable(default_mmm) -> None:
    env: dict[str, str] = {}
    assert tracking_status(env) == {
        "enabled": False,
        "uri": None,
        "reason": "MLFLOW_TRACKING_URI is not set",
    }
    assert log_fit(default_mmm, default_mmm.results_, env=env) is None


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, auto_mmm) -> tuple[dict, str, Path]:
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    env = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "mmm-tests"}
    report = folder / "report.html"
    report.write_text("<html>report</html>")
    import mlflow

    mlflow.set_registry_uri(uri)
    run = log_fit(
        auto_mmm,
        auto_mmm.results_,
        run_name="mmm-test",
        artifacts={"report": report},
        tags={"market": "uk"},
        register_as="mmm-uk",
        env=env,
    )
    return run, uri, folder


def test_a_fit_is_one_run_with_params_metrics_model_and_report(tracked, auto_mmm) -> None:
    import mlflow

    run_info, uri, folder = tracked
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    run = client.get_run(run_info["run_id"])
    assert run.data.params["n_bootstrap"] == str(auto_mmm.n_bootstrap)
    assert run.data.metrics["r2_score"] == pytest.approx(
        auto_mmm.results_["performance"]["r2_score"]
    )
    channel = auto_mmm.spend_columns_[0]
    assert run.data.metrics[f"roi.{channel}"] == pytest.approx(
        auto_mmm.results_["channels"][channel]["roi"]
    )
    assert run.data.tags["market"] == "uk"
    names = {a.path for a in client.list_artifacts(run_info["run_id"], "model")}
    assert names == {"model/model.json", "model/results.json"}
    assert [a.path for a in client.list_artifacts(run_info["run_id"], "report")] == [
        "report/report.html"
    ]
    local = client.download_artifacts(run_info["run_id"], "model/model.json", str(folder))
    assert json.loads(Path(local).read_text())["schema"] == "mmm_core.EconometricMMM"


def test_the_model_can_be_registered(tracked) -> None:
    run_info, _, _ = tracked
    assert run_info["registered_version"] == 1


def test_a_missing_mlflow_package_is_reported_not_raised(monkeypatch) -> None:
    import mmm_core.tracking as tracking

    monkeypatch.setattr(tracking, "find_spec", lambda name: None)
    status = tracking.tracking_status({"MLFLOW_TRACKING_URI": "sqlite:///x.db"})
    assert status["enabled"] is False and "not installed" in status["reason"]


def test_mmm_demo_logs_its_fit_when_tracking_is_on_and_says_so_when_off(
    tmp_path, monkeypatch, capsys
) -> None:
    import mlflow

    from mmm_core.cli import main

    argv = ["demo", "--weeks", "104", "--channels", "2", "--home", str(tmp_path / "home")]
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(argv) == 0
    assert "tracking: off (MLFLOW_TRACKING_URI is not set)" in capsys.readouterr().out

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert main(argv) == 0
    out = capsys.readouterr().out
    run_id = out.split("tracking: MLflow run ")[1].split()[0]
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    paths = {a.path for a in client.list_artifacts(run_id)}
    assert {"model", "plan", "report"} <= paths
