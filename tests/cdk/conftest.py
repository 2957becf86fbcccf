"""The CDK app, synthesised once per test session (it takes seconds), and helpers to read it.

Tests read the templates with :class:`aws_cdk.assertions.Template` and the state machine's
definition as plain JSON (:func:`state_machine_definition`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.conftest import CONCERNS, TEST_CONTEXT, SynthesisedApp

__all__ = ["CONCERNS", "TEST_CONTEXT", "SynthesisedApp"]


@pytest.fixture(scope="session")
def data_lake(synthesised: SynthesisedApp) -> Template:
    return synthesised.templates["data-lake"]


@pytest.fixture(scope="session")
def ml(synthesised: SynthesisedApp) -> Template:
    return synthesised.templates["ml"]


@pytest.fixture(scope="session")
def pipeline(synthesised: SynthesisedApp) -> Template:
    return synthesised.templates["pipeline"]


@pytest.fixture(scope="session")
def api(synthesised: SynthesisedApp) -> Template:
    return synthesised.templates["api"]


# --------------------------------------------------------------------------------------------
# Reading templates.
# --------------------------------------------------------------------------------------------


def flatten(value: Any) -> str:
    """A CloudFormation string expression as text: ``Fn::Join`` joined, other tokens as ``<…>``.

    Tokens (``Ref``, ``Fn::GetAtt``, ``Fn::GetStackOutput``…) only ever stand inside JSON
    strings of a state machine definition, so the placeholder keeps the JSON valid.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(flatten(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and len(value) == 1:
        return f"<{next(iter(value))}>"
    raise TypeError(f"not a string expression: {value!r}")


def only_resource(template: Template, resource_type: str) -> dict[str, Any]:
    """The properties of the template's one resource of ``resource_type``."""
    found = template.find_resources(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))["Properties"]


def state_machine_definition(template: Template) -> dict[str, Any]:
    """The state machine's Amazon States Language document, parsed."""
    properties = only_resource(template, "AWS::StepFunctions::StateMachine")
    return json.loads(flatten(properties["DefinitionString"]))


def all_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, including those inside Map and Parallel states, as ``(name, state)``."""
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch)
        if "ItemProcessor" in state:
            yield from all_states(state["ItemProcessor"])
        if "Iterator" in state:
            yield from all_states(state["Iterator"])


def policy_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement of the template's policies and roles, as ``(resource id, stmt)``."""
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, resource in template.find_resources(kind).items():
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                yield logical_id, statement
    for logical_id, resource in template.find_resources("AWS::IAM::Role").items():
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield logical_id, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
