"""Moving messages from a DLQ back to the queue they failed from (design.md §5, contracts.md §5).

Two ways, chosen per DLQ:

* **task** (standard DLQs): `StartMessageMoveTask`, SQS moves the messages server-side at up to
  500 msg/s. SQS runs one task per queue, so a RUNNING task is looked for first and the redrive refused
  rather than failing halfway through a multi-DLQ redrive.
* **client** (FIFO DLQs): receive → `SendMessageBatch` → `DeleteMessageBatch`, keeping body, message
  attributes and `MessageGroupId`, with the group's order: within one received batch a group's
  messages are sent one per `SendMessageBatch` ("rounds": the 1st message of every group, then the
  2nd, …), so a later message is never sent after an earlier one failed. The group then stops for this
  run: its failed message stays in the DLQ, still hidden, which makes SQS hold back the rest of the
  group, and everything left is released at the end for the next run. Only entries that
  `SendMessageBatch` reported successful are deleted from the DLQ.

Deduplication id of a moved FIFO message: sha256 of the DLQ message's id and its SentTimestamp — not
the original's deduplication id. Reusing the original id would let SQS silently drop the redriven copy
when the original was sent to the source queue less than 5 minutes earlier (dead-lettered fast, redriven
at once), and we would then delete the only copy. A per-DLQ-message id is (a) stable across runs, so a
re-run after "sent but the delete failed" within 5 minutes is deduplicated instead of duplicated, and
(b) new for every generation: the move itself sends a *new* SQS message (new message id), so if it fails
again, what comes back to the DLQ — by SQS's maxReceiveCount redrive or the runtime's dead-letter send —
carries an id the earlier generation did not have, and redriving it again minutes later is not dropped.
The receive count is deliberately not part of it: every receive — a peek, a dry run, a retry — changes
it, which would turn an idempotent re-run into a duplicate.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import BotoCoreError, ClientError

from ops.queues import Queue, describe, receive, release

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        DeleteMessageBatchRequestEntryTypeDef,
        MessageAttributeValueTypeDef,
        MessageTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

    from ops.queues import Peeked

__all__ = [
    "DEFAULT_RATE",
    "MAX_RATE",
    "MOVE_VISIBILITY_SECONDS",
    "MoveInterrupted",
    "MoveReport",
    "MoveTask",
    "MoveTaskRunning",
    "Planned",
    "deduplication_id",
    "move_messages",
    "running_task",
    "start_move_task",
]

Method = Literal["task", "client"]

MAX_RATE = 500
"""StartMessageMoveTask's ceiling for MaxNumberOfMessagesPerSecond."""
DEFAULT_RATE = 100
MOVE_VISIBILITY_SECONDS = 60
"""How long a received batch stays hidden while it is sent and deleted (10 sends + 1 delete at most)."""
RECEIVE_WAIT_SECONDS = 1
"""Long polling, so an empty answer means empty (short polling samples only some SQS hosts)."""


# --- server-side: StartMessageMoveTask -----------------------------------------------------------


@dataclass(frozen=True)
class MoveTask:
    handle: str | None
    status: str
    moved: int
    to_move: int | None
    destination_arn: str | None


class RedriveError(ValueError):
    """A redrive this module refuses on purpose (bad rate, mismatched queue types, a FIFO message
    without its group): the CLI reports it as one line with exit status 2. Any other ValueError is a bug."""


class MoveTaskRunning(RuntimeError):
    """SQS allows one message move task per queue; this DLQ has one RUNNING."""

    def __init__(self, task: MoveTask) -> None:
        super().__init__(f"a move task is already running (handle {task.handle})")
        self.task = task


def running_task(sqs: SQSClient, source_arn: str) -> MoveTask | None:
    """The RUNNING move task of `source_arn`, if any (ListMessageMoveTasks returns the latest ≤ 10)."""
    for entry in sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results", []):
        if entry.get("Status") == "RUNNING":
            return MoveTask(
                handle=entry.get("TaskHandle"),
                status="RUNNING",
                moved=int(entry.get("ApproximateNumberOfMessagesMoved", 0)),
                to_move=entry.get("ApproximateNumberOfMessagesToMove"),
                destination_arn=entry.get("DestinationArn"),
            )
    return None


def check_rate(rate: int) -> int:
    if not 1 <= rate <= MAX_RATE:
        raise RedriveError(f"rate {rate} is out of range; allowed 1–{MAX_RATE} messages per second")
    return rate


def start_move_task(sqs: SQSClient, dlq_arn: str, destination_arn: str, rate: int) -> str:
    """Start the server-side move DLQ → `destination_arn`; returns the task handle.

    The destination is always explicit: a retry pipeline's DLQ has several sources (main queue and
    tiers), and SQS's default ("back to each message's source") would put messages into the tiers.
    """
    check_rate(rate)
    task = running_task(sqs, dlq_arn)
    if task is not None:
        raise MoveTaskRunning(task)
    response = sqs.start_message_move_task(
        SourceArn=dlq_arn, DestinationArn=destination_arn, MaxNumberOfMessagesPerSecond=rate
    )
    return response["TaskHandle"]


