"""Retraining pipeline: states, Retry/Catch on every task, quality gate, schedule, fan-out."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from cdk.pipeline import TASK_HANDLERS

from .conftest import all_states, flatten, only_resource, state_machine_definition

#: States that a Catch may lead to: record the failure (branch) or fail the run (top level).
# EndpointSwitched: a failed promotion first puts a switched endpoint back
FAILURE_STATES = {"RecordFailure", "NotificationFailed", "CreateEndpoint", "EndpointSwitched"}


@pytest.fixture(scope="module")
def definition(pipeline: Template) -> dict[str, Any]:
    return state_machine_definition(pipeline)


@pytest.fixture(scope="module")
def states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = dict(all_states(definition))
    assert len(found) == len(list(all_states(definition))), "state names must be unique"
    return found


@pytest.fixture(scope="module")
def branch(definition: dict[str, Any]) -> dict[str, Any]:
    return definition["States"]["TrainEachMarket"]["ItemProcessor"]


def _successors(state: dict[str, Any], with_catches: bool = True) -> set[str]:
    found = {state[key] for key in ("Next", "Default") if key in state}
    found |= {choice["Next"] for choice in state.get("Choices", [])}
    if with_catches:
        found |= {catcher["Next"] for catcher in state.get("Catch", [])}
    return found


def _reachable(
    states: dict[str, dict[str, Any]], start: str, stop_at: frozenset[str] = frozenset()
) -> set[str]:
    """States reachable from ``start`` (catches included), not going past ``stop_at``."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            if name not in stop_at:
                todo.extend(_successors(states[name]))
    return seen


def test_the_run_validates_trains_evaluates_gates_promotes_reports_and_notifies(
    definition: dict[str, Any], branch: dict[str, Any]
) -> None:
    assert definition["StartAt"] == "CheckInput"
    top = definition["States"]
    assert top["TrainEachMarket"]["Type"] == "Map"
    assert top["TrainEachMarket"]["Next"] == "NotifyResults"
    assert top["NotifyResults"]["Resource"].endswith(":states:::sns:publish")
    assert branch["StartAt"] == "ValidateData"
    inner = branch["States"]
    assert inner["ValidateData"]["Next"] == "TrainModel"
    assert inner["TrainModel"]["Next"] == "EvaluateCandidate"
    assert inner["EvaluateCandidate"]["Next"] == "QualityGate"
    assert inner["QualityGate"]["Type"] == "Choice"
    assert inner["QualityGate"]["Default"] == "KeepProduction"
    assert inner["KeepProduction"]["Next"] == "WriteReport"
    assert inner["PromoteCandidate"]["Next"] == "EndpointHadConfig"
    assert inner["WriteReport"]["Next"] == "MarketDone"


