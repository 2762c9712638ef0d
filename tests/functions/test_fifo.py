"""FIFO source queues: SqsFifoPartialProcessor stops at the first failure (design.md §5)."""

from __future__ import annotations

import json

import pytest

from pipeline_runtime import entry
from tests.functions import probe
from tests.functions.conftest import event, failures


@pytest.fixture
def fifo(aws, consumer_env):
    source, dlq = aws.queue("orders-billing.fifo"), aws.queue("orders-billing-dlq.fifo")
    aws.table()
    consumer_env(dlq=dlq, fifo=True)
    return source, dlq


def test_stops_at_first_failure_and_reports_it_and_the_rest(aws, fifo, context):
    source, dlq = fifo
    for n, do in enumerate(["ok", "transient", "ok", "ok"], start=1):
        aws.send(source, {"do": do, "n": n}, group="customer-7")
    records = aws.receive_records(source, expected=4)
    assert [r["attributes"]["MessageGroupId"] for r in records] == ["customer-7"] * 4

    response = entry.handler(event(*records), context)

    assert failures(response) == [r["messageId"] for r in records[1:]]
    assert probe.EFFECTS == [1]
    assert [call["n"] for call in probe.CALLS] == [1, 2]  # records 3 and 4 were never processed
    assert aws.drain(dlq) == []


def test_permanent_failure_is_handled_and_keeps_the_group(aws, fifo, context):
    source, dlq = fifo
    aws.send(source, {"do": "permanent", "n": 1}, {"tenant": "acme"}, group="customer-7")
    aws.send(source, {"do": "ok", "n": 2}, group="customer-7")
    records = aws.receive_records(source, expected=2)

    assert failures(entry.handler(event(*records), context)) == []

    [dead] = aws.drain(dlq)
    assert dead.json == {"do": "permanent", "n": 1}
    assert dead.system["MessageGroupId"] == "customer-7"
    assert dead.attributes["ap-error-kind"] == "permanent"
    assert dead.attributes["tenant"] == "acme"
    assert probe.EFFECTS == [2]


def test_malformed_body_does_not_stop_the_batch(aws, fifo, context):
    source, dlq = fifo
    aws.send(source, "{oops", group="g")
    aws.send(source, {"do": "ok", "n": 2}, group="g")
    records = aws.receive_records(source, expected=2)

    assert failures(entry.handler(event(*records), context)) == []
    [dead] = aws.drain(dlq)
    assert (dead.body, dead.attributes["ap-error-kind"]) == ("{oops", "malformed")
    assert probe.EFFECTS == [2]


def test_first_record_failing_fails_the_whole_batch(aws, fifo, context):
    source, _ = fifo
    aws.send(source, {"do": "transient", "n": 1}, group="g")
    aws.send(source, {"do": "ok", "n": 2}, group="g")
    records = aws.receive_records(source, expected=2)

    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        entry.handler(event(*records), context)
    assert probe.EFFECTS == []
    assert json.loads(records[1]["body"])["n"] == 2
