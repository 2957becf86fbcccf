"""The retraining state machine as the CDK synthesises it, executed by moto's Step Functions.

The definition is read from the synthesised app (``app.build_app``), its CloudFormation values
resolved to names made up for moto, and run with ``execute_state_machine``. What moto runs for
real: the flow (Choice, Map, Pass, Fail, Succeed, Retry/Catch, ``ResultSelector`` /
``ResultPath``, intrinsic functions), the SageMaker serving calls (``aws-sdk:sagemaker:*``) and
the SNS notification. What it cannot run is swapped for a callback task on an SQS queue that
the test answers, running the real code in-process on the input the state machine built:

- Lambda tasks (moto needs Docker): the handler named by the function's image command, in the
  function's environment from the template; an exception fails the task under its class name,
  as Lambda reports it;
- the SageMaker training job (moto has no ``.sync``): ``sagemaker_jobs.train`` run on the
  ``CreateTrainingJob`` request the state machine built (channels, hyperparameters, output
  path), its ``model.tar.gz`` uploaded where SageMaker puts it;
- a JSONata condition (moto evaluates JSONata through a JVM bridge it lacks here): the same
  condition in JSONPath.

Each test runs one market end to end and reads the path from the execution's history.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# moto executes state machines with the moto[stepfunctions] extra (antlr4, jsonpath_ng), which
# the dev extra installs: a missing one must fail here, not skip the proof.
import antlr4  # noqa: F401
import jsonpath_ng  # noqa: F401
import pandas as pd
import pytest

from mmm_core import EconometricMMM
from tests.lambdas.pipeline.conftest import (
    fake_aws_environment,
    put_production,
    run_training_job,
)
from tests.moto_sagemaker import emulate_updates

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

REGION, ACCOUNT = "us-east-1", "123456789012"
CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
TRAINING = ":states:::sagemaker:createTrainingJob.sync"
RUN_TIMEOUT_SECONDS = 60
#: ARNs of the resources tasks reach, from a made-up physical name.
ARN_PATTERNS = {
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{name}}",
    "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{{name}}",
    "AWS::KMS::Key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{{name}}",
    "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{{name}}",
}
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}


# --------------------------------------------------------------------------------------------
# The synthesised pipeline, resolved.
# --------------------------------------------------------------------------------------------


class Resolver:
    """CloudFormation values of a synthesised app, with made-up physical names.

    A resource's name is its logical id in lower case (valid for buckets, topics, functions);
    ARNs are built from it in :data:`REGION` and :data:`ACCOUNT`. Cross-stack references
    (``Fn::GetStackOutput``, ``Fn::ImportValue``) are followed to the producing stack.
    """

    def __init__(self, templates: Mapping[str, Mapping[str, Any]]) -> None:
        self.templates = templates

    def _kind(self, stack: str, logical: str) -> str:
        return self.templates[stack]["Resources"][logical]["Type"]

    @staticmethod
    def name(logical: str) -> str:
        return re.sub(r"[^a-z0-9-]", "", logical.lower())[:60]

    def ref(self, stack: str, target: str) -> Any:
        if target in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[target]
        if target == "AWS::StackName":
            return stack
        template = self.templates[stack]
        if target in template.get("Parameters", {}):
            return template["Parameters"][target].get("Default", target)
        if self._kind(stack, target) == "AWS::SNS::Topic":  # a topic's Ref is its ARN
            return self.get_att(stack, target, "Arn")
        return self.name(target)

    def get_att(self, stack: str, logical: str, attribute: str) -> str:
        pattern = ARN_PATTERNS.get(self._kind(stack, logical))
        if attribute == "Arn" and pattern:
            return pattern.format(name=self.name(logical))
        return f"{self.name(logical)}.{attribute}"

    def resolve(self, value: Any, stack: str) -> Any:
        if isinstance(value, list):
            return [self.resolve(v, stack) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref":
                return self.ref(stack, argument)
            if function == "Fn::GetAtt":
                parts = argument.split(".", 1) if isinstance(argument, str) else argument
                return self.get_att(stack, *parts)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(p, stack)) for p in parts)
            if function == "Fn::Sub":
                text, names = (argument, {}) if isinstance(argument, str) else argument

                def substitute(match: re.Match[str]) -> str:
                    key = match.group(1)
                    if key in names:
                        return str(self.resolve(names[key], stack))
                    if "." in key:
                        return self.get_att(stack, *key.split(".", 1))
                    return str(self.ref(stack, key))

                return re.sub(r"\$\{([^}!]+)\}", substitute, text)
            if function == "Fn::Select":
                index, items = argument
                return self.resolve(items, stack)[int(index)]
            if function == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text, stack)).split(separator)
            if function == "Fn::GetStackOutput":
                producer = argument["StackName"]
                output = self.templates[producer]["Outputs"][argument["OutputName"]]
                return self.resolve(output["Value"], producer)
            if function == "Fn::ImportValue":
                for producer, template in self.templates.items():
                    for output in template.get("Outputs", {}).values():
                        if output.get("Export", {}).get("Name") == argument:
                            return self.resolve(output["Value"], producer)
            if function.startswith("Fn::"):
                raise AssertionError(f"the test cannot resolve {function}: teach Resolver")
        return {k: self.resolve(v, stack) for k, v in value.items()}


@dataclass(frozen=True)
class TaskFunction:
    """A task Lambda of the template: its handler (image command) and environment."""

    handler: str
    env: dict[str, str]


@dataclass(frozen=True)
class Pipeline:
    """The state machine's definition and task functions, resolved."""

    definition: dict[str, Any]
    functions: dict[str, TaskFunction]  # by function ARN

    def function(self, handler: str) -> TaskFunction:
        return next(f for f in self.functions.values() if f.handler == handler)


