"""cdk-nag's AWS Solutions checks pass; no IAM statement uses '*' where a resource has a name."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk.assertions import Annotations, Match

from .conftest import CONCERNS, SynthesisedApp, as_list, policy_statements

#: Actions that accept no resource-level permissions: only these may use Resource "*".
ACTIONS_WITHOUT_RESOURCES = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "sagemaker:ListTags",
}


@pytest.mark.parametrize("concern", CONCERNS)
def test_cdk_nag_leaves_no_error_or_warning(synthesised: SynthesisedApp, concern: str) -> None:
    annotations = Annotations.from_stack(synthesised.stacks[concern])
    nag = Match.string_like_regexp("AwsSolutions-.*")
    assert annotations.find_error("*", nag) == []
    assert annotations.find_warning("*", nag) == []


@pytest.mark.parametrize("concern", CONCERNS)
def test_star_resources_only_for_actions_that_take_no_resource(
    synthesised: SynthesisedApp, concern: str
) -> None:
    for logical_id, statement in policy_statements(synthesised.templates[concern]):
        actions = set(as_list(statement["Action"]))
        assert "*" not in actions and not any(a.endswith(":*") for a in actions), logical_id
        if "*" in as_list(statement.get("Resource", [])):
            assert actions <= ACTIONS_WITHOUT_RESOURCES, (logical_id, actions)


@pytest.mark.parametrize("concern", CONCERNS)
def test_every_suppression_says_why(synthesised: SynthesisedApp, concern: str) -> None:
    template = synthesised.templates[concern].to_json()
    suppressions = [
        rule
        for resource in template["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    for rule in suppressions:
        assert rule["id"].startswith("AwsSolutions-")
        assert len(rule["reason"]) >= 40, rule
    if concern != "data-lake":
        assert suppressions, "expected the reviewed suppressions to be recorded in metadata"


def test_no_account_or_region_is_written_into_templates(synthesised: SynthesisedApp) -> None:
    for concern, template in synthesised.templates.items():
        text = json.dumps(template.to_json())
        assert not re.search(r"\b\d{12}\b", text), concern  # an account id
        assert not re.search(r"\b[a-z]{2}(-gov)?-[a-z]+-\d\b", text), concern  # a region
