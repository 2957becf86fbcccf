"""Tests of the executive reports: the four files, what each says, escaping, errors, atomicity.

One small fit is shared by the module; each report variant (plain, with an optimization, with a
hostile channel name, with most optional parts missing) is rendered once and read by many tests.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmm_core import EconometricMMM
from mmm_core.data.synthetic import generate_mmm_data
from mmm_core.errors import Codes, MMModelError
from mmm_core.reporting import (
    FIGURES,
    OPTIMIZATION_FIGURES,
    REPORT_FILES,
    SCHEMA_VERSION,
    ExecutiveReporting,
)
from mmm_core.reporting import executive_reporting as reporting_module

HOSTILE = '<script>alert("x")</script> & $tv$'
HEADLINE_KEYS = {
    "schema",
    "schema_version",
    "generated_at",
    "period",
    "revenue",
    "media",
    "channels",
    "best_channel_by_roi",
    "worst_channel_by_roi",
    "best_channel_by_mroi",
    "worst_channel_by_mroi",
    "uncertain_channels",
    "fit",
    "warnings",
    "optimization",
}


def optimization_block(results: dict[str, Any], horizon: int = 13) -> dict[str, Any]:
    """An optimizer result in the BudgetOptimizer's format: shift 20% of TV to the others."""
    channels = list(results["channels"])
    current = {c: results["response_curves"][c]["mean_spend"] * horizon for c in channels}
    total = sum(current.values())
    moved = 0.2 * current[channels[0]]
    optimal = {
        c: current[c] + (-moved if i == 0 else moved / (len(channels) - 1))
        for i, c in enumerate(channels)
    }
    return {
        "allocation": optimal,
        "projected_roi": 2.1,
        "projected_revenue": 2.1 * total,
        "optimization_objective": "revenue",
        "horizon": horizon,
        "total_budget": total,
        "spent": total,
        "unspent": -2.3e-10,  # rounding noise, as the optimizer returns it
        "current": {"allocation": current, "revenue": 2.0 * total, "roi": 2.0},
        "uplift": {
            "revenue": 0.1 * total,
            "revenue_pct": 5.0,
            "interval": [-0.02 * total, 0.2 * total],
            "probability_better": 0.87,
        },
        "channels": {
            c: {
                "current": current[c],
                "optimal": optimal[c],
                "change_pct": 100 * (optimal[c] / current[c] - 1),
                "marginal_roi": 1.3,
                "bounds": [0.5 * current[c], 1.5 * current[c]],
            }
            for c in channels
        },
        "binding_constraints": [{"channel": channels[0], "constraint": "min spend"}],
        "frontier": [
            {
                "total_budget": f * total,
                "revenue": 2.1 * total * f**0.7,
                "roi": 2.1 * f**-0.3,
                "marginal_roi": 1.47 * f**-0.3,
            }
            for f in (0.5, 0.75, 1.0, 1.25, 1.5)
        ],
        "convergence": {"success": True, "message": "converged", "starts": 4, "seconds": 0.2},
    }


