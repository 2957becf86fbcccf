"""``MMMSageMakerDeployment``: model artifacts to S3, SageMaker models and endpoints, training jobs.

The reference's class (``infrastructure.aws.sagemaker_deployment`` there), on boto3 alone: the
``sagemaker`` SDK would add tens of megabytes for a handful of API calls. boto3 is imported
inside the methods, so importing this module needs no AWS package.

- :meth:`~MMMSageMakerDeployment.prepare_model_artifacts`: a deterministic ``model.tar.gz``
  holding ``model.json``, put under a content-addressed key (same model, same key; an artifact
  is never overwritten by another model).
- :meth:`~MMMSageMakerDeployment.deploy_model`: a SageMaker model, an endpoint configuration
  (serverless by default, or instance-based) and an endpoint. Deploying to an endpoint that
  exists updates it.
- :meth:`~MMMSageMakerDeployment.update_endpoint` /
  :meth:`~MMMSageMakerDeployment.rollback`: a new model and configuration; the configuration
  being replaced is recorded on the endpoint (tag ``mmm:previous-endpoint-config``) so a
  rollback, from any process, switches back to it (and a second rollback switches forward).
- :meth:`~MMMSageMakerDeployment.start_training_job` /
  :meth:`~MMMSageMakerDeployment.describe_training_job`: the API's ``train`` action in AWS mode,
  running the image's ``python -m sagemaker_jobs.train``.
- ``wait_for_*``: poll until a terminal state, with a timeout.

Every AWS error becomes a :class:`~mmm_core.errors.DeploymentError` (``MMM_300``) naming the
call, AWS's error code and a hint; bad arguments are caught before any call is made.

Examples
--------
>>> deployer = MMMSageMakerDeployment(region_name="us-east-1", bucket_name="my-mmm-bucket",
...     role_arn="arn:aws:iam::123456789012:role/mmm-sagemaker",
...     image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/mmm:latest")
>>> uri = deployer.prepare_model_artifacts(model, "mmm-brand-a")   # doctest: +SKIP
>>> deployer.deploy_model(uri, "mmm-brand-a-v1", "mmm-brand-a")    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import secrets
import tarfile
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from mmm_core.errors import Codes, DeploymentError, MMModelError
from mmm_core.models.econometric_mmm import EconometricMMM
from mmm_core.store.models import MODEL_FILE
from sagemaker_jobs.tags import MODEL_NAME_TAG, PREVIOUS_CONFIG_TAG

__all__ = [
    "MODEL_FILE",
    "PREVIOUS_CONFIG_TAG",
    "SERVERLESS_MEMORY_MB",
    "MMMSageMakerDeployment",
    "build_model_tarball",
    "read_model_tarball",
]

VARIANT_NAME = "AllTraffic"
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
ROLE_ENV = "MMM_SAGEMAKER_ROLE_ARN"
IMAGE_ENV = "MMM_SAGEMAKER_IMAGE_URI"
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(.+)$")
_ENDPOINT_DONE = {"InService"}
_ENDPOINT_FAILED = {"Failed", "OutOfService"}
_TRAINING_FAILED = {"Failed", "Stopped"}


# ------------------------------------------------------------------------------------------
# Artifacts


def build_model_tarball(files: Mapping[str, bytes]) -> bytes:
    """A gzip'd tar of ``files`` that depends on their names and bytes only.

    Members are sorted, with mtime 0, owner 0/0, mode 0644; the gzip header carries no time or
    file name. The same model therefore gives the same bytes, hence the same S3 key.
    """
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as zipped:
        zipped.write(raw.getvalue())
    return out.getvalue()


def read_model_tarball(data: bytes) -> EconometricMMM:
    """The model in a ``model.tar.gz``, read in memory (nothing is extracted to disk).

    Raises
    ------
    DeploymentError
        When the archive is not a tar.gz or holds no regular ``model.json``.
    MMModelError
        ``MMM_004``/``MMM_005`` when ``model.json`` is not a model this library reads.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            member = next(
                (
                    m
                    for m in archive.getmembers()
                    if m.isreg() and m.name.removeprefix("./") == MODEL_FILE
                ),
                None,
            )
            handle = archive.extractfile(member) if member is not None else None
            text = handle.read().decode("utf-8") if handle is not None else None
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"the model archive is not a readable tar.gz ({type(exc).__name__}: {exc}).",
            hint="upload it again with prepare_model_artifacts().",
        ) from exc
    if text is None:
        raise DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"the model archive holds no {MODEL_FILE}.",
            hint="package models with prepare_model_artifacts() or a training job.",
        )
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MMModelError(
            Codes.CORRUPT_MODEL_FILE,
            f"{MODEL_FILE} in the archive is not valid JSON ({exc}).",
            hint="package the model again with prepare_model_artifacts().",
        ) from exc
    return EconometricMMM.from_dict(doc)


