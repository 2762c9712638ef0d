"""Attribute handling: the 10-attribute limit, overflow packing, reason truncation."""

from __future__ import annotations

import base64
import json

import pytest

from pipeline_runtime import attributes as attrs
from pipeline_runtime import entry
from tests.functions.conftest import event, failures


def _originals(count: int) -> dict[str, object]:
    values: dict[str, object] = {f"a{i}": f"v{i}" for i in range(1, count + 1)}
    values["a2"] = b"\x00\xffbinary"
    values["a3"] = 42
    return values


def test_dlq_overflow_is_packed_into_one_attribute(aws, consumer_env, context):
    source, dlq = aws.queue("src"), aws.queue("src-dlq")
    aws.table()
    consumer_env(dlq=dlq)
    sent = {"ap-message-id": "m-1", **_originals(9)}  # 10 attributes: the SQS maximum
    aws.send(source, {"do": "permanent", "n": 1}, sent)
    records = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(*records), context)) == []

    [dead] = aws.drain(dlq)
    assert len(dead.attributes) == 10
    # the runtime's own five, the first four originals, and the packed rest
    own = {"ap-error-kind", "ap-error-reason", "ap-source-queue", "ap-message-id", "ap-dead-letter-id"}
    assert own <= set(dead.attributes)
    assert dead.attributes["ap-message-id"] == "m-1"
    kept = {name for name in dead.attributes if name.startswith("a") and not name.startswith("ap-")}
    assert kept == {"a1", "a2", "a3", "a4"}
    assert dead.attributes["a2"] == b"\x00\xffbinary" and dead.data_types["a2"] == "Binary"
    assert (dead.attributes["a3"], dead.data_types["a3"]) == ("42", "Number")
    packed = json.loads(dead.attributes["ap-original-attributes"])
    assert packed == {
        "a5": {"DataType": "String", "StringValue": "v5"},
        **{f"a{i}": {"DataType": "String", "StringValue": f"v{i}"} for i in range(6, 10)},
    }


def test_packed_originals_survive_a_second_dead_lettering(aws, consumer_env, context):
    source, dlq = aws.queue("src"), aws.queue("src-dlq")
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "permanent", "n": 1}, {"ap-message-id": "m-1", **_originals(9)})
    entry.handler(event(*aws.receive_records(source, expected=1)), context)
    [dead] = aws.drain(dlq)

    # redriven as-is, fails again: every original is still there, kept or packed
    aws.sqs.send_message(QueueUrl=source.url, MessageBody=dead.body, MessageAttributes=dead.raw["MessageAttributes"])
    entry.handler(event(*aws.receive_records(source, expected=1)), context)
    [again] = aws.drain(dlq)
    assert len(again.attributes) == 10
    packed = json.loads(again.attributes["ap-original-attributes"])
    everything = {name: value for name, value in again.attributes.items() if name.startswith("a") and "-" not in name}
    for name, attr in packed.items():
        everything[name] = attr.get("StringValue") or base64.b64decode(attr["BinaryValue"])
    assert everything == {f"a{i}": f"v{i}" for i in range(1, 10)} | {"a2": b"\x00\xffbinary", "a3": "42"}


def test_forward_overflow_keeps_eight_originals_and_packs_two(aws, consumer_env, context):
    source, next_queue, dlq = aws.queue("s1"), aws.queue("s2"), aws.queue("s1-dlq")
    aws.table()
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=next_queue)
    aws.send(source, {"do": "ok", "n": 1}, _originals(10))
    [record] = aws.receive_records(source, expected=1)
    entry.handler(event(record), context)

    [forwarded] = aws.drain(next_queue)
    assert len(forwarded.attributes) == 10
    assert forwarded.attributes["ap-message-id"] == record["messageId"]
    assert set(json.loads(forwarded.attributes["ap-original-attributes"])) == {"a9", "a10"}


def test_reason_is_truncated_to_1_kib_without_splitting_characters(aws, consumer_env, context):
    source, dlq = aws.queue("src"), aws.queue("src-dlq")
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "permanent", "n": 1, "reason": "é" * 3000})
    entry.handler(event(*aws.receive_records(source, expected=1)), context)
    [dead] = aws.drain(dlq)
    reason = dead.attributes["ap-error-reason"]
    assert len(reason.encode()) == 1024
    assert reason == "é" * 512


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "(no reason given)"), ("short", "short"), ("x" * 1025, "x" * 1024), ("€" * 400, "€" * 341)],
)
def test_truncate_reason(text, expected):
    assert attrs.truncate_reason(text) == expected


def test_compose_keeps_own_attributes_first_and_never_exceeds_ten():
    own = {attrs.MESSAGE_ID: attrs.string("m"), attrs.ATTEMPT: attrs.number(1)}
    carried = {f"k{i}": attrs.string(str(i)) for i in range(12)} | {attrs.MESSAGE_ID: attrs.string("old")}
    composed = attrs.compose(own, carried)
    assert len(composed) == 10
    assert composed[attrs.MESSAGE_ID] == attrs.string("m")
    assert list(composed)[2:9] == [f"k{i}" for i in range(7)]
    assert set(json.loads(composed[attrs.ORIGINAL_ATTRIBUTES]["StringValue"])) == {f"k{i}" for i in range(7, 12)}
    assert attrs.compose(own, {"k": attrs.string("v")}) == {**own, "k": attrs.string("v")}
