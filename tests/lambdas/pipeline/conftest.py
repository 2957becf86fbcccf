"""Fixtures of the pipeline tests: a data lake, market tables, real training outputs, models.

The data lake is a local folder (the embedded default, ``MMM_HOME``) or three buckets in moto's
S3 (``MMM_CURATED_URI``, ``MMM_DATA_LAKE_URI``, ``MMM_REPORTS_URI``, as the CDK sets them).
Candidates are made by the real training job (``sagemaker_jobs.train``) in a folder laid out
like ``/opt/ml`` and packed as SageMaker packs them (``model.tar.gz``); production models are
fitted here and promoted in the market's store.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from lambdas.pipeline.common import PipelineSettings
from mmm_core import EconometricMMM
from mmm_core.store import ArtifactStore
from sagemaker_jobs import train
from sagemaker_jobs.paths import SageMakerPaths

#: Quick fits (a searched fit in well under a second on 104 weeks x 3 channels).
FAST_FIT = {"n_bootstrap": 10, "n_candidates": 32, "n_sweeps": 1}
CONTROLS = ["price_index", "promo"]
BUCKETS = {
    "curated": "mmm-test-curated",
    "models": "mmm-test-models",
    "reports": "mmm-test-reports",
}
#: Every variable the tasks read their settings from (cleared before each test).
LAKE_VARIABLES = (
    "MMM_HOME",
    "MMM_DATA_LAKE_URI",
    "MMM_MODELS_URI",
    "MMM_CURATED_URI",
    "MMM_REPORTS_URI",
    "MMM_GATE_MIN_R2",
    "MMM_GATE_MAX_HOLDOUT_MAPE",
    "MMM_GATE_MAX_REGRESSION",
)


def fake_aws_environment(env: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region; no profile or endpoint that could reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.delenv(name, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.setenv(name, "testing")
    env.setenv("AWS_DEFAULT_REGION", "us-east-1")


# --------------------------------------------------------------------------------------------
# The training job, run as SageMaker runs it.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingRun:
    """What a training job left: its archive (``None`` when it failed) and its failure."""

    archive: bytes | None
    failure: str | None
    paths: SageMakerPaths


def run_training_job(
    root: Path,
    channels: Mapping[str, Mapping[str, bytes]],
    hyperparameters: Mapping[str, str],
) -> TrainingRun:
    """Run ``sagemaker_jobs.train`` like SageMaker does, under ``root`` instead of ``/opt/ml``.

    ``channels`` maps each channel's name to its files (relative name to bytes); SageMaker
    puts a channel's files under ``input/data/<channel name>/`` and the container reads what
    it reads, so a misnamed channel fails the job as it would in AWS.
    """
    paths = SageMakerPaths.under(root)
    for name, files in channels.items():
        for relative, data in files.items():
            target = root / "input" / "data" / name / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    paths.input_config_dir.mkdir(parents=True, exist_ok=True)
    paths.hyperparameters_file.write_text(json.dumps(dict(hyperparameters)), encoding="utf-8")
    if train.main(paths.as_env()) != 0:
        return TrainingRun(None, paths.failure_file.read_text(encoding="utf-8"), paths)
    return TrainingRun(pack_model(paths.model_dir), None, paths)


def pack_model(model_dir: Path) -> bytes:
    """``model.tar.gz`` of ``model_dir``'s files, as SageMaker uploads ``/opt/ml/model``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(model_dir.iterdir()):
            archive.add(path, arcname=path.name)
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def hyperparameters(*, controls: bool) -> dict[str, str]:
    """What validate pins for the shared data, plus quick fit settings (all strings)."""
    return {
        "target_column": "revenue",
        "spend_columns": "tv_spend,search_spend,social_spend",
        "control_columns": ",".join(CONTROLS) if controls else "",
        "date_column": "date",
        **{k: str(v) for k, v in FAST_FIT.items()},
    }