def _model_document(mmm_model: Any) -> dict[str, Any]:
    """``mmm_model`` as a model document, checked to load."""
    if isinstance(mmm_model, EconometricMMM) or hasattr(mmm_model, "to_dict"):
        doc = mmm_model.to_dict()  # MMM_002 when not fitted
    elif isinstance(mmm_model, Mapping):
        doc = dict(mmm_model)
    else:
        raise DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"cannot package a {type(mmm_model).__name__} as a model.",
            hint="pass a fitted EconometricMMM (or its to_dict() document).",
        )
    EconometricMMM.from_dict(doc)  # never upload what the endpoint could not load
    return doc


# ------------------------------------------------------------------------------------------
# Checks and AWS errors


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"{kind} {name!r} is not a valid SageMaker name.",
            hint="use 1-63 letters, digits and hyphens, starting and ending with a letter or "
            "digit (no underscores or dots), e.g. 'mmm-brand-a-v3'.",
            details={"kind": kind, "name": str(name)},
        )
    return name


def _split_s3_uri(kind: str, uri: Any) -> tuple[str, str]:
    match = _S3_URI.match(uri) if isinstance(uri, str) else None
    if match is None:
        raise DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"{kind} {uri!r} is not an s3://bucket/key URI.",
            hint="pass e.g. s3://my-mmm-bucket/models/mmm-brand-a/model.tar.gz.",
            details={"kind": kind, "uri": str(uri)},
        )
    return match.group(1), match.group(2)


def _hint_for(code: str, message: str) -> str:
    lowered = message.lower()
    if "accessdenied" in code.lower() or code in ("UnauthorizedOperation", "AccessDenied"):
        return (
            "the credentials (or the SageMaker execution role) lack this permission: grant it "
            "in IAM, and check the role's trust policy allows sagemaker.amazonaws.com."
        )
    if code in ("NoSuchBucket", "NoSuchKey", "404", "NotFound"):
        return "check bucket_name and the S3 key; the bucket must exist in this region."
    if code == "ResourceLimitExceeded":
        return "a SageMaker quota is reached: delete unused endpoints or ask for a higher quota."
    if code in ("ThrottlingException", "Throttling", "TooManyRequestsException"):
        return "AWS is throttling the calls: retry in a little while."
    if "already exist" in lowered:
        return "names are unique per account and region: use a new name (e.g. add a version)."
    if "could not find" in lowered or "does not exist" in lowered:
        return "check the name and the region; list what exists with the AWS console or CLI."
    if "in-progress" in lowered or "cannot update" in lowered:
        return "wait for the endpoint to be InService (wait_for_endpoint) and try again."
    return "check the arguments against the AWS error above."


