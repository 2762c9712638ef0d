"""Run the whole pack over captured resources, without the Pulumi engine.

``evaluate`` takes resources in the stack-capture shape of docs/contracts.md §3 (dicts or
``CapturedResource`` objects with type, name, urn, inputs, outputs, property_dependencies) and runs
every rule of the pack — mandatory and advisory — exactly as the CrossGuard wrappers do::

    from policy.guardrails import evaluate, format_violations

    violations = evaluate(capture.resources)
    mandatory = [v for v in violations if v.mandatory]
    assert not mandatory, format_violations(mandatory)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pulumi_policy import EnforcementLevel

from .model import Stack, from_capture
from .rules import RULES, Rule


class HasResources(Protocol):
    """A ``stack_capture.Capture`` (anything with a ``resources`` list)."""

    @property
    def resources(self) -> Iterable[Any]: ...


@dataclass(frozen=True)
class Violation:
    policy: str  # rule name, e.g. "sqs-queue-has-redrive-policy"
    level: EnforcementLevel  # MANDATORY or ADVISORY
    message: str  # names the resource, what is wrong, and how to fix it
    urn: str | None  # the resource the violation is about (None: the stack as a whole)
    resource_name: str | None
    resource_type: str | None

    @property
    def mandatory(self) -> bool:
        return self.level is EnforcementLevel.MANDATORY

    def __str__(self) -> str:
        return f"[{self.level.value}] {self.policy}: {self.message}"


def evaluate(resources: Iterable[Any] | HasResources, rules: Sequence[Rule] = RULES) -> list[Violation]:
    """Every violation of ``rules`` (default: the whole pack) in ``resources``, in rule order.

    ``resources`` may also be a ``Capture`` (its ``.resources`` are used). Each resource's props
    are its inputs overlaid with its outputs; unknown values count as "cannot judge" (no violation).
    """
    items: Iterable[Any] = resources.resources if hasattr(resources, "resources") else resources
    stack = Stack(from_capture(raw) for raw in items)
    return [
        Violation(rule.name, rule.level, finding.message, finding.urn, finding.name, finding.type)
        for rule in rules
        for finding in rule.findings(stack)
    ]


def format_violations(violations: Iterable[Violation]) -> str:
    """One line per violation, for assertion messages and logs."""
    return "\n".join(str(v) for v in violations) or "(no violations)"