def rename_channel(results: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A deep copy of ``results`` with channel ``old`` called ``new`` everywhere it is keyed."""
    out = copy.deepcopy(results)
    for path in (
        ("channels",),
        ("series", "channels"),
        ("response_curves",),
        ("diagnostics", "vif"),
        ("hyperparameters", "channels"),
    ):
        block = out
        for key in path:
            block = block[key]
        block[new] = block.pop(old)
    out["diagnostics"]["warnings"] = [w.replace(old, new) for w in out["diagnostics"]["warnings"]]
    return out


@pytest.fixture(scope="module")
def model() -> EconometricMMM:
    """A fit of 104 weeks x 3 channels (kept small: 30 replicates, a short search)."""
    data, truth = generate_mmm_data(104, 3, seed=0)
    mmm = EconometricMMM(n_bootstrap=30, n_candidates=64, n_sweeps=2)
    mmm.fit(data, **truth.fit_arguments())
    return mmm


@pytest.fixture(scope="module")
def results(model: EconometricMMM) -> dict[str, Any]:
    """What the shared fit returned (read-only)."""
    return model.results_


@pytest.fixture(scope="module")
def with_optimization(results: dict[str, Any]) -> dict[str, Any]:
    return {**results, "optimization": optimization_block(results)}


@pytest.fixture(scope="module")
def reports(
    tmp_path_factory: pytest.TempPathFactory,
    results: dict[str, Any],
    with_optimization: dict[str, Any],
) -> dict[str, Any]:
    """Each variant's returned paths, the folder it wrote to, and its input before the call."""
    first = next(iter(results["channels"]))
    inputs = {
        "plain": results,
        "optimized": with_optimization,
        "hostile": rename_channel(with_optimization, first, HOSTILE),
    }
    out: dict[str, Any] = {}
    for name, doc in inputs.items():
        folder = tmp_path_factory.mktemp(name)
        before = copy.deepcopy(doc)
        paths = ExecutiveReporting(folder).generate_mmm_report(doc, filename_prefix=name)
        out[name] = {"paths": paths, "folder": folder, "input": doc, "before": before}
    return out


def read(reports: dict[str, Any], variant: str, key: str) -> str:
    return Path(reports[variant]["paths"][key]).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------- the files


@pytest.mark.parametrize("variant", ["plain", "optimized"])
def test_report_returns_the_four_paths_and_writes_each(reports: dict[str, Any], variant: str):
    paths = reports[variant]["paths"]
    assert (
        set(paths)
        == set(REPORT_FILES)
        == {"executive_summary_json", "detailed_csv", "executive_text", "html"}
    )
    for key, path in paths.items():
        assert Path(path).is_file() and Path(path).stat().st_size > 0, key
        assert Path(path).name.startswith(variant)


@pytest.mark.parametrize("variant", ["plain", "optimized", "hostile"])
def test_writes_leave_only_the_four_report_files(reports: dict[str, Any], variant: str):
    names = sorted(p.name for p in reports[variant]["folder"].iterdir())
    assert names == sorted(f"{variant}{end}" for end in REPORT_FILES.values())


@pytest.mark.parametrize("variant", ["plain", "optimized", "hostile"])
def test_the_input_is_not_mutated(reports: dict[str, Any], variant: str):
    assert reports[variant]["input"] == reports[variant]["before"]


# --------------------------------------------------------------------------------- JSON


def test_summary_json_has_schema_and_headline_numbers(reports, results):
    doc = json.loads(
        read(reports, "plain", "executive_summary_json"),
        parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"),
    )
    assert set(doc) >= HEADLINE_KEYS
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["media"]["roi"] == pytest.approx(results["media"]["roi"])
    assert doc["media"]["share_of_revenue"] == pytest.approx(results["media"]["share_of_revenue"])
    rois = {c: v["roi"] for c, v in results["channels"].items()}
    assert doc["best_channel_by_roi"]["channel"] == max(rois, key=rois.get)
    assert doc["worst_channel_by_roi"]["channel"] == min(rois, key=rois.get)
    mrois = {c: v["mroi"] for c, v in results["channels"].items()}
    assert doc["best_channel_by_mroi"]["channel"] == max(mrois, key=mrois.get)
    assert doc["fit"]["in_sample"]["r2"] == pytest.approx(results["performance"]["r2_score"])
    assert doc["fit"]["holdout"]["mape"] == pytest.approx(results["performance"]["holdout"]["mape"])
    assert doc["warnings"] == results["diagnostics"]["warnings"]
    assert doc["optimization"] is None


def test_summary_json_carries_the_optimization_headline(reports, with_optimization):
    opt = json.loads(read(reports, "optimized", "executive_summary_json"))["optimization"]
    given = with_optimization["optimization"]
    assert opt["uplift"]["revenue"] == pytest.approx(given["uplift"]["revenue"])
    assert opt["uplift"]["revenue_pct"] == pytest.approx(5.0)
    assert opt["uplift"]["interval"] == pytest.approx(given["uplift"]["interval"])
    assert opt["uplift"]["probability_better"] == pytest.approx(0.87)
    assert opt["objective"] == "revenue" and opt["converged"] is True
    first = next(iter(given["channels"]))
    assert opt["channels"][-1]["channel"] == first  # the only cut comes last
    assert opt["channels"][-1]["change_pct"] == pytest.approx(-20.0)


# --------------------------------------------------------------------------------- CSV


def test_csv_has_one_row_per_channel_with_intervals_as_columns(reports, results):
    rows = list(csv.DictReader(read(reports, "plain", "detailed_csv").splitlines()))
    assert [r["channel"] for r in rows] == list(results["channels"])
    for row in rows:
        entry = results["channels"][row["channel"]]
        assert float(row["roi"]) == pytest.approx(entry["roi"])
        assert [float(row["roi_lo"]), float(row["roi_hi"])] == pytest.approx(entry["roi_interval"])
        assert float(row["mroi_hi"]) == pytest.approx(entry["mroi_interval"][1])
        assert float(row["adstock_rate"]) == pytest.approx(entry["adstock"]["rate"])
        assert float(row["saturation_half_saturation"]) == pytest.approx(
            entry["saturation"]["half_saturation"]
        )
    assert not any(k.startswith("optimization_") for k in rows[0])


def test_csv_adds_the_optimization_columns(reports, with_optimization):
    rows = list(csv.DictReader(read(reports, "optimized", "detailed_csv").splitlines()))
    given = with_optimization["optimization"]["channels"]
    for row in rows:
        assert float(row["optimization_optimal"]) == pytest.approx(given[row["channel"]]["optimal"])
        assert float(row["optimization_change_pct"]) == pytest.approx(
            given[row["channel"]]["change_pct"]
        )
        assert row["optimization_bounds_lo"] and row["optimization_bounds_hi"]


# --------------------------------------------------------------------------------- text


@pytest.mark.parametrize("variant", ["plain", "optimized"])
def test_text_names_every_channel_and_the_fit_quality(reports, results, variant):
    text = read(reports, variant, "executive_text")
    for channel in results["channels"]:
        assert channel in text
    assert "90% interval" in text and "R²" in text and "Caveats:" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_text_states_the_recommendation_with_its_interval_and_probability(reports):
    text = read(reports, "optimized", "executive_text")
    assert "WHAT THE OPTIMIZER RECOMMENDS" in text
    assert "(+5.0%)" in text and "90% interval" in text and "87.0%" in text
    assert "unspent" not in text  # -2.3e-10 left over is rounding, not money kept back
    assert "WHAT THE OPTIMIZER RECOMMENDS" not in read(reports, "plain", "executive_text")


# --------------------------------------------------------------------------------- HTML


@pytest.mark.parametrize("name", FIGURES)
@pytest.mark.parametrize("variant", ["plain", "optimized"])
def test_html_has_every_figure(reports, variant, name):
    assert f'data-figure="{name}"' in read(reports, variant, "html")


@pytest.mark.parametrize("name", OPTIMIZATION_FIGURES)
def test_html_has_the_optimizer_figures_only_with_an_optimization(reports, name):
    assert f'data-figure="{name}"' in read(reports, "optimized", "html")
    assert f'data-figure="{name}"' not in read(reports, "plain", "html")


@pytest.mark.parametrize("variant", ["plain", "optimized", "hostile"])
def test_html_is_self_contained(reports, variant):
    page = read(reports, variant, "html")
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(?!data:)[a-z]*:?//""", page)
    sources = re.findall(r'<img [^>]*src="([^"]*)"', page)
    assert len(sources) >= len(FIGURES)
    assert all(s.startswith("data:image/png;base64,iVBORw0KGgo") for s in sources)


def test_html_escapes_strings_from_the_data(reports):
    page = read(reports, "hostile", "html")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; $tv$" in page
    for name in FIGURES + OPTIMIZATION_FIGURES:  # a '$' in a name does not break matplotlib
        assert f'data-figure="{name}"' in page
    assert HOSTILE in read(reports, "hostile", "executive_text")


def test_report_degrades_when_optional_parts_are_missing(tmp_path, results):
    """Only channels and performance, plus the reference's four optimization keys."""
    channels = {
        c: {k: v for k, v in entry.items() if k not in ("mroi_interval", "share_interval")}
        for c, entry in results["channels"].items()
    }
    bare = {
        "channels": channels,
        "performance": {"r2_score": 0.8, "mape": 4.0},
        "optimization": {
            "allocation": {c: 1000.0 for c in channels},
            "projected_roi": 1.5,
            "projected_revenue": 4500.0,
            "optimization_objective": "roi",
        },
    }
    paths = ExecutiveReporting(tmp_path).generate_mmm_report(bare, "bare")
    page = Path(paths["html"]).read_text(encoding="utf-8")
    for name in ("roi", "waterfall", "adstock_decay", "reallocation"):
        assert f'data-figure="{name}"' in page
    for name in ("actual_vs_fitted", "contribution_over_time", "response_curves", "frontier"):
        assert f'id="missing-{name}"' in page and f'data-figure="{name}"' not in page
    text = Path(paths["executive_text"]).read_text(encoding="utf-8")
    assert "WHAT THE OPTIMIZER RECOMMENDS" in text and "Expected revenue from media 4.50K" in text
    assert json.loads(Path(paths["executive_summary_json"]).read_text())["fit"]["holdout"] is None


def test_report_accepts_what_the_budget_optimizer_returns(tmp_path, model, results):
    from mmm_core.optimize.budget_optimizer import BudgetOptimizer

    plan = BudgetOptimizer(objective="revenue", frontier_points=5).optimize(
        model, 13 * sum(model.mean_spend_), horizon=13
    )
    paths = ExecutiveReporting(tmp_path).generate_mmm_report({**results, "optimization": plan}, "p")
    page = Path(paths["html"]).read_text(encoding="utf-8")
    for name in FIGURES + OPTIMIZATION_FIGURES:
        assert f'data-figure="{name}"' in page
    summary = json.loads(Path(paths["executive_summary_json"]).read_text())["optimization"]
    assert summary["uplift"]["revenue"] == pytest.approx(plan["uplift"]["revenue"])
    assert summary["uplift"]["probability_better"] == plan["uplift"]["probability_better"]
    assert {m["channel"] for m in summary["channels"]} == set(plan["allocation"])


# --------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "results.json",
        {},
        {"channels": {"tv": {"roi": 1.0}}},
        {"performance": {"r2_score": 0.9}},
        {"channels": {}, "performance": {}},
        {"channels": {"tv": 3.0}, "performance": {}},
        {"channels": {"tv": {"roi": 1.0}}, "performance": {}, "optimization": [1, 2]},
    ],
    ids=[
        "none",
        "list",
        "str",
        "empty",
        "no-performance",
        "no-channels",
        "no-channel",
        "channel-not-dict",
        "optimization-not-dict",
    ],
)
def test_bad_input_raises_model_error_with_a_hint(tmp_path, bad):
    with pytest.raises(MMModelError) as caught:
        ExecutiveReporting(tmp_path / "out").generate_mmm_report(bad)
    assert caught.value.code == Codes.MODEL_ERROR
    assert caught.value.hint
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("prefix", ["", "../up", "a/b", ".hidden", 7])
def test_a_prefix_that_is_not_a_plain_name_is_refused(tmp_path, results, prefix):
    with pytest.raises(MMModelError) as caught:
        ExecutiveReporting(tmp_path).generate_mmm_report(results, prefix)
    assert caught.value.code == Codes.INVALID_PARAMETER