@pytest.fixture(scope="session")
def pipeline(synthesised: Any) -> Pipeline:
    """The app's state machine (the stack that has one), from the session's synthesis."""
    assembly = synthesised.app.synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    resolver = Resolver(templates)
    [(stack, machine)] = [
        (name, resource)
        for name, template in templates.items()
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    definition = json.loads(resolver.resolve(machine["Properties"]["DefinitionString"], stack))
    functions = {}
    for logical, resource in templates[stack]["Resources"].items():
        command = resource.get("Properties", {}).get("ImageConfig", {}).get("Command")
        if resource["Type"] == "AWS::Lambda::Function" and command:
            env = resource["Properties"].get("Environment", {}).get("Variables", {})
            functions[resolver.get_att(stack, logical, "Arn")] = TaskFunction(
                handler=command[0], env=resolver.resolve(env, stack)
            )
    return Pipeline(definition, functions)


# --------------------------------------------------------------------------------------------
# Making the definition runnable in moto.
# --------------------------------------------------------------------------------------------


def all_states(machine: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    """Every state, inside Map and Parallel states too, as ``(its States dict, name, state)``."""
    for name, state in list(machine["States"].items()):
        yield machine["States"], name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from all_states(state[key])


def _callback(state: dict[str, Any], queue_url: str, task: str, request: Any = None) -> None:
    """Make ``state`` send its input to the test's queue and wait for the test's answer.

    Everything else of the state (Retry, Catch, ResultSelector, ResultPath...) stays.
    """
    body: dict[str, Any] = {"task": task, "input.$": "$", "token.$": "$$.Task.Token"}
    if request is not None:
        body["request"] = request  # moto evaluates its paths as the service integration would
    state["Resource"] = CALLBACK
    state["Parameters"] = {"QueueUrl": queue_url, "MessageBody": body}


_JSONATA_IN = re.compile(
    r"^\{%\s*'(?P<value>[^']*)'\s+in\s+\$states\.input\.(?P<path>[A-Za-z_][\w.]*)\."
    r"(?P<field>\w+)\s*%\}$"
)


def _jsonpath_choice(states: dict[str, Any], name: str, state: dict[str, Any]) -> None:
    """Replace a JSONata Choice by a Pass computing its conditions in JSONPath and a Choice."""
    checks, rules = {}, []
    for index, choice in enumerate(state["Choices"]):
        match = _JSONATA_IN.match(choice["Condition"])
        assert match, f"the test cannot translate JSONata {choice['Condition']!r} of {name}"
        checks[f"rule{index}.$"] = (
            f"States.ArrayContains($.{match['path']}[*].{match['field']}, '{match['value']}')"
        )
        rules.append(
            {"Variable": f"$.jsonata.rule{index}", "BooleanEquals": True, "Next": choice["Next"]}
        )
    translated = f"{name} (JSONPath)"
    states[name] = {"Type": "Pass", "Parameters": checks, "ResultPath": "$.jsonata"}
    states[name]["Next"] = translated
    states[translated] = {"Type": "Choice", "Choices": rules, "Default": state["Default"]}


def for_moto(pipeline: Pipeline, queue_url: str) -> dict[str, Any]:
    """The definition with what moto cannot run swapped for callbacks (see the module doc)."""
    definition = copy.deepcopy(pipeline.definition)
    for states, name, state in list(all_states(definition)):
        if state["Type"] == "Choice" and state.get("QueryLanguage") == "JSONata":
            _jsonpath_choice(states, name, state)
        if state["Type"] != "Task":
            continue
        resource = state["Resource"]
        if resource in pipeline.functions:
            _callback(state, queue_url, pipeline.functions[resource].handler)
        elif resource.endswith(TRAINING):
            _callback(state, queue_url, "sagemaker:createTrainingJob", state["Parameters"])
        elif ":states:::aws-sdk:sagemaker:" in resource or resource.endswith(":sns:publish"):
            continue  # moto runs these
        else:
            raise AssertionError(f"the test cannot run {name} ({resource}): teach for_moto")
    return definition


# --------------------------------------------------------------------------------------------
# Answering the callbacks: the handlers and a SageMaker that runs the training job here.
# --------------------------------------------------------------------------------------------


class TaskFailedError(Exception):
    """A task's failure as the service reports it: an error name and a cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set (a Lambda function's configuration), then restored."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class LambdaContext:
    aws_request_id: str = "test-request"
    function_name: str = "test"


def _s3_objects(uri: str) -> dict[str, bytes]:
    """Every object under an ``s3://bucket/prefix``, by its name relative to the prefix."""
    import boto3

    s3 = boto3.client("s3")
    bucket, prefix = urlparse(uri).netloc, urlparse(uri).path.lstrip("/")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) :].lstrip("/") or Path(item["Key"]).name
            out[relative] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


