"""Standard queues: the mixed batch, duplicates, idempotency on/off, redrive, logging."""

from __future__ import annotations

import json
import logging
import re

import pytest

from pipeline_runtime import entry
from tests.functions import probe
from tests.functions.conftest import event, failures, redelivered


@pytest.fixture
def queues(aws):
    return aws.queue("orders-billing"), aws.queue("orders-billing-dlq")


def test_mixed_batch_gives_exact_failures_dlq_contents_and_one_effect_each(aws, queues, consumer_env, context):
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq)

    # A good message, processed once already.
    aws.send(source, {"do": "ok", "n": 1}, {"ap-message-id": "m-good", "tenant": "acme"})
    [good] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(good), context)) == []
    assert probe.EFFECTS == [1]

    # Then a mixed batch, with two kinds of duplicate of the good one.
    aws.send(source, {"do": "ok", "n": 1}, {"ap-message-id": "m-good"})  # producer duplicate
    aws.send(source, "not json{", {"tenant": "acme"})
    aws.send(source, "[1, 2]")
    aws.send(source, {"do": "permanent", "n": 3}, {"tenant": "acme", "trace": "t-3"})
    aws.send(source, {"do": "transient", "n": 4})
    producer_duplicate, malformed, not_object, permanent, transient = aws.receive_records(source, expected=5)
    batch = event(redelivered(good), producer_duplicate, malformed, not_object, permanent, transient)

    response = entry.handler(batch, context)

    assert response == {"batchItemFailures": [{"itemIdentifier": transient["messageId"]}]}
    assert probe.EFFECTS == [1]  # no second effect from either duplicate
    assert [call["n"] for call in probe.CALLS] == [1, 3, 4]  # duplicates never reach the business code

    dead = {message.body: message for message in aws.drain(dlq)}
    assert set(dead) == {"not json{", "[1, 2]", json.dumps({"do": "permanent", "n": 3})}
    bad_json = dead["not json{"]
    assert bad_json.attributes["ap-error-kind"] == "malformed"
    assert bad_json.attributes["ap-error-reason"].startswith("body is not valid JSON")
    assert bad_json.attributes["ap-source-queue"] == source.arn
    assert bad_json.attributes["tenant"] == "acme"
    assert bad_json.attributes["ap-message-id"] == malformed["messageId"]
    listed = dead["[1, 2]"]
    assert listed.attributes["ap-error-kind"] == "malformed"
    assert listed.attributes["ap-error-reason"] == "body is JSON list, expected an object"
    rejected = dead[json.dumps({"do": "permanent", "n": 3})]
    assert re.fullmatch(r"[0-9a-f]{64}", rejected.attributes.pop("ap-dead-letter-id"))
    assert rejected.attributes == {
        "ap-error-kind": "permanent",
        "ap-error-reason": "bad input 3",
        "ap-source-queue": source.arn,
        "ap-message-id": permanent["messageId"],
        "tenant": "acme",
        "trace": "t-3",
    }

    items = {item["id"]["S"]: item for item in aws.idempotency_items()}
    assert len(items) == 4  # good, malformed, not-object, permanent; the transient one left no record
    assert all(key.startswith("orders.billing#") for key in items)
    assert {item["status"]["S"] for item in items.values()} == {"COMPLETED"}
    assert all("expiration" in item for item in items.values())

    # SQS redelivers the whole batch: still one DLQ message each, one effect, the same failure.
    again = event(*(redelivered(record) for record in batch["Records"]))
    assert failures(entry.handler(again, context)) == [transient["messageId"]]
    assert aws.drain(dlq) == []
    assert probe.EFFECTS == [1]
    assert [call["n"] for call in probe.CALLS] == [1, 3, 4, 4]


def test_every_record_failing_fails_the_invocation(aws, queues, consumer_env, context):
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "transient", "n": 1})
    aws.send(source, {"do": "crash", "n": 2})
    records = aws.receive_records(source, expected=2)

    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        entry.handler(event(*records), context)
    assert aws.drain(dlq) == []
    assert aws.idempotency_items() == []  # in-progress records were released for the retry


def test_unexpected_exception_is_transient(aws, queues, consumer_env, context):
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "crash", "n": 1})
    aws.send(source, {"do": "ok", "n": 2})
    crash, ok = aws.receive_records(source, expected=2)
    assert failures(entry.handler(event(crash, ok), context)) == [crash["messageId"]]
    assert aws.drain(dlq) == []
    assert probe.EFFECTS == [2]


