"""The quality gate: floors, no regression against production, every failure explained."""

from __future__ import annotations

import copy

import pytest

from mmm_core.models.quality_gate import GateSettings, evaluate_gate, holdout_metrics


def test_a_good_model_passes_with_no_production(auto_mmm) -> None:
    verdict = evaluate_gate(auto_mmm.results_)
    assert verdict["passed"] and verdict["reasons"] == []
    assert {c["name"] for c in verdict["checks"]} == {"min_r2", "max_holdout_mape", "roi_intervals"}


def test_a_model_worse_than_production_on_the_same_holdout_is_refused(auto_mmm) -> None:
    mape = auto_mmm.results_["performance"]["holdout"]["mape"]
    verdict = evaluate_gate(auto_mmm.results_, {"mape": mape / 2})
    assert not verdict["passed"]
    assert any("worse than production" in r for r in verdict["reasons"])
    assert evaluate_gate(auto_mmm.results_, {"mape": mape * 1.05})["passed"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: r["performance"].__setitem__("r2_score", 0.1), "below 0.5"),
        (lambda r: r["performance"].__setitem__("holdout", None), "no hold-out score"),
        (lambda r: r["performance"]["holdout"].__setitem__("mape", 80.0), "above 25.0%"),
        (
            lambda r: [c.__setitem__("roi_interval", None) for c in r["channels"].values()],
            "no ROI intervals",
        ),
    ],
)
def test_each_failed_floor_says_why(auto_mmm, change, reason) -> None:
    results = copy.deepcopy(auto_mmm.results_)
    change(results)
    verdict = evaluate_gate(results)
    assert not verdict["passed"]
    assert any(reason in r for r in verdict["reasons"]), verdict["reasons"]


def test_settings_come_from_a_mapping_and_ignore_unknown_keys() -> None:
    settings = GateSettings.from_mapping({"min_r2": "0.8", "colour": "blue"})
    assert settings == GateSettings(min_r2=0.8)


def test_production_is_scored_exactly_as_a_candidate_on_unseen_periods(auto_mmm, mmm_frame) -> None:
    # Refitting the model's own specification without the tail and predicting the tail is the
    # procedure behind a candidate's hold-out score: the same model must score the same.
    own = auto_mmm.results_["performance"]["holdout"]
    metrics = holdout_metrics(auto_mmm, mmm_frame, own["periods"])
    assert metrics["mape"] == pytest.approx(own["mape"], rel=1e-6)
    shuffled = mmm_frame.sample(frac=1.0, random_state=0)
    assert holdout_metrics(auto_mmm, shuffled, own["periods"]) == pytest.approx(metrics)
