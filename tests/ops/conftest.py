"""Fixtures for the `ops` tests: the real stacks' outputs (captured once), their queues in moto, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

import ops.dlq
import ops.redrive
import stack_capture
from sandbox.fifo_order import fifo_oldest_first
from sandbox.topology import topology_from_capture
from stack_capture import Capture, cached_capture

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

REGIONS = {"dev": "us-east-1", "prod": "eu-west-1"}

_real_capture_stack = stack_capture.capture_stack


def captured(stack: str) -> Capture:
    """The real program's capture of `stack`, once per test session (each capture takes ~0.5 s)."""
    return cached_capture(stack)


@pytest.fixture(autouse=True)
def _cached_captures(monkeypatch: pytest.MonkeyPatch) -> None:
    def capture_stack(stack: str, config_overrides: dict[str, Any] | None = None, **kwargs: Any) -> Capture:
        if config_overrides or kwargs:
            return _real_capture_stack(stack, config_overrides, **kwargs)
        return captured(stack)

    monkeypatch.setattr(stack_capture, "capture_stack", capture_stack)


@pytest.fixture(autouse=True)
def _no_long_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers an empty long poll only after the wait; moto's answers are complete anyway."""
    monkeypatch.setattr(ops.redrive, "RECEIVE_WAIT_SECONDS", 0)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    with mock_aws(), fifo_oldest_first():  # moto 5.2.5 FIFO order defect, as in the sandbox
        yield


def sqs_client(stack: str) -> SQSClient:
    return boto3.client("sqs", region_name=REGIONS[stack])


def create_queues(stack: str, *, redrive: bool = True) -> SQSClient:
    """The stack's queues as the program defines them (FIFO, dedup, redrive policy), DLQs first."""
    sqs = sqs_client(stack)
    specs = sorted(topology_from_capture(captured(stack)).queues.values(), key=lambda s: s.dlq_arn is not None)
    for spec in specs:
        attributes = dict(spec.attributes)
        if not redrive:
            attributes.pop("RedrivePolicy", None)
        sqs.create_queue(QueueName=spec.name, Attributes=attributes)  # type: ignore[arg-type]
    return sqs


def url(sqs: SQSClient, name: str) -> str:
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def dead_letter(
    sqs: SQSClient,
    queue: str,
    body: str,
    *,
    group: str | None = None,
    kind: str = "permanent",
    reason: str = "bad order",
    extra: dict[str, Any] | None = None,
) -> str:
    """A DLQ message as the runtime sends it (docs/contracts.md §2); returns its id."""
    attributes: dict[str, Any] = {
        "ap-error-kind": {"DataType": "String", "StringValue": kind},
        "ap-error-reason": {"DataType": "String", "StringValue": reason},
        "ap-message-id": {"DataType": "String", "StringValue": f"logical-{body}"},
        "ap-source-queue": {"DataType": "String", "StringValue": "arn:aws:sqs:x:1:src"},
    }
    attributes.update(extra or {})
    params: dict[str, Any] = {"QueueUrl": url(sqs, queue), "MessageBody": body, "MessageAttributes": attributes}
    if group is not None:
        params |= {"MessageGroupId": group, "MessageDeduplicationId": f"runtime-{body}"}
    return sqs.send_message(**params)["MessageId"]


def drain(sqs: SQSClient, queue: str) -> list[dict[str, Any]]:
    """Receive (and delete) everything in `queue`, in the order SQS hands it out."""
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url(sqs, queue),
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,  # the stack's queues long-poll 20 s by default
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(dict(m))
            sqs.delete_message(QueueUrl=url(sqs, queue), ReceiptHandle=m["ReceiptHandle"])


def visible(sqs: SQSClient, queue: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url(sqs, queue), AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*argv: str) -> Result:
        try:
            code = ops.dlq.main(list(argv))
        except SystemExit as exited:  # argparse's own errors (contract.cli.CliParser): one line, exit 2
            code = int(exited.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return Result(code, out, err)

    return run


@dataclass
class MoveTasks:
    """Stands in for StartMessageMoveTask / ListMessageMoveTasks, which moto does not implement."""

    running: dict[str, str] = field(default_factory=dict)  # DLQ ARN → handle of a RUNNING task
    started: list[dict[str, Any]] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)

    def list_message_move_tasks(self, **kwargs: Any) -> dict[str, Any]:
        self.listed.append(kwargs["SourceArn"])
        handle = self.running.get(kwargs["SourceArn"])
        done = {"TaskHandle": "old", "Status": "COMPLETED", "SourceArn": kwargs["SourceArn"]}
        if handle is None:
            return {"Results": [done]}
        return {
            "Results": [
                {
                    "TaskHandle": handle,
                    "Status": "RUNNING",
                    "SourceArn": kwargs["SourceArn"],
                    "ApproximateNumberOfMessagesMoved": 4,
                    "ApproximateNumberOfMessagesToMove": 9,
                },
                done,
            ]
        }

    def start_message_move_task(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        return {"TaskHandle": f"handle-{len(self.started)}"}


@pytest.fixture
def move_tasks(monkeypatch: pytest.MonkeyPatch) -> MoveTasks:
    """Every client the CLI makes gets the move-task calls replaced by `MoveTasks` (the rest is moto)."""
    tasks = MoveTasks()
    real = ops.dlq.make_sqs_client

    def make(region: str, endpoint_url: str | None, profile: str | None) -> Any:
        client = real(region, endpoint_url, profile)
        client.list_message_move_tasks = tasks.list_message_move_tasks  # type: ignore[method-assign,assignment]
        client.start_message_move_task = tasks.start_message_move_task  # type: ignore[method-assign,assignment]
        return client

    monkeypatch.setattr(ops.dlq, "make_sqs_client", make)
    return tasks


def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """An environment where the default credential chain finds nothing (and does not ask IMDS)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def attributes_of(message: dict[str, Any]) -> dict[str, Any]:
    """Message attributes as name → value (string or bytes)."""
    return {
        name: attr.get("StringValue", attr.get("BinaryValue"))
        for name, attr in message.get("MessageAttributes", {}).items()
    }
