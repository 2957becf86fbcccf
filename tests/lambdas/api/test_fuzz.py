"""Schemathesis over the app's OpenAPI document: no input makes a 5xx, every response (status,
content type, body) is one the document declares, and schema-invalid input is refused.

A bounded run: 25 generated requests per operation against the app in process (ASGI), on a
local store holding a production model. Training is recorded, not run (a fit per generated
request would take minutes; ``test_models`` trains for real).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from lambdas.api.config import Settings
from lambdas.api.main import create_app
from lambdas.api.training import TrainingJob
from mmm_core import EconometricMMM
from mmm_core.store import open_store
from tests.lambdas.api.conftest import save_trained

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


class RecordingTrainer:
    """A training backend that queues jobs and never runs them."""

    backend = "local"

    def __init__(self, store: Any) -> None:
        self._store = store
        self.jobs: list[TrainingJob] = []

    def submit(self, job: TrainingJob) -> dict[str, Any]:
        self.jobs.append(job)
        return self._store().set_status(job.model_id, {"state": "queued", "job_id": job.model_id})

    def refresh(self, model_id: str, status: dict[str, Any]) -> dict[str, Any]:
        return dict(status)

    def close(self) -> None:
        return None


# The app is built at import: schemathesis reads its OpenAPI document when the tests are
# collected (its lazy ``from_fixture`` loader does not run under pytest 9). The store starts
# empty; ``_production_model`` saves the shared model into it before the first request.
HOME = Path(tempfile.mkdtemp(prefix="mmm-fuzz-"))
APP = create_app(Settings(home=str(HOME), api_key=None, cors_origins=[]))
APP.state.services._trainer = RecordingTrainer(APP.state.services.store)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _production_model(fitted: EconometricMMM, mmm_frame: pd.DataFrame) -> Iterator[None]:
    save_trained(open_store(HOME), fitted, mmm_frame, with_data=True)
    yield
    shutil.rmtree(HOME, ignore_errors=True)


@schema.parametrize()
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_breaks_the_api_or_its_schema(case: Any) -> None:
    response = case.call()
    case.validate_response(response, checks=CHECKS)
