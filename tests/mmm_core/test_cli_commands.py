"""Tests of ``mmm demo`` (fit -> plan -> report), ``mmm optimize``, ``mmm report`` and
``mmm attribution``, run in-process through ``main([...])``.

One demo run (104 weeks, 3 channels) is shared by the module: its model, results, plan and
report are read by the tests, never changed (tests that write next to a model copy it first).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from mmm_core.cli import main
from mmm_core.cli.optimize import reallocation_rows
from mmm_core.cli.options import UsageError, parse_amount, parse_fraction
from mmm_core.cli.tables import compact
from mmm_core.data.synthetic import generate_mmm_data
from mmm_core.models.econometric_mmm import EconometricMMM

ERROR_LINE = re.compile(r"^error \[MMM_\d{3}\]: \S.*$")
SPEND = ["tv_spend", "search_spend", "social_spend"]
CONTROLS = ["price_index", "promo"]
METHODS = ["last_touch", "first_touch", "linear", "time_decay", "data_driven"]


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(argv: list[str]) -> Run:
    """``main(argv)`` with stdout and stderr captured (usable in module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return Run(code, out.getvalue(), err.getvalue())


def one_error(result: Run, code: str) -> str:
    """The single ``error [code]: ...`` line of a failed run (exit 2, no traceback)."""
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err + result.out
    errors = [line for line in result.err.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.err
    assert ERROR_LINE.match(errors[0]), errors[0]
    assert errors[0].startswith(f"error [{code}]: "), errors[0]
    return errors[0]


def labelled_path(out: str, label: str) -> Path:
    match = re.search(rf"^{re.escape(label)}:\s+(\S.*)$", out, flags=re.MULTILINE)
    assert match, out
    return Path(match.group(1).strip())


@dataclass
class Demo:
    home: Path
    result: Run
    model: Path  # model.json
    results: dict
    plan: dict


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """One ``mmm demo --weeks 104 --channels 3`` run."""
    home = tmp_path_factory.mktemp("demo-home")
    result = run(["demo", "--weeks", "104", "--channels", "3", "--home", str(home)])
    assert result.code == 0, result.err
    model = labelled_path(result.out, "model")
    results = json.loads((model.parent / "results.json").read_text())
    plan = json.loads((model.parent / "optimization.json").read_text())
    return Demo(home, result, model, results, plan)


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame, _ = generate_mmm_data(weeks=104, channels=3, seed=3, noise=0.03)
    path = tmp_path_factory.mktemp("data") / "weekly.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def model_copy(demo: Demo, tmp_path: Path) -> Path:
    """A copy of the demo's model folder, without its plan, that a test may write into."""
    folder = tmp_path / "model"
    shutil.copytree(demo.model.parent, folder)
    (folder / "optimization.json").unlink()
    return folder


def fitted_spend(results: dict) -> float:
    return sum(entry["spend"] for entry in results["channels"].values())


# ------------------------------------------------------------------------------------ demo


def test_demo_writes_model_results_plan_and_report(demo: Demo) -> None:
    folder = demo.model.parent
    for name in ("model.json", "results.json", "optimization.json", "truth.json"):
        assert (folder / name).is_file(), name
    assert labelled_path(demo.result.out, "results") == folder / "results.json"
    assert labelled_path(demo.result.out, "plan") == folder / "optimization.json"
    html = labelled_path(demo.result.out, "report")
    assert html.is_file() and html.suffix == ".html"
    assert html.parent == demo.home / "reports"
    reports = sorted(p.name for p in (demo.home / "reports").iterdir())
    assert reports == sorted(
        f"{folder.name}{end}"
        for end in ("_executive_summary.json", "_detailed.csv", "_executive_summary.txt", ".html")
    )
    summary = json.loads(
        (demo.home / "reports" / f"{folder.name}_executive_summary.json").read_text()
    )
    assert summary["optimization"]["horizon"] == 104  # the report drew the plan
    assert [p.name for p in demo.home.rglob("*.tmp")] == []


def test_demo_plan_replans_the_observed_budget_over_the_fitted_period(demo: Demo) -> None:
    plan, spent = demo.plan, fitted_spend(demo.results)
    assert plan["optimization_objective"] == "revenue"
    assert plan["horizon"] == 104
    assert plan["total_budget"] == pytest.approx(spent, rel=1e-9)
    assert sum(plan["allocation"].values()) == pytest.approx(spent, rel=1e-6)
    for column in SPEND:
        current = plan["channels"][column]["current"]
        assert current == pytest.approx(demo.results["channels"][column]["spend"], rel=1e-9)


def test_demo_prints_the_truth_reallocation_and_uplift(demo: Demo) -> None:
    out, err = demo.result.out, demo.result.err
    for word in ("true ROI", "est. ROI", "covered?", "misattribution", "hold-out MAPE"):
        assert word in out
    assert "recommended reallocation of" in out and "over 104 weeks" in out
    assert "mROI at optimum" in out
    for column in SPEND:
        row = rf"^{column}\s+[\d,]+\s+[\d,]+\s+[+-]\d+\.\d%\s+\d+\.\d\d$"
        assert re.search(row, out, flags=re.MULTILINE), out
    assert re.search(r"^total\s+[\d,]+\s+[\d,]+", out, flags=re.MULTILINE)
    uplift = re.search(r"^expected uplift ([+-][\d,]+) revenue .*90% interval \[", out, re.M)
    assert uplift, out
    assert int(uplift.group(1).replace(",", "")) == round(demo.plan["uplift"]["revenue"])
    assert "probability the plan beats the current mix (revenue): " in out
    assert re.search(r"^true uplift [+-][\d,]+ revenue", out, flags=re.MULTILINE)
    assert "binding constraints:" in out
    assert "efficient frontier" not in out  # 'mmm optimize' prints it, the demo does not
    assert "optimizing the observed budget" in err and "writing the report" in err


def test_demo_on_a_file_has_no_truth(tmp_path: Path, data_csv: Path) -> None:
    home = tmp_path / "home"
    argv = ["demo", "--data", str(data_csv), "--spend", ",".join(SPEND)]
    result = run([*argv, "--controls", ",".join(CONTROLS), "--home", str(home)])
    assert result.code == 0, result.err
    assert "true ROI" not in result.out and "true uplift" not in result.out
    assert re.search(r"^channel\s+ROI\s+90% interval", result.out, flags=re.MULTILINE)
    assert "expected uplift" in result.out
    model = labelled_path(result.out, "model")
    assert not (model.parent / "truth.json").exists()
    assert (model.parent / "optimization.json").is_file()
    assert labelled_path(result.out, "data") == data_csv
    assert EconometricMMM.load(model).control_columns_ == CONTROLS


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--data", "x.csv", "--weeks", "60"], "--weeks shapes the synthetic data"),
        (["--spend", "tv_spend"], "--spend describes your own data"),
    ],
)
def test_demo_rejects_mixed_data_options(argv: list[str], fragment: str, tmp_path: Path) -> None:
    line = one_error(run(["demo", *argv, "--home", str(tmp_path)]), "MMM_006")
    assert fragment in line
    assert not (tmp_path / "models").exists()


