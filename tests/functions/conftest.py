"""moto fixtures for the Lambda runtime tests: real SQS/DynamoDB/S3 semantics, AWS-shaped events.

Events are built from what moto's ``ReceiveMessage`` really returns (messageId, receiptHandle, md5s,
system attributes incl. ``ApproximateReceiveCount``/``MessageGroupId``, message attributes), converted
to the exact Lambda SQS event shape by the sandbox's own builder (`sandbox.sqs_event.lambda_record`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
if str(FUNCTIONS) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS))

from pipeline_runtime import entry  # noqa: E402
from sandbox.sqs_event import lambda_record  # noqa: E402
from tests.functions import probe  # noqa: E402

ACCOUNT = "123456789012"  # moto's default account, same as stack_capture.AwsMocks
REGION = "us-east-1"
TABLE = "idempotency"
BUCKET = "results"

@dataclass
class FakeLambdaContext:
    """What Powertools reads from the Lambda context (its own tests use the same shape)."""

    function_name: str = "orders-billing"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-billing"
    aws_request_id: str = "00000000-0000-0000-0000-000000000001"
    remaining_millis: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@dataclass
class Queue:
    name: str
    url: str
    arn: str

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


@dataclass
class Received:
    """A message as read back from a queue, attributes flattened to {name: value}."""

    message_id: str
    body: str
    attributes: dict[str, Any]
    data_types: dict[str, str]
    system: dict[str, str]
    raw: dict[str, Any] = field(repr=False)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Aws:
    """Helpers bound to the moto session of one test."""

    def __init__(self) -> None:
        # Typed as Any: the tests pass plain dicts where the stubs want TypedDicts/Literals.
        self.sqs: Any = boto3.client("sqs", region_name=REGION)
        self.ddb: Any = boto3.client("dynamodb", region_name=REGION)
        self.s3: Any = boto3.client("s3", region_name=REGION)
        self._sequence = 0

    # -- resources --------------------------------------------------------------------------
    def queue(self, name: str, **attributes: str) -> Queue:
        attrs = dict(attributes)
        if name.endswith(".fifo"):
            attrs.setdefault("FifoQueue", "true")
        url = self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return Queue(name=name, url=url, arn=arn)

    def table(self, name: str = TABLE) -> str:
        self.ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
        )
        return name

    def bucket(self, name: str = BUCKET) -> str:
        self.s3.create_bucket(Bucket=name)
        return name

    def idempotency_items(self, table: str = TABLE) -> list[dict[str, Any]]:
        return self.ddb.scan(TableName=table)["Items"]

    # -- messages ---------------------------------------------------------------------------
    def send(
        self,
        queue: Queue,
        body: Any,
        attributes: dict[str, Any] | None = None,
        group: str | None = None,
        dedup: str | None = None,
    ) -> str:
        params: dict[str, Any] = {
            "QueueUrl": queue.url,
            "MessageBody": body if isinstance(body, str) else json.dumps(body),
        }
        if attributes:
            params["MessageAttributes"] = {name: _attribute(value) for name, value in attributes.items()}
        if queue.fifo:
            params["MessageGroupId"] = group or "g1"
            self._sequence += 1
            params["MessageDeduplicationId"] = dedup or f"test-{self._sequence}"
        return self.sqs.send_message(**params)["MessageId"]

    def receive_records(self, queue: Queue, expected: int | None = None) -> list[dict[str, Any]]:
        """ReceiveMessage -> Lambda event records (what the ESM hands the function)."""
        messages = self._receive(queue)
        if expected is not None:
            assert len(messages) == expected, f"expected {expected} messages in {queue.name}, got {len(messages)}"
        return [to_record(message, queue) for message in messages]

    def drain(self, queue: Queue) -> list[Received]:
        """Every visible message of ``queue`` (deleted after reading)."""
        received: list[Received] = []
        while True:
            batch = self._receive(queue)
            if not batch:
                return received
            for message in batch:
                received.append(_received(message))
                self.sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])

    def _receive(self, queue: Queue) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])

    def delayed(self, queue: Queue) -> list[Any]:
        """moto's stored messages of ``queue`` that are still delayed (there is no public clock API)."""
        from moto.sqs.models import sqs_backends

        stored = sqs_backends[ACCOUNT][REGION].queues[queue.name]._messages
        return [message for message in stored if message.delayed]

    def release_delayed(self, queue: Queue) -> list[int]:
        """End the delay of every delayed message; returns each one's delay in whole seconds."""
        delays = []
        for message in self.delayed(queue):
            delays.append(round((message.delayed_until - message.sent_timestamp) / 1000))
            message.delayed_until = 0
        return delays


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"DataType": "Binary", "BinaryValue": value}
    if isinstance(value, int):
        return {"DataType": "Number", "StringValue": str(value)}
    return {"DataType": "String", "StringValue": value}


