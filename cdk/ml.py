"""ML: the SageMaker execution role, the training/inference image, and how a model is served.

One image, built from ``sagemaker_jobs/Dockerfile`` as a CDK ``DockerImageAsset`` (synthesis
needs no Docker), serves both SageMaker entry points: ``train`` (``python -m
sagemaker_jobs.train``; the pipeline's training jobs) and ``serve`` (``python -m
sagemaker_jobs.serve``; the endpoints, model from ``/opt/ml/model``).

Serving: one endpoint per market, ``mmm-<stage>-<market>``, serverless by default
(``endpoint_mode=instances`` in the context switches to ``endpoint_instance_type`` x
``endpoint_instance_count``, volumes encrypted with the data lake key). The SageMaker model,
endpoint configuration and endpoint are defined here (:class:`ServingDeployment`) but created by
the retraining state machine when a candidate passes the quality gate, not by CloudFormation:

- the serving container needs a trained model at start (``/ping`` fails without one), and none
  exists when the stacks are first deployed;
- a CloudFormation-owned endpoint switched by the pipeline would drift, and the next ``cdk
  deploy`` would put the old model back.

So the first promotion of a market creates its endpoint and later ones update it; SageMaker
keeps serving the previous configuration if an update fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk.config import EndpointSettings, PlatformConfig
from cdk.data_lake import DataLake
from cdk.functions import REPO_ROOT
from cdk.nag import Suppression, suppress
from sagemaker_jobs.tags import PREVIOUS_CONFIG_TAG

__all__ = ["MlStack", "ServingDeployment", "endpoint_name_prefix"]

#: How cdk-nag writes the ARN of a SageMaker resource of this stack's account and region.
_SAGEMAKER_ARN = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>"
#: Where SageMaker jobs and endpoints write their logs.
_SAGEMAKER_LOG_GROUPS = "/aws/sagemaker/*"


class MlStack(Stack):
    """SageMaker: the execution role and the training/inference image.

    Attributes
    ----------
    execution_role : iam.Role
        Assumed by SageMaker for training jobs and endpoints: reads ``curated/`` and
        ``models/``, writes only ``models/candidates/`` and ``models/<id>/training/``.
    image : ecr_assets.DockerImageAsset
        The training and inference image.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        lake: DataLake,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.image = ecr_assets.DockerImageAsset(
            self,
            "Image",
            directory=str(REPO_ROOT),
            file="sagemaker_jobs/Dockerfile",
            platform=ecr_assets.Platform.LINUX_AMD64,
        )
        self.execution_role = self._execution_role(config, lake)
        CfnOutput(self, "ImageUri", value=self.image.image_uri)
        CfnOutput(self, "ExecutionRoleArn", value=self.execution_role.role_arn)

    def _execution_role(self, config: PlatformConfig, lake: DataLake) -> iam.Role:
        role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"MMM {config.stage} SageMaker execution role: training and endpoints",
        )
        lake.grant_read(role, "curated")  # the pipeline's training tables
        lake.grant_read(role, "models", "curated", bucket="models")  # the API's store
        lake.grant_write(role, "models", prefix="candidates/")  # the pipeline's jobs
        lake.grant_write(role, "models", prefix="*/training/")  # jobs the API starts
        self.image.repository.grant_pull(role)
        stack = Stack.of(self)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=_SAGEMAKER_LOG_GROUPS,
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        suppress(
            role,
            Suppression(
                "IAM5",
                "SageMaker creates one log group and stream per job/endpoint under "
                "/aws/sagemaker/ with names chosen at run time; access is confined to that "
                "prefix.",
                ("/^Resource::arn:<AWS::Partition>:logs:.*:log-group:\\/aws\\/sagemaker\\/\\*$/",),
            ),
            Suppression(
                "IAM5",
                "ecr:GetAuthorizationToken and cloudwatch:PutMetricData accept no resource-level "
                "permissions; PutMetricData is limited to SageMaker's namespaces by condition.",
                ("Resource::*",),
            ),
        )
        return role


def endpoint_name_prefix(stage: str) -> str:
    """Every endpoint of a stage is named ``<prefix><market>``."""
    return f"mmm-{stage}-"


def _variant(endpoint: EndpointSettings, model_name: str) -> dict[str, Any]:
    """The single production variant of an endpoint configuration (SageMaker API shape)."""
    variant: dict[str, Any] = {"VariantName": "AllTraffic", "ModelName": model_name}
    if endpoint.mode == "serverless":
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": endpoint.serverless_memory_mb,
            "MaxConcurrency": endpoint.serverless_max_concurrency,
        }
    else:
        variant.update(
            InstanceType=endpoint.instance_type,
            InitialInstanceCount=endpoint.instance_count,
            InitialVariantWeight=1,
        )
    return variant


def _retry_throttling(task: tasks.CallAwsService) -> None:
    """Retry SageMaker's throttling with backoff, for tasks whose other errors are caught
    by a path of their own."""
    task.add_retry(
        errors=["SageMaker.ThrottlingException"],
        interval=Duration.seconds(5),
        max_attempts=3,
        backoff_rate=2,
        jitter_strategy=sfn.JitterType.FULL,
    )