# ------------------------------------------------------------------------------------ optimize


def test_optimize_defaults_save_the_plan_next_to_the_model(model_copy: Path, demo: Demo) -> None:
    result = run(["optimize", "--model", str(model_copy)])
    assert result.code == 0, result.err
    plan = json.loads((model_copy / "optimization.json").read_text())
    assert labelled_path(result.out, "plan") == model_copy / "optimization.json"
    assert plan["horizon"] == 104
    assert plan["total_budget"] == pytest.approx(fitted_spend(demo.results), rel=1e-9)
    assert plan["allocation"] == pytest.approx(demo.plan["allocation"], rel=1e-6)
    out = result.out
    assert "(the fitted period's total spend)" in out
    for column in SPEND:
        assert re.search(rf"^{column}\s+[\d,]+\s+[\d,]+\s+[+-]", out, flags=re.MULTILINE)
    assert "expected uplift" in out and "probability the plan beats" in out
    assert "binding constraints:" in out
    frontier = out[out.index("efficient frontier") :].splitlines()
    assert frontier[1].split()[0] == "budget" and len(frontier[1].split()) == 12
    assert [line.split()[0] for line in frontier[3:6]] == ["revenue", "ROI", "mROI"]
    assert "optimizing" in result.err


def test_optimize_by_model_id_with_budget_horizon_and_roi(demo: Demo, tmp_path: Path) -> None:
    target = tmp_path / "plans" / "q1.json"
    argv = ["optimize", "--model", demo.model.parent.name, "--home", str(demo.home)]
    argv += ["--budget", "1.5M", "--horizon", "13", "--objective", "roi"]
    result = run([*argv, "--output", str(target)])
    assert result.code == 0, result.err
    plan = json.loads(target.read_text())
    assert plan["optimization_objective"] == "roi"
    assert plan["horizon"] == 13 and plan["total_budget"] == 1_500_000
    assert plan["spent"] <= 1_500_000 * (1 + 1e-9)
    assert "1,500,000 over 13 weeks" in result.out
    assert not (demo.model.parent / "q1.json").exists()