@pytest.fixture(scope="session")
def candidate_archives(
    tmp_path_factory: pytest.TempPathFactory, mmm_frame: pd.DataFrame
) -> dict[str, bytes]:
    """Two training outputs of the shared data: ``good`` (with the controls) and ``plain``.

    On the last 8 weeks, ``good`` scores about 3.8% MAPE and ``plain`` about 5.9%.
    """
    out = {}
    for name, controls in (("good", True), ("plain", False)):
        run = run_training_job(
            tmp_path_factory.mktemp(f"ml-{name}"),
            {"training": {"data.csv": csv_bytes(mmm_frame)}},
            hyperparameters(controls=controls),
        )
        assert run.archive is not None, run.failure
        out[name] = run.archive
    return out


@pytest.fixture(scope="session")
def weak_production(mmm_frame: pd.DataFrame) -> EconometricMMM:
    """A model of the first 40 weeks and TV only: about 17% MAPE on the last 8 weeks."""
    model = EconometricMMM(**FAST_FIT)
    model.fit(mmm_frame.iloc[:40], "revenue", ["tv_spend"])
    return model


@pytest.fixture(scope="session")
def strong_production(mmm_frame: pd.DataFrame, spend_columns: list[str]) -> EconometricMMM:
    """Every channel and the controls, fitted on all weeks: about 3.0% on the last 8."""
    model = EconometricMMM(**FAST_FIT)
    model.fit(mmm_frame, "revenue", spend_columns, control_columns=CONTROLS)
    return model


def put_production(store: ArtifactStore, model_id: str, model: EconometricMMM) -> dict:
    """Save ``model`` in ``store`` and promote it; return the pointer."""
    store.save_model(model_id, model.to_dict(), model.results_)
    return store.promote(model_id, {"passed": True, "note": "test fixture"})


# --------------------------------------------------------------------------------------------
# The data lake.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lake:
    """A data lake for one test and the environment the tasks see."""

    kind: str
    env: dict[str, str]

    @property
    def settings(self) -> PipelineSettings:
        return PipelineSettings.from_env(self.env)

    def market_store(self, market: str) -> ArtifactStore:
        return self.settings.models_store(market)

    def put_table(self, market: str, frame: pd.DataFrame, name: str = "data.csv") -> str:
        """Store ``frame`` as ``curated/<market>/<name>``; return the market's prefix URI."""
        curated = self.settings.curated_store()
        curated.put_bytes(f"curated/{market}/{name}", csv_bytes(frame))
        return curated.uri(f"curated/{market}") + "/"

    def put_candidate(self, market: str, job_name: str, archive: bytes) -> str:
        """Store a training output where SageMaker writes it; return its URI."""
        key = f"models/candidates/{market}/{job_name}/output/model.tar.gz"
        return self.settings.models_root().put_bytes(key, archive)


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[None]:
    """moto's S3 with the three buckets of :data:`BUCKETS`, for one test module."""
    import boto3
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env:
        fake_aws_environment(env)
        with mock_aws():
            s3 = boto3.client("s3")
            for bucket in BUCKETS.values():
                s3.create_bucket(Bucket=bucket)
            yield


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """An empty data lake, also set in ``os.environ`` (what a task's ``handler`` reads)."""
    if request.param == "local":
        env = {"MMM_HOME": str(tmp_path / "home"), "MMM_STAGE": "test"}
    else:
        request.getfixturevalue("moto_s3")
        run = uuid.uuid4().hex[:12]
        env = {
            "MMM_CURATED_URI": f"s3://{BUCKETS['curated']}/{run}/",
            "MMM_DATA_LAKE_URI": f"s3://{BUCKETS['models']}/{run}/",
            "MMM_MODELS_URI": f"s3://{BUCKETS['models']}/{run}/",
            "MMM_REPORTS_URI": f"s3://{BUCKETS['reports']}/{run}/",
            "MMM_STAGE": "test",
        }
    for name in LAKE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Lake(request.param, env)
