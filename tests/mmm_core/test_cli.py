"""Tests of the ``mmm`` command line, run in-process through ``main([...])``: the entry point,
``demo``/``fit``/``predict`` and the shared helpers (``optimize``, ``report``, ``attribution``
and the demo's plan and report are in ``test_cli_commands.py``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmm_core.cli import demo as cli_demo
from mmm_core.cli import main
from mmm_core.cli.store import resolve_home, write_atomic
from mmm_core.cli.tables import format_table
from mmm_core.data.synthetic import generate_mmm_data
from mmm_core.errors import MMModelError
from mmm_core.models.econometric_mmm import EconometricMMM

REPO = Path(__file__).resolve().parents[2]
ERROR_LINE = re.compile(r"^error \[MMM_\d{3}\]: \S.*$")
SPEND = ["tv_spend", "search_spend", "social_spend"]
CONTROLS = ["price_index", "promo"]


def _model_path(stdout: str) -> Path:
    match = re.search(r"^model: (.+)$", stdout, flags=re.MULTILINE)
    assert match, stdout
    return Path(match.group(1).strip())


def _assert_one_line_error(err: str, code: str | None = None) -> str:
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error")]
    assert len(errors) == 1, err
    assert ERROR_LINE.match(errors[0]), errors[0]
    if code is not None:
        assert errors[0].startswith(f"error [{code}]: "), errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    """Two years of generated weekly data for three channels, and the CSV holding it."""
    frame, _ = generate_mmm_data(weeks=104, channels=3, seed=3, noise=0.03)
    path = tmp_path_factory.mktemp("data") / "weekly.csv"
    frame.to_csv(path, index=False)
    return frame, path


@pytest.fixture(scope="module")
def saved_model(
    tmp_path_factory: pytest.TempPathFactory, dataset: tuple[pd.DataFrame, Path]
) -> Path:
    """A small model fitted with the library and saved as ``<home>/models/m1/model.json``."""
    frame, _ = dataset
    model = EconometricMMM(n_bootstrap=10)
    model.fit(frame, "revenue", SPEND, control_columns=CONTROLS)
    home = tmp_path_factory.mktemp("home")
    return model.save(home / "models" / "m1" / "model.json")


# ------------------------------------------------------------------------------------ demo


def test_demo_writes_model_results_and_data_and_prints_every_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    code = main(["demo", "--weeks", "104", "--channels", "3", "--home", str(home)])
    out, err = capsys.readouterr()
    assert code == 0, err
    for column in SPEND:
        assert re.search(rf"^{column}\s", out, flags=re.MULTILINE), out
    for word in ("true ROI", "est. ROI", "90% interval", "covered?", "misattribution", "R²"):
        assert word in out
    assert "hold-out MAPE" in out and "candidates evaluated" in out
    assert "fitting 3 channels on 104 weeks" in err  # progress goes to stderr

    model_path = _model_path(out)
    assert model_path.parent.parent == home / "models"
    assert re.fullmatch(r"mmm-\d{8}-\d{6}-[0-9a-f]{6}", model_path.parent.name)
    assert model_path.name == "model.json" and model_path.is_file()
    results = json.loads((model_path.parent / "results.json").read_text())
    assert sorted(results["channels"]) == sorted(SPEND)
    data = pd.read_csv(home / "raw" / "demo.csv")
    assert len(data) == 104 and set(SPEND) <= set(data.columns)
    assert EconometricMMM.load(model_path).predict(data).shape == (104,)
    leftovers = [p.name for p in home.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_demo_takes_channels_by_name_and_rejects_unknown_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    assert main(["demo", "--weeks", "104", "--channels", "tv,radio", "--home", home]) == 0
    out, _ = capsys.readouterr()
    assert re.search(r"^tv_spend\s", out, flags=re.MULTILINE)
    assert re.search(r"^radio_spend\s", out, flags=re.MULTILINE)
    assert "search_spend" not in out
    assert main(["demo", "--channels", "tv,foo", "--home", home]) == 2
    _, err = capsys.readouterr()
    assert "error [MMM_006]" in err and "'foo'" in err and "Traceback" not in err


def test_demo_home_defaults_to_mmm_home_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MMM_HOME", str(tmp_path / "env-home"))
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--weeks", "104", "--channels", "2", "--seed", "1"]) == 0
    out, _ = capsys.readouterr()
    assert _model_path(out).is_relative_to(tmp_path / "env-home")
    assert not (tmp_path / ".mmm").exists()


def test_resolve_home_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMM_HOME", raising=False)
    assert resolve_home(None) == Path(".mmm")
    monkeypatch.setenv("MMM_HOME", "/srv/mmm")
    assert resolve_home(None) == Path("/srv/mmm")
    assert resolve_home("/tmp/x") == Path("/tmp/x")


# ------------------------------------------------------------------------------------ fit


def test_fit_on_csv_saves_a_model_that_loads_and_predicts(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    dataset: tuple[pd.DataFrame, Path],
) -> None:
    frame, csv = dataset
    output = tmp_path / "out" / "results.json"
    argv = ["fit", "--data", str(csv), "--target", "revenue", "--spend", ",".join(SPEND)]
    argv += ["--controls", ",".join(CONTROLS), "--date-column", "date"]
    argv += ["--home", str(tmp_path / "home"), "--output", str(output)]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    for column in SPEND:
        assert re.search(rf"^{column}\s", out, flags=re.MULTILINE), out
    assert "mROI" in out and "90% interval" in out

    model_path = _model_path(out)
    assert (model_path.parent / "results.json").is_file()
    results = json.loads(output.read_text())
    assert sorted(results["channels"]) == sorted(SPEND)
    model = EconometricMMM.load(model_path)
    assert model.control_columns_ == CONTROLS
    predictions = model.predict(frame)
    assert predictions.shape == (len(frame),) and np.all(np.isfinite(predictions))


def test_fit_with_auto_alpha_and_synergies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: tuple[pd.DataFrame, Path]
) -> None:
    _, csv = dataset
    argv = ["fit", "--data", str(csv), "--target", "revenue", "--spend", "tv_spend, search_spend"]
    argv += ["--alpha", "auto", "--synergies", "--home", str(tmp_path)]
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    results = json.loads((_model_path(out).parent / "results.json").read_text())
    assert list(results["synergies"]) == ["tv_spend:search_spend"]
    assert "alpha_cv_mse" in results["hyperparameters"]


# ------------------------------------------------------------------------------------ predict


def test_predict_writes_a_csv(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    dataset: tuple[pd.DataFrame, Path],
    saved_model: Path,
) -> None:
    frame, csv = dataset
    target = tmp_path / "preds.csv"
    code = main(
        ["predict", "--model", str(saved_model), "--data", str(csv), "--output", str(target)]
    )
    _, err = capsys.readouterr()
    assert code == 0, err
    preds = pd.read_csv(target)
    assert len(preds) == len(frame)
    assert list(preds.columns[:2]) == ["date", "predicted_revenue"]
    expected = EconometricMMM.load(saved_model).predict(frame)
    np.testing.assert_allclose(preds["predicted_revenue"], expected, rtol=1e-9)
    parts = preds.drop(columns=["date", "predicted_revenue"]).sum(axis=1)
    np.testing.assert_allclose(parts, preds["predicted_revenue"], rtol=1e-9)


def test_predict_by_model_id_to_stdout(
    capsys: pytest.CaptureFixture[str], dataset: tuple[pd.DataFrame, Path], saved_model: Path
) -> None:
    _, csv = dataset
    home = saved_model.parent.parent.parent
    assert main(["predict", "--model", "m1", "--home", str(home), "--data", str(csv)]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[0].startswith("date,predicted_revenue,")
    assert len(out.splitlines()) == 1 + 104


def test_predict_rows_follow_the_input_file_when_it_is_shuffled(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    dataset: tuple[pd.DataFrame, Path],
    saved_model: Path,
) -> None:
    frame, _ = dataset
    shuffled = tmp_path / "shuffled.csv"
    mixed = frame.sample(frac=1.0, random_state=0)
    mixed.to_csv(shuffled, index=False)
    target = tmp_path / "preds.csv"
    argv = [
        "predict",
        "--model",
        str(saved_model),
        "--data",
        str(shuffled),
        "--output",
        str(target),
    ]
    assert main(argv) == 0
    capsys.readouterr()
    preds = pd.read_csv(target, parse_dates=["date"])
    np.testing.assert_array_equal(preds["date"].to_numpy(), mixed["date"].to_numpy())
    in_date_order = EconometricMMM.load(saved_model).predict(frame)
    expected = pd.Series(in_date_order, index=frame.index).loc[mixed.index].to_numpy()
    np.testing.assert_allclose(preds["predicted_revenue"], expected, rtol=1e-9)


# ------------------------------------------------------------------------------------ errors


def test_missing_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["fit", "--data", str(tmp_path / "nope.csv"), "--target", "revenue", "--spend", "tv"]
    assert main(argv) == 2
    line = _assert_one_line_error(capsys.readouterr().err, "MMM_100")
    assert "nope.csv" in line and "How to fix:" in line


def test_misspelled_spend_column_suggests_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: tuple[pd.DataFrame, Path]
) -> None:
    _, csv = dataset
    argv = ["fit", "--data", str(csv), "--target", "revenue", "--spend", "tv_spnd,search_spend"]
    assert main([*argv, "--home", str(tmp_path)]) == 2
    line = _assert_one_line_error(capsys.readouterr().err, "MMM_101")
    assert "did you mean 'tv_spend'" in line
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["fitt"], "MMM_006", "did you mean 'mmm fit'"),
        (["launch"], "MMM_006", "unknown command"),
        ([], "MMM_006", "required"),
        (["fit", "--data", "x.csv"], "MMM_006", "--target"),
        (["demo", "--weeks", "abc"], "MMM_006", "invalid int"),
        (["demo", "--weeks", "10"], "MMM_006", "at least 52"),
        (["demo", "--bogus"], "MMM_006", "unrecognized arguments"),
        (["predict", "--model", "/no/such/model.json", "--data", "x.csv"], "MMM_004", "no model"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], code: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert fragment in _assert_one_line_error(err, code)
    assert "Traceback" not in out


def test_bad_alpha_and_empty_spend(
    capsys: pytest.CaptureFixture[str], dataset: tuple[pd.DataFrame, Path]
) -> None:
    _, csv = dataset
    base = ["fit", "--data", str(csv), "--target", "revenue"]
    assert main([*base, "--spend", "tv_spend", "--alpha", "lots"]) == 2
    assert "--alpha" in _assert_one_line_error(capsys.readouterr().err, "MMM_006")
    assert main([*base, "--spend", " , "]) == 2
    assert "--spend" in _assert_one_line_error(capsys.readouterr().err, "MMM_006")


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.csv", "", "MMM_110"),
        ("broken.csv", 'a,b\n1,"2\n', "MMM_100"),
        ("data.xlsx", "a,b\n1,2\n", "MMM_100"),
    ],
)
def test_unreadable_data_files(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    saved_model: Path,
    name: str,
    content: str,
    code: str,
) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert main(["predict", "--model", str(saved_model), "--data", str(path)]) == 2
    _assert_one_line_error(capsys.readouterr().err, code)


def test_corrupt_model_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: tuple[pd.DataFrame, Path]
) -> None:
    _, csv = dataset
    bad = tmp_path / "model.json"
    bad.write_text("{not json")
    assert main(["predict", "--model", str(bad), "--data", str(csv)]) == 2
    _assert_one_line_error(capsys.readouterr().err, "MMM_004")


def test_predict_data_without_model_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_model: Path
) -> None:
    path = tmp_path / "other.csv"
    pd.DataFrame({"date": ["2024-01-01"], "tv_spend": [1.0]}).to_csv(path, index=False)
    assert main(["predict", "--model", str(saved_model), "--data", str(path)]) == 2
    _assert_one_line_error(capsys.readouterr().err, "MMM_003")


def test_unexpected_errors_are_one_line_with_status_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> int:
        raise RuntimeError("kaput")

    monkeypatch.delenv("MMM_DEBUG", raising=False)
    monkeypatch.setattr(cli_demo, "run_demo", boom)
    assert main(["demo"]) == 1
    line = _assert_one_line_error(capsys.readouterr().err, "MMM_001")
    assert "RuntimeError: kaput" in line


# ------------------------------------------------------------------------------------ help


@pytest.mark.parametrize("command", [[], ["demo"], ["fit"], ["predict"]])
def test_help_exits_0(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {' '.join(['mmm', *command])}")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mmm ")


# ------------------------------------------------------------------------------------ helpers


def test_format_table_aligns_columns() -> None:
    text = format_table(["channel", "ROI"], [["tv_spend", "1.50"], ["x", "12.25"]])
    lines = text.splitlines()
    assert lines[0] == "channel     ROI"
    assert lines[2] == "tv_spend   1.50"
    assert lines[3] == "x         12.25"
    assert len({len(line) for line in lines}) == 1


def test_write_atomic_replaces_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.txt"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.txt"]


def test_write_atomic_reports_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MMModelError) as info:
        write_atomic(blocker / "sub" / "out.json", "{}")
    assert info.value.code == "MMM_300"


# ------------------------------------------------------------------------------------ process


def _command() -> list[str]:
    script = Path(sys.executable).parent / "mmm"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "mmm_core.cli"]


def test_console_script_help_and_error_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "MMM_HOME": str(tmp_path)}
    env.pop("MMM_DEBUG", None)
    done = subprocess.run(
        [*_command(), "--help"], capture_output=True, text=True, timeout=120, env=env, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert "demo" in done.stdout and "predict" in done.stdout

    argv = ["fit", "--data", str(tmp_path / "missing.csv"), "--target", "y", "--spend", "a"]
    done = subprocess.run(
        [*_command(), *argv], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path
    )
    assert done.returncode == 2
    assert done.stdout == ""
    _assert_one_line_error(done.stderr, "MMM_100")


def test_module_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mmm_core.cli", "predict", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ")