def test_idempotency_off_without_table(aws, queues, consumer_env, context):
    source, dlq = queues
    consumer_env(dlq=dlq, table=None)  # no AP_IDEMPOTENCY_TABLE, and no table exists at all
    aws.send(source, {"do": "ok", "n": 1}, {"ap-message-id": "m-1"})
    [record] = aws.receive_records(source, expected=1)

    assert failures(entry.handler(event(record), context)) == []
    assert failures(entry.handler(event(redelivered(record)), context)) == []

    assert probe.EFFECTS == [1, 1]  # no deduplication without the table
    assert aws.ddb.list_tables()["TableNames"] == []


def test_idempotency_key_from_body(aws, queues, consumer_env, context):
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq, key="order.id")
    aws.send(source, {"do": "ok", "n": 1, "order": {"id": "o-1"}})
    aws.send(source, {"do": "ok", "n": 2, "order": {"id": "o-1"}})  # another SQS message, same order
    aws.send(source, {"do": "ok", "n": 3, "order": {"id": "o-2"}})
    aws.send(source, {"do": "ok", "n": 4})  # no order.id: falls back to the message id
    records = aws.receive_records(source, expected=4)
    assert failures(entry.handler(event(*records), context)) == []
    assert probe.EFFECTS == [1, 3, 4]


def test_invalid_key_expression_fails_the_invocation(aws, queues, consumer_env, context):
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq, key="order.[")
    aws.send(source, {"do": "ok", "n": 1})
    records = aws.receive_records(source, expected=1)
    from pipeline_runtime import ConfigurationError

    with pytest.raises(ConfigurationError, match="AP_IDEMPOTENCY_KEY"):
        entry.handler(event(*records), context)


def test_fan_out_subscribers_sharing_a_table_and_message_id_each_process_once(aws, consumer_env, context):
    aws.table()
    billing, billing_dlq = aws.queue("orders-billing"), aws.queue("orders-billing-dlq")
    email, email_dlq = aws.queue("orders-email"), aws.queue("orders-email-dlq")
    for queue in (billing, email):  # what SNS raw delivery puts in each subscriber queue
        aws.send(queue, {"do": "ok", "n": queue.name}, {"ap-message-id": "m-shared"})
    [to_billing] = aws.receive_records(billing, expected=1)
    [to_email] = aws.receive_records(email, expected=1)

    for _ in range(2):  # second round: duplicate deliveries
        consumer_env(dlq=billing_dlq, consumer="billing")
        assert failures(entry.handler(event(redelivered(to_billing)), context)) == []
        consumer_env(dlq=email_dlq, consumer="email")
        assert failures(entry.handler(event(redelivered(to_email)), context)) == []

    assert probe.EFFECTS == ["orders-billing", "orders-email"]
    assert sorted(item["id"]["S"].split("#")[0] for item in aws.idempotency_items()) == [
        "orders.billing",
        "orders.email",
    ]


def test_message_already_in_progress_is_reported_not_processed(aws, queues, consumer_env, context):
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "reenter", "n": 1})
    aws.send(source, {"do": "ok", "n": 2})
    outer, other = aws.receive_records(source, expected=2)
    probe.STATE["reentry"] = {"event": event(redelivered(outer), other), "context": context}

    assert failures(entry.handler(event(outer), context)) == []

    nested = probe.STATE["reentry"]
    assert "error" not in nested
    assert failures(nested["response"]) == [outer["messageId"]]  # IdempotencyAlreadyInProgressError
    assert probe.EFFECTS == [2, 1]  # the nested delivery never ran the business function
    assert aws.drain(dlq) == []


def test_redriven_message_is_processed_again_after_a_fix(aws, queues, consumer_env, context):
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "fixable", "n": 1}, {"ap-message-id": "m-1", "tenant": "acme"})
    [record] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    [dead] = aws.drain(dlq)
    assert dead.attributes["ap-error-kind"] == "permanent"
    assert probe.EFFECTS == []

    # The bug is fixed; the DLQ message is moved back as-is (what StartMessageMoveTask does).
    probe.STATE["fixed"] = True
    aws.sqs.send_message(QueueUrl=source.url, MessageBody=dead.body, MessageAttributes=dead.raw["MessageAttributes"])
    [moved] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(moved), context)) == []
    assert failures(entry.handler(event(redelivered(moved)), context)) == []  # and only once

    assert probe.EFFECTS == [1]
    assert aws.drain(dlq) == []


