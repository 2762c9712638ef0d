"""Reading a DLQ without consuming it: live URL/ARN, approximate counts, peek; and purge.

Every function takes a boto3 SQS client, so the same code runs against AWS, an emulator, or moto.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from contract.aws import SQS_MESSAGES_PER_RECEIVE_MAX
from contract.runtime import ERROR_KIND, ERROR_REASON, MESSAGE_ID, REDRIVE_MARK, SOURCE_QUEUE

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        MessageTypeDef,
        ReceiveMessageResultTypeDef,
    )

__all__ = [
    "PEEK_VISIBILITY_SECONDS",
    "Counts",
    "Peeked",
    "Queue",
    "QueueNotFound",
    "counts",
    "describe",
    "peek",
    "purge",
    "receive",
    "release",
    "resolve",
    "shown_id",
]

PEEK_VISIBILITY_SECONDS = 20
"""How long a peeked message is hidden before `release` makes it visible again (a crash costs 20 s)."""

PREVIEW_CHARS = 120

_NOT_FOUND = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


class QueueNotFound(LookupError):
    """The stack names a queue the live account does not have (not deployed, wrong region/account)."""


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


@dataclass(frozen=True)
class Counts:
    visible: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class Peeked:
    message_id: str
    """The SQS id of this copy in the DLQ (secondary: every move or dead-lettering makes a new one)."""
    logical_id: str | None
    """`ap-message-id`: the id the producer, the HTTP entry, serve and the logs show for this message."""
    receive_count: int
    error_kind: str | None
    error_reason: str | None
    source_queue: str | None
    group_id: str | None
    body_preview: str
    attributes: dict[str, str] = field(default_factory=dict)
    """String-valued message attributes (binary ones shown as `<binary n bytes>`)."""


def resolve(sqs: SQSClient, name: str) -> Queue:
    """Live URL and ARN of `name`: GetQueueUrl uses the caller's account and the client's region."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
            region = sqs.meta.region_name
            raise QueueNotFound(f"queue {name!r} not found in {region} (is the stack deployed there?)") from None
        raise
    return Queue(name=name, url=url, arn=arn)


def counts(sqs: SQSClient, queue: Queue) -> Counts:
    """Approximate counts: SQS is distributed, they lag by up to a minute and may be off by a few."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return Counts(
        visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def receive(
    sqs: SQSClient, queue: Queue, *, max_messages: int, visibility: int, wait_seconds: int
) -> list[MessageTypeDef]:
    """One ReceiveMessage with every system and message attribute.

    `AttributeNames` is the deprecated spelling of `MessageSystemAttributeNames`; both are sent so
    older emulators return MessageGroupId / MessageDeduplicationId too. On FIFO queues a
    `ReceiveRequestAttemptId` makes botocore's own retry of a lost response return the same messages
    instead of hiding a second set.
    """
    extra = {"ReceiveRequestAttemptId": uuid.uuid4().hex} if queue.fifo else {}
    response: ReceiveMessageResultTypeDef = sqs.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=max(1, min(SQS_MESSAGES_PER_RECEIVE_MAX, max_messages)),
        VisibilityTimeout=visibility,
        WaitTimeSeconds=wait_seconds,
        AttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
        **extra,
    )
    return list(response.get("Messages", []))


def release(sqs: SQSClient, queue: Queue, receipt_handles: Iterable[str]) -> None:
    """Make received messages visible again at once (best effort: otherwise they return at timeout)."""
    handles = list(receipt_handles)
    for start in range(0, len(handles), 10):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, handle in enumerate(handles[start : start + 10])
        ]
        # expired receipt handles are visible already; anything else returns at its visibility timeout
        with contextlib.suppress(ClientError, BotoCoreError):
            sqs.change_message_visibility_batch(QueueUrl=queue.url, Entries=entries)


def _string_attribute(message: MessageTypeDef, name: str) -> str | None:
    attr = message.get("MessageAttributes", {}).get(name)
    return attr.get("StringValue") if attr else None


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def shown_id(message: Peeked) -> str:
    """The logical `ap-message-id` first, the SQS id of the DLQ copy second (or alone when there is none).

    A redriven message that failed again carries `<id><REDRIVE_MARK><generation>` (docs/contracts.md §8):
    shown by its id, the one every other tool shows, and said to have failed again after a redrive."""
    if message.logical_id is None:
        return f"(no ap-message-id) sqs {message.message_id}"
    logical_id, mark, _ = message.logical_id.partition(REDRIVE_MARK)
    again = ", failed again after a redrive" if mark else ""
    return f"{logical_id}  (sqs {message.message_id}{again})"


def describe(message: MessageTypeDef) -> Peeked:
    system = message.get("Attributes", {})
    shown: dict[str, str] = {}
    for name, attr in message.get("MessageAttributes", {}).items():
        if "StringValue" in attr:
            shown[name] = attr["StringValue"]
        elif "BinaryValue" in attr:
            shown[name] = f"<binary {len(attr['BinaryValue'])} bytes>"
    return Peeked(
        message_id=message["MessageId"],
        logical_id=_string_attribute(message, MESSAGE_ID),
        receive_count=int(system.get("ApproximateReceiveCount", 0)),
        error_kind=_string_attribute(message, ERROR_KIND),
        error_reason=_string_attribute(message, ERROR_REASON),
        source_queue=_string_attribute(message, SOURCE_QUEUE),
        group_id=system.get("MessageGroupId"),
        body_preview=preview(message.get("Body", "")),
        attributes=shown,
    )


def peek(sqs: SQSClient, queue: Queue, limit: int, *, wait_seconds: int = 1) -> list[Peeked]:
    """Up to `limit` distinct messages, none deleted; each peek adds 1 to their ApproximateReceiveCount.

    Messages are hidden for a few seconds while we collect (so repeated receives return new ones instead
    of the same ten), then released at once. A FIFO group shows only its first messages: SQS hands out
    no more of a group while some of it is in flight.
    """
    seen: dict[str, Peeked] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit:
            got = receive(
                sqs,
                queue,
                max_messages=limit - len(seen),
                visibility=PEEK_VISIBILITY_SECONDS,
                wait_seconds=wait_seconds,
            )
            handles.extend(m["ReceiptHandle"] for m in got)
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for m in fresh[: limit - len(seen)]:
                seen[m["MessageId"]] = describe(m)
    finally:
        release(sqs, queue, handles)
    return list(seen.values())


def purge(sqs: SQSClient, queues: Sequence[Queue]) -> dict[str, str | None]:
    """PurgeQueue each; value = None when purged, else why not (SQS allows one purge per 60 s)."""
    outcome: dict[str, str | None] = {}
    for queue in queues:
        try:
            sqs.purge_queue(QueueUrl=queue.url)
            outcome[queue.name] = None
        except sqs.exceptions.PurgeQueueInProgress:
            outcome[queue.name] = "a purge is already in progress (SQS allows one every 60 s)"
    return outcome
