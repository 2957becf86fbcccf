"""API: IAM-authenticated, throttled, logged and traced REST API over a container Lambda."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match, Template

from .conftest import as_list, flatten, only_resource, policy_statements


def test_every_method_requires_iam_authentication(api: Template) -> None:
    methods = api.find_resources("AWS::ApiGateway::Method")
    assert len(methods) == 2  # ANY / and ANY /{proxy+}
    for logical_id, method in methods.items():
        assert method["Properties"]["AuthorizationType"] == "AWS_IAM", logical_id


def test_stage_logs_access_traces_and_throttles(api: Template) -> None:
    stage = only_resource(api, "AWS::ApiGateway::Stage")
    assert stage["StageName"] == "v1"
    assert stage["TracingEnabled"] is True
    assert stage["AccessLogSetting"]["DestinationArn"]
    assert '"status":"$context.status"' in stage["AccessLogSetting"]["Format"]
    (settings,) = stage["MethodSettings"]
    assert settings == {
        "DataTraceEnabled": False,
        "HttpMethod": "*",
        "LoggingLevel": "ERROR",
        "MetricsEnabled": True,
        "ResourcePath": "/*",
        "ThrottlingBurstLimit": 100,
        "ThrottlingRateLimit": 50,
    }


def test_api_is_regional(api: Template) -> None:
    api.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}
    )


def test_function_runs_the_fastapi_image_with_the_lake_location(api: Template) -> None:
    function = only_resource(api, "AWS::Lambda::Function")
    assert function["PackageType"] == "Image"
    assert function["ImageConfig"] == {"Command": ["lambdas.api.handler.handler"]}
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["Timeout"] < 29  # API Gateway's integration timeout
    variables = function["Environment"]["Variables"]
    for name in ("MMM_DATA_LAKE_URI", "MMM_MODELS_URI", "MMM_STAGE"):
        assert name in variables


def test_function_writes_only_its_store_and_never_the_pipeline_markets(api: Template) -> None:
    statements = [s for logical_id, s in policy_statements(api) if logical_id.startswith("Handler")]
    writes = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    allowed = [s for s in writes if s["Effect"] == "Allow"]
    denied = [s for s in writes if s["Effect"] == "Deny"]
    models_bucket = "PublishOutputFnGetAttDataLakeModels"
    for statement in allowed:
        for resource in as_list(statement["Resource"]):
            assert models_bucket in json.dumps(resource)  # the application store's bucket
    assert any(flatten(r).endswith("/models/markets/*") for r in as_list(denied[0]["Resource"]))
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert not {a for a in actions if a.startswith("s3:Delete")} - {
        a for s in denied for a in as_list(s["Action"])
    }


def test_function_starts_training_jobs_with_the_ml_role(api: Template) -> None:
    variables = only_resource(api, "AWS::Lambda::Function")["Environment"]["Variables"]
    assert variables["MMM_TRAINING_BACKEND"] == "sagemaker"
    assert variables["MMM_SAGEMAKER_ROLE_ARN"] and variables["MMM_SAGEMAKER_IMAGE_URI"]
    assert variables["MMM_ROOT_PATH"] == "/v1"
    passes = [s for _, s in policy_statements(api) if s["Action"] == "iam:PassRole"]
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_invoke_policy_grants_only_this_api_stage(api: Template) -> None:
    api.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like({"Action": "execute-api:Invoke", "Effect": "Allow"})
                ]
            }
        },
    )


def test_alarms_on_5xx_and_function_errors(api: Template) -> None:
    alarms = api.find_resources("AWS::CloudWatch::Alarm")
    metrics = {resource["Properties"]["MetricName"] for resource in alarms.values()}
    assert metrics == {"5XXError", "Errors"}
    for resource in alarms.values():
        assert resource["Properties"]["AlarmActions"], "alarms must notify"
