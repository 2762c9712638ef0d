"""sqs-dlq-has-alarm: every DLQ is watched by an ApproximateNumberOfMessagesVisible alarm."""

from __future__ import annotations

import json

import pytest

from policy.guardrails.model import METRIC_ALARM

ALARM = "sqs-dlq-has-alarm"


def test_dlq_without_alarm(stack, crossguard):
    stack.remove("orders-billing-dlq-alarm")
    [message] = crossguard.messages(ALARM, stack)
    assert message.startswith(
        'SQS queue "orders-billing-dlq" (dead-letter queue of "orders-billing-queue") has no CloudWatch alarm '
        'on AWS/SQS ApproximateNumberOfMessagesVisible with QueueName = "orders-billing-dlq"'
    )
    assert "threshold > 0, treatMissingData = notBreaching" in message


@pytest.mark.parametrize(
    "change",
    [
        {"metricName": "NumberOfMessagesSent"},
        {"namespace": "AWS/Lambda"},
        {"dimensions": {"QueueName": "orders-billing"}},  # watches the source queue, not the DLQ
    ],
)
def test_alarm_on_something_else_does_not_count(stack, crossguard, change):
    stack.props("orders-billing-dlq-alarm").update(change)
    if "dimensions" in change:
        stack.set_deps("orders-billing-dlq-alarm", "dimensions", "orders-billing-queue")
    [message] = crossguard.messages(ALARM, stack)
    assert message.startswith('SQS queue "orders-billing-dlq" (dead-letter queue of "orders-billing-queue")')


def test_alarm_found_by_queue_name_without_dependencies(stack, crossguard):
    stack["orders-billing-dlq-alarm"]["property_dependencies"] = {}
    assert crossguard.messages(ALARM, stack) == []


def test_alarm_found_by_dependency_when_queue_name_unknown(stack, crossguard):
    stack.props("orders-billing-dlq-alarm")["dimensions"] = {"QueueName": stack.unknown}
    assert crossguard.messages(ALARM, stack) == []

    # Unknown QueueName and no dependency: the alarm may or may not watch the DLQ (preview). Never a
    # mandatory finding for a reference the pack cannot resolve; the advisory says so instead.
    stack["orders-billing-dlq-alarm"]["property_dependencies"] = {}
    assert crossguard.messages(ALARM, stack) == []
    [advisory] = crossguard.messages("preview-unresolved-reference", stack)
    assert advisory.startswith('SQS queue "orders-billing-dlq": cannot tell during this preview whether an alarm')

    # With the name known, the alarm is told apart again: a different queue's name means no DLQ alarm.
    stack.props("orders-billing-dlq-alarm")["dimensions"] = {"QueueName": "someone-else"}
    assert len(crossguard.messages(ALARM, stack)) == 1


def test_metric_math_alarm_counts(stack, crossguard):
    stack.remove("orders-billing-dlq-alarm")
    stack.add(
        METRIC_ALARM,
        "dlq-math-alarm",
        {
            "comparisonOperator": "GreaterThanThreshold",
            "threshold": 0,
            "metricQueries": [
                {
                    "id": "visible",
                    "metric": {
                        "metricName": "ApproximateNumberOfMessagesVisible",
                        "namespace": "AWS/SQS",
                        "dimensions": {"QueueName": "orders-billing-dlq"},
                        "period": 60,
                        "stat": "Maximum",
                    },
                    "returnData": True,
                }
            ],
        },
    )
    assert crossguard.messages(ALARM, stack) == []


def test_shared_dlq_names_every_feeder(stack, crossguard):
    stack.add_subscriber("orders-email")
    # Point the second queue at the first DLQ (as retry tiers do) and drop the second DLQ's alarm.
    policy = json.loads(stack.props("orders-email-queue")["redrivePolicy"])
    policy["deadLetterTargetArn"] = stack.queue_arn("orders-billing-dlq")
    stack.props("orders-email-queue")["redrivePolicy"] = json.dumps(policy)
    stack.set_deps("orders-email-queue", "redrivePolicy", "orders-billing-dlq")
    stack.remove("orders-billing-dlq-alarm")
    messages = crossguard.messages(ALARM, stack)
    assert any(
        m.startswith(
            'SQS queue "orders-billing-dlq" (dead-letter queue of "orders-billing-queue", "orders-email-queue")'
        )
        for m in messages
    )