def test_optimize_default_budget_scales_to_the_horizon(demo: Demo, tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    result = run(
        ["optimize", "--model", str(demo.model), "--horizon", "13", "--output", str(target)]
    )
    assert result.code == 0, result.err
    plan = json.loads(target.read_text())
    assert plan["total_budget"] == pytest.approx(fitted_spend(demo.results) * 13 / 104, rel=1e-9)
    assert "spend per week, times 13" in result.out


def test_optimize_lock_keeps_the_channel_at_its_current_spend(demo: Demo, tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    argv = ["optimize", "--model", str(demo.model), "--lock", "tv_spend", "--max-change", "0.5"]
    result = run([*argv, "--output", str(target)])
    assert result.code == 0, result.err
    plan = json.loads(target.read_text())
    tv = plan["channels"]["tv_spend"]
    assert tv["optimal"] == pytest.approx(tv["current"], rel=1e-9)
    assert {"channel": "tv_spend", "constraint": "locked"} in plan["binding_constraints"]
    assert "locked: tv_spend" in result.out
    assert re.search(r"^tv_spend\s+([\d,]+)\s+\1\s+\+0\.0%", result.out, flags=re.MULTILINE)
    others = [plan["channels"][c] for c in SPEND[1:]]
    assert all(abs(c["optimal"] / c["current"] - 1) <= 0.5 + 1e-9 for c in others)


def test_optimize_constraints_file(demo: Demo, tmp_path: Path) -> None:
    current = demo.results["channels"]["search_spend"]["spend"]
    constraints = tmp_path / "limits.json"
    low, high = 0.95 * current, 1.05 * current
    doc = {"search_spend": {"min": low, "max": high}, "max_change": None}
    constraints.write_text(json.dumps(doc))
    target = tmp_path / "plan.json"
    argv = ["optimize", "--model", str(demo.model), "--constraints", str(constraints)]
    result = run([*argv, "--output", str(target)])
    assert result.code == 0, result.err
    plan = json.loads(target.read_text())
    assert low * (1 - 1e-6) <= plan["allocation"]["search_spend"] <= high * (1 + 1e-6)


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (
            ["--min-channel-spend", "3M", "--max-change", "0.1"],
            ["constraints on 'social_spend' conflict", "min_channel_spend", "max_change"],
        ),
        (["--min-channel-spend", "4M", "--max-change", "none"], ["minimums add up to"]),
    ],
)
def test_optimize_infeasible_constraints_exit_2_and_name_the_conflict(
    demo: Demo, tmp_path: Path, extra: list[str], fragments: list[str]
) -> None:
    target = tmp_path / "plan.json"
    result = run(["optimize", "--model", str(demo.model), *extra, "--output", str(target)])
    line = one_error(result, "MMM_200")
    for fragment in fragments:
        assert fragment in line
    assert "How to fix:" in line
    assert not target.exists()


