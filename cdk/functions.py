"""A container-image Lambda function with its own role, log group and tracing.

The science stack (numpy, pandas, scipy, scikit-learn, pyarrow: ~500 MB installed) is far over a
zip Lambda's 250 MB, so every function runs a container image built from a Dockerfile in this
repository, with the repository root as build context (``.dockerignore`` keeps the context to
the code the images need). Synthesis only fingerprints the context: it needs no Docker; ``cdk
deploy`` builds and pushes the images.

Each function gets a role of its own that starts empty but for writing its own log group and
X-Ray traces; callers add exactly what the function needs (see ``DataLake.grant_read``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.nag import XRAY_WILDCARD, suppress

__all__ = ["REPO_ROOT", "ContainerFunction", "retention"]

#: The Docker build context of every image: the repository root.
REPO_ROOT = Path(__file__).resolve().parent.parent


def retention(days: int) -> logs.RetentionDays:
    """The ``RetentionDays`` member for a number of days (validated by the config)."""
    by_days = {
        1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
        30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
        150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
        545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
        2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
        3653: "TEN_YEARS",
    }  # fmt: skip
    return logs.RetentionDays[by_days[days]]


class ContainerFunction(Construct):
    """``DockerImageFunction`` built from ``dockerfile`` (relative to the repository root).

    Parameters
    ----------
    dockerfile : str
        Path of the Dockerfile from the repository root, e.g. ``"lambdas/api/Dockerfile"``.
    command : sequence of str
        The image's CMD for this function (the handler, ``"module.function"``).
    description, memory_mb, timeout, environment
        As for ``lambda.Function``.
    log_retention_days : int
        Retention of the function's own log group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dockerfile: str,
        command: Sequence[str],
        description: str,
        memory_mb: int,
        timeout: Duration,
        environment: Mapping[str, str],
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", retention=retention(log_retention_days))
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} (Lambda execution role)",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            code=lambda_.DockerImageCode.from_image_asset(
                str(REPO_ROOT),
                file=dockerfile,
                cmd=list(command),
                platform=ecr_assets.Platform.LINUX_AMD64,
            ),
            description=description,
            architecture=lambda_.Architecture.X86_64,
            memory_size=memory_mb,
            timeout=timeout,
            environment=dict(environment),
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
        )
        suppress(self.role, XRAY_WILDCARD)