def test_an_unwritable_output_dir_raises_model_error(tmp_path, results):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(MMModelError) as caught:
        ExecutiveReporting(blocker / "reports").generate_mmm_report(results, "x")
    assert caught.value.code == Codes.MODEL_ERROR
    assert "output_dir" in caught.value.hint


def test_a_failed_write_leaves_no_temporary_file(tmp_path, results, monkeypatch):
    monkeypatch.setattr(
        reporting_module, "render_report", lambda *_: dict.fromkeys(REPORT_FILES, "x")
    )

    def refuse(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reporting_module.os, "replace", refuse)
    with pytest.raises(MMModelError) as caught:
        ExecutiveReporting(tmp_path).generate_mmm_report(results, "x")
    assert "No space left" in caught.value.message
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------- defaults


def test_default_folder_is_mmm_home_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("MMM_HOME", str(tmp_path))
    assert ExecutiveReporting().reports_dir == tmp_path / "reports"
    monkeypatch.delenv("MMM_HOME")
    assert ExecutiveReporting().reports_dir == Path(".mmm") / "reports"
    assert ExecutiveReporting(tmp_path / "r").reports_dir == tmp_path / "r"


def test_default_prefix_is_a_utc_stamp_and_never_overwrites(tmp_path, results, monkeypatch):
    monkeypatch.setattr(
        reporting_module, "render_report", lambda *_: dict.fromkeys(REPORT_FILES, "x")
    )
    reporter = ExecutiveReporting(tmp_path)
    first, second = (reporter.generate_mmm_report(results) for _ in range(2))
    names = [Path(p["html"]).name for p in (first, second)]
    assert re.fullmatch(r"mmm_report_\d{8}T\d{6}Z(_2)?\.html", names[0])
    assert names[0] != names[1]
    assert len(list(tmp_path.iterdir())) == 2 * len(REPORT_FILES)


def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, mmm_core, mmm_core.reporting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "band",
    [None, "wide", [[1.0, 2.0]], [[1.0], [2.0, 3.0]], [[0.0] * 41, "x" * 41], {"lo": [], "hi": []}],
)
def test_a_malformed_response_curve_interval_is_left_out_not_fatal(tmp_path, results, band):
    broken = copy.deepcopy(results)
    for curve in broken["response_curves"].values():
        curve["revenue_interval"] = band
    curve["spend"] = curve["revenue"] = []  # one curve with nothing to draw
    curve["revenue_interval"] = [[], []]
    paths = ExecutiveReporting(tmp_path).generate_mmm_report(broken, "band")
    assert 'data-figure="response_curves"' in Path(paths["html"]).read_text(encoding="utf-8")