# --- client-side: receive / send / delete ---------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    message: Peeked
    deduplication_id: str | None


@dataclass
class MoveReport:
    moved: list[str] = field(default_factory=list)
    """DLQ message ids sent to the destination and deleted from the DLQ, in send order."""
    failed: dict[str, str] = field(default_factory=dict)
    """DLQ message id → why SendMessageBatch refused it; left in the DLQ."""
    held: list[str] = field(default_factory=list)
    """Left in the DLQ behind an earlier failed message of their FIFO group."""
    not_deleted: dict[str, str] = field(default_factory=dict)
    """Sent, but DeleteMessageBatch refused: still in the DLQ (a re-run within 5 min is deduplicated)."""
    planned: list[Planned] = field(default_factory=list)
    """Dry run: what would move."""
    stopped_groups: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.failed or self.held or self.not_deleted)


class MoveInterrupted(RuntimeError):
    """A whole SQS call failed mid-move; `report` says what had moved (re-running is safe)."""

    def __init__(self, cause: Exception, report: MoveReport) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.report = report


def deduplication_id(message: MessageTypeDef) -> str:
    """Stable for one DLQ message, new for every generation (see the module docstring for why)."""
    sent = message.get("Attributes", {}).get("SentTimestamp", "")
    return hashlib.sha256(f"ops.redrive\n{message['MessageId']}\n{sent}".encode()).hexdigest()


def _attributes(message: MessageTypeDef) -> dict[str, MessageAttributeValueTypeDef]:
    """Received message attributes in the SendMessage shape (the unused list fields dropped)."""
    out: dict[str, MessageAttributeValueTypeDef] = {}
    for name, attr in message.get("MessageAttributes", {}).items():
        value: MessageAttributeValueTypeDef = {"DataType": attr["DataType"]}
        if "StringValue" in attr:
            value["StringValue"] = attr["StringValue"]
        if "BinaryValue" in attr:
            value["BinaryValue"] = attr["BinaryValue"]
        out[name] = value
    return out


def _entry(message: MessageTypeDef, entry_id: str, fifo: bool) -> SendMessageBatchRequestEntryTypeDef:
    entry: SendMessageBatchRequestEntryTypeDef = {"Id": entry_id, "MessageBody": message["Body"]}
    attributes = _attributes(message)
    if attributes:
        entry["MessageAttributes"] = attributes
    if fifo:
        group = message.get("Attributes", {}).get("MessageGroupId")
        if not group:
            raise RedriveError(f"message {message['MessageId']} has no MessageGroupId; is the DLQ FIFO?")
        entry["MessageGroupId"] = group
        entry["MessageDeduplicationId"] = deduplication_id(message)
    return entry


def _group_key(message: MessageTypeDef, fifo: bool) -> str:
    """FIFO: the message group. Standard: each message alone (no order to keep, all go in one round)."""
    if fifo:
        return message.get("Attributes", {}).get("MessageGroupId", "")
    return "\0" + message["MessageId"]


def _error_text(entry: dict[str, object]) -> str:
    return f"{entry.get('Code', 'Error')}: {entry.get('Message', '')}".rstrip(": ")


