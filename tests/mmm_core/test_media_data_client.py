"""MediaDataClient: the Kaggle -> Hugging Face -> synthetic fallback, and the schema check.

Everything runs offline: credentials are removed from the environment, the Hugging Face libraries
run in offline mode, and Kaggle's download (the one function that talks to Kaggle) is replaced
by a copy of a local zip, so the unzip / find / read / standardise path runs for real.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmm_core.data import media_data_client as mdc
from mmm_core.data.media_data_client import MediaDataClient, Reason
from mmm_core.data.schema import spend_channel, standardise_frame
from mmm_core.errors import Codes, DataIntegrationError
from mmm_core.models.validation import prepare_training_data
from tests.conftest import moto_s3

REAL_DOWNLOAD = mdc.download_kaggle_dataset
CREDENTIAL_VARIABLES = (
    "KAGGLE_USERNAME",
    "KAGGLE_KEY",
    "KAGGLE_API_TOKEN",
    "HF_TOKEN",
    "MMM_KAGGLE_DATASET",
    "MMM_HF_DATASET",
)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere, an empty home, and no way to reach Kaggle for real."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")

    def no_network(dataset: str, destination: Path) -> None:
        raise AssertionError(f"a test tried to download {dataset!r} from Kaggle")

    monkeypatch.setattr(mdc, "download_kaggle_dataset", no_network)


@pytest.fixture
def client(tmp_path: Path) -> MediaDataClient:
    """No Kaggle or Hugging Face dataset configured; a private cache."""
    return MediaDataClient(kaggle_dataset=None, hf_dataset=None, cache_dir=tmp_path / "cache")


def robyn_weekly(weeks: int = 60) -> pd.DataFrame:
    """Robyn's demo layout: DATE, revenue, <channel>_S spend, impressions, competitor, events."""
    rng = np.random.default_rng(3)
    dates = pd.date_range("2023-01-02", periods=weeks, freq="W-MON")
    return pd.DataFrame(
        {
            "DATE": dates.strftime("%Y-%m-%d"),
            "revenue": rng.uniform(1e5, 2e5, weeks).round(2),
            "tv_S": rng.uniform(0, 5e4, weeks).round(2),
            "ooh_S": np.where(np.arange(weeks) % 4 == 0, 0.0, 1e4),
            "facebook_I": rng.integers(1e5, 1e6, weeks),
            "facebook_S": rng.uniform(0, 2e4, weeks).round(2),
            "search_S": rng.uniform(1e3, 1e4, weeks).round(2),
            "competitor_sales_B": rng.uniform(1e6, 2e6, weeks).round(0),
            "events": np.where(np.arange(weeks) % 10 == 0, "event1", "na"),
        }
    )


def daily_frame(start: str = "2023-12-28", end: str = "2024-01-31") -> pd.DataFrame:
    """Daily rows from a Thursday to a Wednesday: 4 full weeks (Mon 2024-01-01 .. Sun 01-28)."""
    days = pd.date_range(start, end, freq="D")
    n = len(days)
    return pd.DataFrame(
        {
            "date": days.strftime("%Y-%m-%d"),
            "TV Spend": np.arange(n, dtype=float),
            "spend_search": 2.0 * np.arange(n) + 1.0,
            "avg_price": 1.0 + np.arange(n) / 100.0,
            "Sales": 10.0 * np.arange(n) + 100.0,
        }
    )


def zip_dataset(path: Path, files: dict[str, pd.DataFrame]) -> Path:
    """A Kaggle-like archive holding ``files`` (name inside the zip -> table) as CSV."""
    with zipfile.ZipFile(path, "w") as bundle:
        for name, frame in files.items():
            bundle.writestr(name, frame.to_csv(index=False))
    return path


def copy_download(archive: Path, calls: list[tuple[str, Path]]) -> Callable[[str, Path], None]:
    """Stand-in for download_kaggle_dataset: 'downloads' ``archive`` as Kaggle would."""

    def download(dataset: str, destination: Path) -> None:
        calls.append((dataset, destination))
        slug = dataset.split("/")[1]
        shutil.copy(archive, destination / f"{slug}.zip")

    return download


