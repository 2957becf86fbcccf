"""Data lake: one S3 bucket per area (raw, curated, models, reports) and a Glue database.

Layout. Every bucket keeps its objects under its area's prefix, so the relative keys are the
same as in the embedded store (``$MMM_HOME``, :mod:`mmm_core.store`)::

    s3://<raw bucket>/raw/...                         landed source data
    s3://<curated bucket>/curated/<market>/...        validated training tables (Glue / Athena)
    s3://<models bucket>/models/...                   the application store (below)
    s3://<models bucket>/models/candidates/<market>/  SageMaker training output (not promoted)
    s3://<models bucket>/models/markets/<market>/     the pipeline's per-market models and
                                                      production pointers
    s3://<reports bucket>/reports/...                 executive reports of the pipeline

Code reaches the areas through environment variables (see :meth:`DataLake.environment`):
``MMM_DATA_LAKE_URI`` is the models bucket's root (``s3://<models bucket>/``): the application
store of the API (its ``models/``, ``curated/`` datasets, ``reports/``... all in that bucket);
``MMM_RAW_URI``, ``MMM_CURATED_URI``, ``MMM_MODELS_URI`` and ``MMM_REPORTS_URI`` are the roots
of each area's bucket (``<root><area>/...``), which the pipeline uses. Four buckets rather
than one so that access is granted per area and lifecycle rules differ.

Every bucket: KMS-encrypted with the lake's customer-managed key (rotation on, S3 Bucket Keys),
versioned, public access blocked, TLS 1.2+ enforced by bucket policy, object ownership enforced
(no ACLs), server access logs to a separate log bucket, lifecycle rules, retained on stack
deletion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk.config import PlatformConfig
from cdk.nag import Suppression, suppress

__all__ = ["AREAS", "DataLake", "DataLakeStack"]

#: The lake's areas, in the order data flows through them.
AREAS = ("raw", "curated", "models", "reports")


@dataclass(frozen=True)
class _Lifecycle:
    """What each area keeps and for how long."""

    noncurrent_days: int  # old versions are kept this long (rollback, audit)
    tiering_after_days: int | None = None  # current objects move to Intelligent-Tiering


_LIFECYCLE: Mapping[str, _Lifecycle] = {
    "raw": _Lifecycle(noncurrent_days=90, tiering_after_days=30),
    "curated": _Lifecycle(noncurrent_days=90),
    "models": _Lifecycle(noncurrent_days=365),  # previous production models stay restorable
    "reports": _Lifecycle(noncurrent_days=30, tiering_after_days=90),
}
_ACCESS_LOG_DAYS = 365
_MULTIPART_DAYS = 7

_OBJECT_WILDCARD = Suppression(
    "IAM5",
    "Object-level S3 actions need an object ARN; access is confined to named key prefixes "
    "(bucket/<area>/[<prefix>/]*) of the lake's buckets.",
    ("/^Resource::.*\\/(raw|curated|models|reports)\\/([a-z*]+\\/)*\\*$/",),
)


class DataLake(Construct):
    """The buckets, their KMS key, the access-log bucket and the Glue database."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"MMM {stage}: encrypts the data lake buckets",
            alias=f"alias/mmm-{stage}-data-lake",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # S3 server access logs can only be delivered to an SSE-S3 bucket.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(_ACCESS_LOG_DAYS),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(_MULTIPART_DAYS),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.buckets: dict[str, s3.Bucket] = {area: self._bucket(area) for area in AREAS}
        self.database = glue.CfnDatabase(
            self,
            "CuratedDatabase",
            catalog_id=Stack.of(self).account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=f"mmm_{stage.replace('-', '_')}",
                description="MMM curated tables (Athena, dbt-athena); data under curated/",
                location_uri=f"s3://{self.buckets['curated'].bucket_name}/curated/",
            ),
        )

    def _bucket(self, area: str) -> s3.Bucket:
        life = _LIFECYCLE[area]
        transitions = (
            [
                s3.Transition(
                    storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                    transition_after=Duration.days(life.tiering_after_days),
                )
            ]
            if life.tiering_after_days
            else None
        )
        return s3.Bucket(
            self,
            area.capitalize(),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{area}/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id=f"{area}-versions-and-uploads",
                    noncurrent_version_expiration=Duration.days(life.noncurrent_days),
                    abort_incomplete_multipart_upload_after=Duration.days(_MULTIPART_DAYS),
                    transitions=transitions,
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    # ----------------------------------------------------------------------------------------
    # Where things are, for the code that runs against the lake.
    # ----------------------------------------------------------------------------------------

    def root_uri(self, area: str) -> str:
        """``s3://<bucket of area>/``: the root under which ``<area>/...`` keys live."""
        return f"s3://{self.buckets[area].bucket_name}/"

    def area_uri(self, area: str, suffix: str = "") -> str:
        """``s3://<bucket>/<area>/<suffix>``."""
        return f"{self.root_uri(area)}{area}/{suffix}"

    def environment(self) -> dict[str, str]:
        """The environment variables that tell application code where each area is."""
        env = {f"MMM_{area.upper()}_URI": self.root_uri(area) for area in AREAS}
        env["MMM_DATA_LAKE_URI"] = self.root_uri("models")
        return env

    # ----------------------------------------------------------------------------------------
    # Least-privilege access: explicit actions on named key prefixes, nothing else.
    # ----------------------------------------------------------------------------------------

    def _objects(self, area: str, prefix: str, bucket: str | None) -> str:
        return self.buckets[bucket or area].arn_for_objects(f"{area}/{prefix}*")

    def grant_read(self, grantee: iam.IGrantable, *areas: str, bucket: str | None = None) -> None:
        """Let ``grantee`` list and read objects under ``<area>/`` of each area's bucket.

        ``bucket`` names another area whose bucket holds the keys instead: the application
        store (``MMM_DATA_LAKE_URI``) keeps all four areas' prefixes in the models bucket.
        """
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self._objects(area, "", bucket) for area in areas],
            )
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=sorted(
                    {self.buckets[bucket or area].bucket_arn for area in areas}, key=str
                ),
            )
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.key.key_arn])
        )
        self._accept_object_wildcards(grantee)

    def grant_write(
        self, grantee: iam.IGrantable, area: str, prefix: str = "", bucket: str | None = None
    ) -> None:
        """Let ``grantee`` put objects under ``<area>/<prefix>`` (no delete, no ACLs).

        ``prefix`` may hold IAM wildcards (``"*/training/"``); ``bucket`` as in
        :meth:`grant_read`.
        """
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self._objects(area, prefix, bucket)],
            )
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn]
            )
        )
        self._accept_object_wildcards(grantee)

    def deny_write(
        self, grantee: iam.IGrantable, area: str, prefix: str, bucket: str | None = None
    ) -> None:
        """Forbid ``grantee`` to write under ``<area>/<prefix>``, whatever else it may."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=["s3:PutObject", "s3:DeleteObject"],
                resources=[self._objects(area, prefix, bucket)],
            )
        )

    @staticmethod
    def _accept_object_wildcards(grantee: iam.IGrantable) -> None:
        principal = grantee.grant_principal  # a function's role, or the role itself
        if isinstance(principal, Construct):
            suppress(principal, _OBJECT_WILDCARD)


class DataLakeStack(Stack):
    """The data lake as its own stack (retained data outlives the stacks that use it)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: PlatformConfig, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.lake = DataLake(self, "DataLake", stage=config.stage)
        for area, bucket in self.lake.buckets.items():
            CfnOutput(self, f"{area.capitalize()}BucketName", value=bucket.bucket_name)
        CfnOutput(self, "GlueDatabaseName", value=self.lake.database.ref)
