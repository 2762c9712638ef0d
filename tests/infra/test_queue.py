"""DeadLetteredQueue under Pulumi mocks: every assertion runs inside the returned Output."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from components.queue import DeadLetteredQueue, DeadLetteredQueueArgs
from tests.infra.builders import ALARM_TOPIC, THRESHOLDS, consumer, statements

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ap-test-orders"


def _queue(name: str = "orders", **settings: Any) -> DeadLetteredQueue:
    args = DeadLetteredQueueArgs.for_consumer(
        f"ap-test-{name}",
        consumer(**settings),
        alarm_topic_arn=ALARM_TOPIC,
        alarms=THRESHOLDS,
    )
    return DeadLetteredQueue(name, args)


@pulumi.runtime.test
def test_standard_queue_redrives_to_a_standard_dlq_after_max_receive_count(mocks):
    q = _queue(max_receive_count=4)

    def check(a: list) -> None:
        name, dlq_name, redrive, dlq_arn, fifo, dlq_fifo = a
        assert name == "ap-test-orders"
        assert dlq_name == "ap-test-orders-dlq"
        assert json.loads(redrive) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 4}
        assert not fifo and not dlq_fifo

    return pulumi.Output.all(
        q.queue.name, q.dlq.name, q.queue.redrive_policy, q.dlq.arn, q.queue.fifo_queue, q.dlq.fifo_queue
    ).apply(check)


@pulumi.runtime.test
def test_fifo_queue_gets_a_fifo_dlq_with_fifo_names(mocks):
    q = _queue("ledger", fifo=True)

    def check(a: list) -> None:
        name, dlq_name, fifo, dlq_fifo, dedup = a
        assert name == "ap-test-ledger.fifo"
        assert dlq_name == "ap-test-ledger-dlq.fifo"
        assert fifo is True and dlq_fifo is True
        assert dedup is True

    return pulumi.Output.all(
        q.queue.name, q.dlq.name, q.queue.fifo_queue, q.dlq.fifo_queue, q.queue.content_based_deduplication
    ).apply(check)


@pulumi.runtime.test
def test_encryption_retention_visibility_and_delay(mocks):
    q = _queue(timeout=40, retention=86_400, delay=15, visibility_timeout=300)

    def check(a: list) -> None:
        sse, dlq_sse, retention, dlq_retention, visibility, delay, wait = a
        assert sse is True and dlq_sse is True
        assert retention == 86_400
        assert dlq_retention == 1_209_600, "the DLQ keeps messages 14 days"
        assert visibility == 300
        assert delay == 15
        assert wait == 20, "long polling for anything polling outside Lambda"

    return pulumi.Output.all(
        q.queue.sqs_managed_sse_enabled,
        q.dlq.sqs_managed_sse_enabled,
        q.queue.message_retention_seconds,
        q.dlq.message_retention_seconds,
        q.queue.visibility_timeout_seconds,
        q.queue.delay_seconds,
        q.queue.receive_wait_time_seconds,
    ).apply(check)


@pulumi.runtime.test
def test_dlq_retention_never_shorter_than_the_source(mocks):
    q = _queue(retention=1_209_600)
    return pulumi.Output.all(q.queue.message_retention_seconds, q.dlq.message_retention_seconds).apply(
        lambda a: _assert(a[1] >= a[0] == 1_209_600)
    )


@pulumi.runtime.test
def test_retry_tiers_share_the_dlq_with_their_own_delays(mocks):
    args = DeadLetteredQueueArgs.for_consumer(
        "ap-test-email", consumer(), alarm_topic_arn=ALARM_TOPIC, alarms=THRESHOLDS, retry_delays=(30, 300)
    )
    q = DeadLetteredQueue("email", args)
    assert list(q.sources) == ["main", "retry-1", "retry-2"]
    tier1, tier2 = q.sources["retry-1"], q.sources["retry-2"]

    def check(a: list) -> None:
        n1, n2, d1, d2, r1, r2, dlq_arn = a
        assert (n1, n2) == ("ap-test-email-retry-1", "ap-test-email-retry-2")
        assert (d1, d2) == (30, 300)
        assert json.loads(r1)["deadLetterTargetArn"] == json.loads(r2)["deadLetterTargetArn"] == dlq_arn

    return pulumi.Output.all(
        tier1.name,
        tier2.name,
        tier1.delay_seconds,
        tier2.delay_seconds,
        tier1.redrive_policy,
        tier2.redrive_policy,
        q.dlq.arn,
    ).apply(check)


@pulumi.runtime.test
def test_sources_are_limited_to_what_a_redrive_allow_policy_accepts(mocks):
    import pytest

    args = DeadLetteredQueueArgs.for_consumer(
        "ap-test-x", consumer(), alarm_topic_arn=ALARM_TOPIC, alarms=THRESHOLDS, retry_delays=tuple(range(10))
    )
    with pytest.raises(ValueError, match="1–10 source queues, got 11"):
        DeadLetteredQueue("x", args)
    return pulumi.Output.from_input(True)


def _assert(condition: bool) -> None:
    assert condition


def test_queue_policy_document_merges_tls_deny_and_sns_grant():
    from components.policy_documents import queue_policy

    arn = "arn:aws:sqs:eu-west-1:123456789012:q"
    plain = statements(queue_policy(arn))
    assert [s["Sid"] for s in plain] == ["DenyInsecureTransport"]
    assert plain[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    merged = json.loads(queue_policy(arn, [TOPIC, TOPIC + "2", TOPIC]))
    assert merged["Version"] == "2012-10-17"
    deny, allow = merged["Statement"]
    assert deny["Effect"] == "Deny"
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": [TOPIC, TOPIC + "2"]}}


def test_every_queue_of_both_stacks_sets_max_message_size_to_the_size_every_limit_assumes(project_stacks) -> None:
    """Unset, pulumi-aws creates the queue with 256 KiB (its default), and 1 MiB sends fail only in AWS."""
    from contract import aws

    for stack, capture in project_stacks.items():
        queues = capture.of_type("aws:sqs/queue:Queue")
        assert queues, stack
        unset = [q.name for q in queues if q.inputs.get("maxMessageSize") != aws.QUEUE_MAX_MESSAGE_BYTES]
        assert unset == [], f"{stack}: queues without max_message_size={aws.QUEUE_MAX_MESSAGE_BYTES}: {unset}"