def fake_kaggle_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "not-a-real-key")


def reasons(info: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {a["source"]: (a["status"], a["reason"]) for a in info["attempts"]}


# --------------------------------------------------------------------------------------------
# Fallback to synthetic


def test_best_available_falls_back_to_synthetic_and_says_why_each_source_was_skipped(
    tmp_path: Path,
) -> None:
    client = MediaDataClient(kaggle_dataset="owner/mmm-weekly", hf_dataset=None, cache_dir=tmp_path)

    frame, info, source = client.get_best_available_data(weeks=52, channels=3, seed=2)

    assert source == "synthetic" and frame.shape == (52, 7)
    assert reasons(info) == {
        "kaggle": ("skipped", Reason.MISSING_CREDENTIALS),
        "huggingface": ("skipped", Reason.NOT_CONFIGURED),
        "synthetic": ("used", None),
    }
    kaggle = info["attempts"][0]
    assert "KAGGLE_USERNAME" in kaggle["message"] and "kaggle.json" in kaggle["message"]
    assert kaggle["dataset"] == "owner/mmm-weekly"
    assert json.loads(json.dumps(info)) == info
    assert info["schema_version"] == 1


def test_synthetic_fallback_carries_its_truth_and_fit_arguments(client: MediaDataClient) -> None:
    frame, info, _ = client.get_best_available_data(weeks=52, channels=3, seed=2)

    truth = client.last_truth
    assert info["truth"] == truth.to_dict()
    assert info["fit_arguments"] == truth.fit_arguments()
    assert list(frame.columns) == ["date", *truth.spend_columns, "price_index", "promo", "revenue"]
    assert info["schema"]["frequency"] == "weekly" and info["schema"]["rows"] == 52
    assert client.last_info == info


def test_get_synthetic_data_returns_a_frame_with_the_truth_attached(
    client: MediaDataClient,
) -> None:
    frame = client.get_synthetic_data()

    assert isinstance(frame, pd.DataFrame)
    assert frame.shape[0] == 52 and len(frame.attrs["truth"]["spend_columns"]) == 5
    assert client.last_info["source"] == "synthetic"
    assert client.last_info["truth"] == frame.attrs["truth"]
    assert json.loads(json.dumps(client.last_info))["truth"]["target_column"] == "revenue"


def test_missing_packages_are_reasons_to_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_kaggle_credentials(monkeypatch)
    monkeypatch.setattr(mdc, "find_spec", lambda name: None)
    client = MediaDataClient(kaggle_dataset="owner/set", hf_dataset="owner/hf", cache_dir=tmp_path)

    _, info, source = client.get_best_available_data(weeks=52, channels=2)

    assert source == "synthetic"
    assert reasons(info)["kaggle"] == ("skipped", Reason.PACKAGE_NOT_INSTALLED)
    assert reasons(info)["huggingface"] == ("skipped", Reason.PACKAGE_NOT_INSTALLED)
    assert "mmm-platform[sources]" in info["attempts"][1]["message"]


def test_kaggle_credentials_come_from_the_environment_or_kaggle_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mdc.kaggle_credentials() is None
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    assert mdc.kaggle_credentials() is None  # a username without a key is not enough
    assert "KAGGLE_USERNAME is set but not its pair" in str(mdc._missing_kaggle_credentials())
    monkeypatch.setenv("KAGGLE_KEY", "k")
    assert "KAGGLE_USERNAME" in mdc.kaggle_credentials()

    monkeypatch.delenv("KAGGLE_USERNAME")
    config = tmp_path / "kaggle-config"
    config.mkdir()
    (config / "kaggle.json").write_text('{"username": "someone", "key": "k"}')
    assert mdc.kaggle_credentials() == str(config / "kaggle.json")


def test_real_download_stops_before_the_network_without_credentials(tmp_path: Path) -> None:
    with pytest.raises(DataIntegrationError) as caught:
        REAL_DOWNLOAD("owner/set", tmp_path)

    expected = Reason.MISSING_CREDENTIALS if find_spec("kaggle") else Reason.PACKAGE_NOT_INSTALLED
    assert caught.value.details["reason"] == expected
    assert caught.value.code in (Codes.DATA_ERROR, Codes.SOURCE_UNAVAILABLE) and caught.value.hint


# --------------------------------------------------------------------------------------------
# Kaggle, after the download


def test_get_kaggle_data_unzips_finds_and_standardises_the_download(
    client: MediaDataClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = pd.DataFrame({"field": [f"column {i}" for i in range(400)], "meaning": "text"})
    archive = zip_dataset(
        tmp_path / "bundle.zip", {"data/daily_sales.csv": daily_frame(), "notes.csv": notes}
    )
    calls: list[tuple[str, Path]] = []
    monkeypatch.setattr(mdc, "download_kaggle_dataset", copy_download(archive, calls))

    frame = client.get_kaggle_data("https://www.kaggle.com/datasets/owner/mmm-daily")

    assert [c[0] for c in calls] == ["owner/mmm-daily"]
    assert list(frame.columns) == ["date", "tv_spend", "search_spend", "avg_price", "revenue"]
    assert len(frame) == 4  # the 4 full weeks
    info = client.last_info
    assert info["source"] == "kaggle" and info["dataset"] == "owner/mmm-daily"
    assert info["files"] == ["data/daily_sales.csv"]
    assert any(n.startswith("skipped notes.csv") for n in info["notes"])
    assert info["schema"]["aggregated"] is True
    cached = Path(info["location"])
    assert cached == tmp_path / "cache" / "kaggle" / "owner" / "mmm-daily"
    assert (cached / "data" / "daily_sales.csv").is_file()
    assert not list(cached.glob("*.zip")) and not cached.with_name("mmm-daily.partial").exists()


def test_cached_kaggle_download_is_reused_until_refresh(
    client: MediaDataClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = zip_dataset(tmp_path / "bundle.zip", {"weekly.csv": robyn_weekly()})
    calls: list[tuple[str, Path]] = []
    monkeypatch.setattr(mdc, "download_kaggle_dataset", copy_download(archive, calls))

    first = client.get_kaggle_data("owner/robyn")
    second = client.get_kaggle_data("owner/robyn")
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)
    assert "cached copy" in client.last_info["notes"][0]

    client.get_kaggle_data("owner/robyn", refresh=True)
    assert len(calls) == 2


def test_best_available_uses_kaggle_when_credentials_and_download_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_kaggle_credentials(monkeypatch)
    archive = zip_dataset(tmp_path / "bundle.zip", {"weekly.csv": robyn_weekly()})
    monkeypatch.setattr(mdc, "download_kaggle_dataset", copy_download(archive, []))
    client = MediaDataClient(
        kaggle_dataset="owner/robyn", hf_dataset="owner/hf", cache_dir=tmp_path
    )

    frame, info, source = client.get_best_available_data()

    assert source == "kaggle" and len(frame) == 60
    assert reasons(info) == {"kaggle": ("used", None)}
    assert info["fit_arguments"]["spend_columns"] == [
        "tv_spend",
        "ooh_spend",
        "facebook_spend",
        "search_spend",
    ]
    assert "truth" not in info


def test_failed_kaggle_download_falls_back_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_kaggle_credentials(monkeypatch)

    def broken(dataset: str, destination: Path) -> None:
        (destination / "half.zip").write_bytes(b"partial")
        raise ConnectionError("Kaggle is unreachable")

    monkeypatch.setattr(mdc, "download_kaggle_dataset", broken)
    client = MediaDataClient(kaggle_dataset="owner/robyn", hf_dataset=None, cache_dir=tmp_path)

    _, info, source = client.get_best_available_data(weeks=52, channels=2)

    assert source == "synthetic"
    assert reasons(info)["kaggle"] == ("failed", Reason.DOWNLOAD_FAILED)
    assert "ConnectionError: Kaggle is unreachable" in info["attempts"][0]["message"]
    assert not (tmp_path / "kaggle" / "owner" / "robyn.partial").exists()
    assert not (tmp_path / "kaggle" / "owner" / "robyn").exists()


def test_kaggle_dataset_without_usable_table_fails_with_the_schema_error(
    client: MediaDataClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = robyn_weekly().drop(columns=["tv_S", "ooh_S", "facebook_S", "search_S"])
    archive = zip_dataset(tmp_path / "bundle.zip", {"weekly.csv": table})
    monkeypatch.setattr(mdc, "download_kaggle_dataset", copy_download(archive, []))

    with pytest.raises(DataIntegrationError) as caught:
        client.get_kaggle_data("owner/no-spend")
    assert caught.value.code == Codes.MISSING_COLUMN
    assert "no spend column" in caught.value.message

    fake_kaggle_credentials(monkeypatch)
    other = MediaDataClient(kaggle_dataset="owner/no-spend", hf_dataset=None, cache_dir=tmp_path)
    _, info, _ = other.get_best_available_data(weeks=52, channels=2)
    assert reasons(info)["kaggle"] == ("failed", Reason.UNUSABLE_DATA)
    assert info["attempts"][0]["code"] == Codes.MISSING_COLUMN


def test_kaggle_names_are_checked(client: MediaDataClient) -> None:
    with pytest.raises(DataIntegrationError, match="not a Kaggle dataset name") as caught:
        client.get_kaggle_data("just-a-slug")
    assert "owner/dataset-slug" in caught.value.hint
    with pytest.raises(DataIntegrationError, match="no Kaggle dataset given"):
        client.get_kaggle_data()


# --------------------------------------------------------------------------------------------
# Hugging Face (real `datasets` code on local files)


def test_get_huggingface_data_loads_a_local_csv_through_datasets(
    client: MediaDataClient, tmp_path: Path
) -> None:
    path = tmp_path / "robyn.csv"
    robyn_weekly().to_csv(path, index=False)

    by_builder = client.get_huggingface_data("csv", data_files=str(path))
    info = client.last_info
    by_path = client.get_huggingface_data(str(path))

    assert info["source"] == "huggingface" and info["files"] == [str(path)]
    assert info["column_mapping"]["tv_S"] == "tv_spend"
    pd.testing.assert_frame_equal(by_builder, by_path)
    direct, _ = standardise_frame(robyn_weekly())
    pd.testing.assert_frame_equal(by_builder, direct, check_dtype=False)


def test_best_available_uses_huggingface_when_kaggle_is_not_configured(tmp_path: Path) -> None:
    path = tmp_path / "robyn.csv"
    robyn_weekly().to_csv(path, index=False)
    client = MediaDataClient(kaggle_dataset=None, hf_dataset=str(path), cache_dir=tmp_path)

    frame, info, source = client.get_best_available_data()

    assert source == "huggingface"
    assert reasons(info) == {
        "kaggle": ("skipped", Reason.NOT_CONFIGURED),
        "huggingface": ("used", None),
    }
    assert len(frame) == 60


def test_unusable_huggingface_data_falls_back_to_synthetic(tmp_path: Path) -> None:
    path = tmp_path / "no_target.csv"
    robyn_weekly().drop(columns=["revenue"]).to_csv(path, index=False)
    client = MediaDataClient(kaggle_dataset=None, hf_dataset=str(path), cache_dir=tmp_path)

    _, info, source = client.get_best_available_data(weeks=52, channels=2)

    assert source == "synthetic"
    assert reasons(info)["huggingface"] == ("failed", Reason.UNUSABLE_DATA)
    assert "no target column" in info["attempts"][1]["message"]


def test_unreachable_hub_dataset_fails_offline_and_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datasets
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    client = MediaDataClient(
        kaggle_dataset=None, hf_dataset="no-such-owner/no-such-mmm-set", cache_dir=tmp_path
    )

    _, info, source = client.get_best_available_data(weeks=52, channels=2)

    assert source == "synthetic"
    assert reasons(info)["huggingface"] == ("failed", Reason.DOWNLOAD_FAILED)
    assert "no-such-owner/no-such-mmm-set" in info["attempts"][1]["message"]


# --------------------------------------------------------------------------------------------
# load: files, mapping, aggregation, gaps


def test_load_maps_robyn_columns_and_keeps_numeric_extras(
    client: MediaDataClient, tmp_path: Path
) -> None:
    path = tmp_path / "robyn.csv"
    robyn_weekly().to_csv(path, index=False)

    frame, info = client.load(path)

    assert list(frame.columns) == [
        "date",
        "tv_spend",
        "ooh_spend",
        "facebook_spend",
        "search_spend",
        "facebook_I",
        "competitor_sales_B",
        "revenue",
    ]
    assert info["source"] == "file"
    assert info["column_mapping"]["DATE"] == "date"
    assert info["column_mapping"]["facebook_S"] == "facebook_spend"
    assert info["schema"]["dropped_columns"] == {"events": "not numeric"}
    assert info["schema"]["frequency"] == "weekly" and not info["schema"]["aggregated"]
    assert info["schema"]["gaps"] == [] and info["schema"]["missing_periods"] == 0
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    prepared = prepare_training_data(frame, **info["fit_arguments"], min_rows=52)
    assert prepared.spend.shape == (60, 4) and prepared.periods_per_year == pytest.approx(52.1775)


def test_load_reads_parquet_like_csv(client: MediaDataClient, tmp_path: Path) -> None:
    raw = robyn_weekly()
    raw.to_csv(tmp_path / "data.csv", index=False)
    raw.to_parquet(tmp_path / "data.parquet", index=False)

    from_csv, csv_info = client.load(tmp_path / "data.csv")
    from_parquet, parquet_info = client.load(str(tmp_path / "data.parquet"))

    pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=False)
    assert csv_info["schema"] == parquet_info["schema"]


def test_daily_rows_are_summed_to_monday_weeks_and_partial_edge_weeks_dropped(
    client: MediaDataClient, tmp_path: Path
) -> None:
    raw = daily_frame()
    raw.to_csv(tmp_path / "daily.csv", index=False)

    frame, info = client.load(tmp_path / "daily.csv")

    mondays = pd.date_range("2024-01-01", periods=4, freq="7D")
    assert frame["date"].tolist() == mondays.tolist()
    days = pd.to_datetime(raw["date"])
    for i, monday in enumerate(mondays):
        week = raw[(days >= monday) & (days < monday + pd.Timedelta(days=7))]
        assert len(week) == 7
        assert frame.loc[i, "tv_spend"] == pytest.approx(week["TV Spend"].sum())
        assert frame.loc[i, "search_spend"] == pytest.approx(week["spend_search"].sum())
        assert frame.loc[i, "revenue"] == pytest.approx(week["Sales"].sum())
        assert frame.loc[i, "avg_price"] == pytest.approx(week["avg_price"].mean())
    schema = info["schema"]
    assert schema["source_frequency"] == "daily" and schema["frequency"] == "weekly"
    assert schema["aggregated"] and schema["source_rows"] == len(raw) and schema["rows"] == 4
    assert schema["aggregation"]["revenue"] == "sum"
    assert schema["aggregation"]["avg_price"] == "mean"
    assert schema["dropped_partial_weeks"] == [
        {"week": "2023-12-25", "days": 4},
        {"week": "2024-01-29", "days": 3},
    ]


def test_partial_weeks_can_be_kept() -> None:
    frame, report = standardise_frame(daily_frame(), keep_partial_weeks=True)

    assert len(frame) == 6 and report.dropped_partial_weeks == []
    assert report.incomplete_weeks == [
        {"week": "2023-12-25", "days": 4},
        {"week": "2024-01-29", "days": 3},
    ]


@pytest.mark.parametrize(
    ("name", "channel"),
    [
        ("tv_S", "tv"),
        ("facebook_S", "facebook"),
        ("TV Spend", "tv"),
        ("spend_tv", "tv"),
        ("Search Cost", "search"),
        ("facebookSpend", "facebook"),
        ("TV Spend (USD)", "tv"),
        ("google_ads_cost", "google_ads"),
        ("total_spend", "total"),
        ("spend", "total"),
        ("cost_per_click", None),
        ("avg_cost", None),
        ("revenue", None),
        ("facebook_I", None),
    ],
)
def test_spend_column_names_are_recognised(name: str, channel: str | None) -> None:
    assert spend_channel(name) == channel


@pytest.mark.parametrize(
    "target", ["revenue", "Revenue", "sales", "Total Sales", "y", "kpi", "Revenue (USD)"]
)
def test_target_synonyms_become_revenue(target: str) -> None:
    raw = robyn_weekly(10).drop(columns=["revenue"]).assign(**{target: 1.0 + np.arange(10)})

    frame, report = standardise_frame(raw)

    assert report.target_column == "revenue" and report.column_mapping[target] == "revenue"
    assert frame["revenue"].tolist() == (1.0 + np.arange(10)).tolist()


def test_explicit_columns_are_mapped_and_a_total_is_not_a_channel() -> None:
    raw = robyn_weekly(10).assign(**{"Total Spend": 1.0})

    auto, auto_report = standardise_frame(raw)
    chosen, report = standardise_frame(raw, target="competitor_sales_B", spend_columns=["TV_s"])

    assert "Total Spend" in auto_report.dropped_columns
    assert "total_spend" not in auto.columns
    assert report.spend_columns == ["tv_spend"] and report.target_column == "competitor_sales_B"
    assert list(chosen.columns)[:2] == ["date", "tv_spend"]


def test_missing_weeks_are_reported_as_gaps(client: MediaDataClient, tmp_path: Path) -> None:
    raw = robyn_weekly(12).drop(index=[3, 4, 9])
    raw.to_csv(tmp_path / "gappy.csv", index=False)

    frame, info = client.load(tmp_path / "gappy.csv")

    assert len(frame) == 9
    assert info["schema"]["gaps"] == [
        {"from": "2023-01-23", "to": "2023-01-30", "periods": 2},
        {"from": "2023-03-06", "to": "2023-03-06", "periods": 1},
    ]
    assert info["schema"]["missing_periods"] == 3
    assert any("3 missing periods" in w for w in info["schema"]["warnings"])


def test_a_missing_month_is_a_gap() -> None:
    months = pd.date_range("2023-01-01", periods=8, freq="MS").delete(4)
    raw = pd.DataFrame({"month": months, "tv_spend": 1.0, "sales": np.arange(7.0)})

    _, report = standardise_frame(raw)

    assert report.frequency == "monthly"
    assert report.gaps == [{"from": "2023-05-01", "to": "2023-05-01", "periods": 1}]


# --------------------------------------------------------------------------------------------
# Sources that cannot be read, data that cannot be used


@pytest.fixture
def s3_bucket() -> Any:
    """A moto S3 with one bucket, "lake": no request leaves the process."""
    import boto3

    with moto_s3("lake"):
        yield boto3.client("s3")


def test_an_s3_uri_is_downloaded_and_read_like_a_local_file(
    client: MediaDataClient, s3_bucket: Any
) -> None:
    s3_bucket.put_object(
        Bucket="lake", Key="raw/weekly.csv", Body=robyn_weekly().to_csv(index=False).encode()
    )
    frame, info = client.load("s3://lake/raw/weekly.csv")
    assert info["source"] == "s3" and len(frame) == 60
    assert "revenue" in frame.columns and any(c.endswith("_spend") for c in frame.columns)


def test_a_missing_s3_object_is_an_unavailable_source(
    client: MediaDataClient, s3_bucket: Any
) -> None:
    with pytest.raises(DataIntegrationError) as caught:
        client.load("s3://lake/raw/nothing.csv")
    assert caught.value.code == Codes.SOURCE_UNAVAILABLE
    assert caught.value.details["reason"] == "download_failed" and caught.value.hint


@pytest.mark.parametrize(
    ("name", "reason"),
    [("missing.csv", "file_not_found"), ("data.xlsx", "unknown_file_type")],
)
def test_unreadable_paths_say_why(
    client: MediaDataClient, tmp_path: Path, name: str, reason: str
) -> None:
    with pytest.raises(DataIntegrationError) as caught:
        client.load(tmp_path / name)
    assert caught.value.code == Codes.DATA_ERROR
    assert caught.value.details["reason"] == reason and caught.value.hint


def test_no_spend_column_names_what_was_found() -> None:
    raw = robyn_weekly(10)[["DATE", "revenue", "facebook_I"]]

    with pytest.raises(DataIntegrationError) as caught:
        standardise_frame(raw)

    error = caught.value
    assert error.code == Codes.MISSING_COLUMN
    assert "'facebook_I'" in error.message and "spend_columns=" in error.hint
    assert error.to_dict()["code"] == "MMM_101" and "How to fix" in error.to_dict()["message"]


def test_no_target_column_lists_the_candidates() -> None:
    raw = robyn_weekly(10).drop(columns=["revenue"])

    with pytest.raises(DataIntegrationError) as caught:
        standardise_frame(raw)

    assert caught.value.code == Codes.MISSING_COLUMN
    assert "competitor_sales_B" in caught.value.details["candidates"]
    assert "target=" in caught.value.hint


def test_unparseable_dates_name_the_row_and_value() -> None:
    raw = robyn_weekly(10)
    raw.loc[4, "DATE"] = "week five"

    with pytest.raises(DataIntegrationError) as caught:
        standardise_frame(raw)

    assert caught.value.code == Codes.BAD_DATES
    assert "'DATE'" in caught.value.message and "'week five'" in caught.value.message


def test_no_date_column_is_an_error_unless_dates_are_switched_off() -> None:
    raw = robyn_weekly(10).drop(columns=["DATE"])

    with pytest.raises(DataIntegrationError, match="no date column") as caught:
        standardise_frame(raw)
    assert "date_column=False" in caught.value.hint

    frame, report = standardise_frame(raw, date_column=False)
    assert "date" not in frame.columns and report.frequency is None
    assert report.fit_arguments()["date_column"] is False


def test_misspelled_column_suggests_the_closest_name() -> None:
    with pytest.raises(DataIntegrationError) as caught:
        standardise_frame(robyn_weekly(10), spend_columns=["tv_S", "facebok_S"])

    assert caught.value.code == Codes.MISSING_COLUMN
    assert caught.value.details["suggestion"] == "facebook_S"
    assert "did you mean 'facebook_S'" in caught.value.hint


def test_two_columns_for_one_channel_are_rejected() -> None:
    raw = robyn_weekly(10).assign(**{"TV Spend": 1.0})

    with pytest.raises(DataIntegrationError) as caught:
        standardise_frame(raw)

    assert caught.value.code == Codes.DUPLICATE_COLUMNS
    assert caught.value.details["columns"] == ["tv_S", "TV Spend"]


def test_repeated_weekly_dates_are_rejected() -> None:
    raw = robyn_weekly(10)
    raw = pd.concat([raw, raw.iloc[[2]]], ignore_index=True)

    with pytest.raises(DataIntegrationError) as caught:
        standardise_frame(raw)

    assert caught.value.code == Codes.DUPLICATE_DATES and "groupby" in caught.value.hint


def test_text_in_a_spend_column_is_rejected_but_currency_strings_are_read() -> None:
    raw = robyn_weekly(10)
    raw["tv_S"] = [f"${v:,.2f}" for v in raw["tv_S"]]
    frame, _ = standardise_frame(raw)
    assert frame["tv_spend"].tolist() == pytest.approx(robyn_weekly(10)["tv_S"].tolist())

    raw.loc[3, "tv_S"] = "1.234,50"  # a decimal comma is not silently misread
    with pytest.raises(DataIntegrationError) as caught:
        standardise_frame(raw)
    assert caught.value.code == Codes.NON_NUMERIC and caught.value.details["column"] == "tv_S"


def test_semicolon_csv_with_decimal_commas_is_read(client: MediaDataClient, tmp_path: Path) -> None:
    path = tmp_path / "european.csv"
    path.write_text("Datum;TV Spend;Sales\n2024-01-01;1,5;10\n2024-01-08;2,25;11\n")

    frame, info = client.load(path)

    assert frame["tv_spend"].tolist() == [1.5, 2.25]
    assert info["column_mapping"] == {"Datum": "date", "TV Spend": "tv_spend", "Sales": "revenue"}


def test_importing_the_client_does_not_import_kaggle_or_datasets() -> None:
    code = (
        "import sys, mmm_core.data.media_data_client\n"
        "print(sorted(m for m in ('kaggle', 'datasets') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