def test_optimize_conflicting_constraints_file(demo: Demo, tmp_path: Path) -> None:
    constraints = tmp_path / "limits.json"
    constraints.write_text(json.dumps({"tv_spend": {"min": 6_000_000, "max": 5_000_000}}))
    result = run(["optimize", "--model", str(demo.model), "--constraints", str(constraints)])
    line = one_error(result, "MMM_200")
    assert "constraints on 'tv_spend' conflict: its min" in line and "its max" in line


@pytest.mark.parametrize(
    ("extra", "code", "fragment"),
    [
        (["--objective", "target_roas"], "MMM_006", "needs --target-roas"),
        (["--objective", "roi", "--target-roas", "2"], "MMM_006", "--target-roas applies"),
        (["--target-roas", "-1"], "MMM_006", "--target-roas must be"),
        (["--constraints", "c.json", "--lock", "tv_spend"], "MMM_006", "are alternatives"),
        (["--budget", "lots"], "MMM_006", "--budget must be a positive amount"),
        (["--budget", "0"], "MMM_006", "--budget must be a positive amount"),
        (["--horizon", "0"], "MMM_006", "--horizon must be"),
        (["--max-change", "-0.2"], "MMM_006", "--max-change must be"),
        (["--lock", "tv_spnd"], "MMM_200", "did you mean 'tv_spend'"),
        (["--objective", "reach"], "MMM_006", "invalid choice"),
        (["--constraints", "/no/such/limits.json"], "MMM_100", "does not exist"),
    ],
)
def test_optimize_bad_arguments(
    demo: Demo, tmp_path: Path, extra: list[str], code: str, fragment: str
) -> None:
    target = tmp_path / "plan.json"
    result = run(["optimize", "--model", str(demo.model), *extra, "--output", str(target)])
    assert fragment in one_error(result, code)
    assert not target.exists()


def test_optimize_bad_constraints_json_and_missing_model(demo: Demo, tmp_path: Path) -> None:
    broken = tmp_path / "limits.json"
    broken.write_text("{not json")
    result = run(["optimize", "--model", str(demo.model), "--constraints", str(broken)])
    assert "JSONDecodeError" in one_error(result, "MMM_100")
    broken.write_text("[1, 2]")
    result = run(["optimize", "--model", str(demo.model), "--constraints", str(broken)])
    assert "not an object" in one_error(result, "MMM_100")
    result = run(["optimize", "--model", "mmm-nope", "--home", str(demo.home)])
    line = one_error(result, "MMM_004")
    assert "no model id 'mmm-nope'" in line and demo.model.parent.name in line


# ------------------------------------------------------------------------------------ report


def test_report_writes_four_files_with_the_plan_next_to_the_model(
    demo: Demo, tmp_path: Path
) -> None:
    argv = ["report", "--model", demo.model.parent.name, "--home", str(demo.home)]
    result = run([*argv, "--output-dir", str(tmp_path), "--prefix", "q3"])
    assert result.code == 0, result.err
    labels = ["executive summary (JSON)", "detailed table (CSV)", "executive summary (text)"]
    paths = [labelled_path(result.out, label) for label in [*labels, "report (HTML)"]]
    assert [p.name for p in paths] == [
        "q3_executive_summary.json",
        "q3_detailed.csv",
        "q3_executive_summary.txt",
        "q3.html",
    ]
    assert all(p.is_file() and p.parent == tmp_path for p in paths)
    assert "including the budget plan" in result.err
    summary = json.loads(paths[0].read_text())
    assert summary["optimization"]["total_budget"] == pytest.approx(demo.plan["total_budget"])
    assert len(pd.read_csv(paths[1])) >= len(SPEND)