@dataclass
class FakeSageMaker:
    """``CreateTrainingJob`` + wait, as the ``.sync`` integration does, running the job here.

    ``failure`` makes the next jobs fail with that reason without training (a capacity or
    infrastructure failure); a job whose container fails reports the container's reason.
    """

    workdir: Path
    failure: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def create_training_job(self, request: dict[str, Any]) -> dict[str, Any]:
        import boto3

        self.requests.append(request)
        name = request["TrainingJobName"]
        hyperparameters = request.get("HyperParameters", {})
        if not all(isinstance(v, str) for v in hyperparameters.values()):
            raise TaskFailedError(
                "SageMaker.ValidationException", "hyperparameters must be strings"
            )
        described = {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}",
            "HyperParameters": hyperparameters,
        }
        reason = self.failure
        if reason is None:
            channels = {
                channel["ChannelName"]: _s3_objects(channel["DataSource"]["S3DataSource"]["S3Uri"])
                for channel in request["InputDataConfig"]
            }
            run = run_training_job(self.workdir / name, channels, hyperparameters)
            reason = run.failure
        if reason is not None:
            # In AWS the task fails with States.TaskFailed and this document as the cause; a
            # callback may not send a States.* error, so the test names it TrainingJobFailed.
            cause = {**described, "TrainingJobStatus": "Failed", "FailureReason": reason}
            raise TaskFailedError("TrainingJobFailed", json.dumps(cause))
        output = urlparse(request["OutputDataConfig"]["S3OutputPath"].rstrip("/") + "/")
        key = f"{output.path.lstrip('/')}{name}/output/model.tar.gz"
        assert run.archive is not None
        boto3.client("s3").put_object(Bucket=output.netloc, Key=key, Body=run.archive)
        return {
            **described,
            "TrainingJobStatus": "Completed",
            "ModelArtifacts": {"S3ModelArtifacts": f"s3://{output.netloc}/{key}"},
        }