#: Between two looks at an endpoint being created or updated (which takes minutes).
ENDPOINT_POLL = Duration.seconds(30)


class ServingDeployment(Construct):
    """The states that serve a promoted candidate: model → endpoint config → endpoint.

    Built inside the pipeline's stack. Reads ``$.training.job_name`` (the new model's and
    configuration's name), ``$.training.model_artifacts`` and ``$.endpoint_name`` from the
    market's state and leaves the state unchanged. :meth:`chain` links the states; callers add
    retries and catches to :attr:`tasks` (``FindEndpoint`` catches to ``CreateEndpoint``).

    Parameters
    ----------
    config : PlatformConfig
    image_uri : str
        The serving image (:attr:`MlStack.image`).
    role : iam.IRole
        The SageMaker execution role passed to the model.
    key : kms.IKey
        Encrypts instance volumes (instance mode).
    environment : mapping of str to str
        The serving container's environment.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        image_uri: str,
        role: iam.IRole,
        key: kms.IKey,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        def arn(resource: str, name: str) -> str:
            return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

        job_name = sfn.JsonPath.string_at("$.training.job_name")
        endpoint_name = sfn.JsonPath.string_at("$.endpoint_name")
        endpoints = arn("endpoint", f"{endpoint_name_prefix(config.stage)}*")
        configs = arn("endpoint-config", "mmm-*")

        def call(
            state_id: str,
            action: str,
            parameters: dict[str, Any],
            resources: list[str],
            result_path: str = sfn.JsonPath.DISCARD,
            **extra: Any,
        ) -> tasks.CallAwsService:
            return tasks.CallAwsService(
                self,
                state_id,
                service="sagemaker",
                action=action,
                iam_action=f"sagemaker:{action[0].upper()}{action[1:]}",
                iam_resources=resources,
                parameters=parameters,
                result_path=result_path,
                **extra,
            )

        self.create_model = call(
            "CreateServingModel",
            "createModel",
            {
                "ModelName": job_name,
                "ExecutionRoleArn": role.role_arn,
                # Serving reads /opt/ml/model only; serverless endpoints refuse the setting.
                "EnableNetworkIsolation": config.endpoint.mode == "instances",
                "PrimaryContainer": {
                    "Image": image_uri,
                    "ModelDataUrl": sfn.JsonPath.string_at("$.training.model_artifacts"),
                    "Environment": dict(environment),
                },
            },
            [arn("model", "mmm-*")],
            additional_iam_statements=[
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                )
            ],
        )
        endpoint_config: dict[str, Any] = {
            "EndpointConfigName": job_name,
            "ProductionVariants": [_variant(config.endpoint, job_name)],
        }
        if config.endpoint.mode == "instances":
            endpoint_config["KmsKeyId"] = key.key_arn
        self.create_config = call(
            "CreateEndpointConfig", "createEndpointConfig", endpoint_config, [configs]
        )
        # The configuration the endpoint serves before the switch: the one to go back to.
        self.find_endpoint = call(
            "FindEndpoint",
            "describeEndpoint",
            {"EndpointName": endpoint_name},
            [endpoints],
            result_path="$.serving",
            result_selector={
                "previous_config": sfn.JsonPath.string_at("$.EndpointConfigName"),
                "endpoint_arn": sfn.JsonPath.string_at("$.EndpointArn"),
            },
        )
        switch = {"EndpointName": endpoint_name, "EndpointConfigName": job_name}
        self.update_endpoint = call(
            "UpdateEndpoint", "updateEndpoint", switch, [endpoints, configs]
        )
        # Endpoint updates and creations are asynchronous: poll until the endpoint serves the
        # candidate (InService on the new configuration), or has failed, or SageMaker has
        # rolled a failed update back (InService on another configuration).
        self.check_endpoint = call(
            "CheckEndpoint",
            "describeEndpoint",
            {"EndpointName": endpoint_name},
            [endpoints],
            result_path="$.endpoint",
            result_selector={
                "status": sfn.JsonPath.string_at("$.EndpointStatus"),
                "config": sfn.JsonPath.string_at("$.EndpointConfigName"),
            },
        )
        self.wait_for_endpoint = sfn.Wait(
            self,
            "WaitForEndpoint",
            time=sfn.WaitTime.duration(ENDPOINT_POLL),
        )
        self.not_serving = sfn.Pass(
            self,
            "EndpointNotServing",
            comment="The endpoint does not serve the candidate: production is not moved",
            parameters={
                "Error": "EndpointNotServing",
                "Cause": sfn.JsonPath.format(
                    "endpoint {} is {} on configuration {}, not on the candidate: not promoted",
                    endpoint_name,
                    sfn.JsonPath.string_at("$.endpoint.status"),
                    sfn.JsonPath.string_at("$.endpoint.config"),
                ),
            },
            result_path="$.error",
        )
        # After a failed promotion: the endpoint goes back to what it served before.
        self.restore_endpoint = call(
            "RestoreEndpoint",
            "updateEndpoint",
            {
                "EndpointName": endpoint_name,
                "EndpointConfigName": sfn.JsonPath.string_at("$.serving.previous_config"),
            },
            [endpoints, configs],
        )
        # Instance volumes encrypted with the lake key: SageMaker creates a grant as the caller.
        key_use = (
            [
                iam.PolicyStatement(
                    actions=["kms:CreateGrant", "kms:DescribeKey"], resources=[key.key_arn]
                )
            ]
            if config.endpoint.mode == "instances"
            else None
        )
        self.create_endpoint = call(
            "CreateEndpoint",
            "createEndpoint",
            switch,
            [endpoints, configs],
            additional_iam_statements=key_use,
        )
        # Any answer but a description (no endpoint yet: the market's first promotion) leads to
        # creating it; should it exist after all, CreateEndpoint fails and is caught.
        _retry_throttling(self.find_endpoint)
        self.find_endpoint.add_catch(
            self.create_endpoint, errors=[sfn.Errors.ALL], result_path=sfn.JsonPath.DISCARD
        )
        # After a promotion: the tag MMMSageMakerDeployment.rollback() reads, so an operator
        # can roll the endpoint back to what it served before this run.
        self.remember_previous = call(
            "RememberPreviousConfig",
            "addTags",
            {
                "ResourceArn": sfn.JsonPath.string_at("$.serving.endpoint_arn"),
                "Tags": [
                    {
                        "Key": PREVIOUS_CONFIG_TAG,
                        "Value": sfn.JsonPath.string_at("$.serving.previous_config"),
                    }
                ],
            },
            [endpoints],
        )
        #: The tasks whose retries and catches the caller adds (FindEndpoint has its own).
        self.tasks: tuple[tasks.CallAwsService, ...] = (
            self.create_model,
            self.create_config,
            self.update_endpoint,
            self.create_endpoint,
            self.check_endpoint,
            self.restore_endpoint,
        )

    @staticmethod
    def accepted_wildcards(stage: str) -> Suppression:
        """The cdk-nag finding its IAM statements raise in the state machine's role."""
        return Suppression(
            "IAM5",
            "Models and endpoint configurations are named after each run's training job "
            "(mmm-<market>-<uuid>) and endpoints after the market (mmm-<stage>-<market>): "
            "the ARNs are confined to those name prefixes.",
            (
                f"Resource::{_SAGEMAKER_ARN}:model/mmm-*",
                f"Resource::{_SAGEMAKER_ARN}:endpoint-config/mmm-*",
                f"Resource::{_SAGEMAKER_ARN}:endpoint/{endpoint_name_prefix(stage)}*",
            ),
        )

    def chain(self, then: sfn.IChainable, on_failure: sfn.IChainable) -> sfn.IChainable:
        """Model → configuration → (update | create) endpoint → poll until it serves the
        candidate → ``then``; an endpoint that fails or rolls back → ``on_failure`` (with
        ``$.error`` set, as a Catch would)."""
        ready = (
            sfn.Choice(self, "EndpointReady", comment="Does the endpoint serve the candidate?")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.string_equals("$.endpoint.status", "InService"),
                    sfn.Condition.string_equals_json_path(
                        "$.endpoint.config", "$.training.job_name"
                    ),
                ),
                then,
            )
            .when(
                sfn.Condition.or_(
                    *(
                        sfn.Condition.string_equals("$.endpoint.status", status)
                        for status in ("InService", "Failed", "OutOfService")
                    )
                ),
                self.not_serving.next(on_failure),
            )
            .otherwise(self.wait_for_endpoint.next(self.check_endpoint))
        )
        self.check_endpoint.next(ready)
        self.update_endpoint.next(self.check_endpoint)
        self.create_endpoint.next(self.check_endpoint)
        return (
            self.create_model.next(self.create_config)
            .next(self.find_endpoint)
            .next(self.update_endpoint)
        )

    def remember(self, then: sfn.IChainable) -> sfn.IChainable:
        """Tag the endpoint with the configuration it served before this run (when it had
        one), then ``then``. Production has moved by now, so a failure to tag is recorded in
        ``$.serving.tag_error`` and the run goes on."""
        _retry_throttling(self.remember_previous)
        self.remember_previous.add_catch(
            then, errors=[sfn.Errors.ALL], result_path="$.serving.tag_error"
        )
        self.remember_previous.next(then)
        return (
            sfn.Choice(self, "EndpointHadConfig", comment="Was an earlier configuration served?")
            .when(sfn.Condition.is_present("$.serving.previous_config"), self.remember_previous)
            .otherwise(then)
        )

    def restore(self, then: sfn.IChainable) -> sfn.IChainable:
        """Switch the endpoint back to the configuration it served before this run (when it
        had one), then ``then``: for a promotion that failed after the switch."""
        self.restore_endpoint.next(then)
        return (
            sfn.Choice(self, "EndpointSwitched", comment="Did this run switch an endpoint?")
            .when(sfn.Condition.is_present("$.serving.previous_config"), self.restore_endpoint)
            .otherwise(then)
        )
