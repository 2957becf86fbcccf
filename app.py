#!/usr/bin/env python3
"""The MMM platform's CDK app: data lake, ML, pipeline and API stacks, checked by cdk-nag.

``python app.py`` (or ``cdk synth``, whose ``cdk.json`` runs the same) synthesises every stack
into ``cdk.out/`` (``CDK_OUTDIR`` to move it) without AWS credentials or Docker. Settings come
from the ``context`` block of ``cdk.json``, which this file also reads when run without the CDK
CLI; ``cdk synth -c stage=dev`` overrides one. See ``cdk/README.md``.

Stacks (``mmm-<stage>-...``), each depending only on the ones before it::

    data-lake  ←  ml  ←  pipeline  ←  api      (the API's alarms go to the pipeline's topic;
                                                it starts training jobs with ml's role and image)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Tags

from cdk.api import ApiStack
from cdk.config import PlatformConfig
from cdk.data_lake import DataLakeStack
from cdk.ml import MlStack
from cdk.nag import apply_checks
from cdk.pipeline import PipelineStack

CDK_JSON = Path(__file__).resolve().with_name("cdk.json")


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` block of ``cdk.json``: every setting's default."""
    return dict(json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"])


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """Create the app and its stacks (not yet synthesised).

    Parameters
    ----------
    context : mapping, optional
        Settings over ``cdk.json``'s (the CDK CLI's ``-c`` values override both).
    outdir : str, optional
        Cloud assembly folder; default ``CDK_OUTDIR``, else ``cdk.out``.

    Returns
    -------
    aws_cdk.App

    Raises
    ------
    cdk.config.ConfigError
        A setting is missing or invalid.
    """
    outdir = outdir or os.environ.get("CDK_OUTDIR") or "cdk.out"
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    config = PlatformConfig.from_context(app.node.try_get_context)
    # Environment-agnostic unless the CDK CLI found an account and region to deploy to.
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    prefix = f"mmm-{config.stage}"
    data_lake = DataLakeStack(
        app,
        f"{prefix}-data-lake",
        config=config,
        env=env,
        description="MMM data lake: raw, curated, models and reports buckets; Glue database",
    )
    ml = MlStack(
        app,
        f"{prefix}-ml",
        config=config,
        lake=data_lake.lake,
        env=env,
        description="MMM SageMaker: execution role, training/inference image, endpoint",
    )
    pipeline = PipelineStack(
        app,
        f"{prefix}-pipeline",
        config=config,
        lake=data_lake.lake,
        image_uri=ml.image.image_uri,
        sagemaker_role=ml.execution_role,
        env=env,
        description="MMM weekly retraining: Step Functions, task Lambdas, schedule, alerts",
    )
    ApiStack(
        app,
        f"{prefix}-api",
        config=config,
        lake=data_lake.lake,
        image_uri=ml.image.image_uri,
        sagemaker_role=ml.execution_role,
        alerts=pipeline.alerts,
        env=env,
        description="MMM HTTPS API: API Gateway and the FastAPI Lambda",
    )
    Tags.of(app).add("project", "mmm")
    Tags.of(app).add("stage", config.stage)
    apply_checks(app)
    return app


def main() -> None:
    """Synthesise every stack."""
    build_app().synth()


if __name__ == "__main__":
    main()