@dataclass
class Run:
    """One execution: how it ended, its history, what its tasks were given."""

    status: str
    error: str | None
    output: dict[str, Any] | None
    events: list[dict[str, Any]]
    task_inputs: dict[str, list[Any]]

    @property
    def entered(self) -> list[str]:
        """The states entered, in order."""
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.events
            if "stateEnteredEventDetails" in e
        ]

    def took(self, *path: str) -> bool:
        """Whether ``path`` was entered in this order (other states may come between)."""
        remaining = iter(self.entered)
        return all(any(name == step for name in remaining) for step in path)


@dataclass
class Aws:
    """moto's services as the stacks would have them, and the test's callback queue."""

    pipeline: Pipeline
    machine_arn: str
    tasks_queue: str
    notifications_queue: str
    sagemaker: FakeSageMaker

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """What the swapped-out task would have returned, or :class:`TaskFailedError`."""
        task = body["task"]
        if task == "sagemaker:createTrainingJob":
            return self.sagemaker.create_training_job(body["request"])
        module, function = task.rsplit(".", 1)
        handler = getattr(importlib.import_module(module), function)
        try:
            with environment(self.pipeline.function(task).env):
                return handler(body["input"], LambdaContext())
        except Exception as exc:  # Lambda reports the class name and the message
            cause = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            raise TaskFailedError(type(exc).__name__, json.dumps(cause)) from exc

    def execute(self, run_input: dict[str, Any], name: str) -> Run:
        """Start an execution and answer its callbacks until it ends."""
        import boto3

        sfn, sqs = boto3.client("stepfunctions"), boto3.client("sqs")
        execution = sfn.start_execution(
            stateMachineArn=self.machine_arn, name=name, input=json.dumps(run_input)
        )["executionArn"]
        task_inputs: dict[str, list[Any]] = {}
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while True:
            messages = sqs.receive_message(QueueUrl=self.tasks_queue, MaxNumberOfMessages=10)
            for message in messages.get("Messages", []):
                sqs.delete_message(
                    QueueUrl=self.tasks_queue, ReceiptHandle=message["ReceiptHandle"]
                )
                body = json.loads(message["Body"])
                task_inputs.setdefault(body["task"], []).append(body.get("request", body["input"]))
                try:
                    result = self.answer(body)
                except TaskFailedError as failed:
                    # moto drops the cause of SendTaskFailure (the error name gets through).
                    sfn.send_task_failure(
                        taskToken=body["token"], error=failed.error, cause=failed.cause
                    )
                else:
                    sfn.send_task_success(taskToken=body["token"], output=json.dumps(result))
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            assert time.monotonic() < deadline, (
                f"{name} still running after {RUN_TIMEOUT_SECONDS} s"
            )
            time.sleep(0.02)
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        output = json.loads(described["output"]) if described.get("output") else None
        return Run(described["status"], described.get("error"), output, events, task_inputs)

    def notification(self) -> dict[str, Any]:
        """The last message the run published on the alerts topic."""
        import boto3

        sqs = boto3.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.notifications_queue, MaxNumberOfMessages=10)
        bodies = [m["Body"] for m in messages.get("Messages", [])]
        for message in messages.get("Messages", []):
            sqs.delete_message(
                QueueUrl=self.notifications_queue, ReceiptHandle=message["ReceiptHandle"]
            )
        assert bodies, "nothing was published on the alerts topic"
        return json.loads(bodies[-1])


