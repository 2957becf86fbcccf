"""The dbt project built for real on DuckDB: marts, reconciliations, and tests that catch problems.

One ``dbt build`` per home and session: a clean home (the sample as generated) and a dirty one
(a negative spend, a missing week, a duplicated row and a stale feed planted). Tests only read
what those builds left (reports, the DuckDB file, the raw parquet).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dbt.cli.main", reason="dbt-core is not installed (pip install '.[dbt]')")
duckdb = pytest.importorskip("duckdb")

from mmm_core import EconometricMMM  # noqa: E402
from mmm_core.attribution.heuristics import heuristic_attribution  # noqa: E402
from mmm_core.attribution.journeys import parse_journeys  # noqa: E402
from mmm_core.data.synthetic import generate_mmm_data  # noqa: E402
from mmm_core.dbt_integration import (  # noqa: E402
    MODELLING_TABLE,
    PROJECT_ENV,
    DBTIntegration,
    modelling_fit_arguments,
)
from mmm_core.errors import Codes, DataIntegrationError  # noqa: E402

CHANNELS = ["tv", "search", "social", "display", "radio"]
SPEND_COLUMNS = [f"{c}_spend" for c in CHANNELS]
MARKETS = ["north", "south"]
WEEKS = 104
RULES = ["first_touch", "last_touch", "linear", "time_decay"]
#: The problems planted in the dirty sample and the tests (or sources) that must name them.
PLANTED = {
    "negative_spend": ["stg_media_spend_no_negative_spend"],
    "missing_week": ["stg_media_spend_no_missing_weeks", "stg_sales_no_missing_weeks"],
    "duplicate_row": ["stg_media_spend_unique_day_market_channel"],
}


def _project_files(project: Path) -> set[str]:
    return {str(p.relative_to(project)) for p in project.rglob("*")}


@pytest.fixture(scope="session")
def project_snapshot() -> tuple[Path, set[str]]:
    """The dbt project's files before any build (dbt must write nothing there)."""
    project = DBTIntegration().project_path
    return project, _project_files(project)


@pytest.fixture(scope="session")
def clean(
    tmp_path_factory: pytest.TempPathFactory, project_snapshot: tuple[Path, set[str]]
) -> tuple[DBTIntegration, dict[str, Any], dict[str, Any]]:
    """A home seeded with the clean sample and built once: (integration, seeded, report)."""
    home = tmp_path_factory.mktemp("dbt_clean")
    dbt = DBTIntegration(home=home)
    seeded = dbt.seed_sample(home, seed=0)
    return dbt, seeded, dbt.build()


@pytest.fixture(scope="session")
def dirty(
    tmp_path_factory: pytest.TempPathFactory, project_snapshot: tuple[Path, set[str]]
) -> tuple[DBTIntegration, dict[str, Any], DataIntegrationError]:
    """A home seeded with the dirty sample; its one build's error: (integration, seeded, error)."""
    home = tmp_path_factory.mktemp("dbt_dirty")
    dbt = DBTIntegration(home=home)
    seeded = dbt.seed_sample(home, seed=0, dirty=True)
    with pytest.raises(DataIntegrationError) as info:
        dbt.build()
    return dbt, seeded, info.value