def test_two_copies_of_one_redriven_message_apply_once(aws, queues, consumer_env, context):
    """A mover that sent a DLQ message twice (new SQS ids each time) must not apply it twice."""
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "fixable", "n": 2}, {"ap-message-id": "m-2"})
    entry.handler(event(*aws.receive_records(source, expected=1)), context)
    [dead] = aws.drain(dlq)

    probe.STATE["fixed"] = True
    for _ in range(2):
        aws.sqs.send_message(
            QueueUrl=source.url, MessageBody=dead.body, MessageAttributes=dead.raw["MessageAttributes"]
        )
    first, second = aws.receive_records(source, expected=2)
    assert first["messageId"] != second["messageId"]
    assert failures(entry.handler(event(first), context)) == []
    assert failures(entry.handler(event(second), context)) == []
    assert probe.EFFECTS == [2]


def test_a_second_dead_lettering_gets_a_new_generation(aws, queues, consumer_env, context):
    """Redriven, failing again, redriven again after a real fix: the second redrive is processed."""
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "fixable", "n": 3}, {"ap-message-id": "m-3"})
    entry.handler(event(*aws.receive_records(source, expected=1)), context)
    [first_dead] = aws.drain(dlq)
    aws.sqs.send_message(
        QueueUrl=source.url, MessageBody=first_dead.body, MessageAttributes=first_dead.raw["MessageAttributes"]
    )
    entry.handler(event(*aws.receive_records(source, expected=1)), context)  # still broken: dead again
    [second_dead] = aws.drain(dlq)
    assert second_dead.attributes["ap-dead-letter-id"] != first_dead.attributes["ap-dead-letter-id"]

    probe.STATE["fixed"] = True
    aws.sqs.send_message(
        QueueUrl=source.url, MessageBody=second_dead.body, MessageAttributes=second_dead.raw["MessageAttributes"]
    )
    assert failures(entry.handler(event(*aws.receive_records(source, expected=1)), context)) == []
    assert probe.EFFECTS == [3]


def test_dlq_send_failure_is_reported_for_retry(aws, queues, consumer_env, context):
    source, _ = queues
    aws.table()
    missing = type(source)(name="gone", url=source.url.replace("orders-billing", "gone"), arn="arn")
    consumer_env(dlq=missing)
    aws.send(source, {"do": "permanent", "n": 1})
    aws.send(source, {"do": "ok", "n": 2})
    permanent, ok = aws.receive_records(source, expected=2)

    assert failures(entry.handler(event(permanent, ok), context)) == [permanent["messageId"]]
    assert [item["status"]["S"] for item in aws.idempotency_items()] == ["COMPLETED"]  # only the ok one


def test_one_log_line_per_decision_with_the_message_id(aws, queues, consumer_env, context):
    source, dlq = queues
    aws.table()
    consumer_env(dlq=dlq)
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    collector = Collect()
    logging.getLogger("orders-billing").addHandler(collector)
    try:
        aws.send(source, {"do": "permanent", "n": 1})
        aws.send(source, {"do": "transient", "n": 2})
        aws.send(source, {"do": "ok", "n": 3}, {"ap-message-id": "m-3"})
        permanent, transient, ok = aws.receive_records(source, expected=3)
        entry.handler(event(permanent, transient, ok), context)
        entry.handler(event(redelivered(ok)), context)
    finally:
        logging.getLogger("orders-billing").removeHandler(collector)

    decisions = [(r.getMessage(), getattr(r, "message_id", None)) for r in seen if hasattr(r, "decision")]
    assert decisions == [
        ("dead-lettered", permanent["messageId"]),
        ("transient failure; reported for retry", transient["messageId"]),
        ("duplicate delivery; already processed", ok["messageId"]),
    ]


def test_configuration_errors_fail_the_whole_invocation(aws, queues, consumer_env, context, monkeypatch):
    source, dlq = queues
    aws.send(source, {"do": "ok", "n": 1})
    records = aws.receive_records(source, expected=1)
    from pipeline_runtime import ConfigurationError

    consumer_env(dlq=dlq, handler="tests.functions.probe:nope")
    with pytest.raises(ConfigurationError, match="no function 'nope'"):
        entry.handler(event(*records), context)
    consumer_env(dlq=dlq, handler="tests.functions.no_such_module:handle")
    with pytest.raises(ConfigurationError, match="cannot import"):
        entry.handler(event(*records), context)
    monkeypatch.delenv("AP_DLQ_URL")
    with pytest.raises(ConfigurationError, match="AP_DLQ_URL"):
        entry.handler(event(*records), context)
    assert probe.CALLS == []