@pytest.fixture(scope="module")
def aws(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aws]:
    """moto with the buckets, topic and state machine of the stacks, and the callback queue."""
    import boto3
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env:
        fake_aws_environment(env)
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            s3, sqs, sns = boto3.client("s3"), boto3.client("sqs"), boto3.client("sns")
            buckets = {
                urlparse(value).netloc
                for function in pipeline.functions.values()
                for value in function.env.values()
                if value.startswith("s3://")
            }
            for bucket in buckets:
                s3.create_bucket(Bucket=bucket)
            tasks_queue = sqs.create_queue(QueueName="pipeline-tasks")["QueueUrl"]
            notifications = sqs.create_queue(QueueName="pipeline-notifications")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(
                QueueUrl=notifications, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            topics = {
                state["Parameters"]["TopicArn"]
                for _, _, state in all_states(pipeline.definition)
                if state["Type"] == "Task" and state["Resource"].endswith(":sns:publish")
            }
            for topic in topics:
                created = sns.create_topic(Name=topic.rsplit(":", 1)[1])["TopicArn"]
                assert created == topic
                sns.subscribe(
                    TopicArn=topic,
                    Protocol="sqs",
                    Endpoint=queue_arn,
                    Attributes={"RawMessageDelivery": "true"},
                )
            machine = boto3.client("stepfunctions").create_state_machine(
                name="mmm-retraining",
                definition=json.dumps(for_moto(pipeline, tasks_queue)),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/state-machine",
            )["stateMachineArn"]
            yield Aws(
                pipeline,
                machine,
                tasks_queue,
                notifications,
                FakeSageMaker(tmp_path_factory.mktemp("sagemaker")),
            )


# --------------------------------------------------------------------------------------------
# The runs.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """One market's data and production model in the lake the task functions see."""

    name: str
    aws: Aws

    @property
    def settings(self) -> Any:
        from lambdas.pipeline.common import PipelineSettings

        return PipelineSettings.from_env(self.aws.pipeline.function(VALIDATE).env)

    def put_table(self, frame: pd.DataFrame) -> None:
        self.settings.curated_store().put_bytes(
            f"curated/{self.name}/data.csv", frame.to_csv(index=False).encode()
        )

    def production(self) -> dict[str, Any] | None:
        return self.settings.models_store(self.name).production()

    def put_production(self, model: EconometricMMM) -> dict[str, Any]:
        return put_production(self.settings.models_store(self.name), f"mmm-{self.name}-old", model)


VALIDATE = "lambdas.pipeline.validate.handler"


def sagemaker_endpoint(name: str) -> dict[str, Any] | None:
    """moto's description of the endpoint ``name``, or ``None``."""
    import boto3
    from botocore.exceptions import ClientError

    try:
        return boto3.client("sagemaker").describe_endpoint(EndpointName=name)
    except ClientError:
        return None


PATH_TO_TRAINING = ("CheckInput", "TrainEachMarket", "ValidateData", "TrainModel")


def test_happy_path_promotes_the_candidate_reports_and_notifies(
    aws: Aws, mmm_frame: pd.DataFrame, weak_production: EconometricMMM
) -> None:
    market = Market("us", aws)
    market.put_table(mmm_frame)
    before = market.put_production(weak_production)

    run = aws.execute({"markets": ["us"]}, "happy")

    assert run.status == "SUCCEEDED", run.error
    assert run.took(*PATH_TO_TRAINING, "EvaluateCandidate", "QualityGate", "PromoteCandidate")
    assert run.took("CreateEndpoint", "CheckEndpoint", "EndpointReady", "PromoteCandidate")
    assert run.took("PromoteCandidate", "WriteReport", "MarketDone", "NotifyResults")
    assert run.took("AnyMarketFailed", "RetrainingDone")
    assert not {"KeepProduction", "RecordFailure"} & set(run.entered)

    [result] = run.output["results"]
    job = result["training"]["job_name"]
    assert result["outcome"] == "promoted" and job.startswith("mmm-us-")
    pointer = market.production()
    assert pointer["model_id"] == job and pointer["previous"] == [before["model_id"]]

    # Each task got the state the CDK built; the job got validate's channel and columns.
    [validate_input] = run.task_inputs[VALIDATE]
    assert validate_input["market"] == "us"
    assert (
        validate_input["training_data_uri"]
        == market.settings.curated_store().uri("curated/us") + "/"
    )
    [request] = aws.sagemaker.requests[-1:]
    validation = run.task_inputs["lambdas.pipeline.evaluate.handler"][0]["validation"]
    assert (
        request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
        == (validation["training_data_uri"])
    )
    assert validation["hyperparameters"].items() <= request["HyperParameters"].items()

    # The market's endpoint serves the candidate (moto ran the aws-sdk:sagemaker calls).
    endpoint = sagemaker_endpoint(validate_input["endpoint_name"])
    assert endpoint is not None and endpoint["EndpointConfigName"] == job

    report = result["report"]
    assert report["outcome"] == "promoted" and f"{job} was promoted" in report["summary"]
    reports = market.settings.reports_store()
    assert reports.exists(f"reports/{job}/report.html")

    notified = aws.notification()
    assert [r["outcome"] for r in notified["results"]] == ["promoted"]
    assert notified["results"][0]["report"]["summary"] == report["summary"]


def test_failed_training_job_is_caught_notified_and_production_unchanged(
    aws: Aws, mmm_frame: pd.DataFrame, weak_production: EconometricMMM
) -> None:
    market = Market("uk", aws)
    market.put_table(mmm_frame)
    before = market.put_production(weak_production)
    aws.sagemaker.failure = "CapacityError: Unable to provision requested ML compute capacity."
    try:
        run = aws.execute({"markets": ["uk"]}, "training-fails")
    finally:
        aws.sagemaker.failure = None

    assert run.status == "FAILED" and run.error == "MarketsFailed"
    assert run.took(*PATH_TO_TRAINING, "RecordFailure", "NotifyResults", "RetrainingFailed")
    assert not {"EvaluateCandidate", "PromoteCandidate", "WriteReport"} & set(run.entered)
    assert market.production() == before

    notified = aws.notification()
    [result] = notified["results"]
    assert result["market"] == "uk" and result["outcome"] == "failed"
    assert result["error"]["Error"] == "TrainingJobFailed"


def test_model_failing_the_gate_keeps_production_and_reports_why(
    aws: Aws, mmm_frame: pd.DataFrame, strong_production: EconometricMMM
) -> None:
    market = Market("de", aws)
    market.put_table(mmm_frame)
    before = market.put_production(strong_production)

    run = aws.execute({"markets": ["de"]}, "gate-fails")

    assert run.status == "SUCCEEDED", run.error
    assert run.took(*PATH_TO_TRAINING, "EvaluateCandidate", "QualityGate", "KeepProduction")
    assert run.took("KeepProduction", "WriteReport", "MarketDone", "NotifyResults")
    assert "PromoteCandidate" not in run.entered and "RecordFailure" not in run.entered
    assert not any(name.startswith("Create") for name in run.entered)
    assert market.production() == before
    assert sagemaker_endpoint(run.task_inputs[VALIDATE][0]["endpoint_name"]) is None

    [result] = run.output["results"]
    assert result["outcome"] == "kept" and result["evaluation"]["promote"] is False
    assert "worse than production" in result["evaluation"]["reason"]
    assert "not promoted and production stays mmm-de-old" in result["report"]["summary"]
    assert aws.notification()["results"][0]["outcome"] == "kept"


def test_bad_data_fails_validation_before_any_training(aws: Aws, mmm_frame: pd.DataFrame) -> None:
    market = Market("fr", aws)
    market.put_table(mmm_frame.assign(tv_spend=-mmm_frame["tv_spend"]))
    jobs_before = len(aws.sagemaker.requests)

    run = aws.execute({"markets": ["fr"]}, "bad-data")

    assert run.status == "FAILED" and run.error == "MarketsFailed"
    assert run.took("ValidateData", "RecordFailure", "NotifyResults", "RetrainingFailed")
    assert "TrainModel" not in run.entered and len(aws.sagemaker.requests) == jobs_before
    assert market.production() is None
    [result] = aws.notification()["results"]
    assert result["error"]["Error"] == "DataIntegrationError"


def serving(market: str, config: str) -> str:
    """The market's endpoint, serving ``config`` as an earlier run left it; its name."""
    import boto3

    sagemaker, name = boto3.client("sagemaker"), f"mmm-prod-{market}"
    sagemaker.create_model(
        ModelName=config,
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sagemaker",
        PrimaryContainer={"Image": "mmm:old", "ModelDataUrl": "s3://models/old/model.tar.gz"},
    )
    variant = {"VariantName": "AllTraffic", "ModelName": config}
    variant["ServerlessConfig"] = {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    return name


def served_market(
    aws: Aws,
    name: str,
    frame: pd.DataFrame,
    production: EconometricMMM,
    monkeypatch: pytest.MonkeyPatch,
    *,
    roll_back: bool = False,
) -> tuple[Market, dict[str, Any], str]:
    """A market with data, a production model and an endpoint serving ``mmm-<name>-old``
    (updates emulated in moto, rolled back if asked); the market, its pointer, the endpoint."""
    emulate_updates(monkeypatch, roll_back=roll_back)
    market = Market(name, aws)
    market.put_table(frame)
    before = market.put_production(production)
    return market, before, serving(name, f"mmm-{name}-old")


def test_a_promotion_failing_after_the_switch_puts_the_endpoint_back(
    aws: Aws,
    mmm_frame: pd.DataFrame,
    weak_production: EconometricMMM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mmm_core import DeploymentError
    from mmm_core.store.base import ArtifactStore

    market, before, endpoint = served_market(aws, "it", mmm_frame, weak_production, monkeypatch)

    def refused(self: ArtifactStore, model_id: str, gate: Any) -> dict[str, Any]:
        raise DeploymentError(message="the production pointer kept changing; not promoted")

    monkeypatch.setattr(ArtifactStore, "promote", refused)
    run = aws.execute({"markets": ["it"]}, "promote-fails")

    assert run.status == "FAILED" and run.error == "MarketsFailed"
    assert run.took("FindEndpoint", "UpdateEndpoint", "CheckEndpoint", "EndpointReady")
    assert run.took("PromoteCandidate", "EndpointSwitched", "RestoreEndpoint", "RecordFailure")
    # The endpoint serves what it served before, and production has not moved: they agree.
    assert sagemaker_endpoint(endpoint)["EndpointConfigName"] == "mmm-it-old"
    assert market.production() == before
    [result] = aws.notification()["results"]
    assert result["outcome"] == "failed" and result["error"]["Error"] == "DeploymentError"


def test_an_update_sagemaker_rolls_back_fails_the_market_before_promotion(
    aws: Aws,
    mmm_frame: pd.DataFrame,
    weak_production: EconometricMMM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    market, before, endpoint = served_market(
        aws, "es", mmm_frame, weak_production, monkeypatch, roll_back=True
    )

    run = aws.execute({"markets": ["es"]}, "update-rolled-back")

    assert run.status == "FAILED" and run.error == "MarketsFailed"
    assert run.took("UpdateEndpoint", "CheckEndpoint", "EndpointReady", "EndpointNotServing")
    assert run.took("EndpointNotServing", "RecordFailure", "NotifyResults", "RetrainingFailed")
    assert "PromoteCandidate" not in run.entered
    assert sagemaker_endpoint(endpoint)["EndpointConfigName"] == "mmm-es-old"
    assert market.production() == before
    [result] = aws.notification()["results"]
    assert result["error"]["Error"] == "EndpointNotServing"
    assert "InService on configuration mmm-es-old" in result["error"]["Cause"]


def test_a_switch_the_pipeline_made_can_be_rolled_back_by_the_deployment_tool(
    aws: Aws,
    mmm_frame: pd.DataFrame,
    weak_production: EconometricMMM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sagemaker_jobs.deployment import MMMSageMakerDeployment

    _, _, endpoint = served_market(aws, "nl", mmm_frame, weak_production, monkeypatch)

    run = aws.execute({"markets": ["nl"]}, "update-then-rollback")

    assert run.status == "SUCCEEDED", run.error
    assert run.took("UpdateEndpoint", "CheckEndpoint", "EndpointReady", "PromoteCandidate")
    assert run.took(
        "PromoteCandidate", "EndpointHadConfig", "RememberPreviousConfig", "WriteReport"
    )
    job = run.output["results"][0]["training"]["job_name"]
    assert sagemaker_endpoint(endpoint)["EndpointConfigName"] == job

    back = MMMSageMakerDeployment(region_name=REGION).rollback(endpoint)

    assert back["endpoint_config_name"] == "mmm-nl-old" and back["rolled_back_from"] == job
    assert sagemaker_endpoint(endpoint)["EndpointConfigName"] == "mmm-nl-old"
