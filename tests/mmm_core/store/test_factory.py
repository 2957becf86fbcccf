"""Choosing the store from the environment or a URI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mmm_core import Codes, MMModelError
from mmm_core.store import LocalStore, S3Store, open_store, store_from_env

from .conftest import BUCKET


def test_a_data_lake_uri_chooses_s3_with_its_prefix() -> None:
    store = store_from_env({"MMM_DATA_LAKE_URI": "s3://mmm-lake/prod/brand-a/", "MMM_HOME": "x"})
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("mmm-lake", "prod/brand-a")
    assert store.uri("models/production.json") == (
        "s3://mmm-lake/prod/brand-a/models/production.json"
    )
    assert store_from_env({"MMM_DATA_LAKE_URI": "s3://mmm-lake"}).uri("raw/a.csv") == (
        "s3://mmm-lake/raw/a.csv"
    )


def test_without_a_data_lake_the_home_folder_is_used(tmp_path: Path) -> None:
    store = store_from_env({"MMM_HOME": str(tmp_path)})
    assert isinstance(store, LocalStore) and store.root == tmp_path
    default = store_from_env({"MMM_DATA_LAKE_URI": " "})
    assert isinstance(default, LocalStore) and default.root == Path(".mmm")


def test_open_store_takes_paths_and_file_uris(tmp_path: Path) -> None:
    for source in (tmp_path, str(tmp_path), tmp_path.as_uri()):
        store = open_store(source)
        assert isinstance(store, LocalStore) and store.root == tmp_path
    assert store.uri("raw/a.csv") == (tmp_path / "raw" / "a.csv").resolve().as_uri()


@pytest.mark.parametrize(
    "uri", ["gs://bucket/prefix", "s3://", "s3:///prefix", "s3://Bad_Bucket/x", "s3://b/../x"]
)
def test_unusable_uris_are_refused_with_a_hint(uri: str) -> None:
    with pytest.raises(MMModelError) as err:
        store_from_env({"MMM_DATA_LAKE_URI": uri})
    assert err.value.code == Codes.INVALID_PARAMETER and err.value.hint


@pytest.mark.usefixtures("aws")
def test_the_store_from_the_environment_reads_and_writes_s3() -> None:
    store = store_from_env({"MMM_DATA_LAKE_URI": f"s3://{BUCKET}/env"})
    store.put_json("raw/x.json", {"a": 1})
    assert open_store(f"s3://{BUCKET}/env").get_json("raw/x.json") == {"a": 1}
    assert open_store(f"s3://{BUCKET}").list() == ["env/raw/x.json"]


def test_importing_the_store_does_not_import_boto3_or_awswrangler() -> None:
    code = (
        "import sys, mmm_core, mmm_core.store; "
        "print(sorted(m for m in ('boto3', 'botocore', 'awswrangler') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