@pytest.fixture(scope="session")
def raw_daily(clean: tuple[DBTIntegration, dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    """The clean home's raw tables, read back with pandas."""
    _, seeded, _ = clean
    return {name: pd.read_parquet(t["path"]) for name, t in seeded["tables"].items()}


def _query(dbt: DBTIntegration, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(dbt.database_path), read_only=True) as con:
        return con.execute(sql).df()


# --------------------------------------------------------------------------------------------
# Clean data: the models and what they hold.
# --------------------------------------------------------------------------------------------


def test_build_creates_every_model_with_its_row_count(clean):
    _, seeded, report = clean
    models = report["models"]
    assert report["status"] == "success"
    assert {m["status"] for m in models.values()} == {"success"}
    rows = {name: m["rows"] for name, m in models.items()}
    days = WEEKS * 7
    assert rows["stg_markets"] == len(MARKETS)
    assert rows["stg_media_spend"] == len(MARKETS) * days * len(CHANNELS)
    assert rows["stg_sales"] == len(MARKETS) * days
    assert rows["stg_journey_touchpoints"] == seeded["tables"]["journey_touchpoints"]["rows"]
    assert rows[MODELLING_TABLE] == len(MARKETS) * WEEKS
    assert 0 < rows["attribution_by_channel"] <= len(MARKETS) * len(RULES) * len(CHANNELS)
    assert all(m["seconds"] >= 0 for m in models.values())


def test_modelling_table_has_one_row_per_market_week_with_spend_columns_and_kpi(clean):
    dbt, _, _ = clean
    table = dbt.read_modelling_table()
    assert list(table.columns) == [
        "market",
        "date",
        *SPEND_COLUMNS,
        "price_index",
        "promo",
        "revenue",
        "conversions",
    ]
    assert not table.duplicated(["market", "date"]).any()
    for market in MARKETS:
        dates = table.loc[table.market == market, "date"]
        expected = pd.date_range("2022-01-03", periods=WEEKS, freq="W-MON")
        assert list(dates) == list(expected)


def test_modelling_table_spend_and_kpi_are_weekly_sums_of_raw_daily_data(clean, raw_daily):
    dbt, _, _ = clean
    table = dbt.read_modelling_table().set_index(["market", "date"]).sort_index()
    media = raw_daily["media_spend"].assign(date=lambda f: pd.to_datetime(f["date"]))
    sales = raw_daily["sales"].assign(date=lambda f: pd.to_datetime(f["date"]))
    week = lambda f: f["date"] - pd.to_timedelta(f["date"].dt.day_of_week, unit="D")  # noqa: E731
    spend = (
        media.assign(week=week(media))
        .pivot_table(index=["market", "week"], columns="channel", values="spend", aggfunc="sum")
        .sort_index()
    )
    weekly_sales = sales.assign(week=week(sales)).groupby(["market", "week"]).sum(numeric_only=True)
    for channel in CHANNELS:
        np.testing.assert_allclose(table[f"{channel}_spend"], spend[channel], rtol=0, atol=1e-6)
    np.testing.assert_allclose(table["revenue"], weekly_sales["revenue"], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(table["conversions"], weekly_sales["conversions"])
    np.testing.assert_allclose(table["price_index"], weekly_sales["price_index"] / 7, atol=1e-12)


def test_modelling_table_of_a_market_is_the_generators_frame(clean):
    dbt, _, _ = clean
    north = dbt.read_modelling_table(market="north")
    frame, truth = generate_mmm_data(weeks=WEEKS, channels=len(CHANNELS), seed=0)
    assert truth.spend_columns == SPEND_COLUMNS
    assert list(north["date"]) == list(frame["date"])
    for column in [*SPEND_COLUMNS, "price_index", "promo"]:
        np.testing.assert_allclose(north[column], frame[column], rtol=0, atol=1e-6)
    np.testing.assert_allclose(north["revenue"], frame["revenue"], rtol=0, atol=0.006)


def test_model_fits_on_the_modelling_table_dbt_built(clean):
    dbt, _, _ = clean
    frame = dbt.read_modelling_table(market="south")
    arguments = modelling_fit_arguments(frame)
    assert arguments == {
        "target_column": "revenue",
        "spend_columns": SPEND_COLUMNS,
        "control_columns": ["price_index", "promo"],
        "date_column": "date",
    }
    results = EconometricMMM().fit(frame, **arguments)
    assert set(results["channels"]) == set(SPEND_COLUMNS)
    assert results["performance"]["r2_score"] > 0.5


def test_sql_attribution_credits_sum_to_conversions_and_value(clean, raw_daily):
    dbt, _, _ = clean
    credited = _query(
        dbt,
        "select market, attribution_model, sum(conversions) as conversions, "
        "sum(conversion_value) as value, sum(conversion_share) as share "
        "from attribution_by_channel group by 1, 2 order by 1, 2",
    )
    touches = raw_daily["journey_touchpoints"]
    journeys = touches[touches.converted].groupby("journey_id").first()
    expected = journeys.groupby("market").agg(
        conversions=("converted", "size"), value=("conversion_value", "sum")
    )
    assert len(credited) == len(MARKETS) * len(RULES)
    for row in credited.itertuples():
        assert row.conversions == pytest.approx(expected.loc[row.market, "conversions"])
        assert row.value == pytest.approx(expected.loc[row.market, "value"], rel=1e-9)
        assert row.share == pytest.approx(1.0)


def test_sql_attribution_agrees_with_the_python_rules(clean, raw_daily):
    dbt, _, _ = clean
    sql = _query(
        dbt,
        "select attribution_model, channel, sum(conversions) as conversions, "
        "sum(conversion_value) as value from attribution_by_channel group by 1, 2",
    ).set_index(["attribution_model", "channel"])
    journeys = parse_journeys(raw_daily["journey_touchpoints"].drop(columns=["_loaded_at"]))
    for rule in RULES:
        conversions, value = heuristic_attribution(journeys, rule)
        for code, channel in enumerate(journeys.channels):
            key = (rule, channel)
            got = sql.loc[key] if key in sql.index else {"conversions": 0.0, "value": 0.0}
            assert got["conversions"] == pytest.approx(conversions[code], abs=1e-6), key
            assert got["value"] == pytest.approx(value[code], abs=1e-4), key


def test_clean_sample_passes_every_test_and_freshness(clean):
    _, _, report = clean
    summary = report["summary"]
    assert summary["failed"] == 0 and summary["failing_tests"] == []
    assert summary["tests"] == summary["passed"] > 40
    assert all(t["passed"] and t["failing_rows"] == 0 for t in report["tests"].values())
    kinds = {t["test"] for t in report["tests"].values()}
    assert {
        "not_null",
        "unique",
        "accepted_values",
        "relationships",
        "non_negative",
        "no_missing_weeks",
        "within_range",
        "unique_combination",
        "singular",
    } <= kinds
    assert set(report["freshness"]) == {"raw.media_spend", "raw.sales", "raw.journey_touchpoints"}
    assert all(f["status"] == "pass" for f in report["freshness"].values())
    json.dumps(report)


def test_run_data_quality_tests_reports_each_test(clean):
    dbt, _, built = clean
    report = dbt.run_data_quality_tests()
    assert report["status"] == "success"
    assert set(report["tests"]) == set(built["tests"])
    entry = report["tests"]["stg_media_spend_no_negative_spend"]
    assert entry == {
        "status": "pass",
        "passed": True,
        "failing_rows": 0,
        "test": "non_negative",
        "model": "stg_media_spend",
        "column": "spend",
        "message": None,
        "seconds": entry["seconds"],
    }
    assert report["summary"]["passed"] == len(report["tests"])


def test_run_attribution_models_reports_status_rows_and_seconds(clean):
    dbt, _, built = clean
    report = dbt.run_attribution_models()
    models = report["models"]
    assert set(models) == {
        "stg_journey_touchpoints",
        "attribution_touch_credits",
        "attribution_by_channel",
    }
    for name, entry in models.items():
        assert entry["status"] == "success"
        assert entry["rows"] == built["models"][name]["rows"] > 0
        assert entry["seconds"] >= 0


def test_dbt_writes_nothing_into_the_project(clean, dirty, project_snapshot):
    project, before = project_snapshot
    assert _project_files(project) == before
    dbt, _, _ = clean
    assert (dbt.artifacts_path / "target" / "run_results.json").is_file()
    assert (dbt.artifacts_path / "logs" / "dbt.log").is_file()


# --------------------------------------------------------------------------------------------
# Dirty data: each planted problem is caught by name.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "test_name"), [(p, name) for p, names in PLANTED.items() for name in names]
)
def test_dirty_sample_problem_is_caught_by_its_test(dirty, problem, test_name):
    _, seeded, error = dirty
    assert problem in {p["problem"] for p in seeded["planted"]}
    assert error.code == Codes.DATA_ERROR
    assert test_name in str(error)
    assert test_name in error.details["failing_tests"]
    entry = error.details["report"]["tests"][test_name]
    assert entry["status"] == "fail" and not entry["passed"] and entry["failing_rows"] >= 1


def test_dirty_sample_fails_only_the_planted_tests(dirty):
    _, _, error = dirty
    expected = {name for names in PLANTED.values() for name in names}
    assert set(error.details["failing_tests"]) == expected
    tests = error.details["report"]["tests"]
    assert tests["stg_media_spend_no_negative_spend"]["failing_rows"] == 1
    assert tests["stg_media_spend_unique_day_market_channel"]["failing_rows"] == 1
    assert tests["stg_sales_no_missing_weeks"]["failing_rows"] == 1
    # One gap per channel of the market missing a week.
    assert tests["stg_media_spend_no_missing_weeks"]["failing_rows"] == len(CHANNELS)


def test_dirty_sample_stale_feed_is_caught_by_source_freshness(dirty):
    _, _, error = dirty
    assert error.details["stale_sources"] == ["raw.sales"]
    assert "raw.sales" in str(error)
    freshness = error.details["report"]["freshness"]
    assert freshness["raw.sales"]["status"] == "error"
    assert freshness["raw.sales"]["age_hours"] >= 24 * 7
    assert freshness["raw.media_spend"]["status"] == "pass"


def test_dirty_data_never_reaches_the_marts(dirty):
    dbt, _, error = dirty
    models = error.details["report"]["models"]
    assert models[MODELLING_TABLE]["status"] == "skipped"
    json.dumps(error.details)
    with pytest.raises(DataIntegrationError) as info:
        dbt.read_modelling_table()
    assert info.value.code == Codes.SOURCE_UNAVAILABLE
    assert MODELLING_TABLE in str(info.value)


# --------------------------------------------------------------------------------------------
# DBTIntegration's own errors and defaults (no dbt run).
# --------------------------------------------------------------------------------------------


def test_unknown_market_names_the_markets(clean):
    dbt, _, _ = clean
    with pytest.raises(DataIntegrationError) as info:
        dbt.read_modelling_table(market="nort")
    assert info.value.code == Codes.INVALID_PARAMETER
    assert "north" in str(info.value)


def test_missing_project_is_a_data_integration_error(tmp_path):
    dbt = DBTIntegration(project_dir=tmp_path / "nowhere", home=tmp_path)
    with pytest.raises(DataIntegrationError) as info:
        dbt.run_data_quality_tests()
    assert info.value.code == Codes.SOURCE_UNAVAILABLE
    assert "dbt_project.yml" in str(info.value)


def test_home_without_raw_data_says_how_to_seed_it(tmp_path):
    with pytest.raises(DataIntegrationError) as info:
        DBTIntegration(home=tmp_path).build()
    assert info.value.code == Codes.SOURCE_UNAVAILABLE
    assert "seed_sample" in str(info.value)
    assert info.value.details["missing"] == list(
        ("markets", "media_spend", "sales", "journey_touchpoints")
    )


def test_reading_before_any_build_says_to_build(tmp_path):
    with pytest.raises(DataIntegrationError) as info:
        DBTIntegration(home=tmp_path).read_modelling_table()
    assert info.value.code == Codes.SOURCE_UNAVAILABLE
    assert "build()" in str(info.value)


def test_athena_target_does_not_read_the_duckdb_file(tmp_path):
    with pytest.raises(DataIntegrationError) as info:
        DBTIntegration(target="athena", home=tmp_path).read_modelling_table()
    assert info.value.code == Codes.SOURCE_UNAVAILABLE


def test_project_defaults_to_the_repository_and_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(PROJECT_ENV, raising=False)
    monkeypatch.setenv("MMM_HOME", str(tmp_path))
    dbt = DBTIntegration()
    assert (dbt.project_path / "dbt_project.yml").is_file()
    assert dbt.profiles_path == dbt.project_path
    assert dbt.database_path == tmp_path.resolve() / "curated" / "mmm.duckdb"
    monkeypatch.setenv(PROJECT_ENV, str(tmp_path))
    assert DBTIntegration().project_path == tmp_path.resolve()


def test_seed_sample_refuses_to_mix_with_other_raw_files(tmp_path):
    folder = tmp_path / "raw" / "sales"
    folder.mkdir(parents=True)
    (folder / "landed.parquet").write_bytes(b"")
    with pytest.raises(DataIntegrationError) as info:
        DBTIntegration(home=tmp_path).seed_sample(tmp_path)
    assert "landed.parquet" in str(info.value)
    assert not (tmp_path / "raw" / "media_spend").exists()
    assert os.listdir(folder) == ["landed.parquet"]
