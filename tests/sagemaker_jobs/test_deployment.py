"""MMMSageMakerDeployment against moto's S3 and SageMaker (no AWS account, fake credentials)."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.exceptions import NoCredentialsError
from moto import mock_aws

from mmm_core import DeploymentError, EconometricMMM, MMModelError
from sagemaker_jobs.deployment import (
    PREVIOUS_CONFIG_TAG,
    MMMSageMakerDeployment,
    build_model_tarball,
    read_model_tarball,
)
from tests.moto_sagemaker import emulate_updates
from tests.sagemaker_jobs import fit_small_model

REGION = "us-east-1"
BUCKET = "mmm-test-models"
ROLE = "arn:aws:iam::123456789012:role/mmm-sagemaker"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mmm:test"


@pytest.fixture(scope="module")
def model(
    mmm_frame: pd.DataFrame, spend_columns: list[str], control_columns: list[str]
) -> EconometricMMM:
    return fit_small_model(mmm_frame, spend_columns, control_columns)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and region, every AWS call answered by moto."""
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


@pytest.fixture
def deployer(aws: None) -> MMMSageMakerDeployment:
    return MMMSageMakerDeployment(
        region_name=REGION, bucket_name=BUCKET, role_arn=ROLE, image_uri=IMAGE, poll_seconds=0
    )


