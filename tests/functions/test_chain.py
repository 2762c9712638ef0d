"""Chain stages: the returned dict goes to the next queue, once, with the logical id kept."""

from __future__ import annotations

import pytest

from pipeline_runtime import entry
from pipeline_runtime.ids import deterministic_id
from tests.functions import probe
from tests.functions.conftest import event, failures, redelivered


@pytest.fixture
def chain(aws):
    return aws.queue("media-download"), aws.queue("media-thumbnail"), aws.queue("media-download-dlq")


def test_forward_keeps_logical_id_and_attributes_and_never_double_sends(aws, chain, consumer_env, context):
    source, next_queue, dlq = chain
    aws.table()
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=next_queue)
    aws.send(source, {"do": "ok", "n": 1}, {"ap-message-id": "m-1", "ap-attempt": 3, "tenant": "acme"})
    [record] = aws.receive_records(source, expected=1)

    assert failures(entry.handler(event(record), context)) == []
    assert failures(entry.handler(event(redelivered(record)), context)) == []  # same record again

    [forwarded] = aws.drain(next_queue)
    assert forwarded.json == {"n": 1, "seen": True}
    assert forwarded.attributes == {"ap-message-id": "m-1", "tenant": "acme"}  # no ap-attempt downstream
    assert probe.EFFECTS == [1]
    assert aws.drain(dlq) == []


def test_first_stage_mints_the_logical_id_from_the_sqs_message_id(aws, chain, consumer_env, context):
    source, next_queue, dlq = chain
    aws.table()
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=next_queue)
    aws.send(source, {"do": "ok", "n": 1})
    [record] = aws.receive_records(source, expected=1)
    entry.handler(event(record), context)

    [forwarded] = aws.receive_records(next_queue, expected=1)
    assert forwarded["messageAttributes"]["ap-message-id"]["stringValue"] == record["messageId"]

    # The next stage keeps that id: the logical id is stable across stages.
    last = aws.queue("media-publish")
    consumer_env(dlq=dlq, pipeline="media", consumer="thumbnail", next_queue=last)
    assert failures(entry.handler(event(forwarded), context)) == []
    [final] = aws.drain(last)
    assert final.attributes["ap-message-id"] == record["messageId"]
    assert final.json == {"n": 1, "seen": True}


def test_none_result_forwards_nothing(aws, chain, consumer_env, context):
    source, next_queue, dlq = chain
    aws.table()
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=next_queue)
    aws.send(source, {"do": "none", "n": 1})
    records = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(*records), context)) == []
    assert aws.drain(next_queue) == []
    assert probe.EFFECTS == [1]


@pytest.mark.parametrize(
    ("do", "reason"),
    [
        ("list", "chain stage returned list; it must return a dict or None"),
        ("unserialisable", "result is not JSON-serialisable: Object of type object is not JSON serializable"),
    ],
)
def test_bad_stage_result_is_a_permanent_error(aws, chain, consumer_env, context, do, reason):
    source, next_queue, dlq = chain
    aws.table()
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=next_queue)
    aws.send(source, {"do": do, "n": 1})
    records = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(*records), context)) == []
    assert aws.drain(next_queue) == []
    [dead] = aws.drain(dlq)
    assert (dead.attributes["ap-error-kind"], dead.attributes["ap-error-reason"]) == ("permanent", reason)


def test_fifo_next_queue_gets_group_and_deterministic_dedup_id(aws, consumer_env, context):
    source, next_queue = aws.queue("media-download.fifo"), aws.queue("media-thumbnail.fifo")
    dlq = aws.queue("media-download-dlq.fifo")
    consumer_env(dlq=dlq, pipeline="media", consumer="download", fifo=True, next_queue=next_queue, table=None)
    aws.send(source, {"do": "ok", "n": 1}, {"ap-message-id": "m-1"}, group="album-9")
    [record] = aws.receive_records(source, expected=1)

    # Idempotency is off: the business function runs twice, yet FIFO dedup keeps one message.
    entry.handler(event(record), context)
    entry.handler(event(redelivered(record)), context)

    assert probe.EFFECTS == [1, 1]
    [forwarded] = aws.drain(next_queue)
    assert forwarded.system["MessageGroupId"] == "album-9"
    assert forwarded.system["MessageDeduplicationId"] == deterministic_id("media.download", "m-1", "forward")
    assert forwarded.attributes["ap-message-id"] == "m-1"


def test_forward_send_failure_is_reported_and_retried_later(aws, chain, consumer_env, context):
    source, _, dlq = chain
    aws.table()
    missing = type(source)(name="gone", url=source.url.replace("media-download", "gone"), arn="arn")
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=missing)
    aws.send(source, {"do": "ok", "n": 1})
    aws.send(source, {"do": "ok", "n": 2})
    first, second = aws.receive_records(source, expected=2)

    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        entry.handler(event(first, second), context)
    assert aws.idempotency_items() == []  # nothing remembered: the retry runs the unit again
    assert aws.drain(dlq) == []


def test_body_keyed_stage_keeps_an_incoming_id_and_otherwise_uses_the_body_key(aws, chain, consumer_env, context):
    source, next_queue, dlq = chain
    aws.table()
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=next_queue, key="order.id")
    aws.send(source, {"do": "ok", "n": 1, "order": {"id": "o-1"}}, {"ap-message-id": "m-1"})
    aws.send(source, {"do": "ok", "n": 2, "order": {"id": "o-2"}})
    aws.send(source, {"do": "ok", "n": 3, "order": {"id": "o-2"}})  # same order: deduplicated
    records = aws.receive_records(source, expected=3)
    assert failures(entry.handler(event(*records), context)) == []

    forwarded = {m.json["n"]: m.attributes["ap-message-id"] for m in aws.drain(next_queue)}
    assert forwarded == {1: "m-1", 2: "o-2"}
