"""ML: the SageMaker role's reach, the training image asset, and how endpoints are configured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from cdk.config import PlatformConfig
from cdk.ml import ServingDeployment

from .conftest import TEST_CONTEXT, SynthesisedApp, as_list, flatten, policy_statements

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def test_execution_role_is_for_sagemaker_only(ml: Template) -> None:
    ml.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                    }
                ]
            }
        },
    )


def test_execution_role_writes_only_training_output(ml: Template) -> None:
    writes = [
        flatten(resource)
        for _, statement in policy_statements(ml)
        if "s3:PutObject" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    assert sorted(w.split(">")[-1] for w in writes) == [
        "/models/*/training/*",  # jobs the API starts
        "/models/candidates/*",  # the pipeline's jobs
    ]


def test_training_image_is_built_from_the_sagemaker_dockerfile(
    synthesised: SynthesisedApp,
) -> None:
    stack = synthesised.stacks["ml"]
    manifest = json.loads(
        (Path(synthesised.outdir) / f"{stack.artifact_id}.assets.json").read_text()
    )
    (image,) = manifest["dockerImages"].values()
    assert image["source"]["dockerFile"] == "sagemaker_jobs/Dockerfile"
    assert image["source"]["platform"] == "linux/amd64"


def _serving_states(**overrides: Any) -> dict[str, Any]:
    context = {**json.loads(CDK_JSON.read_text())["context"], **TEST_CONTEXT, **overrides}
    config = PlatformConfig.from_context(context.get)
    stack = Stack(App(), "Serving")
    serving = ServingDeployment(
        stack,
        "Serving",
        config=config,
        image_uri="123.dkr.ecr.region.amazonaws.com/mmm:tag",
        role=iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
        key=kms.Key(stack, "Key"),
        environment={"MMM_STAGE": config.stage},
    )
    sfn.StateMachine(
        stack,
        "Machine",
        definition_body=sfn.DefinitionBody.from_chainable(
            serving.chain(sfn.Succeed(stack, "Served"), sfn.Fail(stack, "NotServed"))
        ),
    )
    template = Template.from_stack(stack)
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    return json.loads(flatten(machine["Properties"]["DefinitionString"]))["States"]


def test_instances_mode_serves_on_encrypted_instances() -> None:
    states = _serving_states(
        endpoint_mode="instances", endpoint_instance_type="ml.c5.large", endpoint_instance_count=2
    )
    config = states["CreateEndpointConfig"]["Parameters"]
    (variant,) = config["ProductionVariants"]
    assert variant["InstanceType"] == "ml.c5.large"
    assert variant["InitialInstanceCount"] == 2
    assert "ServerlessConfig" not in variant
    assert config["KmsKeyId"]
    assert states["CreateServingModel"]["Parameters"]["EnableNetworkIsolation"] is True


def test_the_candidate_is_served_only_once_the_endpoint_runs_its_configuration() -> None:
    states = _serving_states()
    assert states["UpdateEndpoint"]["Next"] == "CheckEndpoint"
    assert states["CreateEndpoint"]["Next"] == "CheckEndpoint"
    assert states["FindEndpoint"]["ResultPath"] == "$.serving"
    assert states["FindEndpoint"]["ResultSelector"] == {
        "previous_config.$": "$.EndpointConfigName",
        "endpoint_arn.$": "$.EndpointArn",
    }
    assert states["CheckEndpoint"]["Next"] == "EndpointReady"
    ready = states["EndpointReady"]
    served, failed = ready["Choices"]
    assert served["Next"] == "Served"
    assert {"Variable": "$.endpoint.config", "StringEqualsPath": "$.training.job_name"} in (
        served["And"]
    )
    assert failed["Next"] == "EndpointNotServing"
    assert {c["StringEquals"] for c in failed["Or"]} == {"InService", "Failed", "OutOfService"}
    assert states["EndpointNotServing"]["Next"] == "NotServed"
    assert ready["Default"] == "WaitForEndpoint"
    assert states["WaitForEndpoint"] == {"Type": "Wait", "Seconds": 30, "Next": "CheckEndpoint"}


def test_serverless_mode_has_no_volume_key_or_network_isolation() -> None:
    states = _serving_states(serverless_memory_mb=4096, serverless_max_concurrency=20)
    config = states["CreateEndpointConfig"]["Parameters"]
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 4096, "MaxConcurrency": 20}
    assert "KmsKeyId" not in config
    assert states["CreateServingModel"]["Parameters"]["EnableNetworkIsolation"] is False