@pytest.fixture
def moto_updates_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2 has no UpdateEndpoint: emulate it in moto."""
    emulate_updates(monkeypatch)


def sagemaker() -> Any:
    return boto3.client("sagemaker", region_name=REGION)


# ------------------------------------------------------------------------------------------
# Artifacts


def test_prepared_artifacts_hold_a_loadable_model_json(
    deployer: MMMSageMakerDeployment, model: EconometricMMM, mmm_frame: pd.DataFrame
) -> None:
    uri = deployer.prepare_model_artifacts(model, "mmm-brand-a")

    assert uri.startswith(f"s3://{BUCKET}/models/mmm-brand-a/") and uri.endswith("/model.tar.gz")
    key = uri.removeprefix(f"s3://{BUCKET}/")
    data = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        assert archive.getnames() == ["model.json"]
        doc = archive.extractfile("model.json").read()  # type: ignore[union-attr]
    loaded = EconometricMMM.from_dict(json.loads(doc))
    np.testing.assert_allclose(loaded.predict(mmm_frame), model.predict(mmm_frame))
    np.testing.assert_allclose(
        deployer.load_model_artifacts(uri).predict(mmm_frame), model.predict(mmm_frame)
    )


def test_the_same_model_gives_the_same_bytes_and_key(
    deployer: MMMSageMakerDeployment, model: EconometricMMM
) -> None:
    first = deployer.prepare_model_artifacts(model, "mmm-brand-a")
    again = deployer.prepare_model_artifacts(model.to_dict(), "mmm-brand-a")

    assert first == again
    files = {"model.json": b"{}"}
    assert build_model_tarball(files) == build_model_tarball(files)


def test_an_archive_without_model_json_is_refused() -> None:
    with pytest.raises(DeploymentError) as err:
        read_model_tarball(build_model_tarball({"other.json": b"{}"}))
    assert err.value.code == "MMM_300"
    with pytest.raises(DeploymentError):
        read_model_tarball(b"not a tarball")


def test_an_unfitted_model_is_not_uploaded(deployer: MMMSageMakerDeployment) -> None:
    with pytest.raises(MMModelError) as err:
        deployer.prepare_model_artifacts(EconometricMMM(), "mmm-brand-a")
    assert err.value.code == "MMM_002"


def test_a_missing_bucket_is_a_deployment_error_with_a_hint(
    aws: None, model: EconometricMMM
) -> None:
    deployer = MMMSageMakerDeployment(region_name=REGION, bucket_name="no-such-bucket")

    with pytest.raises(DeploymentError) as err:
        deployer.prepare_model_artifacts(model, "mmm-brand-a")

    assert err.value.code == "MMM_300"
    assert err.value.details["aws_error_code"] == "NoSuchBucket"
    assert "bucket_name" in (err.value.hint or "")


# ------------------------------------------------------------------------------------------
# Endpoints


def test_serverless_deployment_is_in_service(
    deployer: MMMSageMakerDeployment, model: EconometricMMM
) -> None:
    uri = deployer.prepare_model_artifacts(model, "mmm-brand-a")

    result = deployer.deploy_model(uri, "mmm-brand-a-v1", wait=True, timeout_s=5)

    assert result["status"] == "InService" and result["serverless"] is True
    assert result["endpoint_name"] == "mmm-brand-a-v1-endpoint"
    assert result["previous_endpoint_config_name"] is None
    config = sagemaker().describe_endpoint_config(EndpointConfigName=result["endpoint_config_name"])
    variant = config["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    described = sagemaker().describe_model(ModelName="mmm-brand-a-v1")
    assert described["PrimaryContainer"]["ModelDataUrl"] == uri
    assert described["ExecutionRoleArn"] == ROLE


def test_instance_deployment_is_in_service(
    deployer: MMMSageMakerDeployment, model: EconometricMMM
) -> None:
    uri = deployer.prepare_model_artifacts(model, "mmm-brand-a")

    result = deployer.deploy_model(
        uri, "mmm-brand-a-v1", "mmm-brand-a", instance_type="ml.m5.large", instance_count=2
    )

    assert result["status"] == "InService" and result["serverless"] is False
    config = sagemaker().describe_endpoint_config(EndpointConfigName=result["endpoint_config_name"])
    variant = config["ProductionVariants"][0]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.large", 2)
    assert deployer.invoke_endpoint("mmm-brand-a", {"instances": []})  # moto's canned answer


@pytest.mark.usefixtures("moto_updates_endpoints")
def test_update_then_rollback_restores_the_previous_configuration(
    deployer: MMMSageMakerDeployment, model: EconometricMMM
) -> None:
    uri = deployer.prepare_model_artifacts(model, "mmm-brand-a")
    first = deployer.deploy_model(uri, "mmm-brand-a-v1", "mmm-brand-a", memory_mb=2048)

    second = deployer.update_endpoint("mmm-brand-a", uri, "mmm-brand-a-v2")

    assert second["previous_endpoint_config_name"] == first["endpoint_config_name"]
    assert second["variant"]["ServerlessConfig"]["MemorySizeInMB"] == 2048  # settings kept
    endpoint = sagemaker().describe_endpoint(EndpointName="mmm-brand-a")
    assert endpoint["EndpointConfigName"] == second["endpoint_config_name"]

    back = deployer.rollback("mmm-brand-a", wait=True, timeout_s=5)

    assert back["endpoint_config_name"] == first["endpoint_config_name"]
    assert back["rolled_back_from"] == second["endpoint_config_name"]
    assert back["model_name"] == "mmm-brand-a-v1" and back["status"] == "InService"
    endpoint = sagemaker().describe_endpoint(EndpointName="mmm-brand-a")
    assert endpoint["EndpointConfigName"] == first["endpoint_config_name"]
    tags = sagemaker().list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
    assert [t["Value"] for t in tags if t["Key"] == PREVIOUS_CONFIG_TAG] == [
        second["endpoint_config_name"]
    ]

    forward = deployer.rollback("mmm-brand-a")  # a second rollback undoes the first
    assert forward["endpoint_config_name"] == second["endpoint_config_name"]


@pytest.mark.usefixtures("moto_updates_endpoints")
def test_deploying_onto_an_existing_endpoint_updates_it(
    deployer: MMMSageMakerDeployment, model: EconometricMMM
) -> None:
    uri = deployer.prepare_model_artifacts(model, "mmm-brand-a")
    first = deployer.deploy_model(uri, "mmm-brand-a-v1", "mmm-brand-a")

    second = deployer.deploy_model(uri, "mmm-brand-a-v2", "mmm-brand-a", serverless=False)

    assert second["previous_endpoint_config_name"] == first["endpoint_config_name"]
    assert second["variant"]["InstanceType"] == "ml.m5.large"


def test_rollback_without_an_earlier_configuration_says_so(
    deployer: MMMSageMakerDeployment, model: EconometricMMM
) -> None:
    uri = deployer.prepare_model_artifacts(model, "mmm-brand-a")
    deployer.deploy_model(uri, "mmm-brand-a-v1", "mmm-brand-a")

    with pytest.raises(DeploymentError) as err:
        deployer.rollback("mmm-brand-a")
    assert "no earlier configuration" in err.value.message

    with pytest.raises(DeploymentError) as err:
        deployer.update_endpoint("mmm-missing", uri, "mmm-brand-a-v2")
    assert "does not exist" in err.value.message


@pytest.mark.usefixtures("moto_updates_endpoints")
def test_aws_errors_become_deployment_errors(
    deployer: MMMSageMakerDeployment, model: EconometricMMM
) -> None:
    uri = deployer.prepare_model_artifacts(model, "mmm-brand-a")
    first = deployer.deploy_model(uri, "mmm-brand-a-v1", "mmm-brand-a")
    deployer.update_endpoint("mmm-brand-a", uri, "mmm-brand-a-v2")
    sagemaker().delete_endpoint_config(EndpointConfigName=first["endpoint_config_name"])

    with pytest.raises(DeploymentError) as err:
        deployer.rollback("mmm-brand-a")  # what it would roll back to is gone

    assert err.value.code == "MMM_300"
    assert err.value.details["action"] == "sagemaker.describe_endpoint_config"
    assert err.value.details["aws_error_code"] == "ValidationException"
    assert "check the name" in (err.value.hint or "")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"model_name": "mmm_brand_a"}, "not a valid SageMaker name"),
        ({"s3_model_uri": "/local/model.tar.gz"}, "s3://bucket/key"),
        ({"memory_mb": 3000}, "serverless memory size"),
        ({"max_concurrency": 0}, "outside 1-200"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(
    deployer: MMMSageMakerDeployment, kwargs: dict[str, Any], words: str
) -> None:
    arguments = {"s3_model_uri": f"s3://{BUCKET}/m/model.tar.gz", "model_name": "mmm-a", **kwargs}

    with pytest.raises(DeploymentError) as err:
        deployer.deploy_model(**arguments)

    assert words in err.value.message
    assert sagemaker().list_models()["Models"] == []


def test_a_missing_role_is_named_with_its_variable(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MMM_SAGEMAKER_ROLE_ARN", raising=False)
    deployer = MMMSageMakerDeployment(region_name=REGION, bucket_name=BUCKET, image_uri=IMAGE)

    with pytest.raises(DeploymentError) as err:
        deployer.deploy_model(f"s3://{BUCKET}/m/model.tar.gz", "mmm-a")

    assert "MMM_SAGEMAKER_ROLE_ARN" in (err.value.hint or "")


# ------------------------------------------------------------------------------------------
# Training jobs


def test_a_training_job_starts_and_is_described(deployer: MMMSageMakerDeployment) -> None:
    started = deployer.start_training_job(
        "mmm-train-brand-a-1",
        f"s3://{BUCKET}/curated/brand-a/",
        f"s3://{BUCKET}/training/",
        {
            "target_column": "revenue",
            "spend_columns": ["tv_spend", "search_spend"],
            "n_bootstrap": 50,
        },
    )

    assert started["training_job_name"] == "mmm-train-brand-a-1"
    assert started["status"] == "Completed"  # moto finishes at once
    job = sagemaker().describe_training_job(TrainingJobName="mmm-train-brand-a-1")
    assert job["HyperParameters"] == {
        "target_column": "revenue",
        "spend_columns": "tv_spend,search_spend",
        "n_bootstrap": "50",
    }
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert job["InputDataConfig"][0]["ChannelName"] == "training"
    assert job["EnableNetworkIsolation"] is True

    done = deployer.wait_for_training_job("mmm-train-brand-a-1", timeout_s=5)
    assert (
        done["model_artifacts"] == f"s3://{BUCKET}/training/mmm-train-brand-a-1/output/model.tar.gz"
    )
    assert isinstance(done["created"], str)


def test_hyperparameters_the_job_would_reject_stop_the_start(
    deployer: MMMSageMakerDeployment,
) -> None:
    with pytest.raises(MMModelError) as err:
        deployer.start_training_job(
            "mmm-train-1", f"s3://{BUCKET}/d/", f"s3://{BUCKET}/o/", {"n_bootstap": 10}
        )

    assert err.value.code == "MMM_006"
    assert sagemaker().list_training_jobs()["TrainingJobSummaries"] == []


def test_describing_a_missing_job_is_a_deployment_error(deployer: MMMSageMakerDeployment) -> None:
    with pytest.raises(DeploymentError) as err:
        deployer.describe_training_job("mmm-nope")

    assert err.value.details["aws_error_code"] == "ValidationException"


# ------------------------------------------------------------------------------------------
# Waiting, with a stand-in client


class _Session:
    """Hands out one stand-in client, whatever the service."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self._client


