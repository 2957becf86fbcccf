"""API: API Gateway (REST, regional) → a container-image Lambda running the FastAPI app via Mangum.

- Image: ``lambdas/api/Dockerfile`` (handler ``lambdas.api.handler.handler``).
- Authentication: AWS IAM (SigV4) on every method; callers need ``execute-api:Invoke``, which
  the stack's ``InvokePolicy`` managed policy grants (attach it to the analysts' roles).
- Throttling: stage-wide rate and burst limits from the context (``api_throttle_rate``,
  ``api_throttle_burst``).
- Observability: JSON access logs, ERROR execution logs, CloudWatch metrics, X-Ray tracing on
  the stage and the function; alarms on 5xx responses and function errors, sent to the
  pipeline's alerts topic when one is given.
- Least privilege: the function reads and writes its application store only (the models
  bucket, ``MMM_DATA_LAKE_URI``: datasets, models, reports, its production pointer; no
  delete), never the pipeline's per-market stores (``models/markets/``, explicitly denied) or
  the other buckets; it starts SageMaker training jobs named ``mmm-*`` for ``POST /models``
  (``MMM_TRAINING_BACKEND=sagemaker``) with the ML stack's role and image.

The app is served under the stage path ``/v1``; API Gateway passes the path without the stage
(``/health``), so FastAPI's routes need no prefix (``MMM_ROOT_PATH=/v1`` lets ``/docs`` find
its schema).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.config import PlatformConfig
from cdk.data_lake import AREAS, DataLake
from cdk.functions import ContainerFunction, retention
from cdk.nag import Suppression, suppress, suppress_path
from cdk.pipeline import Alerts

__all__ = ["API_STAGE", "ApiStack"]

#: The API Gateway stage the app is deployed to (the first segment of every URL path).
API_STAGE = "v1"
#: API Gateway's integration timeout is 29 s; the function stops just before it.
_FUNCTION_TIMEOUT = Duration.seconds(28)
_SERVER_ERRORS_PER_5_MIN = 5


class ApiStack(Stack):
    """The HTTPS API of the platform.

    Attributes
    ----------
    api : apigw.LambdaRestApi
    handler : ContainerFunction
    invoke_policy : iam.ManagedPolicy
        ``execute-api:Invoke`` on this API's stage: attach it to whoever may call the API.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        lake: DataLake,
        image_uri: str,
        sagemaker_role: iam.IRole,
        alerts: Alerts | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.handler = ContainerFunction(
            self,
            "Handler",
            dockerfile="lambdas/api/Dockerfile",
            command=["lambdas.api.handler.handler"],
            description=f"MMM {config.stage} API (FastAPI via Mangum)",
            memory_mb=config.api_memory_mb,
            timeout=_FUNCTION_TIMEOUT,
            environment={
                **lake.environment(),
                "MMM_STAGE": config.stage,
                "MMM_ROOT_PATH": f"/{API_STAGE}",
                "MMM_TRAINING_BACKEND": "sagemaker",
                "MMM_SAGEMAKER_ROLE_ARN": sagemaker_role.role_arn,
                "MMM_SAGEMAKER_IMAGE_URI": image_uri,
                "MMM_SAGEMAKER_INSTANCE_TYPE": config.training_instance_type,
                "POWERTOOLS_SERVICE_NAME": "mmm-api",
                "LOG_LEVEL": "INFO",
            },
            log_retention_days=config.log_retention_days,
        )
        self._grant_store(lake)
        self._grant_training(image_uri, sagemaker_role)
        self.api = self._rest_api(config)
        self.invoke_policy = iam.ManagedPolicy(
            self,
            "InvokePolicy",
            description=f"Call the MMM {config.stage} API (attach to the callers' roles)",
            statements=[
                iam.PolicyStatement(
                    actions=["execute-api:Invoke"],
                    resources=[self.api.arn_for_execute_api("*", "/*", API_STAGE)],
                )
            ],
        )
        suppress(
            self.invoke_policy,
            Suppression(
                "IAM5",
                "Grants calling every route and method of this one API stage: the app's routes "
                "are defined in FastAPI, behind a single proxy resource.",
                ("/^Resource::arn:<AWS::Partition>:execute-api:.*\\/\\*\\/\\*$/",),
            ),
        )
        if alerts is not None:
            self._alarms(alerts)
        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "InvokePolicyArn", value=self.invoke_policy.managed_policy_arn)

    def _grant_store(self, lake: DataLake) -> None:
        """The application store: the models bucket, in the store's own layout.

        The API reads and writes its store (datasets, models, reports, its production pointer)
        but not the pipeline's per-market stores (``models/markets/``), nor any other bucket.
        """
        function = self.handler.function
        lake.grant_read(function, *AREAS, bucket="models")
        for area in AREAS:
            lake.grant_write(function, area, bucket="models")
        lake.deny_write(function, "models", "markets/", bucket="models")

    def _grant_training(self, image_uri: str, sagemaker_role: iam.IRole) -> None:
        """``POST /models`` starts SageMaker training jobs (named after the model id)."""
        stack = Stack.of(self)
        role = self.handler.role
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopTrainingJob",
                ],
                resources=[
                    stack.format_arn(
                        service="sagemaker", resource="training-job", resource_name="mmm-*"
                    )
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[sagemaker_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        suppress(
            role,
            Suppression(
                "IAM5",
                "Training jobs are named after the model id the API creates (mmm-<date>-<time>-"
                "<hex>), so the training-job ARN is confined to the mmm- prefix.",
                (
                    "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                    "training-job/mmm-*",
                ),
            ),
        )

    def _rest_api(self, config: PlatformConfig) -> apigw.LambdaRestApi:
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=retention(config.log_retention_days)
        )
        api = apigw.LambdaRestApi(
            self,
            "RestApi",
            handler=self.handler.function,
            proxy=True,
            rest_api_name=f"mmm-{config.stage}-api",
            description="Media Mix Modeling API (FastAPI on Lambda)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.IAM
            ),
            cloud_watch_role=True,  # execution logging needs the account's CloudWatch role
            deploy_options=apigw.StageOptions(
                stage_name=API_STAGE,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # bodies may hold business data: not in logs
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=config.api_throttle_rate,
                throttling_burst_limit=config.api_throttle_burst,
            ),
        )
        suppress(
            api,
            Suppression(
                "APIG2",
                "Request bodies are validated by the FastAPI app's pydantic schemas (422 with the "
                "error JSON); the proxy resource has no API Gateway models to validate against.",
            ),
            Suppression(
                "COG4",
                "Callers authenticate with AWS IAM (SigV4, execute-api:Invoke via InvokePolicy), "
                "not Cognito: the API serves AWS principals of the organisation.",
            ),
            Suppression(
                "APIG3",
                "No WAF web ACL: the API is IAM-authenticated and throttled per stage; attach a "
                "web ACL at the account's edge if it is ever exposed to anonymous traffic.",
            ),
        )
        suppress_path(
            self,
            f"{api.node.path}/CloudWatchRole",
            Suppression(
                "IAM4",
                "The account-level role API Gateway uses to write execution logs; AWS's managed "
                "policy AmazonAPIGatewayPushToCloudWatchLogs is the documented policy for it.",
                (
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs",
                ),
            ),
        )
        return api

    def _alarms(self, alerts: Alerts) -> None:
        alerts.alarm(
            self,
            "ServerErrorsAlarm",
            metric=self.api.metric_server_error(
                period=Duration.minutes(5), statistic=cloudwatch.Stats.SUM
            ),
            description="The MMM API answered 5xx responses",
            threshold=_SERVER_ERRORS_PER_5_MIN,
        )
        alerts.alarm(
            self,
            "FunctionErrorsAlarm",
            metric=self.handler.function.metric_errors(period=Duration.minutes(5)),
            description="The MMM API function failed (unhandled error or timeout)",
        )
