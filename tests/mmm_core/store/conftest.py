"""The ``store`` fixture: every contract test runs on a local folder and on S3 (moto)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from mmm_core import EconometricMMM
from mmm_core.store import ArtifactStore, LocalStore, S3Store
from tests.conftest import moto_s3

BUCKET = "mmm-lake-test"


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """Fake credentials and a moto S3 holding the bucket :data:`BUCKET`; nothing leaves.

    One per test module (starting moto is the slow part); tests keep apart by prefix.
    """
    with moto_s3(BUCKET):
        yield


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """An empty store: a folder under ``tmp_path``, or a fresh prefix in the moto bucket."""
    if request.param == "local":
        return LocalStore(tmp_path / "home")
    request.getfixturevalue("aws")
    return S3Store(BUCKET, f"lake/{uuid.uuid4().hex}")


@pytest.fixture(scope="session")
def fitted(mmm_frame: pd.DataFrame, spend_columns: list[str]) -> EconometricMMM:
    """A small searched fit of the shared 104-week, 3-channel data (read-only)."""
    model = EconometricMMM(n_bootstrap=10, n_candidates=32, n_sweeps=1)
    model.fit(mmm_frame, "revenue", spend_columns)
    return model
