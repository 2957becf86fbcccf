"""The promotion gate: production scored on the candidate's hold-out, fallbacks, settings."""

from __future__ import annotations

import copy

import pandas as pd

from lambdas.api.config import Settings
from lambdas.api.gate import evaluate_promotion, gate_settings
from mmm_core import EconometricMMM


def test_without_production_only_the_floors_apply(fitted: EconometricMMM) -> None:
    verdict = evaluate_promotion(fitted.results_)
    assert verdict["passed"] and verdict["production"] is None
    assert "no_regression" not in {c["name"] for c in verdict["checks"]}


def test_production_is_scored_on_the_candidates_holdout(
    fitted: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    verdict = evaluate_promotion(fitted.results_, production_model=fitted, data=mmm_frame)
    assert verdict["production"]["basis"] == "candidate_holdout"
    assert verdict["production"]["periods"] == fitted.results_["performance"]["holdout"]["periods"]
    assert verdict["passed"]


def test_a_candidate_worse_than_production_fails(
    fitted: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    worse = copy.deepcopy(fitted.results_)
    worse["performance"]["holdout"]["mape"] *= 2
    verdict = evaluate_promotion(worse, production_model=fitted, data=mmm_frame)
    assert not verdict["passed"]
    assert any("worse than production" in reason for reason in verdict["reasons"])


def test_production_falls_back_to_its_own_holdout(
    fitted: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    other_data = mmm_frame.drop(columns=["tv_spend"])  # production's channels are not there
    verdict = evaluate_promotion(
        fitted.results_,
        production_model=fitted,
        data=other_data,
        production_results=fitted.results_,
    )
    assert verdict["production"]["basis"] == "own_holdout"
    assert verdict["passed"]


def test_settings_set_the_thresholds(fitted: EconometricMMM) -> None:
    strict = gate_settings(Settings(gate_min_r2=0.99, gate_max_regression=0.0))
    assert strict.min_r2 == 0.99 and strict.max_regression == 0.0
    verdict = evaluate_promotion(fitted.results_, settings=strict)
    assert not verdict["passed"]
    assert any("below 0.99" in reason for reason in verdict["reasons"])
