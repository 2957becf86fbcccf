"""cdk-nag: the AWS Solutions checks on the whole app, and suppressions that carry reasons.

``apply_checks(app)`` adds :class:`cdk_nag.AwsSolutionsChecks` as an aspect; every finding is
an error or warning annotation on the resource at synth time. A finding we accept is
suppressed *beside the resource* with :func:`suppress`, always with a written reason and, for
IAM wildcards, with ``applies_to`` naming exactly which wildcard is accepted (so a new,
unreviewed wildcard in the same policy is still reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import App, Aspects, Stack
from cdk_nag import AwsSolutionsChecks, NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import IConstruct

__all__ = [
    "XRAY_WILDCARD",
    "Suppression",
    "apply_checks",
    "suppress",
    "suppress_path",
]

#: Minimum reason length: a reason must say why, not just "ok".
_MIN_REASON = 40


@dataclass(frozen=True)
class Suppression:
    """One accepted cdk-nag finding.

    Parameters
    ----------
    rule : str
        The AwsSolutions rule without its prefix, e.g. ``"IAM5"``.
    reason : str
        Why the finding is acceptable here (at least 40 characters).
    applies_to : sequence of str
        For findings with details (IAM4, IAM5): the exact findings accepted, e.g.
        ``"Resource::*"`` or ``"Action::kms:ReEncrypt*"``; a value wrapped in slashes
        (``"/^Resource::arn:.*:log-group:.*$/"``) is a regular expression.
    """

    rule: str
    reason: str
    applies_to: Sequence[str] = ()

    def __post_init__(self) -> None:
        if len(self.reason.strip()) < _MIN_REASON:
            raise ValueError(f"suppression of {self.rule} needs a real reason, got {self.reason!r}")

    def to_nag(self) -> NagPackSuppression:
        targets: list[str | RegexAppliesTo] = [
            RegexAppliesTo(regex=item) if item.startswith("/") else item for item in self.applies_to
        ]
        return NagPackSuppression(
            id=f"AwsSolutions-{self.rule}", reason=self.reason, applies_to=targets or None
        )


#: X-Ray accepts no resource-level permissions: active tracing adds PutTraceSegments on "*".
XRAY_WILDCARD = Suppression(
    "IAM5",
    "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; "
    "CDK adds them on '*' for active tracing (the test suite checks that every '*' statement "
    "holds only such actions).",
    ("Resource::*",),
)


def apply_checks(app: App) -> None:
    """Run the AWS Solutions rules on every resource of ``app`` at synth time."""
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))


def suppress(construct: IConstruct, *suppressions: Suppression) -> None:
    """Accept findings on ``construct`` and everything under it, each with its reason."""
    NagSuppressions.add_resource_suppressions(
        construct, [item.to_nag() for item in suppressions], apply_to_children=True
    )


def suppress_path(stack: Stack, path: str, *suppressions: Suppression) -> None:
    """Accept findings on a resource CDK creates implicitly, found by its construct path."""
    NagSuppressions.add_resource_suppressions_by_path(
        stack, path, [item.to_nag() for item in suppressions], apply_to_children=True
    )
