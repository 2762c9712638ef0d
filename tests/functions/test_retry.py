"""Retry pipelines: transient failures move tier0 -> tier1 -> DLQ with ap-attempt."""

from __future__ import annotations

import json

import pytest

from pipeline_runtime import entry
from pipeline_runtime.ids import deterministic_id
from tests.functions import probe
from tests.functions.conftest import event, failures, redelivered


@pytest.fixture
def retry(aws, consumer_env):
    main, dlq = aws.queue("email"), aws.queue("email-dlq")
    tier0, tier1 = aws.queue("email-retry-30"), aws.queue("email-retry-300")
    aws.table()
    consumer_env(dlq=dlq, pipeline="email", consumer="consumer", tiers=[(tier0, 30), (tier1, 300)])
    return main, tier0, tier1, dlq


def test_escalation_order_tier0_tier1_then_dlq(aws, retry, context):
    main, tier0, tier1, dlq = retry
    body = {"do": "transient", "n": 1}
    aws.send(main, body, {"tenant": "acme"})
    [record] = aws.receive_records(main, expected=1)
    logical_id = record["messageId"]

    # main -> tier 0, delayed 30 s by DelaySeconds
    assert failures(entry.handler(event(record), context)) == []
    assert aws.receive_records(tier0) == []  # not visible yet: the delay applies
    assert aws.release_delayed(tier0) == [30]
    [at_tier0] = aws.receive_records(tier0, expected=1)
    assert json.loads(at_tier0["body"]) == body
    attrs = at_tier0["messageAttributes"]
    assert attrs["ap-attempt"] == {
        "stringValue": "1",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "Number",
    }
    assert attrs["ap-message-id"]["stringValue"] == logical_id
    assert attrs["tenant"]["stringValue"] == "acme"

    # tier 0 -> tier 1, delayed 300 s
    assert failures(entry.handler(event(at_tier0), context)) == []
    assert aws.release_delayed(tier1) == [300]
    [at_tier1] = aws.receive_records(tier1, expected=1)
    assert at_tier1["messageAttributes"]["ap-attempt"]["stringValue"] == "2"
    assert at_tier1["messageAttributes"]["ap-message-id"]["stringValue"] == logical_id

    # tier 1 -> DLQ, retries exhausted
    assert aws.drain(dlq) == []
    assert failures(entry.handler(event(at_tier1), context)) == []
    [dead] = aws.drain(dlq)
    assert dead.json == body
    assert len(dead.attributes.pop("ap-dead-letter-id")) == 64
    assert dead.attributes == {
        "ap-error-kind": "retries-exhausted",
        "ap-error-reason": "TransientError: backend down",
        "ap-source-queue": tier1.arn,
        "ap-message-id": logical_id,
        "ap-attempt": "2",
        "tenant": "acme",
    }
    assert [call["n"] for call in probe.CALLS] == [1, 1, 1]
    # failed business calls leave no record behind; each move (one per attempt) is remembered
    stored = [json.loads(item["data"]["S"]) for item in aws.idempotency_items()]
    assert sorted(item["outcome"] for item in stored) == ["dead-lettered", "retry-tier-1", "retry-tier-2"]
    assert aws.delayed(tier0) == [] and aws.delayed(tier1) == []