class _Pace:
    """At most `rate` messages per second, on average since the start (`--rate` for client moves)."""

    def __init__(self, rate: int | None, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.start = clock()
        self.sent = 0

    def account(self, n: int) -> None:
        self.sent += n
        if self.rate:
            ahead = self.start + self.sent / self.rate - self.clock()
            if ahead > 0:
                self.sleep(ahead)


def move_messages(
    sqs: SQSClient,
    dlq: Queue,
    destination: Queue,
    *,
    dry_run: bool = False,
    rate: int | None = DEFAULT_RATE,
    wait_seconds: int | None = None,
    visibility: int = MOVE_VISIBILITY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> MoveReport:
    """Client-side move of everything currently in `dlq` to `destination` (see the module docstring).

    Runs until a receive brings nothing new. Messages received but not moved (failed, held, dry run)
    are made visible again at the end. A whole-call failure raises `MoveInterrupted` with the progress.
    """
    if dlq.fifo != destination.fifo:
        raise RedriveError(f"{dlq.name} and {destination.name} are not the same queue type")
    if rate is not None:
        check_rate(rate)
    wait = RECEIVE_WAIT_SECONDS if wait_seconds is None else wait_seconds
    fifo = dlq.fifo
    report = MoveReport()
    pace = _Pace(rate, clock, sleep)
    leave: dict[str, str] = {}  # DLQ message id → latest receipt handle, released at the end
    sent: set[str] = set()  # sent in this run: if one reappears (its delete failed) only delete it
    stopped: set[str] = set()
    batch: list[MessageTypeDef] = []
    try:
        while True:
            batch = receive(sqs, dlq, max_messages=10, visibility=visibility, wait_seconds=wait)
            fresh = [m for m in batch if m["MessageId"] not in leave and m["MessageId"] not in sent]
            for m in batch:
                if m["MessageId"] in leave:
                    leave[m["MessageId"]] = m["ReceiptHandle"]
            _retry_deletes(sqs, dlq, [m for m in batch if m["MessageId"] in sent], report)
            if not fresh:
                break
            if dry_run:
                for m in fresh:
                    report.planned.append(Planned(describe(m), deduplication_id(m) if fifo else None))
                    leave[m["MessageId"]] = m["ReceiptHandle"]
                continue
            groups: OrderedDict[str, deque[MessageTypeDef]] = OrderedDict()
            for m in fresh:
                key = _group_key(m, fifo)
                if key in stopped:
                    report.held.append(m["MessageId"])
                    leave[m["MessageId"]] = m["ReceiptHandle"]
                else:
                    groups.setdefault(key, deque()).append(m)
            _send_in_rounds(sqs, dlq, destination, groups, report, leave, sent, stopped, pace)
    except (ClientError, BotoCoreError) as exc:
        done = set(report.moved)  # the rest of the batch in hand goes back at once, not at its timeout
        for m in batch:
            if m["MessageId"] not in done:
                leave.setdefault(m["MessageId"], m["ReceiptHandle"])
        raise MoveInterrupted(exc, report) from exc
    finally:
        release(sqs, dlq, leave.values())
    report.stopped_groups = sorted(g for g in stopped if fifo)
    return report


def _send_in_rounds(
    sqs: SQSClient,
    dlq: Queue,
    destination: Queue,
    groups: OrderedDict[str, deque[MessageTypeDef]],
    report: MoveReport,
    leave: dict[str, str],
    sent: set[str],
    stopped: set[str],
    pace: _Pace,
) -> None:
    """Send the heads of all groups together, then the next ones: a group stops at its first failure."""
    while groups:
        heads = {key: queue[0] for key, queue in groups.items()}
        entries = [_entry(m, str(i), destination.fifo) for i, m in enumerate(heads.values())]
        response = sqs.send_message_batch(QueueUrl=destination.url, Entries=entries)
        ok = {e["Id"] for e in response.get("Successful", [])}
        errors = {e["Id"]: _error_text(dict(e)) for e in response.get("Failed", [])}
        delivered: list[MessageTypeDef] = []
        for (key, m), entry in zip(heads.items(), entries, strict=True):
            queue = groups[key]
            queue.popleft()
            if entry["Id"] in ok:
                delivered.append(m)
                sent.add(m["MessageId"])
            else:
                report.failed[m["MessageId"]] = errors.get(entry["Id"], "not reported by SendMessageBatch")
                leave[m["MessageId"]] = m["ReceiptHandle"]
                stopped.add(key)
                for rest in queue:
                    report.held.append(rest["MessageId"])
                    leave[rest["MessageId"]] = rest["ReceiptHandle"]
                queue.clear()
            if not queue:
                del groups[key]
        _delete(sqs, dlq, delivered, report)
        pace.account(len(delivered))


def _delete(sqs: SQSClient, dlq: Queue, messages: list[MessageTypeDef], report: MoveReport) -> None:
    """Delete what was delivered; a refused delete leaves a copy in the DLQ, reported, never resent here."""
    if not messages:
        return
    entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
    ]
    response = sqs.delete_message_batch(QueueUrl=dlq.url, Entries=entries)
    failed = {e["Id"]: _error_text(dict(e)) for e in response.get("Failed", [])}
    for entry, m in zip(entries, messages, strict=True):
        if entry["Id"] in failed:
            report.not_deleted[m["MessageId"]] = failed[entry["Id"]]
        else:
            report.moved.append(m["MessageId"])
            report.not_deleted.pop(m["MessageId"], None)


def _retry_deletes(sqs: SQSClient, dlq: Queue, messages: list[MessageTypeDef], report: MoveReport) -> None:
    """A message sent earlier in this run is back (its delete failed): delete it, do not send it again."""
    still = [m for m in messages if m["MessageId"] in report.not_deleted]
    _delete(sqs, dlq, still, report)


def method_for(queue: Queue, requested: Literal["auto", "task", "client"]) -> Method:
    """`auto`: the server-side task for standard DLQs, the client-side move for FIFO (design.md §5)."""
    if requested == "auto":
        return "client" if queue.fifo else "task"
    return requested