def test_report_with_a_plan_file_and_default_folder(demo: Demo, model_copy: Path) -> None:
    plan = model_copy.parent / "other-plan.json"
    shutil.copy(demo.model.parent / "optimization.json", plan)
    home = model_copy.parent / "home"
    result = run(["report", "--model", str(model_copy), "--plan", str(plan), "--home", str(home)])
    assert result.code == 0, result.err
    html = labelled_path(result.out, "report (HTML)")
    assert html == (home / "reports" / "model.html").resolve()
    assert "other-plan.json" in result.err


def test_report_without_results_json_or_plan(tmp_path: Path, data_csv: Path) -> None:
    model = EconometricMMM(n_bootstrap=10)
    model.fit(pd.read_csv(data_csv), "revenue", SPEND, control_columns=CONTROLS)
    path = model.save(tmp_path / "lib" / "mine.json")
    result = run(["report", "--model", str(path), "--output-dir", str(tmp_path / "out")])
    assert result.code == 0, result.err
    summary = json.loads(labelled_path(result.out, "executive summary (JSON)").read_text())
    assert not summary.get("optimization")
    assert "budget plan" not in result.err
    assert len(list((tmp_path / "out").iterdir())) == 4


def test_report_errors(demo: Demo, tmp_path: Path) -> None:
    base = ["report", "--model", str(demo.model), "--output-dir", str(tmp_path)]
    other = tmp_path / "plan.json"
    other.write_text(json.dumps({"allocation": {"tv_spend": 1.0}, "channels": {"tv_spend": {}}}))
    assert "the plan" in one_error(run([*base, "--plan", str(other)]), "MMM_003")
    other.write_text(json.dumps({"tv_spend": {"min": 1}}))
    assert "is not a budget plan" in one_error(run([*base, "--plan", str(other)]), "MMM_006")
    missing = str(tmp_path / "nope.json")
    assert "does not exist" in one_error(run([*base, "--plan", missing]), "MMM_100")
    assert "--prefix" in one_error(run([*base, "--prefix", "../x"]), "MMM_006")
    gone = ["report", "--model", str(tmp_path / "none" / "model.json")]
    one_error(run(gone), "MMM_004")
    assert list(tmp_path.glob("*.html")) == []


# ------------------------------------------------------------------------------------ attribution


def _attribution_argv(demo: Demo) -> list[str]:
    data = demo.home / "raw" / "demo.csv"
    return ["attribution", "--data", str(data), "--target", "revenue", "--spend", ",".join(SPEND)]


def test_attribution_with_a_model_prints_every_method(demo: Demo, tmp_path: Path) -> None:
    output = tmp_path / "attribution.json"
    argv = [*_attribution_argv(demo), "--model", str(demo.model), "--output", str(output)]
    result = run(argv)
    assert result.code == 0, result.err
    header = next(line for line in result.out.splitlines() if line.startswith("channel"))
    assert header.split() == ["channel", "spend", *METHODS, "data_driven", "90%", "spread"]
    for column in SPEND:
        row = re.search(rf"^{column}((?:\s+\S+%)+)", result.out, flags=re.MULTILINE)
        assert row, result.out
    assert "mean spread" in result.out and "note: " in result.out
    assert "from the model in" in result.out
    assert "fitting" not in result.err  # the model's results, no refit
    analysis = json.loads(output.read_text())
    assert list(analysis["methods"]) == METHODS
    shares = analysis["methods"]["data_driven"]["attribution"]
    expected = {c: demo.results["channels"][c]["share"] for c in SPEND}
    assert shares == pytest.approx(expected, abs=1e-9)
    assert labelled_path(result.out, "analysis") == output


