"""Smoke-test probes: the runtime answers them itself, writes a receipt, forwards them along a chain."""

from __future__ import annotations

import json

from pipeline_runtime import attributes as attrs
from pipeline_runtime import entry, probes
from tests.functions import probe as business
from tests.functions.conftest import TABLE, event, failures


def receipt(aws, probe_id: str) -> dict | None:
    return aws.ddb.get_item(TableName=TABLE, Key={"id": {"S": probes.receipt_key(probe_id)}}).get("Item")


def test_a_probe_never_reaches_the_business_function_and_leaves_a_receipt(aws, consumer_env, context) -> None:
    aws.table()
    source, dlq = aws.queue("orders-billing"), aws.queue("orders-billing-dlq")
    consumer_env(dlq=dlq)
    aws.send(source, {attrs.PROBE: "p-1"}, {attrs.PROBE: "p-1"})
    aws.send(source, {"do": "ok", "n": 1})
    records = aws.receive_records(source, expected=2)
    assert failures(entry.handler(event(*records), context)) == []
    assert business.CALLS == [{"do": "ok", "n": 1}]  # only the business message
    item = receipt(aws, "p-1")
    assert item is not None and item["status"]["S"] == "OK"
    assert json.loads(item["checks"]["S"]) == {"handler": "OK"}
    assert aws.drain(dlq) == []


def test_a_handler_that_cannot_import_fails_the_receipt_not_the_record(aws, consumer_env, context) -> None:
    aws.table()
    source, dlq = aws.queue("orders-billing"), aws.queue("orders-billing-dlq")
    consumer_env(dlq=dlq, handler="handlers.gone:bill")
    aws.send(source, {attrs.PROBE: "p-2"}, {attrs.PROBE: "p-2"})
    [record] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    item = receipt(aws, "p-2")
    assert item is not None and item["status"]["S"] == "FAILED"
    assert "cannot import 'handlers.gone'" in json.loads(item["checks"]["S"])["handler"]
    assert aws.drain(dlq) == []


def test_a_chain_stage_forwards_the_probe(aws, consumer_env, context) -> None:
    aws.table()
    source, nxt, dlq = aws.queue("media-download"), aws.queue("media-thumbnail"), aws.queue("media-download-dlq")
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=nxt)
    aws.send(source, {attrs.PROBE: "p-3"}, {attrs.PROBE: "p-3"})
    [record] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    [forwarded] = aws.drain(nxt)
    assert forwarded.attributes[attrs.PROBE] == "p-3"
    item = receipt(aws, "p-3")
    assert item is not None and json.loads(item["checks"]["S"]) == {"handler": "OK", "next-stage": "OK"}


def test_a_receipt_that_cannot_be_written_fails_the_record(aws, consumer_env, context) -> None:
    source, dlq = aws.queue("orders-billing"), aws.queue("orders-billing-dlq")
    consumer_env(dlq=dlq, table="no-such-table")
    aws.send(source, {attrs.PROBE: "p-4"}, {attrs.PROBE: "p-4"})
    [record] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(record), context)) == [record["messageId"]]


def test_outcome_listeners_see_an_answered_probe_as_handled(aws, consumer_env, context) -> None:
    """The sandbox's ledger accounts a probe like a record (forwarded along a chain, then succeeded)."""
    from pipeline_runtime import hooks

    seen: list[tuple[str, str | None, dict | None]] = []

    def listener(scope: str, record: dict, outcome: dict | None, error: str | None) -> None:
        seen.append((scope, probes.probe_id(record), outcome))

    aws.table()
    source, nxt, dlq = aws.queue("media-download"), aws.queue("media-thumbnail"), aws.queue("media-download-dlq")
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=nxt)
    aws.send(source, {attrs.PROBE: "p-5"}, {attrs.PROBE: "p-5"})
    [record] = aws.receive_records(source, expected=1)
    hooks.add_outcome_listener(listener)
    try:
        assert failures(entry.handler(event(record), context)) == []
    finally:
        hooks.remove_outcome_listener(listener)
    assert seen == [("media.download", "p-5", {"outcome": "forwarded", "probe": True})]
