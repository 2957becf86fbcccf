"""Data lake: four encrypted, versioned, private, TLS-only, logged buckets with lifecycle rules."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from cdk.data_lake import AREAS

from .conftest import only_resource


def _lake_buckets(template: Template) -> dict[str, dict[str, Any]]:
    buckets = template.find_resources("AWS::S3::Bucket")
    return {
        area: next(
            resource["Properties"]
            for logical_id, resource in buckets.items()
            if logical_id.startswith(f"DataLake{area.capitalize()}")
        )
        for area in AREAS
    }


def test_one_bucket_per_area_plus_the_access_log_bucket(data_lake: Template) -> None:
    data_lake.resource_count_is("AWS::S3::Bucket", len(AREAS) + 1)
    assert set(_lake_buckets(data_lake)) == set(AREAS)


def test_lake_buckets_are_encrypted_with_the_rotating_lake_key(data_lake: Template) -> None:
    key_id = next(iter(data_lake.find_resources("AWS::KMS::Key")))
    data_lake.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    for area, bucket in _lake_buckets(data_lake).items():
        rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        default = rule["ServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms", area
        assert default["KMSMasterKeyID"] == {"Fn::GetAtt": [key_id, "Arn"]}, area
        assert rule["BucketKeyEnabled"] is True, area


def test_every_bucket_is_encrypted_private_and_versioned(data_lake: Template) -> None:
    for logical_id, resource in data_lake.find_resources("AWS::S3::Bucket").items():
        bucket = resource["Properties"]
        assert bucket["BucketEncryption"], logical_id
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        assert bucket["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerEnforced"}
        ], logical_id
        assert resource["DeletionPolicy"] == "Retain", logical_id


def test_every_bucket_policy_denies_plain_http_and_old_tls(data_lake: Template) -> None:
    policies = data_lake.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == len(AREAS) + 1
    for logical_id, policy in policies.items():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        conditions = [s["Condition"] for s in statements if s["Effect"] == "Deny"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions, logical_id
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions, logical_id


def test_lake_buckets_log_access_to_the_log_bucket(data_lake: Template) -> None:
    log_bucket = next(k for k in data_lake.find_resources("AWS::S3::Bucket") if "AccessLogs" in k)
    for area, bucket in _lake_buckets(data_lake).items():
        assert bucket["LoggingConfiguration"] == {
            "DestinationBucketName": {"Ref": log_bucket},
            "LogFilePrefix": f"{area}/",
        }


@pytest.mark.parametrize("area", AREAS)
def test_lifecycle_expires_old_versions_and_abandoned_uploads(
    data_lake: Template, area: str
) -> None:
    (rule,) = _lake_buckets(data_lake)[area]["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 30
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_access_logs_expire_and_use_s3_managed_keys(data_lake: Template) -> None:
    data_lake.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": 365, "Status": "Enabled"})]
            },
        },
    )


def test_glue_database_points_at_the_curated_area(data_lake: Template) -> None:
    database = only_resource(data_lake, "AWS::Glue::Database")["DatabaseInput"]
    assert database["Name"] == "mmm_prod"
    location = database["LocationUri"]["Fn::Join"][1]
    assert location[0] == "s3://" and location[-1] == "/curated/"
