"""Pipeline: weekly retraining of every market in Step Functions, with a quality gate.

::

    CheckInput ─(no "markets")→ UseConfiguredMarkets ─┐
        └──────────────────────────────────────────── TrainEachMarket (Map over $.markets)
      per market, in parallel:
        ValidateData → TrainModel (SageMaker .sync) → EvaluateCandidate → QualityGate
        QualityGate ─(evaluation.promote = true)→ CreateServingModel → CreateEndpointConfig
            → FindEndpoint ─→ UpdateEndpoint ─┬→ CheckEndpoint → EndpointReady
                  └(none yet)→ CreateEndpoint ┘
        EndpointReady ─(InService on the candidate)→ PromoteCandidate → EndpointHadConfig
                      ─(yes)→ RememberPreviousConfig (the tag rollback() reads) → WriteReport
                      ─(failed, or rolled back)→ EndpointNotServing → RecordFailure
                      ─(still updating)→ WaitForEndpoint → CheckEndpoint
        QualityGate ─(otherwise)→ KeepProduction → WriteReport → MarketDone
        PromoteCandidate's error → EndpointSwitched ─(yes)→ RestoreEndpoint → RecordFailure
        any other task's error (Catch) → RecordFailure
    → NotifyResults (SNS) → AnyMarketFailed ─(yes)→ RetrainingFailed (Fail) / RetrainingDone

Every task has a Retry with exponential backoff and jitter for transient errors and a Catch.
A market's failure is recorded and the other markets go on; the run ends failed (so the
``ExecutionsFailed`` alarm fires) after the notification has said which markets failed and why.
SageMaker does the heavy lifting: each market gets its own training job, up to
``max_parallel_trainings`` at once.

Contract with the task handlers (``lambdas/pipeline/{validate,evaluate,promote,report}.py``,
one image ``lambdas/pipeline/Dockerfile``, ``handler(event, context)``): each receives the
market's state document and returns a JSON object that the state machine stores under its key::

    {"market": "us", "run_id": "<execution name>", "stage": "prod",
     "training_data_uri": "s3://<curated bucket>/curated/us/",      where validate looks
     "candidate_output_uri": "s3://<models bucket>/models/candidates/us/",
     "endpoint_name": "mmm-prod-us",                                 the market's endpoint
     "validation": {"training_data_uri": ..., "hyperparameters": {"target_column",
                    "spend_columns", "control_columns", "date_column"}, ...},  the
                    training job's channel "training" and hyperparameters
     "training": {"job_name": "...", "model_artifacts": "s3://.../model.tar.gz"},
     "evaluation": <evaluate's result; must hold "promote": true|false and "reason">,
     "decision": {"outcome": "promoted" | "kept", ...},            after the gate
     "report": <report's result>}

A handler signals a problem by raising (the exception's class name is the error name, caught
by the state machine); ``evaluate`` returns ``promote: false`` with a ``reason`` to keep
production; ``promote`` runs once the market's endpoint serves the candidate
(``CheckEndpoint`` polls until it is ``InService`` on the candidate's configuration; a failed
update, which SageMaker rolls back by itself, fails the market before anything is promoted) and
records the candidate as the market's production model (a pointer under ``models/``, one
compare-and-swap). Should the promotion fail after the switch, ``RestoreEndpoint`` puts the
endpoint back on the configuration ``FindEndpoint`` saw (``$.serving.previous_config``), so the
endpoint and the production pointer agree either way. Results should stay
small (pointers, metrics): Step Functions passes at most 256 KB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from aws_cdk import CfnOutput, Duration, Size, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk.config import PlatformConfig
from cdk.data_lake import DataLake
from cdk.functions import ContainerFunction, retention
from cdk.ml import ServingDeployment, endpoint_name_prefix
from cdk.nag import XRAY_WILDCARD, Suppression, suppress

__all__ = ["TASK_HANDLERS", "Alerts", "PipelineStack"]

#: The pipeline's Lambda tasks (``lambdas.pipeline.<name>.handler``): (areas read, written).
TASK_HANDLERS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "validate": (("raw", "curated"), ()),
    "evaluate": (("curated", "models"), ()),
    "promote": (("models",), ("models",)),
    "report": (("curated", "models"), ("reports",)),
}
#: What ``validate`` returns under ``hyperparameters`` and the training job receives.
_VALIDATED_HYPERPARAMETERS = ("target_column", "spend_columns", "control_columns", "date_column")
_TASK_TIMEOUT = Duration.minutes(15)
_TASK_MEMORY_MB = 3008
#: Errors worth retrying: the service's own, not the handler's verdicts.
_LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]
_SAGEMAKER_TRANSIENT = [
    "SageMaker.AmazonSageMakerException",
    "SageMaker.ResourceLimitExceededException",
    "SageMaker.ThrottlingException",
]


_KMS_DATA_KEY_WILDCARDS = Suppression(
    "IAM5",
    "CDK's training task and topic grants add kms:GenerateDataKey* (and ReEncrypt* for the "
    "training output) to write encrypted objects and messages; each only on its own key.",
    ("Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"),
)


class Alerts(Construct):
    """An encrypted SNS topic for the pipeline's notifications and every alarm of the app."""

    def __init__(self, scope: Construct, construct_id: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"MMM {config.stage}: encrypts the alerts topic",
            enable_key_rotation=True,
        )
        # CloudWatch alarms publish to the topic as the service itself.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"MMM {config.stage} alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` publish (CDK adds the topic key's data-key actions)."""
        self.topic.grant_publish(grantee)

    def alarm(
        self,
        scope: Construct,
        construct_id: str,
        *,
        metric: cloudwatch.IMetric,
        description: str,
        threshold: float = 1,
    ) -> cloudwatch.Alarm:
        """An alarm in ``scope`` when ``metric`` reaches ``threshold`` in one period."""
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        return alarm


