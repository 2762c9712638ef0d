"""moto fixtures for the producer tests: queues and topics created directly, no stack needed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from producer import Entry, Producer, RetryPolicy

REGION = "us-east-1"


@dataclass
class Aws:
    sqs: Any
    sns: Any
    s3: Any

    def queue(self, name: str) -> str:
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        return str(self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Every message in the queue (received, not deleted; visibility 60 s)."""
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
            ).get("Messages", [])
            if not got:
                return out
            out.extend(got)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield Aws(
            boto3.client("sqs", region_name=REGION),
            boto3.client("sns", region_name=REGION),
            boto3.client("s3", region_name=REGION),
        )


def no_sleep_policy(max_attempts: int = 6) -> tuple[RetryPolicy, list[float]]:
    """A policy that records its backoff delays instead of sleeping."""
    slept: list[float] = []
    return RetryPolicy(max_attempts=max_attempts, sleep=slept.append), slept


def producer_for(aws: Aws, *entries: Entry, retry: RetryPolicy | None = None, **kwargs: Any) -> Producer:
    clients = {"sqs": aws.sqs, "sns": aws.sns, "s3": aws.s3}
    return Producer(list(entries), clients=clients, retry=retry or no_sleep_policy()[0], **kwargs)
