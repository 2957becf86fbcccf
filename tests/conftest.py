"""Shared fixtures: small generated data sets and fitted models, built once per session.

Fitted models are shared between tests to keep the suite fast, so tests must treat them (and
their ``results_``) as read-only: copy before changing anything, and fit a fresh model when a
test needs to mutate one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# jsii's Node.js banners are noise in test output; both must be set before jsii starts.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

# No test may reach a data hub: the HuggingFace libraries read these once, at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

import pandas as pd
import pytest

from mmm_core import MMM_DEFAULT_CONFIG, EconometricMMM
from mmm_core.data.synthetic import SyntheticTruth, generate_mmm_data

#: Settings that keep a searched fit well under a second on small data.
FAST_FIT: dict[str, Any] = {"n_bootstrap": 20, "n_candidates": 64, "n_sweeps": 2}


@pytest.fixture(scope="session")
def fast_fit() -> dict[str, Any]:
    """Constructor arguments for a quick searched fit (copy of :data:`FAST_FIT`)."""
    return dict(FAST_FIT)


@pytest.fixture(scope="session")
def mmm_data() -> tuple[pd.DataFrame, SyntheticTruth]:
    """104 weeks x 3 channels (tv, search, social) with controls and a ``date`` column."""
    return generate_mmm_data(weeks=104, channels=3, seed=1)


@pytest.fixture(scope="session")
def mmm_frame(mmm_data: tuple[pd.DataFrame, SyntheticTruth]) -> pd.DataFrame:
    """The data frame of :func:`mmm_data` (read-only: ``.copy()`` it before editing)."""
    return mmm_data[0]


@pytest.fixture(scope="session")
def spend_columns(mmm_data: tuple[pd.DataFrame, SyntheticTruth]) -> list[str]:
    """The spend columns of :func:`mmm_data`."""
    return list(mmm_data[1].spend_columns)


@pytest.fixture(scope="session")
def control_columns(mmm_data: tuple[pd.DataFrame, SyntheticTruth]) -> list[str]:
    """The control columns of :func:`mmm_data` (``price_index``, ``promo``)."""
    return list(mmm_data[1].control_columns)


@pytest.fixture(scope="session")
def default_mmm(mmm_frame: pd.DataFrame, spend_columns: list[str]) -> EconometricMMM:
    """``EconometricMMM(**MMM_DEFAULT_CONFIG)`` fitted as is: the reference's fixed model."""
    model = EconometricMMM(**MMM_DEFAULT_CONFIG)
    model.fit(mmm_frame, "revenue", spend_columns)
    return model


@pytest.fixture(scope="session")
def auto_mmm(mmm_frame: pd.DataFrame, spend_columns: list[str]) -> EconometricMMM:
    """Hyperparameters searched per channel (``"auto"``), no synergies, no controls."""
    model = EconometricMMM(**FAST_FIT)
    model.fit(mmm_frame, "revenue", spend_columns)
    return model


@pytest.fixture(scope="session")
def synergy_mmm(
    mmm_frame: pd.DataFrame, spend_columns: list[str], control_columns: list[str]
) -> EconometricMMM:
    """Searched hyperparameters and alpha, pairwise synergies and the two controls."""
    model = EconometricMMM(regularization_alpha="auto", **FAST_FIT)
    model.fit(
        mmm_frame,
        "revenue",
        spend_columns,
        include_synergies=True,
        control_columns=control_columns,
    )
    return model


# ------------------------------------------------------------------ the CDK app, once a session
#: Settings over cdk.json's for the session's app: an alarm e-mail, to synthesise its path too.
TEST_CONTEXT: dict[str, Any] = {"alarm_email": "mmm-alerts@example.com"}
CONCERNS = ("data-lake", "ml", "pipeline", "api")


@dataclass(frozen=True)
class SynthesisedApp:
    """The app after ``synth()``: its stacks and templates by concern, and the output folder."""

    app: Any
    outdir: str
    stacks: dict[str, Any]
    templates: dict[str, Any]


@pytest.fixture(scope="session")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> SynthesisedApp:
    """The whole CDK app with :data:`TEST_CONTEXT`, synthesised once for every test folder that
    reads it (it takes seconds; cdk-nag runs as it does in ``make synth``)."""
    from aws_cdk import Stack
    from aws_cdk.assertions import Template

    from app import build_app

    outdir = str(tmp_path_factory.mktemp("cdk.out"))
    app = build_app(context=TEST_CONTEXT, outdir=outdir)
    app.synth()  # raises if cdk-nag left an unsuppressed error
    stacks = {
        concern: stack
        for stack in app.node.children
        if Stack.is_stack(stack)
        for concern in CONCERNS
        if stack.stack_name.endswith(f"-{concern}")
    }
    assert sorted(stacks) == sorted(CONCERNS)
    templates = {concern: Template.from_stack(stack) for concern, stack in stacks.items()}
    return SynthesisedApp(app=app, outdir=outdir, stacks=stacks, templates=templates)


# ------------------------------------------------------------------ a private S3 (moto)
@contextlib.contextmanager
def moto_s3(*buckets: str) -> Iterator[None]:
    """Fake credentials and a moto S3 holding ``buckets``: no request leaves the process.

    A context manager, not a fixture, so each test package picks its own scope (starting moto
    is the slow part; tests keep apart by prefix).
    """
    import boto3
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            env.delenv(name, raising=False)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.setenv(name, "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            client = boto3.client("s3")
            for bucket in buckets:
                client.create_bucket(Bucket=bucket)
            yield