def to_record(message: dict[str, Any], queue: Queue) -> dict[str, Any]:
    """One ReceiveMessage result -> one record of the Lambda SQS event: the sandbox's own builder."""
    return lambda_record(message, queue.arn, REGION, queue.fifo)


def _received(message: dict[str, Any]) -> Received:
    values: dict[str, Any] = {}
    types: dict[str, str] = {}
    for name, attr in message.get("MessageAttributes", {}).items():
        values[name] = attr.get("BinaryValue", attr.get("StringValue"))
        types[name] = attr["DataType"]
    return Received(
        message_id=message["MessageId"],
        body=message["Body"],
        attributes=values,
        data_types=types,
        system=message.get("Attributes", {}),
        raw=message,
    )


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def redelivered(record: dict[str, Any]) -> dict[str, Any]:
    """The same SQS message delivered again: same messageId, receive count + 1, new receipt handle."""
    copy = json.loads(json.dumps(record))
    count = int(copy["attributes"].get("ApproximateReceiveCount", "1")) + 1
    copy["attributes"]["ApproximateReceiveCount"] = str(count)
    copy["receiptHandle"] = f"{copy['receiptHandle']}-redelivery-{count}"
    return copy


def failures(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name in list(os.environ):
        if name.startswith(("AP_", "AWS_ENDPOINT_URL", "POWERTOOLS_")) or name == "AWS_PROFILE":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    entry.reset_caches()
    probe.reset()
    with mock_aws():
        yield Aws()
    entry.reset_caches()


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def consumer_env(monkeypatch: pytest.MonkeyPatch):
    """Set a consumer's environment the way the Consumer component does (docs/contracts.md §1)."""

    def configure(
        *,
        dlq: Queue,
        handler: str = "tests.functions.probe:handle",
        pipeline: str = "orders",
        consumer: str = "billing",
        fifo: bool = False,
        next_queue: Queue | None = None,
        tiers: list[tuple[Queue, int]] | None = None,
        table: str | None = TABLE,
        key: str | None = None,
        bucket: str | None = None,
        large_bucket: str | None = None,
    ) -> None:
        values = {
            "AP_HANDLER": handler,
            "AP_PIPELINE": pipeline,
            "AP_CONSUMER": consumer,
            "AP_DLQ_URL": dlq.url,
            "AP_FIFO": "true" if fifo else "false",
            "AP_NEXT_QUEUE_URL": next_queue.url if next_queue else None,
            "AP_RETRY_TIERS": (
                json.dumps([{"url": q.url, "delay": d} for q, d in tiers]) if tiers is not None else None
            ),
            "AP_IDEMPOTENCY_TABLE": table,
            "AP_IDEMPOTENCY_KEY": key,
            "AP_RESULTS_BUCKET": bucket,
            "AP_LARGE_MESSAGE_BUCKET": large_bucket,
            "POWERTOOLS_SERVICE_NAME": f"{pipeline}-{consumer}",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)

    return configure