def test_attribution_fits_the_mmm_without_a_model(data_csv: Path) -> None:
    argv = ["attribution", "--data", str(data_csv), "--target", "revenue"]
    result = run([*argv, "--spend", ",".join(SPEND), "--controls", ",".join(CONTROLS)])
    assert result.code == 0, result.err
    assert "fitting the MMM" in result.err
    assert "an MMM fitted on these data" in result.out
    for method in METHODS:
        assert method in result.out


def test_attribution_errors(demo: Demo, tmp_path: Path) -> None:
    argv = _attribution_argv(demo)
    mismatch = [*argv[:-1], "tv_spend,search_spend", "--model", str(demo.model)]
    assert "are not the spend columns" in one_error(run(mismatch), "MMM_003")
    missing = [*argv[:-1], "tv_spnd,search_spend,social_spend", "--model", str(demo.model)]
    assert "tv_spend" in one_error(run(missing), "MMM_101")
    assert "--window" in one_error(run([*argv, "--window", "0"]), "MMM_006")
    assert "does not exist" in one_error(
        run(["attribution", "--data", str(tmp_path / "x.csv"), "--target", "y", "--spend", "a"]),
        "MMM_100",
    )


# ------------------------------------------------------------------------------------ help, units


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("demo", ["reallocation", "uplift", "money over the whole period"]),
        ("optimize", ["over the planning horizon", "--budget", "--lock", "frontier"]),
        ("report", ["--plan", "optimization.json", "four"]),
        ("attribution", ["last_touch", "data_driven", "spread"]),
    ],
)
def test_help_explains_the_command(command: str, words: list[str]) -> None:
    result = run([command, "--help"])
    assert result.code == 0
    assert result.out.startswith(f"usage: mmm {command}")
    text = " ".join(result.out.split())
    for word in words:
        assert word in text, word


def test_top_level_help_lists_every_command() -> None:
    result = run(["--help"])
    assert result.code == 0
    for command in ("demo", "fit", "predict", "optimize", "report", "attribution"):
        assert re.search(rf"^\s+{command}\s", result.out, flags=re.MULTILINE), command
    line = one_error(run(["optimise"]), "MMM_006")
    assert "did you mean 'mmm optimize'" in line


def test_parse_amount_and_fraction() -> None:
    assert parse_amount("2.5M", "--budget") == 2_500_000
    assert parse_amount("250,000", "--budget") == 250_000
    assert parse_amount("1_000k", "--budget") == 1_000_000
    assert parse_amount("1e6", "--budget") == 1_000_000
    assert parse_fraction("30%", "--max-change") == pytest.approx(0.3)
    assert parse_fraction("none", "--max-change", allow_none=True) is None
    with pytest.raises(UsageError):
        parse_amount("-5", "--budget")
    with pytest.raises(UsageError):
        parse_fraction("none", "--max-change")


def test_compact_amounts_and_reallocation_rows(demo: Demo) -> None:
    assert [compact(v) for v in (950, 12_500, 9_516_000, 1.2e9, None)] == [
        "950",
        "12.5k",
        "9.52M",
        "1.20B",
        "n/a",
    ]
    rows = reallocation_rows(demo.plan)
    assert [row[0] for row in rows] == [*SPEND, "total"]
    assert all(len(row) == 5 for row in rows)


def test_dbt_seed_build_then_fit_from_the_modelling_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    assert main(["dbt", "seed", "--home", home]) == 0
    assert main(["dbt", "build", "--home", home]) == 0
    out = capsys.readouterr().out
    assert "mmm_weekly" in out and "62 data tests: 62 passed" in out
    assert main(["fit", "--from-dbt", "--home", home]) == 2  # two markets: which one?
    assert "--market" in capsys.readouterr().err
    assert main(["fit", "--from-dbt", "--market", "south", "--home", home]) == 0
    out = capsys.readouterr().out
    assert "tv_spend" in out and "model:" in out
