"""The event source mapping against moto: event shape, partial batch responses, concurrency, chaos."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from sandbox.clients import AwsClients
from sandbox.clock import VirtualClock
from sandbox.esm import Chaos, EventSourceMapping, Invocation
from sandbox.invoke import InvocationOutcome
from sandbox.topology import FunctionSpec, MappingSpec, QueueSpec

REGION = "eu-west-1"


@dataclass
class FakeInvoker:
    """Answers every invocation with `respond(records)`; keeps the events it got."""

    respond: Any = None
    events: list[dict[str, Any]] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)

    def invoke(self, function: FunctionSpec, event: dict[str, Any], *, discard_response: str | None = None) -> Any:
        self.events.append(event)
        if discard_response:
            self.discarded.append(discard_response)
            return InvocationOutcome(None, discard_response, 0.0, timed_out=True)
        if isinstance(self.respond, Exception):
            return InvocationOutcome(None, f"{type(self.respond).__name__}: {self.respond}", 0.0)
        response = self.respond(event["Records"]) if callable(self.respond) else self.respond
        return InvocationOutcome(response, None, 0.0)


@dataclass
class Observer:
    records: list[dict[str, Any]] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)

    def received(self, mapping: MappingSpec, record: dict[str, Any], at: float) -> None:
        self.records.append(record)

    def invoked(self, invocation: Invocation) -> None:
        self.invocations.append(invocation)


@dataclass
class Env:
    aws: AwsClients
    clock: VirtualClock

    def queue(self, name: str, *, fifo: bool = False, visibility: int = 60) -> QueueSpec:
        attributes = {"VisibilityTimeout": str(visibility), "ReceiveMessageWaitTimeSeconds": "20"}
        if fifo:
            attributes |= {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        url = self.aws.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:123456789012:{name}"
        return QueueSpec(name=name, url=url, arn=arn, attributes=attributes, fifo=fifo, visibility_timeout=visibility)

    def mapping(
        self,
        queue: QueueSpec,
        invoker: Any,
        observer: Any,
        *,
        batch_size: int = 10,
        concurrency: int | None = None,
        chaos: Chaos | None = None,
    ) -> EventSourceMapping:
        function = FunctionSpec("fn", "arn:aws:lambda:eu-west-1:123456789012:function:fn", 30, 128, {}, "x.handler")
        spec = MappingSpec("u1", queue, function, batch_size, 0, concurrency, True)
        return EventSourceMapping(spec, self.aws, self.clock, invoker, observer, chaos, random.Random(1))

    def depth(self, queue: QueueSpec) -> int:
        a = self.aws.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def env() -> Iterator[Env]:
    clock = VirtualClock()
    with mock_aws(), clock.patch_moto():
        yield Env(AwsClients.create(REGION), clock)


def test_records_have_the_exact_lambda_sqs_event_shape(env: Env) -> None:
    q = env.queue("shape")
    env.aws.sqs.send_message(
        QueueUrl=q.url,
        MessageBody='{"a": 1}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "order"},
            "n": {"DataType": "Number", "StringValue": "7"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    invoker = FakeInvoker({"batchItemFailures": []})
    env.mapping(q, invoker, Observer()).tick()

    (record,) = invoker.events[0]["Records"]
    assert list(record) == [
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
        "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion",
    ]
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"
    }
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert int(record["attributes"]["SentTimestamp"]) == int(env.clock.now() * 1000)
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "order", "stringListValues": [], "binaryListValues": [], "dataType": "String"
    }
    assert record["messageAttributes"]["n"]["dataType"] == "Number"
    assert record["messageAttributes"]["blob"]["binaryValue"] == base64.b64encode(b"\x00\x01").decode()
    assert record["md5OfBody"] == hashlib.md5(b'{"a": 1}').hexdigest()
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", q.arn, REGION)


def test_fifo_records_carry_group_dedup_and_sequence(env: Env) -> None:
    q = env.queue("shape.fifo", fifo=True)
    # moto assigns a SequenceNumber only with an explicit deduplication id (the sandbox always sends one)
    env.aws.sqs.send_message(QueueUrl=q.url, MessageBody="x", MessageGroupId="g1", MessageDeduplicationId="d-1")
    invoker = FakeInvoker(None)
    env.mapping(q, invoker, Observer()).tick()
    attributes = invoker.events[0]["Records"][0]["attributes"]
    assert attributes["MessageGroupId"] == "g1"
    assert attributes["MessageDeduplicationId"] == "d-1"
    assert attributes["SequenceNumber"].isdigit()


def test_batch_item_failures_stay_and_come_back_after_the_visibility_timeout(env: Env) -> None:
    q = env.queue("partial", visibility=60)
    for body in ("ok-1", "bad", "ok-2"):
        env.aws.sqs.send_message(QueueUrl=q.url, MessageBody=body)

    def fail_bad(records: list[dict[str, Any]]) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["body"] == "bad"]}

    invoker = FakeInvoker(fail_bad)
    esm = env.mapping(q, invoker, Observer())
    assert esm.tick() > 0
    assert env.depth(q) == 1
    assert esm.tick() == 0  # invisible for 60 s
    env.clock.advance(60.5)
    esm.tick()
    (again,) = invoker.events[-1]["Records"]
    assert (again["body"], again["attributes"]["ApproximateReceiveCount"]) == ("bad", "2")


@pytest.mark.parametrize(
    "respond",
    [
        RuntimeError("boom"),
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
        {"batchItemFailures": [{}]},
    ],
    ids=["exception", "unknown-identifier", "empty-identifier"],
)
def test_whole_batch_fails_on_exception_or_malformed_response(env: Env, respond: Any) -> None:
    q = env.queue("whole")
    for body in ("a", "b"):
        env.aws.sqs.send_message(QueueUrl=q.url, MessageBody=body)
    observer = Observer()
    esm = env.mapping(q, FakeInvoker(respond), observer)
    esm.tick()
    (invocation,) = observer.invocations
    assert invocation.error is not None and invocation.deleted == []
    assert len(invocation.failed) == 2 and env.depth(q) == 2
    assert esm.errors == 1


def test_max_concurrency_bounds_batches_per_tick(env: Env) -> None:
    q = env.queue("conc")
    for i in range(5):
        env.aws.sqs.send_message(QueueUrl=q.url, MessageBody=str(i))
    observer = Observer()
    esm = env.mapping(q, FakeInvoker(None), observer, batch_size=1, concurrency=2)
    esm.tick()
    assert len(observer.invocations) == 2
    esm.tick()
    esm.tick()
    assert len(observer.invocations) == 5 and env.depth(q) == 0


def test_duplicates_are_delivered_again_and_deleted_once(env: Env) -> None:
    q = env.queue("dups")
    for i in range(4):
        env.aws.sqs.send_message(QueueUrl=q.url, MessageBody=str(i))
    observer = Observer()
    invoker = FakeInvoker(None)
    esm = env.mapping(q, invoker, observer, chaos=Chaos(duplicate_rate=1.0))
    while esm.tick():
        pass
    delivered = [r["messageId"] for e in invoker.events for r in e["Records"]]
    assert len(delivered) == 8 and len(set(delivered)) == 4  # every record twice
    assert sum(i.duplicates for i in observer.invocations) == 4
    assert env.depth(q) == 0 and esm.holding == 0


def test_transient_chaos_fails_the_whole_invocation_before_or_after_the_handler(env: Env) -> None:
    q = env.queue("chaos", visibility=10)
    env.aws.sqs.send_message(QueueUrl=q.url, MessageBody="x")
    observer = Observer()
    invoker = FakeInvoker(None)
    esm = env.mapping(q, invoker, observer, chaos=Chaos(transient_rate=1.0))
    for _ in range(8):
        esm.tick()
        env.clock.advance(11)
    kinds = {i.chaos for i in observer.invocations}
    assert kinds == {"transient-before", "transient-after"}
    assert all(i.error and not i.deleted for i in observer.invocations)
    # "after" ran the handler (its effects happened), "before" did not
    assert len(invoker.events) == sum(1 for i in observer.invocations if i.chaos == "transient-after")
    assert env.depth(q) == 1
