"""Tests of the performance analysis: planted anomalies and level shifts found on generated
series, trend directions, efficiency trends, period-over-period figures by hand, the pieces
(PELT, robust z, decomposition) against direct computations, the output contract and errors.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmm_core.errors import Codes, DataIntegrationError, MMModelError
from mmm_core.performance import PerformanceAnalyzer
from mmm_core.performance.anomalies import find_anomalies, robust_z
from mmm_core.performance.changepoints import (
    LinearSegmentCost,
    bic_penalty,
    detect_change_points,
    pelt,
)
from mmm_core.performance.decomposition import decompose, default_periods, usable_periods
from mmm_core.performance.simulate import ANOMALY_GAP, PlantedTruth, simulate_kpi_series

SEEDS = range(8)
TOP_KEYS = {
    "trend",
    "seasonality",
    "change_points",
    "anomalies",
    "period_over_period",
    "efficiency",
    "summary",
    "parameters",
    "dates",
    "kpi_column",
    "n_periods",
    "frequency",
    "schema_version",
}


def _analyze(frame: pd.DataFrame, **kwargs: Any) -> dict[str, Any]:
    return PerformanceAnalyzer().analyze(frame, "kpi", **kwargs)


def _weekly(seed: int, **kwargs: Any) -> tuple[pd.DataFrame, PlantedTruth]:
    return simulate_kpi_series(156, "W-MON", seed=seed, **kwargs)


def _match(found: list[dict[str, Any]], truth: PlantedTruth) -> tuple[int, int]:
    """(true positives with the right direction, false alarms)."""
    planted = dict(zip(truth.anomaly_indices, truth.anomaly_directions, strict=True))
    hits = sum(planted.get(a["index"]) == a["direction"] for a in found)
    return hits, len(found) - hits


# ====================================================================== detection on truth


@pytest.mark.parametrize("shift", [0.2, -0.15])
def test_planted_level_shift_is_found_within_two_periods(shift: float) -> None:
    for seed in SEEDS:
        frame, truth = _weekly(seed, level_shift=shift, n_anomalies=4)
        shifts = [c for c in _analyze(frame)["change_points"] if c["kind"] == "level_shift"]
        assert truth.shift_index is not None
        near = [c for c in shifts if abs(c["index"] - truth.shift_index) <= 2]
        assert len(near) == 1, (seed, truth.shift_index, shifts)
        assert near[0]["change"] == pytest.approx(truth.shift_size, rel=0.25)
        assert len(shifts) <= 2, (seed, shifts)  # few false level shifts


def test_planted_level_shift_in_daily_data_is_found() -> None:
    frame, truth = simulate_kpi_series(1095, "D", level_shift=-0.2, n_anomalies=5, seed=4)
    report = _analyze(frame)
    assert report["seasonality"]["periods"] == [7, 365]
    shifts = [c for c in report["change_points"] if c["kind"] == "level_shift"]
    assert truth.shift_index is not None
    assert [abs(c["index"] - truth.shift_index) <= 2 for c in shifts] == [True]
    assert shifts[0]["change"] < 0
    hits, false = _match(report["anomalies"], truth)
    assert hits == 5 and false <= 2


@pytest.mark.parametrize("shift", [0.0, 0.2])
def test_planted_anomalies_are_found_with_few_false_alarms(shift: float) -> None:
    hits = false = planted = 0
    for seed in SEEDS:
        count = 3 + seed % 4  # 3 to 6 anomalies
        frame, truth = _weekly(100 + seed, n_anomalies=count, level_shift=shift)
        found, wrong = _match(_analyze(frame)["anomalies"], truth)
        hits, false, planted = hits + found, false + wrong, planted + len(truth.anomaly_indices)
    recall, precision = hits / planted, hits / (hits + false)
    assert recall >= 0.8, (recall, precision)
    assert precision >= 0.7, (recall, precision)


def test_anomaly_fields_describe_the_planted_spike() -> None:
    frame, truth = _weekly(7, n_anomalies=3)
    report = _analyze(frame)
    by_index = {a["index"]: a for a in report["anomalies"]}
    for index, direction, size in zip(
        truth.anomaly_indices, truth.anomaly_directions, truth.anomaly_sizes, strict=True
    ):
        found = by_index[index]
        assert found["direction"] == direction
        assert found["date"] == str(frame["date"].iloc[index].date())
        assert found["value"] == pytest.approx(frame["kpi"].iloc[index])
        assert found["residual"] == pytest.approx(found["value"] - found["expected"])
        assert abs(found["robust_z"]) > 3.5
        # Planted as a share of the clean value: the expected value is close to it.
        assert abs(found["size_pct"]) == pytest.approx(100 * size, abs=8)


def test_null_series_gives_at_most_one_false_alarm_on_average() -> None:
    alarms, changes = [], []
    for seed in SEEDS:
        frame, _ = _weekly(200 + seed, n_anomalies=0)
        report = _analyze(frame)
        alarms.append(len(report["anomalies"]))
        changes.append(len(report["change_points"]))
    assert np.mean(alarms) <= 1.0, alarms
    assert np.mean(changes) <= 0.5, changes


def test_points_next_to_a_level_shift_are_not_flagged() -> None:
    frame, truth = _weekly(3, level_shift=0.3, n_anomalies=0)
    report = _analyze(frame)
    (shift,) = [c for c in report["change_points"] if c["kind"] == "level_shift"][:1]
    assert truth.shift_index is not None and shift["index"] == truth.shift_index + 1
    # The step is placed one week late: the first week after it looks like a spike, but it
    # is within the guard (two periods either side of the boundary), so it is not flagged.
    guarded = range(shift["index"] - 2, shift["index"] + 2)
    assert truth.shift_index in guarded
    assert not [a for a in report["anomalies"] if a["index"] in guarded]
    unguarded = PerformanceAnalyzer(changepoint_guard=0).analyze(frame, "kpi")
    assert truth.shift_index in [a["index"] for a in unguarded["anomalies"]]


# ================================================================================ trend


@pytest.mark.parametrize(("growth", "direction"), [(0.25, "up"), (-0.25, "down"), (0.0, "flat")])
def test_trend_direction_is_right(growth: float, direction: str) -> None:
    for seed in range(4):
        frame, _ = _weekly(300 + seed, growth_per_year=growth, n_anomalies=4)
        trend = _analyze(frame)["trend"]
        assert trend["direction"] == direction, (seed, trend["change_pct"])
        # 3 years of growth, relative to the start of the line.
        assert trend["change_pct"] == pytest.approx(100 * 3 * growth, abs=6)
        assert trend["slope_per_year"] == pytest.approx(trend["slope_per_period"] * 52.1775)
        assert len(trend["series"]) == 156


def test_trend_without_change_points_separates_growth_from_a_drop() -> None:
    frame, _ = _weekly(11, growth_per_year=0.08, level_shift=-0.35, n_anomalies=2)
    trend = _analyze(frame)["trend"]
    underlying = trend["excluding_change_points"]
    assert underlying is not None
    assert underlying["direction"] == "up"
    assert underlying["change_pct"] == pytest.approx(24, abs=6)


# ========================================================================== efficiency


def test_roas_falls_when_spend_grows_into_saturation() -> None:
    frame, truth = _weekly(5, channels=1, spend_growth=1.5, n_anomalies=2)
    report = _analyze(frame, spend_columns=truth.spend_columns, conversions_column="conversions")
    entry = report["efficiency"]["channels"]["ch1_spend"]
    assert entry["spend_trend"]["direction"] == "up"
    assert entry["roas"]["trend"]["direction"] == "down"
    assert entry["roas"]["trend"]["change_pct"] < -20
    assert entry["cpa"]["trend"]["direction"] == "up"
    kpi, spend = frame["kpi"].to_numpy(), frame["ch1_spend"].to_numpy()
    assert entry["roas"]["average"] == pytest.approx(kpi.sum() / spend.sum())
    assert entry["roas"]["latest"] == pytest.approx(kpi[-4:].sum() / spend[-4:].sum())
    assert entry["roas"]["series"][0] == pytest.approx(kpi[0] / spend[0])
    assert any("diminishing returns" in line for line in report["summary"])


def test_roas_and_spend_are_mostly_flat_when_nothing_changes() -> None:
    directions = []
    for seed in SEEDS:
        frame, truth = _weekly(
            400 + seed, channels=2, spend_noise=0.05, growth_per_year=0.0, n_anomalies=2
        )
        report = _analyze(frame, spend_columns=truth.spend_columns)
        for entry in report["efficiency"]["channels"].values():
            directions += [entry["roas"]["trend"]["direction"], entry["spend_trend"]["direction"]]
            assert entry["cpa"] is None
        shares = [e["spend_share"] for e in report["efficiency"]["channels"].values()]
        assert sum(shares) == pytest.approx(1.0)
        assert report["efficiency"]["blended"]["spend_total"] == pytest.approx(
            frame[truth.spend_columns].to_numpy().sum()
        )
    assert directions.count("flat") >= 0.9 * len(directions), directions


def test_channel_without_spend_has_no_ratios() -> None:
    frame, _ = _weekly(1, n_anomalies=0)
    frame["tv"] = 0.0
    frame["search"] = 50.0
    report = _analyze(frame, spend_columns=["tv", "search"])
    assert report["efficiency"]["channels"]["tv"]["roas"] is None
    assert "tv had no spend." in report["summary"]


# =================================================================== period over period


def _frame(kpi: np.ndarray, freq: str = "W-MON", **columns: np.ndarray) -> pd.DataFrame:
    dates = pd.date_range("2023-01-02", periods=len(kpi), freq=freq)
    return pd.DataFrame({"date": dates, **columns, "kpi": kpi})


def test_week_over_week_figures_by_hand() -> None:
    kpi = np.arange(1.0, 11.0)  # 1 .. 10
    spend = np.full(10, 2.0)
    conversions = np.full(10, 4.0)
    frame = _frame(kpi, spend=spend, orders=conversions)
    pop = _analyze(frame, spend_columns=["spend"], conversions_column="orders")[
        "period_over_period"
    ]
    assert set(pop) == {"week", "four_weeks"}  # a quarter needs 26 rows
    week = pop["week"]
    assert week["current"] == {
        "start": "2023-03-06",
        "end": "2023-03-06",
        "start_index": 9,
        "end_index": 9,
    }
    assert week["last_year"] is None
    figures = week["metrics"]["kpi"]
    assert (figures["current"], figures["previous"], figures["change"]) == (10.0, 9.0, 1.0)
    assert figures["change_pct"] == pytest.approx(100 / 9)
    assert figures["last_year"] is None and figures["yoy_change_pct"] is None
    four = pop["four_weeks"]["metrics"]
    assert four["kpi"]["current"] == 7 + 8 + 9 + 10
    assert four["kpi"]["previous"] == 3 + 4 + 5 + 6
    assert four["total_spend"]["current"] == 8.0
    assert four["roas"]["current"] == pytest.approx(34 / 8)
    assert four["roas"]["previous"] == pytest.approx(18 / 8)
    assert four["orders"]["current"] == 16.0
    assert four["cpa"]["current"] == pytest.approx(8 / 16)


def test_same_period_last_year_is_52_weeks_back() -> None:
    kpi = np.linspace(100.0, 200.0, 60)
    pop = _analyze(_frame(kpi))["period_over_period"]
    week = pop["week"]
    assert week["last_year"]["start_index"] == 59 - 52
    figures = week["metrics"]["kpi"]
    assert figures["last_year"] == pytest.approx(kpi[7])
    assert figures["yoy_change"] == pytest.approx(kpi[59] - kpi[7])
    assert figures["yoy_change_pct"] == pytest.approx(100 * (kpi[59] / kpi[7] - 1))
    quarter = pop["quarter"]["metrics"]["kpi"]
    assert quarter["current"] == pytest.approx(kpi[47:].sum())
    assert quarter["previous"] == pytest.approx(kpi[34:47].sum())
    assert quarter["last_year"] is None  # 13 weeks a year back would start before the data


def test_daily_windows_are_weeks_and_the_year_is_364_days() -> None:
    kpi = np.arange(400.0)
    pop = _analyze(_frame(kpi, freq="D"))["period_over_period"]
    assert {name: w["periods"] for name, w in pop.items()} == {
        "week": 7,
        "four_weeks": 28,
        "quarter": 91,
    }
    week = pop["week"]["metrics"]["kpi"]
    assert week["current"] == kpi[-7:].sum()
    assert week["previous"] == kpi[-14:-7].sum()
    assert week["last_year"] == kpi[-7 - 364 : -364].sum()
    assert pop["week"]["last_year"]["start"] == str(
        (pd.Timestamp("2023-01-02") + pd.Timedelta(days=393 - 364)).date()
    )


def test_mean_aggregate_for_rates() -> None:
    kpi = np.arange(1.0, 11.0)
    frame = _frame(kpi)
    report = PerformanceAnalyzer(aggregate="mean").analyze(frame, "kpi")
    assert report["period_over_period"]["four_weeks"]["metrics"]["kpi"]["current"] == 8.5


# ========================================================================= the pieces


def _brute_force_sse(y: np.ndarray, s: int, t: int) -> float:
    x = np.column_stack([np.ones(t - s), np.arange(s, t)])
    beta, *_ = np.linalg.lstsq(x, y[s:t], rcond=None)
    return float(np.sum((y[s:t] - x @ beta) ** 2))


def test_segment_cost_from_cumulative_sums_matches_least_squares() -> None:
    y = np.random.default_rng(0).normal(5.0, 2.0, 40).cumsum()
    cost = LinearSegmentCost(y)
    for s, t in [(0, 40), (3, 17), (10, 12), (25, 39)]:
        expected = _brute_force_sse(y, s, t)
        assert cost.cost(np.array([s]), t)[0] == pytest.approx(expected, abs=1e-6)


def _optimal_partitioning(cost: LinearSegmentCost, penalty: float, min_size: int) -> float:
    """Best penalised cost by exhaustive dynamic programming (no pruning)."""
    n = cost.n
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    for t in range(min_size, n + 1):
        starts = [s for s in range(0, t - min_size + 1) if s == 0 or s >= min_size]
        best[t] = min(best[s] + float(cost.cost(np.array([s]), t)[0]) + penalty for s in starts)
    return float(best[n])


def test_pelt_finds_the_optimal_segmentation() -> None:
    rng = np.random.default_rng(1)
    for _ in range(5):
        y = np.r_[np.zeros(30), np.full(25, 4.0), np.linspace(4, 0, 25)] + rng.normal(0, 1, 80)
        cost = LinearSegmentCost(y)
        penalty = bic_penalty(80)
        changes = pelt(cost, penalty, 5)
        bounds = [0, *changes, 80]
        total = sum(
            float(cost.cost(np.array([a]), b)[0]) for a, b in itertools.pairwise(bounds)
        ) + penalty * len(changes)
        assert total == pytest.approx(_optimal_partitioning(cost, penalty, 5))
        assert any(abs(c - 30) <= 1 for c in changes)


def test_change_points_of_a_clean_step_and_none_in_noise() -> None:
    rng = np.random.default_rng(2)
    step = np.r_[np.full(50, 10.0), np.full(50, 13.0)] + rng.normal(0, 1, 100)
    points = detect_change_points(step)
    assert [p.index for p in points] == [50]
    assert points[0].kind == "level_shift"
    assert points[0].jump == pytest.approx(3.0, abs=0.8)
    assert points[0].before_mean == pytest.approx(step[:50].mean())
    false = sum(len(detect_change_points(rng.normal(0, 1, 150))) for _ in range(20))
    assert false <= 2


def test_robust_z_is_the_modified_z_score() -> None:
    r = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    mad = np.median(np.abs(r - 3.0))  # 1.0
    assert robust_z(r) == pytest.approx(0.6745 * (r - 3.0) / mad)
    # MAD of 0: the mean absolute deviation stands in.
    flat = np.array([5.0, 5.0, 5.0, 5.0, 9.0])
    assert robust_z(flat)[-1] == pytest.approx(4.0 / (1.2533 * 0.8))
    assert not robust_z(np.zeros(4)).any()


def test_anomalies_near_a_change_point_are_skipped() -> None:
    values = np.r_[np.zeros(20), [50.0], np.zeros(20)] + np.linspace(0, 0.1, 41)
    expected = np.linspace(0, 0.1, 41)
    values[[3, 30]] += 0.05
    assert [a.index for a in find_anomalies(values, expected)] == [20]
    assert find_anomalies(values, expected, exclude_near=[21], guard=2) == []
    assert [a.index for a in find_anomalies(values, expected, exclude_near=[24])] == [20]


def test_periods_come_from_the_frequency_and_need_two_cycles() -> None:
    assert default_periods(365.25) == (7, 365)
    assert default_periods(52.1775) == (52,)
    assert default_periods(12.0) == (12,)
    assert default_periods(None) == ()
    assert usable_periods((7, 365), 400) == (7,)
    assert usable_periods((52,), 103) == ()


def test_short_series_has_no_seasonal_component_and_a_rolling_median_trend() -> None:
    frame, _ = simulate_kpi_series(80, "W-MON", n_anomalies=2, seed=0)
    report = _analyze(frame)
    season = report["seasonality"]
    assert not season["detected"] and season["periods_without_two_cycles"] == [52]
    assert season["strength"] == 0.0 and not any(season["series"])
    assert report["parameters"]["decomposition"] == "rolling_median"
    parts = decompose(frame["kpi"].to_numpy(), (52,))
    assert parts.method == "rolling_median" and parts.window is not None
    # The rolling median ignores a spike.
    y = np.ones(30)
    y[15] = 100.0
    assert decompose(y, ()).trend[15] == 1.0


def test_decomposition_recovers_a_clean_pattern_and_the_leverage_of_three_cycles() -> None:
    t = np.arange(156)
    pattern = 10 * np.sin(2 * np.pi * t / 52)
    parts = decompose(100 + 0.05 * t + pattern, (52,))
    assert parts.seasonal == pytest.approx(pattern, abs=0.5)
    assert np.median(parts.leverage) == pytest.approx(1 / 3 + 1.728 / 79, abs=0.01)


def test_decomposition_screens_a_spike_out_of_the_pattern() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(156)
    y = 1000 + 100 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 10, 156)
    y[79] -= 300  # 30 noise sd: with 3 cycles it used to leak into weeks 27 and 131
    parts = decompose(y, (52,))
    assert parts.weights[79] == 0.0
    assert parts.residual[79] < -250
    assert abs(parts.residual[27]) < 40 and abs(parts.residual[131]) < 40


def test_simulator_plants_what_it_reports() -> None:
    _, truth = simulate_kpi_series(200, "W-MON", n_anomalies=6, level_shift=0.2, seed=9)
    indices = truth.anomaly_indices
    assert len(indices) == 6 and indices == sorted(indices)
    assert set(truth.anomaly_directions) == {"spike", "dip"}
    assert truth.shift_index is not None and 60 <= truth.shift_index < 140
    assert min(np.diff(indices)) >= ANOMALY_GAP
    assert all(abs(i - truth.shift_index) >= ANOMALY_GAP for i in indices)
    json.dumps(truth.to_dict())


# ==================================================================== contract, errors


def test_report_is_json_serialisable_with_the_documented_keys() -> None:
    frame, truth = _weekly(2, channels=2, spend_growth=0.5, level_shift=0.2)
    report = _analyze(frame, spend_columns=truth.spend_columns, conversions_column="conversions")
    assert set(report) == TOP_KEYS
    text = json.dumps(report, allow_nan=False)
    assert json.loads(text) == report
    assert len(report["dates"]) == len(report["trend"]["series"]) == 156
    assert len(report["seasonality"]["series"]) == 156
    assert all(isinstance(line, str) and line for line in report["summary"])
    point = report["change_points"][0]
    assert set(point) >= {
        "date",
        "index",
        "before_mean",
        "after_mean",
        "change",
        "change_pct",
        "score",
    }


def test_series_can_be_left_out() -> None:
    frame, truth = _weekly(2, channels=1)
    light = PerformanceAnalyzer(include_series=False).analyze(
        frame, "kpi", spend_columns=truth.spend_columns
    )
    full = _analyze(frame, spend_columns=truth.spend_columns)

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value).union(*(keys(v) for v in value.values()))
        if isinstance(value, list):
            return set().union(*(keys(v) for v in value))
        return set()

    assert "series" in keys(full) and "series" not in keys(light)
    assert light["anomalies"] == full["anomalies"] and light["summary"] == full["summary"]


def test_kpi_around_zero_gets_no_percentages() -> None:
    frame, _ = _weekly(3, level=500.0, noise=0.2, n_anomalies=2)
    frame["kpi"] -= 500.0  # a profit that goes negative
    report = _analyze(frame)
    assert report["trend"]["change_pct"] is None
    assert all(a["size_pct"] is None for a in report["anomalies"])
    assert all(c["amplitude_pct"] is None for c in report["seasonality"]["components"].values())
    assert all("%" not in line for line in report["summary"][:2])
    json.dumps(report, allow_nan=False)


def test_without_dates_rows_are_periods_and_seasonality_needs_a_period() -> None:
    frame, truth = _weekly(4, n_anomalies=3)
    plain = frame.drop(columns="date")
    report = _analyze(plain)
    assert report["dates"] is None and report["frequency"] is None
    assert not report["seasonality"]["detected"]
    assert report["trend"]["slope_per_year"] is None
    assert all(a["date"] is None for a in report["anomalies"])
    assert set(report["period_over_period"]) == {"period", "four_periods", "thirteen_periods"}
    json.dumps(report, allow_nan=False)
    seasonal = PerformanceAnalyzer(period=52).analyze(plain, "kpi", date_column=False)
    assert seasonal["seasonality"]["periods"] == [52]
    assert seasonal["period_over_period"]["period"]["last_year"]["start_index"] == 155 - 52
    hits, _ = _match(seasonal["anomalies"], truth)
    assert hits == 3


def test_rows_out_of_order_are_sorted_by_date() -> None:
    frame, truth = _weekly(8, n_anomalies=3)
    shuffled = frame.sample(frac=1.0, random_state=0)
    assert _analyze(shuffled) == _analyze(frame)
    assert sorted(a["index"] for a in _analyze(shuffled)["anomalies"]) == truth.anomaly_indices


def test_constant_kpi_and_period_one_are_handled() -> None:
    frame = _frame(np.full(30, 7.0))
    report = _analyze(frame)
    assert report["anomalies"] == [] and report["change_points"] == []
    assert report["trend"]["direction"] == "flat"
    json.dumps(report, allow_nan=False)
    seasonal, _ = _weekly(0, n_anomalies=0)
    off = PerformanceAnalyzer(period=1).analyze(seasonal, "kpi")
    assert off["seasonality"]["periods"] == [] and off["parameters"]["candidate_periods"] == []


def _code(excinfo: pytest.ExceptionInfo[MMModelError]) -> str:
    return excinfo.value.code


@pytest.mark.parametrize(
    ("mutate", "kwargs", "code"),
    [
        (lambda f: f.drop(columns="kpi"), {}, Codes.MISSING_COLUMN),
        (lambda f: f.assign(kpi=f["kpi"].astype(str) + " EUR"), {}, Codes.NON_NUMERIC),
        (lambda f: f.assign(kpi=f["kpi"].where(f.index != 5)), {}, Codes.NON_FINITE),
        (lambda f: f.head(5), {}, Codes.TOO_FEW_ROWS),
        (lambda f: f.iloc[[*range(20), 3]], {}, Codes.DUPLICATE_DATES),
        (lambda f: f.drop(index=[10]), {}, Codes.IRREGULAR_DATES),
        (lambda f: f.iloc[0:0], {}, Codes.EMPTY_DATA),
        (lambda f: f.assign(date="not a date"), {"date_column": "date"}, Codes.BAD_DATES),
        (lambda f: f.assign(tv=-1.0), {"spend_columns": ["tv"]}, Codes.NEGATIVE_SPEND),
        (lambda f: f.assign(tv=1.0), {"spend_columns": ["kpi"]}, Codes.DUPLICATE_COLUMNS),
        (lambda f: f.assign(orders=-1.0), {"conversions_column": "orders"}, Codes.DATA_ERROR),
        (lambda f: f, {"spend_columns": "tv"}, Codes.DATA_ERROR),
        (lambda f: f, {"date_column": 3}, Codes.DATA_ERROR),
    ],
)
def test_bad_data_raises_a_coded_error_with_a_hint(
    mutate: Any, kwargs: dict[str, Any], code: str
) -> None:
    frame, _ = _weekly(0, n_anomalies=0)
    with pytest.raises(DataIntegrationError) as excinfo:
        _analyze(mutate(frame), **kwargs)
    assert _code(excinfo) == code
    assert excinfo.value.hint
    json.dumps(excinfo.value.to_dict())


def test_missing_column_suggests_the_closest_name() -> None:
    frame, _ = _weekly(0, n_anomalies=0)
    with pytest.raises(DataIntegrationError, match="did you mean 'kpi'"):
        PerformanceAnalyzer().analyze(frame, "KPI")
    with pytest.raises(DataIntegrationError) as excinfo:
        PerformanceAnalyzer().analyze([1, 2, 3], "kpi")  # type: ignore[arg-type]
    assert excinfo.value.code == Codes.EMPTY_DATA


@pytest.mark.parametrize(
    "kwargs",
    [
        {"period": 0},
        {"period": "weekly"},
        {"period": [7, 1]},
        {"anomaly_threshold": 0},
        {"anomaly_threshold": float("nan")},
        {"changepoint_penalty": -1.0},
        {"min_segment": 2},
        {"changepoint_guard": -1},
        {"seasonal": 8},
        {"robust": "yes"},
        {"include_series": 1},
        {"flat_tolerance": -0.1},
        {"aggregate": "median"},
    ],
)
def test_bad_parameters_raise_invalid_parameter(kwargs: dict[str, Any]) -> None:
    frame, _ = _weekly(0, n_anomalies=0)
    with pytest.raises(MMModelError) as excinfo:
        PerformanceAnalyzer(**kwargs).analyze(frame, "kpi")
    assert excinfo.value.code == Codes.INVALID_PARAMETER
    assert excinfo.value.hint