class _StateS3Uri(tasks.S3Location):
    """An S3 URI read from the state at run time, with no grants of its own.

    CDK's ``S3Location.from_json_expression`` would grant the SageMaker role S3 access on
    ``*``; the role's S3 access is written by hand in :mod:`cdk.ml` instead.
    """

    def __init__(self, json_path: str) -> None:
        super().__init__()
        self._uri = sfn.JsonPath.string_at(json_path)

    def bind(
        self,
        task: tasks.ISageMakerTask,
        *,
        for_reading: bool | None = None,
        for_writing: bool | None = None,
    ) -> tasks.S3LocationConfig:
        return tasks.S3LocationConfig(uri=self._uri)


class PipelineStack(Stack):
    """The retraining state machine, its task functions, schedule, notifications and alarms.

    Attributes
    ----------
    state_machine : sfn.StateMachine
    alerts : Alerts
        The topic other stacks send their alarms to.
    functions : dict of str to ContainerFunction
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
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._config = config
        self._lake = lake
        self.alerts = Alerts(self, "Alerts", config=config)
        self.functions = {name: self._task_function(name) for name in TASK_HANDLERS}
        definition = self._definition(image_uri, sagemaker_role)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=f"mmm-{config.stage}-retraining",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=_run_timeout(config),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(
                    self, "StateMachineLogs", retention=retention(config.log_retention_days)
                ),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        self.alerts.grant_publish(self.state_machine)
        self._accept_state_machine_wildcards()
        self.schedule = events.Rule(
            self,
            "WeeklySchedule",
            description=f"Starts the MMM {config.stage} retraining of every market",
            schedule=events.Schedule.expression(config.schedule),
            enabled=config.schedule_enabled,
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object(
                        {"markets": list(config.markets), "trigger": "schedule"}
                    ),
                    retry_attempts=3,
                    max_event_age=Duration.hours(2),
                )
            ],
        )
        self._alarms()
        CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        CfnOutput(self, "AlertsTopicArn", value=self.alerts.topic.topic_arn)

    # ----------------------------------------------------------------------------------------
    # Task functions.
    # ----------------------------------------------------------------------------------------

    def _task_function(self, name: str) -> ContainerFunction:
        reads, writes = TASK_HANDLERS[name]
        task = ContainerFunction(
            self,
            f"{name.capitalize()}Task",
            dockerfile="lambdas/pipeline/Dockerfile",
            command=[f"lambdas.pipeline.{name}.handler"],
            description=f"MMM {self._config.stage} retraining: {name}",
            memory_mb=_TASK_MEMORY_MB,
            timeout=_TASK_TIMEOUT,
            environment={
                **self._lake.environment(),
                "MMM_STAGE": self._config.stage,
                "POWERTOOLS_SERVICE_NAME": f"mmm-pipeline-{name}",
                "LOG_LEVEL": "INFO",
            },
            log_retention_days=self._config.log_retention_days,
        )
        self._lake.grant_read(task.function, *reads)
        for area in writes:
            self._lake.grant_write(task.function, area)
        return task

    # ----------------------------------------------------------------------------------------
    # The state machine.
    # ----------------------------------------------------------------------------------------

    def _definition(self, image_uri: str, sagemaker_role: iam.IRole) -> sfn.IChainable:
        config = self._config
        train_each = sfn.Map(
            self,
            "TrainEachMarket",
            comment="One branch per market; each trains its own SageMaker job",
            items_path="$.markets",
            item_selector=self._market_state(),
            max_concurrency=config.max_parallel_trainings,
            result_path="$.results",
        )
        train_each.item_processor(self._per_market(image_uri, sagemaker_role))

        notify = tasks.SnsPublish(
            self,
            "NotifyResults",
            topic=self.alerts.topic,
            subject=f"MMM retraining ({config.stage}): run finished",
            message=sfn.TaskInput.from_object(
                {
                    "stage": config.stage,
                    "run_id": sfn.JsonPath.execution_name,
                    "results": sfn.JsonPath.object_at("$.results"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        _guard(
            notify,
            [sfn.Errors.TASKS_FAILED],
            Duration.seconds(5),
            sfn.Fail(self, "NotificationFailed", error="NotificationFailed"),
        )
        any_failed = (
            sfn.Choice.jsonata(self, "AnyMarketFailed")
            .when(
                sfn.Condition.jsonata("{% 'failed' in $states.input.results.outcome %}"),
                sfn.Fail(
                    self,
                    "RetrainingFailed",
                    error="MarketsFailed",
                    cause="One or more markets failed; the notification lists them and why.",
                ),
            )
            .otherwise(sfn.Succeed(self, "RetrainingDone"))
        )
        use_configured = sfn.Pass(
            self,
            "UseConfiguredMarkets",
            comment="Started without a market list: retrain every configured market",
            result=sfn.Result.from_object({"markets": list(config.markets)}),
        )
        return (
            sfn.Choice(self, "CheckInput")
            .when(sfn.Condition.is_present("$.markets"), train_each)
            .otherwise(use_configured.next(train_each))
            .afterwards()
            .next(notify)
            .next(any_failed)
        )

    def _market_state(self) -> dict[str, object]:
        """The state document each market's branch starts from."""
        market = sfn.JsonPath.string_at("$$.Map.Item.Value")
        return {
            "market": market,
            "run_id": sfn.JsonPath.execution_name,
            "stage": self._config.stage,
            "training_data_uri": sfn.JsonPath.format(self._lake.area_uri("curated", "{}/"), market),
            "candidate_output_uri": sfn.JsonPath.format(
                self._lake.area_uri("models", "candidates/{}/"), market
            ),
            "endpoint_name": sfn.JsonPath.format(
                endpoint_name_prefix(self._config.stage) + "{}", market
            ),
        }

    def _per_market(self, image_uri: str, sagemaker_role: iam.IRole) -> sfn.IChainable:
        config = self._config
        record_failure = sfn.Pass(
            self,
            "RecordFailure",
            comment="A step failed: production stays as it was; the error goes to the summary",
            parameters={
                "market": sfn.JsonPath.string_at("$.market"),
                "outcome": "failed",
                "error": sfn.JsonPath.object_at("$.error"),
            },
        )
        validate = self._invoke("ValidateData", "validate", "$.validation", record_failure)
        train = tasks.SageMakerCreateTrainingJob(
            self,
            "TrainModel",
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            training_job_name=sfn.JsonPath.format(
                "mmm-{}-{}", sfn.JsonPath.string_at("$.market"), sfn.JsonPath.uuid()
            ),
            role=sagemaker_role,
            algorithm_specification=tasks.AlgorithmSpecification(
                training_image=tasks.DockerImage.from_registry(image_uri),
                training_input_mode=tasks.InputMode.FILE,
            ),
            input_data_config=[
                tasks.Channel(
                    channel_name="training",  # sagemaker_jobs reads SM_CHANNEL_TRAINING
                    data_source=tasks.DataSource(
                        s3_data_source=tasks.S3DataSource(
                            s3_location=_StateS3Uri("$.validation.training_data_uri"),
                            s3_data_type=tasks.S3DataType.S3_PREFIX,
                        )
                    ),
                )
            ],
            output_data_config=tasks.OutputDataConfig(
                s3_output_location=_StateS3Uri("$.candidate_output_uri"),
                encryption_key=self._lake.key,
            ),
            resource_config=tasks.ResourceConfig(
                instance_count=1,
                instance_type=ec2.InstanceType(config.training_instance_family),
                volume_size=Size.gibibytes(config.training_volume_gb),
                volume_encryption_key=self._lake.key,
            ),
            stopping_condition=tasks.StoppingCondition(
                max_runtime=Duration.minutes(config.training_max_runtime_minutes)
            ),
            enable_network_isolation=True,
            hyperparameters={
                "market": sfn.JsonPath.string_at("$.market"),
                "stage": config.stage,
                # The columns validate checked, so training reads the table the same way.
                **{
                    key: sfn.JsonPath.string_at(f"$.validation.hyperparameters.{key}")
                    for key in _VALIDATED_HYPERPARAMETERS
                },
            },
            environment={"MMM_STAGE": config.stage},
            task_timeout=sfn.Timeout.duration(
                Duration.minutes(config.training_max_runtime_minutes + 30)
            ),
            result_selector={
                "job_name": sfn.JsonPath.string_at("$.TrainingJobName"),
                "model_artifacts": sfn.JsonPath.string_at("$.ModelArtifacts.S3ModelArtifacts"),
            },
            result_path="$.training",
        )
        _guard(train, _SAGEMAKER_TRANSIENT, Duration.minutes(1), record_failure)
        if isinstance(sagemaker_role, Construct):
            suppress(sagemaker_role, _KMS_DATA_KEY_WILDCARDS)
        evaluate = self._invoke("EvaluateCandidate", "evaluate", "$.evaluation", record_failure)
        serving = ServingDeployment(
            self,
            "Serving",
            config=config,
            image_uri=image_uri,
            role=sagemaker_role,
            key=self._lake.key,
            environment={"MMM_STAGE": config.stage},
        )
        for task in serving.tasks:
            _guard(task, _SAGEMAKER_TRANSIENT, Duration.seconds(10), record_failure)
        # A promotion that fails after the endpoint switched puts the endpoint back, so the
        # endpoint and the production pointer never disagree.
        promote = self._invoke(
            "PromoteCandidate",
            "promote",
            "$.decision",
            serving.restore(record_failure),
            result_selector={"outcome": "promoted", "details": sfn.JsonPath.object_at("$")},
        )
        keep = sfn.Pass(
            self,
            "KeepProduction",
            comment="The candidate did not beat production: production stays (why: evaluation)",
            result=sfn.Result.from_object({"outcome": "kept"}),
            result_path="$.decision",
        )
        report = self._invoke("WriteReport", "report", "$.report", record_failure)
        done = sfn.Pass(
            self,
            "MarketDone",
            parameters={
                "market": sfn.JsonPath.string_at("$.market"),
                "outcome": sfn.JsonPath.string_at("$.decision.outcome"),
                "training": sfn.JsonPath.object_at("$.training"),
                "evaluation": sfn.JsonPath.object_at("$.evaluation"),
                "report": sfn.JsonPath.object_at("$.report"),
            },
        )
        gate = (
            sfn.Choice(self, "QualityGate", comment="Promote only a candidate that beat production")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.evaluation.promote"),
                    sfn.Condition.boolean_equals("$.evaluation.promote", True),
                ),
                serving.chain(promote.next(serving.remember(report)), record_failure),
            )
            .otherwise(keep.next(report))
        )
        report.next(done)
        return validate.next(train).next(evaluate).next(gate)

    def _invoke(
        self,
        state_id: str,
        handler: str,
        result_path: str,
        on_error: sfn.IChainable,
        result_selector: Mapping[str, object] | None = None,
    ) -> tasks.LambdaInvoke:
        """A Lambda task given the whole state, with backoff retries and a Catch."""
        task = tasks.LambdaInvoke(
            self,
            state_id,
            lambda_function=self.functions[handler].function,
            payload_response_only=True,
            retry_on_service_exceptions=False,  # replaced by the retry below
            result_path=result_path,
            result_selector=dict(result_selector) if result_selector else None,
            task_timeout=sfn.Timeout.duration(_TASK_TIMEOUT.plus(Duration.minutes(1))),
        )
        return _guard(task, _LAMBDA_TRANSIENT, Duration.seconds(5), on_error)

    # ----------------------------------------------------------------------------------------
    # Alarms and nag.
    # ----------------------------------------------------------------------------------------

    def _alarms(self) -> None:
        machine = self.state_machine
        self.alerts.alarm(
            self,
            "RunFailedAlarm",
            metric=machine.metric_failed(period=Duration.minutes(5)),
            description="An MMM retraining run failed (see the run's notification)",
        )
        self.alerts.alarm(
            self,
            "RunTimedOutAlarm",
            metric=machine.metric_timed_out(period=Duration.minutes(5)),
            description="An MMM retraining run timed out",
        )
        self.alerts.alarm(
            self,
            "ScheduleFailedAlarm",
            metric=cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="FailedInvocations",
                dimensions_map={"RuleName": self.schedule.rule_name},
                period=Duration.minutes(5),
                statistic=cloudwatch.Stats.SUM,
            ),
            description="The weekly schedule could not start the MMM retraining",
        )

    def _accept_state_machine_wildcards(self) -> None:
        suppress(
            self.state_machine,
            XRAY_WILDCARD,
            ServingDeployment.accepted_wildcards(self._config.stage),
            _KMS_DATA_KEY_WILDCARDS,
            Suppression(
                "IAM5",
                "CloudWatch Logs delivery actions (logs:CreateLogDelivery and friends) and "
                "sagemaker:ListTags accept no resource-level permissions.",
                ("Resource::*",),
            ),
            Suppression(
                "IAM5",
                "Training job names are generated per run (mmm-<market>-<uuid>), so the "
                "SageMaker training-job ARN can only be named up to a wildcard.",
                (
                    "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                    "training-job/*",
                ),
            ),
            Suppression(
                "IAM5",
                "CDK's LambdaInvoke grants invoking the task functions' versions too "
                "(<function ARN>:*); every one is a function of this stack.",
                ("/^Resource::<[A-Za-z0-9]+Task[A-Za-z0-9]+\\.Arn>:\\*$/",),
            ),
        )


def _guard(
    task: sfn.TaskStateBase, errors: list[str], interval: Duration, on_error: sfn.IChainable
) -> sfn.TaskStateBase:
    """Retry ``errors`` with exponential backoff and full jitter; catch everything else."""
    task.add_retry(
        errors=errors,
        interval=interval,
        max_attempts=3,
        backoff_rate=2,
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_catch(on_error, errors=[sfn.Errors.ALL], result_path="$.error")
    return task


def _run_timeout(config: PlatformConfig) -> Duration:
    """A run's upper bound: each wave of parallel trainings may retry once, plus the tasks."""
    waves = math.ceil(len(config.markets) / config.max_parallel_trainings)
    per_wave = 2 * (config.training_max_runtime_minutes + 30) + 4 * 16
    return Duration.minutes(waves * per_wave + 60)
