"""Tests of mmm_core.models.validation: DataFrame in, clean arrays out, precise errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmm_core.errors import Codes, DataIntegrationError, MMModelError
from mmm_core.models.validation import (
    PreparedData,
    detect_date_column,
    prepare_prediction_data,
    prepare_training_data,
)

N = 12


def weekly_frame(n: int = N, **overrides: Any) -> pd.DataFrame:
    """A small valid weekly frame: week, sales, tv_spend, search_spend, price."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "week": pd.date_range("2024-01-01", periods=n, freq="7D"),
            "sales": 100.0 + rng.normal(0, 5, n),
            "tv_spend": rng.uniform(0, 10, n),
            "search_spend": rng.uniform(1, 5, n),
            "price": rng.normal(10, 1, n),
        }
    )
    for name, values in overrides.items():
        frame[name] = values
    return frame


def train(data: Any, **kwargs: Any) -> PreparedData:
    args: dict[str, Any] = {
        "target_column": "sales",
        "spend_columns": ["tv_spend", "search_spend"],
        "control_columns": ["price"],
        "min_rows": 4,
    }
    args.update(kwargs)
    return prepare_training_data(data, **args)


def fails(code: str, call: Callable[[], Any], *names: str) -> DataIntegrationError:
    """Run ``call``, check it raises DataIntegrationError(code) naming ``names``; return it."""
    with pytest.raises(DataIntegrationError) as info:
        call()
    err = info.value
    assert err.code == code, str(err)
    for name in names:
        assert name in err.message, (name, err.message)
    assert err.hint, "every error says how to fix it"
    json.dumps(err.details, allow_nan=False)  # details must be strict JSON
    return err


# --------------------------------------------------------------------------------------------
# Happy paths


def test_training_arrays_have_the_documented_shapes_and_order() -> None:
    df = weekly_frame()
    prep = train(df)
    assert prep.y is not None
    assert prep.y.shape == (N,) and prep.y.dtype == np.float64
    assert prep.spend.shape == (N, 2) and prep.controls.shape == (N, 1)
    np.testing.assert_array_equal(prep.y, df["sales"].to_numpy())
    np.testing.assert_array_equal(prep.spend[:, 0], df["tv_spend"].to_numpy())
    np.testing.assert_array_equal(prep.spend[:, 1], df["search_spend"].to_numpy())
    np.testing.assert_array_equal(prep.controls[:, 0], df["price"].to_numpy())
    assert prep.date_column == "week"
    assert prep.periods_per_year == 52.1775
    assert isinstance(prep.dates, pd.DatetimeIndex)
    assert prep.dates.equals(pd.DatetimeIndex(df["week"]))
    assert prep.n_rows == N


def test_spend_column_order_follows_spend_columns() -> None:
    df = weekly_frame()
    prep = train(df, spend_columns=["search_spend", "tv_spend"])
    np.testing.assert_array_equal(prep.spend, df[["search_spend", "tv_spend"]].to_numpy())


def test_arrays_are_writable_copies_not_views_of_the_frame() -> None:
    df = weekly_frame()
    prep = train(df)
    for arr in (prep.y, prep.spend, prep.controls):
        assert arr is not None and arr.flags.writeable and arr.flags.c_contiguous
    prep.spend[:] = -1.0
    assert (df["tv_spend"] >= 0).all()


def test_no_controls_gives_an_n_by_0_matrix() -> None:
    prep = train(weekly_frame(), control_columns=None)
    assert prep.controls.shape == (N, 0)