class _Status:
    def __init__(self, endpoint: dict[str, Any], job: dict[str, Any] | None = None) -> None:
        self.endpoint, self.job, self.calls = endpoint, job or {}, 0

    def describe_endpoint(self, EndpointName: str) -> dict[str, Any]:
        self.calls += 1
        return dict(self.endpoint)

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        return dict(self.job)


def test_waiting_for_an_endpoint_times_out_with_its_status() -> None:
    client = _Status({"EndpointStatus": "Creating"})
    deployer = MMMSageMakerDeployment(session=_Session(client))

    with pytest.raises(DeploymentError) as err:
        deployer.wait_for_endpoint("mmm-a", timeout_s=0.05, poll_s=0.01)

    assert "still Creating" in err.value.message and client.calls >= 2


def test_a_failed_training_job_raises_with_its_failure_file() -> None:
    reason = "[MMM_101] target column 'revenue' is not a column. How to fix: ..."
    job = {"TrainingJobName": "mmm-t", "TrainingJobStatus": "Failed", "FailureReason": reason}
    deployer = MMMSageMakerDeployment(session=_Session(_Status({}, job)))

    with pytest.raises(DeploymentError) as err:
        deployer.wait_for_training_job("mmm-t", timeout_s=1, poll_s=0)

    assert reason in err.value.message
    assert err.value.details["failure_reason"] == reason


def test_missing_credentials_get_a_hint() -> None:
    class NoCredentials:
        def describe_endpoint(self, EndpointName: str) -> dict[str, Any]:
            raise NoCredentialsError()

    deployer = MMMSageMakerDeployment(session=_Session(NoCredentials()))

    with pytest.raises(DeploymentError) as err:
        deployer.describe_endpoint("mmm-a")

    assert "credentials" in (err.value.hint or "")
