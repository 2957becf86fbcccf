"""The store in S3: the same layout under ``s3://<bucket>/<prefix>/``.

Needs ``boto3`` (the ``aws`` extra), imported on first use so ``import mmm_core`` never loads
it; datasets go through ``awswrangler`` when it is installed (else pandas + pyarrow over the
same objects). Credentials and region come from boto3's usual chain (``AWS_PROFILE``,
``AWS_ACCESS_KEY_ID``..., the Lambda or SageMaker role); ``AWS_ENDPOINT_URL_S3`` points it at
another endpoint (MinIO, LocalStack).

Every write is one ``PutObject`` of the whole object (awswrangler may use a multipart upload for
a big dataset, which also appears whole or not at all). The production pointer is rewritten
with ``If-Match`` (its ETag when read) or ``If-None-Match: *`` (when there was none), so two
promotions at once cannot both win; S3 answers the loser ``412 PreconditionFailed`` (or ``409``
while the other write is in flight) and the store retries on the new pointer.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mmm_core.errors import Codes, DeploymentError, MMModelError
from mmm_core.store.base import ArtifactStore
from mmm_core.store.errors import WriteConflictError
from mmm_core.store.keys import check_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["S3Store"]

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MISSING = {"NoSuchKey", "404", "NotFound"}
_DENIED = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
}
_CONFLICT = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


class S3Store(ArtifactStore):
    """Artifacts under ``s3://<bucket>/<prefix>/``.

    Parameters
    ----------
    bucket : str
        The bucket (it must exist: the DataLake stack creates it).
    prefix : str, optional
        A folder inside the bucket (``""`` for its root).
    session : boto3.Session, optional
        The session to use; by default boto3's default session, on first use.
    """

    def __init__(self, bucket: str, prefix: str = "", *, session: Any = None) -> None:
        if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"{bucket!r} is not a valid S3 bucket name.",
                hint="give the bucket as in s3://my-bucket/prefix (3-63 lowercase letters, "
                "digits, '.' and '-').",
                details={"reason": "invalid_bucket"},
            )
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) if prefix.strip("/") else ""
        self._session = session
        self._client_: Any = None

    def __repr__(self) -> str:
        return f"S3Store({self.bucket!r}, {self.prefix!r})"

    # ---------------------------------------------------------------- plumbing
    @property
    def _client(self) -> Any:
        if self._client_ is None:
            if self._session is None:  # boto3's default session: shares its loaded models
                import boto3

                self._client_ = boto3.client("s3")
            else:
                self._client_ = self._session.client("s3")
        return self._client_

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._full(key)}"

    @contextlib.contextmanager
    def _calling(self, action: str, key: str) -> Iterator[None]:
        """Turn boto3's errors into the store's: not found, conflict, or ``MMM_300``."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in _CONFLICT:
                raise WriteConflictError(key) from exc
            if code in _MISSING:
                raise self._missing(key) from None
            raise self._failure(action, key, code, error.get("Message") or str(exc)) from exc
        except BotoCoreError as exc:  # no credentials, no network, bad endpoint...
            raise self._failure(action, key, type(exc).__name__, str(exc)) from exc

    def _failure(self, action: str, key: str, code: str, message: str) -> DeploymentError:
        if code == "NoSuchBucket":
            hint = (
                f"create the bucket {self.bucket!r} (the DataLake stack does) or set "
                "MMM_DATA_LAKE_URI to an existing s3://bucket/prefix."
            )
        elif code in _DENIED:
            hint = (
                f"give this role s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket "
                f"on {self.bucket!r}, or check the AWS credentials in use."
            )
        elif code in {"NoCredentialsError", "PartialCredentialsError"}:
            hint = "configure AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and secret)."
        else:
            hint = "check the network, the AWS region and credentials, and retry."
        return DeploymentError(
            Codes.DEPLOYMENT_ERROR,
            f"cannot {action} {self._uri(key)!r}: {code}: {message}",
            hint=hint,
            details={"reason": "storage_error", "key": key, "error": code},
        )

    # ---------------------------------------------------------------- primitives
    def _put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> None:
        extra: dict[str, str] = {}
        if if_match is not None:
            extra["IfMatch"] = if_match
        if if_none_match:
            extra["IfNoneMatch"] = "*"
        with self._calling("write", key):
            self._client.put_object(
                Bucket=self.bucket,
                Key=self._full(key),
                Body=data,
                ContentType=content_type,
                **extra,
            )

    def _get(self, key: str) -> bytes:
        return self._get_versioned(key)[0]

    def _get_versioned(self, key: str) -> tuple[bytes, str]:
        with self._calling("read", key):
            response = self._client.get_object(Bucket=self.bucket, Key=self._full(key))
            return response["Body"].read(), response["ETag"]

    def _exists(self, key: str) -> bool:
        # A listing (not HeadObject) so that a missing bucket is an error, not "no object".
        full = self._full(key)
        with self._calling("list", key):
            response = self._client.list_objects_v2(Bucket=self.bucket, Prefix=full, MaxKeys=1)
        return any(item["Key"] == full for item in response.get("Contents", []))

    def _list(self, prefix: str) -> list[str]:
        start = len(self.prefix) + 1 if self.prefix else 0
        keys = []
        with self._calling("list", prefix or "."):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._full(prefix)
            )
            for page in pages:
                keys.extend(item["Key"][start:] for item in page.get("Contents", []))
        return sorted(k for k in keys if k and not k.endswith("/"))

    def _delete(self, key: str) -> None:
        with self._calling("delete", key):
            self._client.delete_object(Bucket=self.bucket, Key=self._full(key))

    # ---------------------------------------------------------------- datasets (awswrangler)
    def _write_parquet(self, key: str, frame: pd.DataFrame) -> None:
        try:
            import awswrangler as wr
        except ImportError:
            super()._write_parquet(key, frame)
            return
        with self._calling("write", key):
            wr.s3.to_parquet(frame, path=self._uri(key), index=False, boto3_session=self._session)

    def _read_parquet(self, keys: list[str]) -> pd.DataFrame:
        try:
            import awswrangler as wr
        except ImportError:
            return super()._read_parquet(keys)
        with self._calling("read", keys[0]):
            try:
                return wr.s3.read_parquet(
                    path=[self._uri(k) for k in keys],
                    boto3_session=self._session,
                    # plain pandas types, as pandas.read_parquet gives (not nullable ones)
                    pyarrow_additional_kwargs={"types_mapper": None},
                )
            except wr.exceptions.NoFilesFound:
                raise self._missing(keys[0]) from None