def test_bool_numeric_strings_and_nullable_ints_are_accepted() -> None:
    df = weekly_frame()
    df["promo"] = [True, False] * (N // 2)
    df["price"] = [str(v) for v in df["price"]]  # numbers stored as text convert
    df["tv_spend"] = pd.array(np.arange(N), dtype="Int64")
    prep = train(df, spend_columns=["tv_spend"], control_columns=["price", "promo"])
    np.testing.assert_array_equal(prep.controls[:, 1], [1.0, 0.0] * (N // 2))
    np.testing.assert_allclose(prep.controls[:, 0], weekly_frame()["price"].to_numpy())
    np.testing.assert_array_equal(prep.spend[:, 0], np.arange(N, dtype=float))


def test_unsorted_dates_are_sorted_and_every_array_follows() -> None:
    df = weekly_frame()
    shuffled = df.iloc[np.random.default_rng(1).permutation(N)].reset_index(drop=True)
    prep = train(shuffled)
    assert prep.dates is not None and prep.dates.is_monotonic_increasing
    np.testing.assert_array_equal(prep.y, df["sales"].to_numpy())
    np.testing.assert_array_equal(prep.spend, df[["tv_spend", "search_spend"]].to_numpy())
    np.testing.assert_array_equal(prep.controls[:, 0], df["price"].to_numpy())


def test_daily_dates_give_365_25_periods_per_year() -> None:
    df = weekly_frame(week=pd.date_range("2024-01-01", periods=N, freq="D"))
    assert train(df).periods_per_year == 365.25


@pytest.mark.parametrize("freq", ["MS", "ME"])
def test_monthly_dates_give_12_periods_per_year(freq: str) -> None:
    # Steps of 28 to 31 days, February included, are all regular.
    df = weekly_frame(week=pd.date_range("2023-11-01", periods=N, freq=freq))
    assert train(df).periods_per_year == 12.0


def test_date_column_false_means_no_dates() -> None:
    prep = train(weekly_frame(), date_column=False)
    assert prep.dates is None and prep.periods_per_year is None and prep.date_column is None


def test_frame_without_any_date_has_no_dates() -> None:
    prep = train(weekly_frame().drop(columns="week"))
    assert prep.dates is None and prep.periods_per_year is None and prep.date_column is None


def test_explicit_string_date_column_is_parsed() -> None:
    df = weekly_frame().rename(columns={"week": "when"})
    df["when"] = df["when"].dt.strftime("%Y-%m-%d")
    prep = train(df, date_column="when")
    assert prep.date_column == "when" and prep.periods_per_year == 52.1775


def test_a_datetime_index_is_not_used_as_dates() -> None:
    prep = train(weekly_frame().set_index("week"))
    assert prep.dates is None and prep.periods_per_year is None and prep.date_column is None


def test_auto_detection_skips_columns_used_by_the_model() -> None:
    df = weekly_frame().drop(columns="week")
    df["day"] = np.arange(N) % 7  # a numeric control named like a date column
    prep = train(df, control_columns=["price", "day"])
    assert prep.date_column is None and prep.controls.shape == (N, 2)


def test_prediction_data_has_no_target_and_allows_zero_channels_and_one_row() -> None:
    df = weekly_frame().drop(columns="sales")
    df["tv_spend"] = 0.0  # a scenario may switch a channel off
    prep = prepare_prediction_data(df, ["tv_spend", "search_spend"], ["price"])
    assert prep.y is None and prep.spend.shape == (N, 2) and prep.periods_per_year == 52.1775
    one = prepare_prediction_data(df.iloc[:1], ["tv_spend", "search_spend"], ["price"])
    assert one.spend.shape == (1, 2) and one.periods_per_year is None


def test_a_10000_by_50_frame_validates_well_under_50_ms() -> None:
    rng = np.random.default_rng(0)
    n, m = 10_000, 50
    names = [f"ch{j}" for j in range(m)]
    df = pd.DataFrame(rng.uniform(0, 100, (n, m)), columns=names)
    df["sales"] = rng.normal(1000, 10, n)
    df["date"] = pd.date_range("1990-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
    prepare_training_data(df, "sales", names, min_rows=10)  # warm-up
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        prep = prepare_training_data(df, "sales", names, min_rows=10)
        best = min(best, time.perf_counter() - start)
    assert prep.spend.shape == (n, m) and prep.periods_per_year == 365.25
    assert best < 0.05, f"took {best * 1000:.1f} ms"


# --------------------------------------------------------------------------------------------
# detect_date_column


def test_detect_prefers_a_datetime_dtype_column() -> None:
    df = weekly_frame().rename(columns={"week": "start"})
    df["date"] = "not a date"
    assert detect_date_column(df) == "start"


def test_detect_finds_a_named_string_column_case_insensitively() -> None:
    df = weekly_frame()
    df = df.rename(columns={"week": "Week_Start"})
    df["Week_Start"] = df["Week_Start"].dt.strftime("%d/%m/%Y")
    assert detect_date_column(df) == "Week_Start"


def test_detect_ignores_numeric_and_unparseable_named_columns() -> None:
    df = weekly_frame().drop(columns="week")
    df["month"] = np.arange(N) % 12 + 1  # a seasonal control, not dates
    df["period"] = [f"P{i}" for i in range(N)]
    assert detect_date_column(df) is None


def test_detect_returns_none_without_dates() -> None:
    assert detect_date_column(weekly_frame().drop(columns="week")) is None


# --------------------------------------------------------------------------------------------
# EMPTY_DATA


def test_not_a_dataframe_is_empty_data() -> None:
    fails(Codes.EMPTY_DATA, lambda: train({"sales": [1, 2]}), "DataFrame", "dict")


def test_dataframe_without_rows_is_empty_data() -> None:
    fails(Codes.EMPTY_DATA, lambda: train(weekly_frame().iloc[:0]), "0 rows")


# --------------------------------------------------------------------------------------------
# DATA_ERROR: bad arguments (empty spend_columns is DATA_ERROR, not DUPLICATE_COLUMNS)


def test_empty_spend_columns_is_data_error() -> None:
    fails(Codes.DATA_ERROR, lambda: train(weekly_frame(), spend_columns=[]), "spend_columns")


def test_spend_columns_as_a_bare_string_is_data_error() -> None:
    err = fails(
        Codes.DATA_ERROR, lambda: train(weekly_frame(), spend_columns="tv_spend"), "spend_columns"
    )
    assert "['tv_spend']" in (err.hint or "")


def test_spend_columns_with_a_non_string_is_data_error() -> None:
    fails(Codes.DATA_ERROR, lambda: train(weekly_frame(), spend_columns=["tv_spend", 3]), "3")


def test_control_columns_not_a_list_is_data_error() -> None:
    fails(Codes.DATA_ERROR, lambda: train(weekly_frame(), control_columns=5), "control_columns")


def test_target_not_a_string_is_data_error() -> None:
    fails(Codes.DATA_ERROR, lambda: train(weekly_frame(), target_column=None), "target_column")


def test_date_column_true_is_data_error() -> None:
    fails(Codes.DATA_ERROR, lambda: train(weekly_frame(), date_column=True), "date_column")


def test_bad_min_rows_is_a_model_error_not_a_data_error() -> None:
    with pytest.raises(MMModelError) as info:
        train(weekly_frame(), min_rows=0)
    assert info.value.code == Codes.INVALID_PARAMETER
    assert not isinstance(info.value, DataIntegrationError)
    assert "min_rows" in info.value.message


# --------------------------------------------------------------------------------------------
# DUPLICATE_COLUMNS


def test_spend_column_listed_twice_is_duplicate_columns() -> None:
    fails(
        Codes.DUPLICATE_COLUMNS,
        lambda: train(weekly_frame(), spend_columns=["tv_spend", "tv_spend"]),
        "'tv_spend'",
        "twice",
    )


def test_target_also_listed_as_spend_is_duplicate_columns() -> None:
    fails(
        Codes.DUPLICATE_COLUMNS,
        lambda: train(weekly_frame(), spend_columns=["tv_spend", "sales"]),
        "'sales'",
        "target",
    )


def test_control_also_listed_as_spend_is_duplicate_columns() -> None:
    fails(
        Codes.DUPLICATE_COLUMNS,
        lambda: train(weekly_frame(), control_columns=["tv_spend"]),
        "'tv_spend'",
        "control",
    )


def test_date_column_also_a_model_column_is_duplicate_columns() -> None:
    fails(
        Codes.DUPLICATE_COLUMNS,
        lambda: train(weekly_frame(), date_column="price"),
        "'price'",
        "date column",
    )


def test_frame_with_two_columns_of_a_used_name_is_duplicate_columns() -> None:
    df = weekly_frame()
    df = pd.concat([df, df[["tv_spend"]]], axis=1)
    fails(Codes.DUPLICATE_COLUMNS, lambda: train(df), "2 columns named 'tv_spend'")


# --------------------------------------------------------------------------------------------
# MISSING_COLUMN


def test_misspelled_spend_column_suggests_the_close_name() -> None:
    err = fails(
        Codes.MISSING_COLUMN,
        lambda: train(weekly_frame(), spend_columns=["tv_spnd", "search_spend"]),
        "'tv_spnd'",
        "did you mean 'tv_spend'?",
        "Available columns",
        "'search_spend'",
    )
    assert err.details["suggestions"] == {"tv_spnd": "tv_spend"}
    assert err.details["role"] == "spend column"


def test_missing_target_column_is_missing_column() -> None:
    err = fails(
        Codes.MISSING_COLUMN,
        lambda: train(weekly_frame(), target_column="Sales"),
        "target column 'Sales'",
        "did you mean 'sales'?",
    )
    assert "case-sensitive" in (err.hint or "")


def test_missing_control_column_is_missing_column() -> None:
    fails(
        Codes.MISSING_COLUMN,
        lambda: train(weekly_frame(), control_columns=["prices"]),
        "control column 'prices'",
        "did you mean 'price'?",
    )


def test_missing_date_column_is_missing_column() -> None:
    err = fails(
        Codes.MISSING_COLUMN,
        lambda: train(weekly_frame(), date_column="weeks"),
        "date column 'weeks'",
        "did you mean 'week'?",
    )
    assert "date_column=False" in (err.hint or "")


def test_missing_column_lists_all_missing_and_truncates_available() -> None:
    df = weekly_frame()
    for j in range(40):
        df[f"extra_{j}"] = 1.0
    err = fails(
        Codes.MISSING_COLUMN,
        lambda: train(df, spend_columns=["tv", "radio"]),
        "'tv'",
        "'radio'",
        "more)",
    )
    assert err.details["missing"] == ["tv", "radio"]
    assert err.details["n_columns"] == df.shape[1]
    assert "extra_39" not in err.message


# --------------------------------------------------------------------------------------------
# NON_NUMERIC


def test_strings_in_spend_are_non_numeric_naming_row_and_value() -> None:
    df = weekly_frame()
    df["tv_spend"] = df["tv_spend"].astype(object)
    df.loc[3, "tv_spend"] = "1,200"
    df.loc[7, "tv_spend"] = "n/a"
    err = fails(
        Codes.NON_NUMERIC,
        lambda: train(df),
        "'tv_spend'",
        "row 3",
        "'1,200'",
        "2 non-numeric values",
        "date 2024-01-22",
    )
    assert err.details["row"] == 3 and err.details["value"] == "1,200"


def test_datetime_values_in_a_control_are_non_numeric() -> None:
    df = weekly_frame()
    df["launch"] = pd.Timestamp("2024-01-01")
    fails(
        Codes.NON_NUMERIC,
        lambda: train(df, control_columns=["launch"], date_column="week"),
        "control column 'launch'",
        "row 0",
    )


def test_text_in_target_is_non_numeric() -> None:
    df = weekly_frame()
    df["sales"] = ["high" if i == 5 else str(i) for i in range(N)]
    fails(Codes.NON_NUMERIC, lambda: train(df), "target column 'sales'", "row 5", "'high'")


def test_non_numeric_rows_name_the_index_label_when_not_default() -> None:
    df = weekly_frame().drop(columns="week")
    df.index = [f"r{i}" for i in range(N)]
    df["price"] = df["price"].astype(object)
    df.loc["r2", "price"] = "cheap"
    fails(Codes.NON_NUMERIC, lambda: train(df), "row 2", "index 'r2'")


# --------------------------------------------------------------------------------------------
# NON_FINITE


def test_nan_in_spend_is_non_finite_with_count_and_first_row() -> None:
    df = weekly_frame()
    df.loc[[4, 9], "search_spend"] = np.nan
    err = fails(
        Codes.NON_FINITE,
        lambda: train(df),
        "'search_spend'",
        "2 missing (NaN) values",
        "row 4",
    )
    assert err.details["count"] == 2 and err.details["row"] == 4


def test_inf_in_control_is_non_finite() -> None:
    df = weekly_frame()
    df.loc[6, "price"] = -np.inf
    err = fails(Codes.NON_FINITE, lambda: train(df), "'price'", "1 infinite value", "row 6")
    assert err.details["value"] == "-inf"


def test_missing_value_in_target_is_non_finite() -> None:
    df = weekly_frame()
    df.loc[0, "sales"] = None
    fails(Codes.NON_FINITE, lambda: train(df), "target column 'sales'", "row 0")


# --------------------------------------------------------------------------------------------
# NEGATIVE_SPEND, TOO_FEW_ROWS, ZERO_CHANNEL, CONSTANT_TARGET


def test_negative_spend_names_column_count_and_first_row() -> None:
    df = weekly_frame()
    df.loc[[2, 5, 8], "tv_spend"] = -1.0
    err = fails(Codes.NEGATIVE_SPEND, lambda: train(df), "'tv_spend'", "3 negative values", "row 2")
    assert err.details["count"] == 3


def test_negative_spend_in_prediction_data_is_rejected_too() -> None:
    df = weekly_frame()
    df.loc[1, "search_spend"] = -5.0
    fails(
        Codes.NEGATIVE_SPEND,
        lambda: prepare_prediction_data(df, ["tv_spend", "search_spend"]),
        "'search_spend'",
        "row 1",
    )


def test_too_few_rows_says_how_many_are_needed_and_present() -> None:
    err = fails(Codes.TOO_FEW_ROWS, lambda: train(weekly_frame(), min_rows=30), "12 rows", "30")
    assert err.details == {"n_rows": N, "min_rows": 30}


def test_all_zero_spend_channel_is_zero_channel_with_drop_hint() -> None:
    df = weekly_frame(tv_spend=0.0)
    err = fails(Codes.ZERO_CHANNEL, lambda: train(df), "'tv_spend'")
    assert "drop 'tv_spend' from spend_columns" in (err.hint or "")


def test_constant_target_is_constant_target() -> None:
    fails(Codes.CONSTANT_TARGET, lambda: train(weekly_frame(sales=7.0)), "'sales'", "7")


# --------------------------------------------------------------------------------------------
# Dates: BAD_DATES, DUPLICATE_DATES, IRREGULAR_DATES


def test_unparseable_date_is_bad_dates_naming_row_and_value() -> None:
    df = weekly_frame()
    df["week"] = df["week"].dt.strftime("%Y-%m-%d").astype(object)
    df.loc[5, "week"] = "someday"
    err = fails(
        Codes.BAD_DATES, lambda: train(df, date_column="week"), "'week'", "row 5", "'someday'"
    )
    assert err.details["row"] == 5


def test_missing_date_is_bad_dates() -> None:
    df = weekly_frame()
    df.loc[2, "week"] = pd.NaT
    fails(Codes.BAD_DATES, lambda: train(df), "'week'", "row 2", "no date")


def test_numeric_date_column_is_bad_dates_not_epoch_nanoseconds() -> None:
    df = weekly_frame()
    df["yyyymmdd"] = df["week"].dt.strftime("%Y%m%d").astype(int)
    err = fails(Codes.BAD_DATES, lambda: train(df, date_column="yyyymmdd"), "'yyyymmdd'", "int")
    assert "format='%Y%m%d'" in (err.hint or "")


def test_duplicate_dates_name_the_first_duplicated_date() -> None:
    df = weekly_frame()
    df.loc[6, "week"] = df.loc[3, "week"]  # 2024-01-22 twice, 2024-02-12 missing
    err = fails(Codes.DUPLICATE_DATES, lambda: train(df), "2024-01-22", "rows 3 and 6")
    assert err.details["rows"] == [3, 6]


def test_irregular_weekly_dates_name_the_first_gap() -> None:
    df = weekly_frame()
    df["week"] = list(pd.date_range("2024-01-01", periods=5, freq="7D")) + list(
        pd.date_range("2024-02-12", periods=N - 5, freq="7D")
    )
    err = fails(Codes.IRREGULAR_DATES, lambda: train(df), "2024-01-29", "2024-02-12", "14 days")
    assert err.details["frequency"] == "weekly"


def test_weekly_steps_within_one_day_of_the_median_are_regular() -> None:
    weeks = pd.date_range("2024-01-01", periods=N, freq="7D").to_series().reset_index(drop=True)
    weeks[4:] += pd.Timedelta(days=1)  # one 8-day step (e.g. a relabelled week)
    assert train(weekly_frame(week=weeks.to_numpy())).periods_per_year == 52.1775


def test_a_missing_day_in_daily_data_is_irregular() -> None:
    days = pd.date_range("2024-03-01", periods=N + 1, freq="D").delete(7)
    fails(
        Codes.IRREGULAR_DATES,
        lambda: train(weekly_frame(week=days)),
        "2024-03-07",
        "2024-03-09",
        "daily",
    )


def test_a_missing_month_in_monthly_data_is_irregular() -> None:
    months = pd.date_range("2024-01-01", periods=N + 1, freq="MS").delete(3)
    fails(
        Codes.IRREGULAR_DATES,
        lambda: train(weekly_frame(week=months)),
        "2024-03-01",
        "2024-05-01",
        "monthly",
    )
