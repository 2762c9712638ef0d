"""The pack over the user's own stacks (every `Pulumi.<stack>.yaml` of the project, whatever it holds).

Two views of each stack: the capture as it is (everything known, like a stack after ``pulumi up``),
and a simulated first ``pulumi preview`` (every ARN/URL, and every input built from one, unknown),
which is what CrossGuard actually sees before the first deployment.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.guardrails import evaluate, format_violations, lambda_esm, queues
from policy.guardrails.model import QUEUE, Stack, from_capture
from stack_capture import capture_stack
from tests.conftest import USER_PROJECT_DIR, USER_STACKS

from .foreign import simulated_preview

STACKS = USER_STACKS
pytestmark = pytest.mark.user_stacks


@pytest.fixture(scope="module")
def captures() -> dict[str, Any]:
    return {name: capture_stack(name, project_dir=USER_PROJECT_DIR) for name in STACKS}


@pytest.mark.parametrize("name", STACKS)
def test_real_stack_has_no_mandatory_violations(captures, name):
    violations = evaluate(captures[name])
    mandatory = [v for v in violations if v.mandatory]
    assert not mandatory, format_violations(mandatory)


@pytest.mark.parametrize("name", STACKS)
def test_every_reference_in_the_real_stack_resolves(captures, name):
    """The checks are not passing vacuously: every redrive target, queue and function is found."""
    stack = Stack(from_capture(r) for r in captures[name].resources)
    links = queues.redrive_links(stack)
    assert links and all(link.target is not None for link in links)
    dlqs = queues.dead_letter_queues(stack, links)
    assert {q.urn for q in stack.of_type(QUEUE)} == {link.source.urn for link in links} | set(dlqs)
    mappings = lambda_esm.sqs_mappings(stack)
    assert mappings and all(m.queue is not None and m.function is not None for m in mappings)


@pytest.mark.parametrize("name", STACKS)
def test_simulated_preview_of_real_stack(captures, crossguard, name):
    resources = simulated_preview(captures[name].resources)
    assert any(r["props"].get("redrivePolicy") == UNKNOWN_STRING_VALUE for r in resources)
    reported = crossguard.run(resources)
    assert [r for r in reported if r.level is EnforcementLevel.MANDATORY] == []
    # Every reference of our program resolves through property dependencies, even in a preview.
    assert [r for r in reported if r.policy == "preview-unresolved-reference"] == []

    # Dependencies alone still let the stack rules see a DLQ without its alarm.
    without_alarms = [r for r in resources if r["type"] != "aws:cloudwatch/metricAlarm:MetricAlarm"]
    reported = crossguard.run(without_alarms, only="sqs-dlq-has-alarm")
    dlqs = queues.dead_letter_queues(Stack(from_capture(r) for r in captures[name].resources))
    assert {r.urn for r in reported} == set(dlqs)
