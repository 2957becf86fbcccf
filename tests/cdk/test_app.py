"""The app as platform engineers run it, and the images it builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SynthesisedApp

REPO = Path(__file__).resolve().parents[2]
LAMBDA_BASE = "public.ecr.aws/lambda/python:3.11"


def _run_app(outdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO,
        env={**clean, "CDK_OUTDIR": str(outdir), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_python_app_py_synthesises_every_stack_without_credentials(tmp_path: Path) -> None:
    result = _run_app(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = {
        name
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert stacks == {f"mmm-prod-{c}" for c in ("data-lake", "ml", "pipeline", "api")}
    for name in stacks:
        assert manifest["artifacts"][name]["environment"] == "aws://unknown-account/unknown-region"
        assert (tmp_path / f"{name}.template.json").is_file()


def test_invalid_context_stops_synthesis_with_the_setting_named(tmp_path: Path) -> None:
    result = _run_app(tmp_path, CDK_CONTEXT_JSON=json.dumps({"stage": "Prod!"}))
    assert result.returncode != 0
    assert "stage: 'Prod!' is not valid" in result.stderr


def test_image_contexts_hold_the_code_and_nothing_else(synthesised: SynthesisedApp) -> None:
    """CDK reads .dockerignore: the staged build context is the code the images copy."""
    staged = [p for p in Path(synthesised.outdir).glob("asset.*") if p.is_dir()]
    assert len(staged) == 3  # api, pipeline, sagemaker images
    for context in staged:
        names = {p.name for p in context.iterdir()}
        assert {"pyproject.toml", "README.md", "mmm_core", "lambdas", "sagemaker_jobs"} <= names
        assert not names & {".venv", ".git", "cdk.out", ".mmm", "tests", "node_modules", "bench"}
        assert not list(context.rglob("__pycache__"))


@pytest.mark.parametrize(
    ("dockerfile", "base", "target", "command"),
    [
        (
            "lambdas/api/Dockerfile",
            LAMBDA_BASE,
            '"/tmp/build[api,report]"',
            "lambdas.api.handler.handler",
        ),
        (
            "lambdas/pipeline/Dockerfile",
            LAMBDA_BASE,
            '"/tmp/build[aws,report]"',
            "lambdas.pipeline.validate.handler",
        ),
        ("sagemaker_jobs/Dockerfile", "python:3.11-slim", '"/tmp/build" "pyarrow>=15"', "serve"),
    ],
)
def test_dockerfiles_build_from_the_repository_root(
    dockerfile: str, base: str, target: str, command: str
) -> None:
    text = (REPO / dockerfile).read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    assert lines[0] == f"FROM {base}"
    assert "COPY pyproject.toml README.md /tmp/build/" in lines
    assert "COPY mmm_core/ /tmp/build/mmm_core/" in lines
    assert f"RUN pip install {target} && rm -rf /tmp/build" in lines
    assert lines[-1] == f'CMD ["{command}"]'


def test_sagemaker_image_answers_to_train_and_serve() -> None:
    text = (REPO / "sagemaker_jobs/Dockerfile").read_text()
    assert "exec python -m sagemaker_jobs.train" in text
    assert "exec python -m sagemaker_jobs.serve" in text
    assert "/usr/local/bin/train" in text and "/usr/local/bin/serve" in text