@contextlib.contextmanager
def _aws(action: str, **details: Any) -> Iterator[None]:
    """Turn botocore errors raised by ``action`` into :class:`DeploymentError` (MMM_300)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message") or exc)
        raise DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"{action} failed: {code}: {message}",
            hint=_hint_for(code, message),
            details={"action": action, "aws_error_code": code, **details},
        ) from exc
    except BotoCoreError as exc:
        raise DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"{action} failed: {exc}",
            hint="check the AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID...), the region "
            "and network access to AWS.",
            details={"action": action, "aws_error_code": type(exc).__name__, **details},
        ) from exc


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _without_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in response.items() if k != "ResponseMetadata"}


# ------------------------------------------------------------------------------------------
# The deployer


class MMMSageMakerDeployment:
    """Deploy MMM models to SageMaker, and train them there.

    Parameters
    ----------
    region_name : str, default "us-east-1"
    bucket_name : str, optional
        Bucket for model artifacts (needed by :meth:`prepare_model_artifacts`).
    role_arn : str, optional
        SageMaker execution role for models and training jobs (default
        ``$MMM_SAGEMAKER_ROLE_ARN``).
    image_uri : str, optional
        ECR image running ``sagemaker_jobs`` (default ``$MMM_SAGEMAKER_IMAGE_URI``).
    session : boto3.Session, optional
        Where clients come from (default ``boto3.session.Session(region_name=region_name)``).
    prefix : str, default "models"
        Key prefix of the artifacts in the bucket.
    poll_seconds : float, default 15
        Pause between status checks of the ``wait_for_*`` helpers.
    """

    def __init__(
        self,
        region_name: str = "us-east-1",
        bucket_name: str | None = None,
        role_arn: str | None = None,
        image_uri: str | None = None,
        session: Any = None,
        *,
        prefix: str = "models",
        poll_seconds: float = 15.0,
    ) -> None:
        self.region_name = region_name
        self.bucket_name = bucket_name
        self.role_arn = role_arn
        self.image_uri = image_uri
        self.session = session
        self.prefix = prefix.strip("/")
        self.poll_seconds = poll_seconds
        self._clients: dict[str, Any] = {}

    # -- plumbing ----------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            session = self.session
            if session is None:
                import boto3

                session = self.session = boto3.session.Session(region_name=self.region_name)
            self._clients[service] = session.client(service, region_name=self.region_name)
        return self._clients[service]

    @property
    def _sagemaker(self) -> Any:
        return self._client("sagemaker")

    def _required(self, value: str | None, env: str, what: str, example: str) -> str:
        found = value or os.environ.get(env)
        if not found:
            raise DeploymentError(
                Codes.DEPLOYMENT_ERROR,
                f"no {what} was given.",
                hint=f"pass it to MMMSageMakerDeployment(...) or set {env} (e.g. {example}).",
            )
        return found

    def _role(self) -> str:
        return self._required(
            self.role_arn,
            ROLE_ENV,
            "SageMaker execution role (role_arn)",
            "arn:aws:iam::123456789012:role/mmm-sagemaker",
        )

    def _image(self) -> str:
        return self._required(
            self.image_uri,
            IMAGE_ENV,
            "container image (image_uri)",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/mmm:latest",
        )

    def _wait(
        self,
        describe: Any,
        status_key: str,
        done: set[str],
        failed: set[str],
        what: str,
        timeout_s: float,
        poll_s: float | None,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        pause = self.poll_seconds if poll_s is None else poll_s
        while True:
            description = describe()
            status = description.get(status_key)
            if status in done:
                return description
            if status in failed:
                reason = description.get("FailureReason") or description.get("failure_reason")
                raise DeploymentError(
                    Codes.DEPLOYMENT_ERROR,
                    f"{what} ended {status}" + (f": {reason}" if reason else "."),
                    hint="read the failure reason above and the CloudWatch log of the job or "
                    "endpoint (/aws/sagemaker/...).",
                    details={"status": status, "failure_reason": reason},
                )
            if time.monotonic() >= deadline:
                raise DeploymentError(
                    Codes.DEPLOYMENT_ERROR,
                    f"{what} is still {status} after {timeout_s:g} s.",
                    hint="wait longer (timeout_s=...) or look at it in the SageMaker console.",
                    details={"status": status},
                )
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))

    # -- artifacts ---------------------------------------------------------------------------

    def prepare_model_artifacts(self, mmm_model: Any, model_name: str) -> str:
        """Package a fitted model as ``model.tar.gz`` (holding ``model.json``) and upload it.

        Parameters
        ----------
        mmm_model : EconometricMMM
            A fitted model (or its ``to_dict()`` document).
        model_name : str
            Model identifier (SageMaker naming: letters, digits, hyphens).

        Returns
        -------
        str
            ``s3://<bucket>/<prefix>/<model_name>/<sha256[:16]>/model.tar.gz``.

        Raises
        ------
        DeploymentError
            Bad name, no bucket, or the upload failed.
        MMModelError
            ``MMM_002`` when the model is not fitted.
        """
        _check_name("model_name", model_name)
        if not self.bucket_name:
            raise DeploymentError(
                Codes.DEPLOYMENT_ERROR,
                "no bucket_name was given for the model artifacts.",
                hint="pass MMMSageMakerDeployment(bucket_name='my-mmm-bucket').",
            )
        doc = _model_document(mmm_model)
        payload = json.dumps(doc, allow_nan=False).encode("utf-8")
        tarball = build_model_tarball({MODEL_FILE: payload})
        digest = hashlib.sha256(tarball).hexdigest()
        key = "/".join(p for p in (self.prefix, model_name, digest[:16], "model.tar.gz") if p)
        with _aws("s3.put_object", bucket=self.bucket_name, key=key):
            self._client("s3").put_object(
                Bucket=self.bucket_name,
                Key=key,
                Body=tarball,
                ContentType="application/gzip",
                Metadata={"sha256": digest, "model-name": model_name, "schema": doc["schema"]},
            )
        return f"s3://{self.bucket_name}/{key}"

    def load_model_artifacts(self, s3_model_uri: str) -> EconometricMMM:
        """Download a ``model.tar.gz`` and return its model (read in memory)."""
        bucket, key = _split_s3_uri("s3_model_uri", s3_model_uri)
        with _aws("s3.get_object", bucket=bucket, key=key):
            data = self._client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return read_model_tarball(data)

    # -- models and endpoints ----------------------------------------------------------------

    def _variant(
        self,
        model_name: str,
        serverless: bool,
        memory_mb: int,
        max_concurrency: int,
        instance_type: str | None,
        instance_count: int,
    ) -> dict[str, Any]:
        variant: dict[str, Any] = {"VariantName": VARIANT_NAME, "ModelName": model_name}
        if instance_type is None and serverless:
            if memory_mb not in SERVERLESS_MEMORY_MB:
                raise DeploymentError(
                    Codes.DEPLOYMENT_ERROR,
                    f"memory_mb={memory_mb!r} is not a serverless memory size.",
                    hint=f"use one of {list(SERVERLESS_MEMORY_MB)} (3072 suits most models).",
                )
            if not isinstance(max_concurrency, int) or not 1 <= max_concurrency <= 200:
                raise DeploymentError(
                    Codes.DEPLOYMENT_ERROR,
                    f"max_concurrency={max_concurrency!r} is outside 1-200.",
                    hint="use e.g. 5; the account's serverless quota caps the total.",
                )
            variant["ServerlessConfig"] = {
                "MemorySizeInMB": memory_mb,
                "MaxConcurrency": max_concurrency,
            }
        else:
            if not isinstance(instance_count, int) or instance_count < 1:
                raise DeploymentError(
                    Codes.DEPLOYMENT_ERROR,
                    f"instance_count={instance_count!r} must be a positive integer.",
                    hint="use 1, or 2+ for availability across zones.",
                )
            variant.update(
                InstanceType=instance_type or "ml.m5.large",
                InitialInstanceCount=instance_count,
                InitialVariantWeight=1.0,
            )
        return variant

    def _create_model(self, model_name: str, s3_model_uri: str) -> str:
        with _aws("sagemaker.create_model", model_name=model_name):
            response = self._sagemaker.create_model(
                ModelName=model_name,
                PrimaryContainer={"Image": self._image(), "ModelDataUrl": s3_model_uri},
                ExecutionRoleArn=self._role(),
                Tags=[{"Key": MODEL_NAME_TAG, "Value": model_name}],
            )
        return str(response["ModelArn"])

    def _create_endpoint_config(self, endpoint_name: str, variant: dict[str, Any]) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        name = f"{endpoint_name[:40]}-{stamp}-{secrets.token_hex(3)}"
        with _aws("sagemaker.create_endpoint_config", endpoint_config_name=name):
            self._sagemaker.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[variant],
                Tags=[{"Key": MODEL_NAME_TAG, "Value": variant["ModelName"]}],
            )
        return name

    def _endpoint_or_none(self, endpoint_name: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self._sagemaker.describe_endpoint(EndpointName=endpoint_name)
        except ClientError as exc:
            message = str(exc.response.get("Error", {}).get("Message", "")).lower()
            if "could not find" in message or "does not exist" in message:
                return None
            with _aws("sagemaker.describe_endpoint", endpoint_name=endpoint_name):
                raise

    def _existing_endpoint(self, endpoint_name: str) -> dict[str, Any]:
        existing = self._endpoint_or_none(endpoint_name)
        if existing is None:
            raise DeploymentError(
                Codes.DEPLOYMENT_ERROR,
                f"endpoint {endpoint_name!r} does not exist in {self.region_name}.",
                hint="check the name and region; deploy_model() creates an endpoint.",
            )
        return existing

    def _set_previous(self, endpoint_arn: str, config_name: str) -> None:
        """Record the configuration to roll back to (delete first: AddTags may append)."""
        with _aws("sagemaker.add_tags", endpoint_arn=endpoint_arn):
            self._sagemaker.delete_tags(ResourceArn=endpoint_arn, TagKeys=[PREVIOUS_CONFIG_TAG])
            self._sagemaker.add_tags(
                ResourceArn=endpoint_arn,
                Tags=[{"Key": PREVIOUS_CONFIG_TAG, "Value": config_name}],
            )

    def _previous(self, endpoint_arn: str) -> str | None:
        with _aws("sagemaker.list_tags", endpoint_arn=endpoint_arn):
            tags = self._sagemaker.list_tags(ResourceArn=endpoint_arn).get("Tags", [])
        values = [t["Value"] for t in tags if t.get("Key") == PREVIOUS_CONFIG_TAG]
        return values[-1] if values else None

    def _switch(self, endpoint: dict[str, Any], config_name: str) -> None:
        """Point an existing endpoint at ``config_name``, remembering the one it leaves."""
        name = endpoint["EndpointName"]
        with _aws(
            "sagemaker.update_endpoint", endpoint_name=name, endpoint_config_name=config_name
        ):
            self._sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=config_name)
        self._set_previous(endpoint["EndpointArn"], endpoint["EndpointConfigName"])

    def _deployment(
        self,
        endpoint_name: str,
        config_name: str,
        model_name: str,
        wait: bool,
        timeout_s: float,
        **extra: Any,
    ) -> dict[str, Any]:
        if wait:
            description = self.wait_for_endpoint(endpoint_name, timeout_s=timeout_s)
        else:
            with _aws("sagemaker.describe_endpoint", endpoint_name=endpoint_name):
                description = self._sagemaker.describe_endpoint(EndpointName=endpoint_name)
        return {
            "endpoint_name": endpoint_name,
            "endpoint_arn": description.get("EndpointArn"),
            "endpoint_config_name": config_name,
            "model_name": model_name,
            "status": description.get("EndpointStatus"),
            "region": self.region_name,
            **extra,
        }

    def _roll_out(
        self,
        endpoint_name: str,
        existing: dict[str, Any] | None,
        s3_model_uri: str,
        variant: dict[str, Any],
        wait: bool,
        timeout_s: float,
    ) -> dict[str, Any]:
        """New model and configuration; create the endpoint, or switch the existing one."""
        model_name = variant["ModelName"]
        model_arn = self._create_model(model_name, s3_model_uri)
        config_name = self._create_endpoint_config(endpoint_name, variant)
        if existing is None:
            with _aws("sagemaker.create_endpoint", endpoint_name=endpoint_name):
                self._sagemaker.create_endpoint(
                    EndpointName=endpoint_name,
                    EndpointConfigName=config_name,
                    Tags=[{"Key": MODEL_NAME_TAG, "Value": model_name}],
                )
        else:
            self._switch(existing, config_name)
        return self._deployment(
            endpoint_name,
            config_name,
            model_name,
            wait,
            timeout_s,
            model_arn=model_arn,
            s3_model_uri=s3_model_uri,
            serverless="ServerlessConfig" in variant,
            variant=variant,
            previous_endpoint_config_name=existing["EndpointConfigName"] if existing else None,
        )

    def deploy_model(
        self,
        s3_model_uri: str,
        model_name: str,
        endpoint_name: str | None = None,
        serverless: bool = True,
        memory_mb: int = 3072,
        max_concurrency: int = 5,
        instance_type: str | None = None,
        *,
        instance_count: int = 1,
        wait: bool = False,
        timeout_s: float = 1800.0,
    ) -> dict[str, Any]:
        """Create a SageMaker model from the artifacts and serve it on an endpoint.

        Parameters
        ----------
        s3_model_uri : str
            From :meth:`prepare_model_artifacts` or a training job's ``model_artifacts``.
        model_name : str
            Name of the new SageMaker model (unique in the account and region).
        endpoint_name : str, optional
            Default ``<model_name>-endpoint``. An existing endpoint is updated (see
            :meth:`update_endpoint`).
        serverless : bool, default True
            Serverless inference (``memory_mb``, ``max_concurrency``); False, or an
            ``instance_type``, deploys on instances.
        instance_type : str, optional
            E.g. ``"ml.m5.large"`` (the default when ``serverless=False``).
        wait : bool, default False
            Return only once the endpoint is ``InService`` (at most ``timeout_s``).

        Returns
        -------
        dict
            ``endpoint_name``, ``endpoint_arn``, ``endpoint_config_name``, ``model_name``,
            ``model_arn``, ``s3_model_uri``, ``status``, ``serverless``, ``variant`` (the
            production variant), ``previous_endpoint_config_name`` (None for a new endpoint),
            ``region``.
        """
        _check_name("model_name", model_name)
        endpoint_name = _check_name("endpoint_name", endpoint_name or f"{model_name}-endpoint")
        _split_s3_uri("s3_model_uri", s3_model_uri)
        variant = self._variant(
            model_name, serverless, memory_mb, max_concurrency, instance_type, instance_count
        )
        self._role()  # fail before creating anything
        self._image()
        existing = self._endpoint_or_none(endpoint_name)
        return self._roll_out(endpoint_name, existing, s3_model_uri, variant, wait, timeout_s)

    def update_endpoint(
        self,
        endpoint_name: str,
        s3_model_uri: str,
        model_name: str,
        *,
        wait: bool = False,
        timeout_s: float = 1800.0,
    ) -> dict[str, Any]:
        """Serve a new model on an existing endpoint, keeping its serving settings.

        A new SageMaker model and endpoint configuration are created (the current
        configuration's variant with the new model); the configuration replaced is recorded for
        :meth:`rollback`.

        Returns
        -------
        dict
            As :meth:`deploy_model`, with ``previous_endpoint_config_name`` set.

        Raises
        ------
        DeploymentError
            The endpoint does not exist, or an AWS call failed.
        """
        _check_name("endpoint_name", endpoint_name)
        _check_name("model_name", model_name)
        _split_s3_uri("s3_model_uri", s3_model_uri)
        existing = self._existing_endpoint(endpoint_name)
        with _aws("sagemaker.describe_endpoint_config"):
            current = self._sagemaker.describe_endpoint_config(
                EndpointConfigName=existing["EndpointConfigName"]
            )
        keep = ("InstanceType", "InitialInstanceCount", "InitialVariantWeight", "ServerlessConfig")
        old = current["ProductionVariants"][0]
        variant = {
            "VariantName": old.get("VariantName", VARIANT_NAME),
            "ModelName": model_name,
            **{k: old[k] for k in keep if k in old},
        }
        return self._roll_out(endpoint_name, existing, s3_model_uri, variant, wait, timeout_s)

    def rollback(
        self, endpoint_name: str, *, wait: bool = False, timeout_s: float = 1800.0
    ) -> dict[str, Any]:
        """Switch the endpoint back to the configuration it served before the last update.

        The configuration left becomes the one to roll back to, so a second rollback undoes
        the first.

        Returns
        -------
        dict
            ``endpoint_name``, ``endpoint_arn``, ``endpoint_config_name`` (now served),
            ``model_name``, ``rolled_back_from``, ``status``, ``region``.

        Raises
        ------
        DeploymentError
            No endpoint, nothing recorded to roll back to, or that configuration is gone.
        """
        existing = self._existing_endpoint(_check_name("endpoint_name", endpoint_name))
        previous = self._previous(existing["EndpointArn"])
        if not previous:
            raise DeploymentError(
                Codes.DEPLOYMENT_ERROR,
                f"endpoint {endpoint_name!r} has no earlier configuration to roll back to.",
                hint="rollback() follows update_endpoint() or a deploy_model() onto an "
                "existing endpoint; deploy the wanted model instead.",
            )
        with _aws("sagemaker.describe_endpoint_config", endpoint_config_name=previous):
            config = self._sagemaker.describe_endpoint_config(EndpointConfigName=previous)
        self._switch(existing, previous)
        return self._deployment(
            endpoint_name,
            previous,
            config["ProductionVariants"][0]["ModelName"],
            wait,
            timeout_s,
            rolled_back_from=existing["EndpointConfigName"],
        )

    def describe_endpoint(self, endpoint_name: str) -> dict[str, Any]:
        """The endpoint as SageMaker describes it (JSON-ready: times as ISO strings)."""
        with _aws("sagemaker.describe_endpoint", endpoint_name=endpoint_name):
            return _without_metadata(self._sagemaker.describe_endpoint(EndpointName=endpoint_name))

    def wait_for_endpoint(
        self, endpoint_name: str, timeout_s: float = 1800.0, poll_s: float | None = None
    ) -> dict[str, Any]:
        """Poll until the endpoint is ``InService``; raise when it fails or time runs out."""
        return self._wait(
            lambda: self.describe_endpoint(endpoint_name),
            "EndpointStatus",
            _ENDPOINT_DONE,
            _ENDPOINT_FAILED,
            f"endpoint {endpoint_name!r}",
            timeout_s,
            poll_s,
        )

    def invoke_endpoint(
        self,
        endpoint_name: str,
        body: bytes | str | Mapping[str, Any],
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> bytes:
        """Send one request to the endpoint (a dict is sent as JSON); the raw answer."""
        payload = json.dumps(body) if isinstance(body, Mapping) else body
        with _aws("sagemaker-runtime.invoke_endpoint", endpoint_name=endpoint_name):
            response = self._client("sagemaker-runtime").invoke_endpoint(
                EndpointName=endpoint_name,
                Body=payload,
                ContentType=content_type,
                Accept=accept,
            )
            return response["Body"].read()

    # -- training ----------------------------------------------------------------------------

    def start_training_job(
        self,
        job_name: str,
        s3_data_uri: str,
        output_s3_uri: str,
        hyperparameters: Mapping[str, Any],
        instance_type: str = "ml.m5.large",
        *,
        instance_count: int = 1,
        volume_size_gb: int = 10,
        max_runtime_s: int = 3600,
        network_isolation: bool = True,
    ) -> dict[str, Any]:
        """Start a training job running ``python -m sagemaker_jobs.train`` in the image.

        Parameters
        ----------
        job_name : str
            Unique in the account and region.
        s3_data_uri : str
            S3 prefix (or file) of the data, mounted as the ``training`` channel.
        output_s3_uri : str
            Where SageMaker puts ``<job_name>/output/model.tar.gz``.
        hyperparameters : mapping
            Python values (lists, numbers, dicts...), encoded and checked by
            :func:`sagemaker_jobs.train.encode_hyperparameters` before anything starts.
        network_isolation : bool, default True
            The container gets no network (the job reads only its channel).

        Returns
        -------
        dict
            :meth:`describe_training_job` right after the start.

        Raises
        ------
        MMModelError
            ``MMM_006`` for hyperparameters the job would reject.
        DeploymentError
            Bad names or URIs, no role or image, or the AWS call failed.
        """
        from sagemaker_jobs.train import METRIC_DEFINITIONS, encode_hyperparameters

        _check_name("job_name", job_name)
        _split_s3_uri("s3_data_uri", s3_data_uri)
        _split_s3_uri("output_s3_uri", output_s3_uri)
        encoded = encode_hyperparameters(hyperparameters)
        with _aws("sagemaker.create_training_job", job_name=job_name):
            self._sagemaker.create_training_job(
                TrainingJobName=job_name,
                HyperParameters=encoded,
                AlgorithmSpecification={
                    "TrainingImage": self._image(),
                    "TrainingInputMode": "File",
                    "MetricDefinitions": METRIC_DEFINITIONS,
                },
                RoleArn=self._role(),
                InputDataConfig=[
                    {
                        "ChannelName": "training",
                        "DataSource": {
                            "S3DataSource": {
                                "S3DataType": "S3Prefix",
                                "S3Uri": s3_data_uri,
                                "S3DataDistributionType": "FullyReplicated",
                            }
                        },
                    }
                ],
                OutputDataConfig={"S3OutputPath": output_s3_uri},
                ResourceConfig={
                    "InstanceType": instance_type,
                    "InstanceCount": instance_count,
                    "VolumeSizeInGB": volume_size_gb,
                },
                StoppingCondition={"MaxRuntimeInSeconds": max_runtime_s},
                EnableNetworkIsolation=network_isolation,
            )
        return self.describe_training_job(job_name)

    def describe_training_job(self, job_name: str) -> dict[str, Any]:
        """A training job's state, JSON-ready.

        Returns
        -------
        dict
            ``training_job_name``, ``training_job_arn``, ``status`` (InProgress, Completed,
            Failed, Stopping, Stopped), ``secondary_status``, ``failure_reason`` (the job's
            failure file: ``"[MMM_xxx] ... How to fix: ..."``), ``model_artifacts`` (S3 URI of
            model.tar.gz), ``final_metrics`` ({name: value}), ``hyperparameters``,
            ``created``, ``started``, ``ended``, ``billable_seconds``.
        """
        _check_name("job_name", job_name)
        with _aws("sagemaker.describe_training_job", job_name=job_name):
            job = self._sagemaker.describe_training_job(TrainingJobName=job_name)
        return {
            "training_job_name": job.get("TrainingJobName", job_name),
            "training_job_arn": job.get("TrainingJobArn"),
            "status": job.get("TrainingJobStatus"),
            "secondary_status": job.get("SecondaryStatus"),
            "failure_reason": job.get("FailureReason"),
            "model_artifacts": (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
            "final_metrics": {
                m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])
            },
            "hyperparameters": dict(job.get("HyperParameters") or {}),
            "created": _iso(job.get("CreationTime")),
            "started": _iso(job.get("TrainingStartTime")),
            "ended": _iso(job.get("TrainingEndTime")),
            "billable_seconds": job.get("BillableTimeInSeconds"),
        }

    def wait_for_training_job(
        self, job_name: str, timeout_s: float = 7200.0, poll_s: float | None = None
    ) -> dict[str, Any]:
        """Poll until the job is ``Completed``; raise with its failure reason when it is not."""
        return self._wait(
            lambda: self.describe_training_job(job_name),
            "status",
            {"Completed"},
            _TRAINING_FAILED,
            f"training job {job_name!r}",
            timeout_s,
            poll_s,
        )