def test_redelivered_record_is_not_moved_twice(aws, retry, context):
    """The move and the deletion are not atomic: a record redelivered after its move must not move again."""
    main, tier0, tier1, dlq = retry
    aws.send(main, {"do": "transient", "n": 7})
    [record] = aws.receive_records(main, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    assert failures(entry.handler(event(redelivered(record)), context)) == []
    aws.release_delayed(tier0)
    assert len(aws.receive_records(tier0, expected=1)) == 1
    assert aws.receive_records(tier0) == []
    [_, second] = probe.CALLS
    assert second["n"] == 7, "the business function did run again (its failure was not stored)"

    # the same at the last tier: one copy in the DLQ, not two
    aws.send(tier1, {"do": "transient", "n": 8}, {"ap-attempt": 2})
    [last] = aws.receive_records(tier1, expected=1)
    entry.handler(event(last), context)
    entry.handler(event(redelivered(last)), context)
    assert len(aws.drain(dlq)) == 1


def test_message_recovers_on_a_retry_tier(aws, retry, context, consumer_env):
    main, tier0, tier1, dlq = retry
    consumer_env(
        dlq=dlq,
        pipeline="email",
        consumer="consumer",
        tiers=[(tier0, 30), (tier1, 300)],
        handler="handlers.notify:send",
    )
    email = {"to": "ana@example.com", "subject": "Hi", "simulate": "throttle", "simulate_failures": 1}
    aws.send(main, email)
    [record] = aws.receive_records(main, expected=1)

    assert failures(entry.handler(event(record), context)) == []  # throttled -> tier 0
    aws.release_delayed(tier0)
    [at_tier0] = aws.receive_records(tier0, expected=1)
    assert failures(entry.handler(event(at_tier0), context)) == []  # second try succeeds

    assert aws.drain(dlq) == []
    assert aws.delayed(tier1) == [] and aws.receive_records(tier1) == []
    outcomes = sorted(json.loads(item["data"]["S"])["outcome"] for item in aws.idempotency_items())
    assert outcomes == ["retry-tier-1", "succeeded"]  # the move to tier 0, then the success
    # ...and a duplicate of the tier message has no second effect
    assert failures(entry.handler(event(redelivered(at_tier0)), context)) == []
    assert aws.drain(tier1) == [] and aws.drain(dlq) == []


def test_permanent_error_skips_the_tiers(aws, retry, context):
    main, tier0, _, dlq = retry
    aws.send(main, {"do": "permanent", "n": 1})
    records = aws.receive_records(main, expected=1)
    assert failures(entry.handler(event(*records), context)) == []
    assert aws.delayed(tier0) == []
    [dead] = aws.drain(dlq)
    assert dead.attributes["ap-error-kind"] == "permanent"
    assert "ap-attempt" not in dead.attributes


def test_escalation_send_failure_is_reported(aws, consumer_env, context):
    main, dlq = aws.queue("email"), aws.queue("email-dlq")
    gone = type(main)(name="gone", url=main.url.replace("email", "gone"), arn="arn")
    aws.table()
    consumer_env(dlq=dlq, pipeline="email", consumer="consumer", tiers=[(gone, 30)])
    aws.send(main, {"do": "transient", "n": 1})
    aws.send(main, {"do": "ok", "n": 2})
    transient, ok = aws.receive_records(main, expected=2)
    assert failures(entry.handler(event(transient, ok), context)) == [transient["messageId"]]
    assert aws.drain(dlq) == []


def test_in_progress_duplicate_is_reported_not_escalated(aws, retry, context):
    main, tier0, _, dlq = retry
    aws.send(main, {"do": "reenter", "n": 1})
    aws.send(main, {"do": "ok", "n": 2})
    outer, other = aws.receive_records(main, expected=2)
    probe.STATE["reentry"] = {"event": event(redelivered(outer), other), "context": context}

    assert failures(entry.handler(event(outer), context)) == []
    assert failures(probe.STATE["reentry"]["response"]) == [outer["messageId"]]
    assert aws.delayed(tier0) == [] and aws.drain(tier0) == []
    assert aws.drain(dlq) == []


def test_redriven_exhausted_message_gets_a_fresh_retry_budget(aws, retry, context):
    main, tier0, _, dlq = retry
    aws.send(
        main,
        {"do": "transient", "n": 1},
        {"ap-message-id": "m-1", "ap-attempt": 2, "ap-error-kind": "retries-exhausted", "tenant": "acme"},
    )
    [record] = aws.receive_records(main, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    assert aws.drain(dlq) == []
    aws.release_delayed(tier0)
    [again] = aws.drain(tier0)
    assert again.attributes == {
        "ap-attempt": "1",
        "ap-message-id": f"m-1~redrive:{record['messageId']}",
        "tenant": "acme",
    }


def test_fifo_tiers_use_group_and_dedup_id_and_queue_level_delay(aws, consumer_env, context):
    main, dlq = aws.queue("email.fifo"), aws.queue("email-dlq.fifo")
    tier0 = aws.queue("email-retry-30.fifo", DelaySeconds="30")
    aws.table()
    consumer_env(dlq=dlq, pipeline="email", consumer="consumer", fifo=True, tiers=[(tier0, 30)])
    aws.send(main, {"do": "transient", "n": 1}, {"ap-message-id": "m-1"}, group="user-5")
    [record] = aws.receive_records(main, expected=1)

    # moto, like SQS, rejects a per-message DelaySeconds on FIFO queues: the send succeeding proves
    # none was sent, and the message is still delayed by the tier queue's own DelaySeconds.
    assert failures(entry.handler(event(record), context)) == []
    assert aws.receive_records(tier0) == []
    assert aws.release_delayed(tier0) == [30]
    [at_tier0] = aws.receive_records(tier0, expected=1)
    assert at_tier0["attributes"]["MessageGroupId"] == "user-5"
    assert at_tier0["attributes"]["MessageDeduplicationId"] == deterministic_id("email.consumer", "m-1", "retry:1")
    assert {name: a["stringValue"] for name, a in at_tier0["messageAttributes"].items()} == {
        "ap-attempt": "1",
        "ap-message-id": "m-1",
    }

    # the last tier's failure goes to the FIFO DLQ, in the same group
    assert failures(entry.handler(event(at_tier0), context)) == []
    [dead] = aws.drain(dlq)
    assert dead.system["MessageGroupId"] == "user-5"
    assert dead.attributes["ap-error-kind"] == "retries-exhausted"
