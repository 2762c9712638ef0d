"""A real stack broken on purpose, the way a user's stack transform could break it, fails the pack.

Each case runs the dev stack's real program with one Pulumi stack transform that undoes a safe default,
then feeds the captured resources through the pack: the matching mandatory policy must fire.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from policy.guardrails import evaluate
from stack_capture import capture_stack

Props = dict[str, Any]


def _transform(type_: str, name: str, change: Callable[[Props], Props]) -> pulumi.ResourceTransform:
    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ == type_ and args.name == name:
            return pulumi.ResourceTransformResult(props=change(dict(args.props)), opts=args.opts)
        return None

    return transform


def _without(key: str) -> Callable[[Props], Props]:
    return lambda props: {k: v for k, v in props.items() if k != key}


def _wildcard_policy(props: Props) -> Props:
    doc = json.loads(props["policy"])
    doc["Statement"][0]["Action"] = "sqs:*"
    return props | {"policy": json.dumps(doc)}


def _statement_action(action: str) -> Callable[[Props], Props]:
    def change(props: Props) -> Props:
        doc = json.loads(props["policy"])
        doc["Statement"][0]["Action"] = action
        return props | {"policy": json.dumps(doc)}

    return change


def _public_send(props: Props) -> Props:
    doc = json.loads(props["policy"])
    doc["Statement"].append({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"})
    return props | {"policy": json.dumps(doc)}


CASES = {
    "topic policy naming sns:*": (
        _transform("aws:sns/topicPolicy:TopicPolicy", "alarms-policy", _statement_action("sns:*")),
        "sns-topic-policy-valid-actions",
    ),
    "queue policy open to everyone": (
        _transform("aws:sqs/queuePolicy:QueuePolicy", "orders-billing-policy", _public_send),
        "sqs-queue-policy-not-public",
    ),
    "queue without its DLQ": (
        _transform("aws:sqs/queue:Queue", "orders-billing", _without("redrivePolicy")),
        "sqs-queue-has-redrive-policy",
    ),
    "unencrypted queue": (
        _transform("aws:sqs/queue:Queue", "media-thumbnail", _without("sqsManagedSseEnabled")),
        "sqs-queue-encrypted",
    ),
    "mapping without partial batch failures": (
        _transform(
            "aws:lambda/eventSourceMapping:EventSourceMapping", "email-main-mapping", _without("functionResponseTypes")
        ),
        "lambda-sqs-esm-reports-batch-item-failures",
    ),
    "visibility below the function timeout": (
        _transform("aws:sqs/queue:Queue", "media-download", lambda p: p | {"visibilityTimeoutSeconds": 60}),
        "lambda-sqs-esm-visibility-covers-timeout",
    ),
    "wildcard IAM action": (
        _transform("aws:iam/rolePolicy:RolePolicy", "orders-email-policy", _wildcard_policy),
        "iam-no-wildcards",
    ),
    "DLQ alarm removed": (
        _transform(
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "email-dlq-visible",
            lambda p: p | {"metricName": "NumberOfMessagesSent"},
        ),
        "sqs-dlq-has-alarm",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_stack_is_caught(case: str) -> None:
    transform, policy = CASES[case]
    violations = [v for v in evaluate(capture_stack("dev", transforms=[transform])) if v.mandatory]
    assert policy in {v.policy for v in violations}, [str(v) for v in violations]


def test_the_unbroken_stack_passes() -> None:
    assert [str(v) for v in evaluate(capture_stack("dev")) if v.mandatory] == []