def test_training_is_a_sagemaker_job_that_the_state_machine_waits_for(
    states: dict[str, dict[str, Any]],
) -> None:
    train = states["TrainModel"]
    assert train["Resource"].endswith(":states:::sagemaker:createTrainingJob.sync")
    parameters = train["Parameters"]
    assert parameters["TrainingJobName.$"] == "States.Format('mmm-{}-{}', $.market, States.UUID())"
    (channel,) = parameters["InputDataConfig"]
    assert channel["ChannelName"] == "training"  # SM_CHANNEL_TRAINING in sagemaker_jobs
    assert channel["DataSource"]["S3DataSource"]["S3Uri.$"] == "$.validation.training_data_uri"
    assert parameters["HyperParameters"] == {
        "market.$": "$.market",
        "stage": "prod",
        **{
            f"{key}.$": f"$.validation.hyperparameters.{key}"
            for key in ("target_column", "spend_columns", "control_columns", "date_column")
        },
    }
    assert parameters["OutputDataConfig"]["S3OutputPath.$"] == "$.candidate_output_uri"
    assert parameters["OutputDataConfig"]["KmsKeyId"]  # the lake key
    assert parameters["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert parameters["ResourceConfig"]["VolumeKmsKeyId"]
    assert parameters["StoppingCondition"]["MaxRuntimeInSeconds"] == 120 * 60
    assert parameters["EnableNetworkIsolation"] is True
    assert "<" in parameters["AlgorithmSpecification"]["TrainingImage"]  # the image asset


def test_map_fans_out_over_the_markets_with_bounded_parallelism(
    definition: dict[str, Any],
) -> None:
    fan_out = definition["States"]["TrainEachMarket"]
    assert fan_out["ItemsPath"] == "$.markets"
    assert fan_out["MaxConcurrency"] == 10
    selector = fan_out["ItemSelector"]
    assert selector["market.$"] == "$$.Map.Item.Value"
    assert selector["training_data_uri.$"].endswith("/curated/{}/', $$.Map.Item.Value)")
    assert "/models/candidates/{}/'" in selector["candidate_output_uri.$"]
    assert selector["endpoint_name.$"] == "States.Format('mmm-prod-{}', $$.Map.Item.Value)"


def test_every_task_retries_with_backoff_and_catches(states: dict[str, dict[str, Any]]) -> None:
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert len(tasks) >= 10
    for name, task in tasks.items():
        assert task.get("Retry"), f"{name} has no Retry"
        for retrier in task["Retry"]:
            assert retrier["BackoffRate"] > 1, name
            assert retrier["MaxAttempts"] >= 2, name
            assert retrier.get("JitterStrategy") == "FULL", name
        assert task.get("Catch"), f"{name} has no Catch"
        assert task["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
        # tagging for rollback() runs after promotion: its failure is noted, not fatal
        allowed = FAILURE_STATES | ({"WriteReport"} if name == "RememberPreviousConfig" else set())
        assert {catcher["Next"] for catcher in task["Catch"]} <= allowed, name


def test_a_failed_promotion_puts_the_switched_endpoint_back_then_records_the_failure(
    states: dict[str, dict[str, Any]],
) -> None:
    assert [c["Next"] for c in states["PromoteCandidate"]["Catch"]] == ["EndpointSwitched"]
    switched = states["EndpointSwitched"]
    [choice] = switched["Choices"]
    assert choice == {
        "Variable": "$.serving.previous_config",
        "IsPresent": True,
        "Next": "RestoreEndpoint",
    }
    assert switched["Default"] == "RecordFailure"
    restore = states["RestoreEndpoint"]
    assert restore["Resource"].endswith(":states:::aws-sdk:sagemaker:updateEndpoint")
    assert restore["Parameters"]["EndpointConfigName.$"] == "$.serving.previous_config"
    assert restore["ResultPath"] is None  # keeps $.error for RecordFailure
    assert restore["Next"] == "RecordFailure"


def test_a_promoted_switch_is_tagged_for_rollback_and_a_tag_failure_does_not_fail_the_run(
    states: dict[str, dict[str, Any]],
) -> None:
    from sagemaker_jobs.deployment import PREVIOUS_CONFIG_TAG

    assert states["PromoteCandidate"]["Next"] == "EndpointHadConfig"
    tag = states["RememberPreviousConfig"]
    assert tag["Parameters"]["Tags"] == [
        {"Key": PREVIOUS_CONFIG_TAG, "Value.$": "$.serving.previous_config"}
    ]
    assert tag["Next"] == "WriteReport"
    assert [(c["Next"], c["ResultPath"]) for c in tag["Catch"]] == [
        ("WriteReport", "$.serving.tag_error")
    ]
    assert states["EndpointHadConfig"]["Default"] == "WriteReport"


def test_states_all_stands_alone_and_last(states: dict[str, dict[str, Any]]) -> None:
    """The States Language rule that CloudFormation enforces at deploy time."""
    for name, state in states.items():
        for field in ("Retry", "Catch"):
            handlers = state.get(field, [])
            for position, handler in enumerate(handlers):
                if "States.ALL" in handler["ErrorEquals"]:
                    assert handler["ErrorEquals"] == ["States.ALL"], (name, field)
                    assert position == len(handlers) - 1, (name, field)


def test_lambda_tasks_call_each_pipeline_handler(
    states: dict[str, dict[str, Any]], pipeline: Template
) -> None:
    functions = pipeline.find_resources("AWS::Lambda::Function")
    commands = {
        tuple(resource["Properties"]["ImageConfig"]["Command"]): logical_id
        for logical_id, resource in functions.items()
    }
    assert set(commands) == {(f"lambdas.pipeline.{name}.handler",) for name in TASK_HANDLERS}
    invoked = {
        state["Resource"] for state in states.values() if state.get("Resource", "").startswith("<")
    }
    assert invoked == {f"<{logical_id}.Arn>" for logical_id in commands.values()}


def test_failures_never_reach_promotion_or_the_endpoint(
    states: dict[str, dict[str, Any]],
) -> None:
    production = {"PromoteCandidate", "CreateServingModel", "UpdateEndpoint", "CreateEndpoint"}
    for name, state in states.items():
        for catcher in state.get("Catch", []):
            if name != "FindEndpoint":  # its catch creates the endpoint it did not find
                assert catcher["Next"] not in production, name
        if name not in ("QualityGate", "EndpointReady") and state["Type"] == "Choice":
            assert not _successors(state) & production, name
    # The endpoint check promotes only on InService with the candidate's configuration.
    ready = states["EndpointReady"]
    promoting = [c for c in ready["Choices"] if c["Next"] in production]
    assert [c["Next"] for c in promoting] == ["PromoteCandidate"]
    assert {"Variable": "$.endpoint.status", "StringEquals": "InService"} in promoting[0]["And"]
    assert not _reachable(states, ready["Default"], stop_at=frozenset({"EndpointReady"})) & (
        production
    )
    # From the gate, only the branch that checks `promote` is true leads to production.
    gate = states["QualityGate"]
    (promote_rule,) = gate["Choices"]
    assert promote_rule["Next"] == "CreateServingModel"
    assert {"Variable": "$.evaluation.promote", "BooleanEquals": True} in promote_rule["And"]
    assert not _reachable(states, gate["Default"]) & production
    # Nothing before the gate reaches production without passing through it.
    assert not _reachable(states, "ValidateData", stop_at=frozenset({"QualityGate"})) & production


def test_failed_market_is_recorded_and_fails_the_run_after_notifying(
    definition: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    record = states["RecordFailure"]
    assert record["Type"] == "Pass" and record["End"] is True
    assert record["Parameters"]["outcome"] == "failed"
    assert record["Parameters"]["error.$"] == "$.error"
    choice = definition["States"]["AnyMarketFailed"]
    assert choice["QueryLanguage"] == "JSONata"
    assert choice["Choices"][0]["Condition"] == "{% 'failed' in $states.input.results.outcome %}"
    assert definition["States"][choice["Choices"][0]["Next"]]["Type"] == "Fail"
    assert definition["States"][choice["Default"]]["Type"] == "Succeed"


def test_serving_deploys_the_promoted_model_serverless(states: dict[str, dict[str, Any]]) -> None:
    model = states["CreateServingModel"]["Parameters"]
    assert model["ModelName.$"] == "$.training.job_name"
    assert model["PrimaryContainer"]["ModelDataUrl.$"] == "$.training.model_artifacts"
    config = states["CreateEndpointConfig"]["Parameters"]
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    assert "KmsKeyId" not in config  # serverless endpoints take no volume key
    assert states["FindEndpoint"]["Catch"][0]["Next"] == "CreateEndpoint"
    assert states["FindEndpoint"]["Next"] == "UpdateEndpoint"
    assert states["UpdateEndpoint"]["Next"] == "CheckEndpoint"
    assert states["CreateEndpoint"]["Next"] == "CheckEndpoint"
    assert states["EndpointReady"]["Choices"][0]["Next"] == "PromoteCandidate"


def test_weekly_schedule_starts_the_run_with_the_configured_markets(pipeline: Template) -> None:
    rule = only_resource(pipeline, "AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "cron(0 5 ? * MON *)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Input"] == '{"markets":["us","uk","de"],"trigger":"schedule"}'
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert target["Arn"]["Ref"].startswith("StateMachine")


def test_state_machine_logs_everything_traces_and_times_out(pipeline: Template) -> None:
    machine = only_resource(pipeline, "AWS::StepFunctions::StateMachine")
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert '"TimeoutSeconds":' in flatten(machine["DefinitionString"])


def test_notifications_topic_is_encrypted_ssl_only_and_mailed(pipeline: Template) -> None:
    topic = only_resource(pipeline, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic
    pipeline.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )
    pipeline.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "mmm-alerts@example.com"}
    )


def test_alarms_on_failed_runs_and_schedule_go_to_the_topic(pipeline: Template) -> None:
    alarms = pipeline.find_resources("AWS::CloudWatch::Alarm")
    metrics = {resource["Properties"]["MetricName"] for resource in alarms.values()}
    assert metrics == {"ExecutionsFailed", "ExecutionsTimedOut", "FailedInvocations"}
    topic = next(iter(pipeline.find_resources("AWS::SNS::Topic")))
    for resource in alarms.values():
        assert resource["Properties"]["AlarmActions"] == [{"Ref": topic}]


def test_task_functions_run_the_pipeline_image_with_tracing(pipeline: Template) -> None:
    for logical_id, resource in pipeline.find_resources("AWS::Lambda::Function").items():
        function = resource["Properties"]
        assert function["PackageType"] == "Image", logical_id
        assert function["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert function["Environment"]["Variables"]["MMM_DATA_LAKE_URI"], logical_id
        assert function["LoggingConfig"]["LogGroup"], logical_id
