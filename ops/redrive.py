"""Moving messages from a DLQ back to the queue they failed from (design.md §5, contracts.md §5).

Two ways, chosen per DLQ:

* **task** (standard DLQs): `StartMessageMoveTask`, SQS moves the messages server-side at up to
  500 msg/s. SQS runs one task per queue, so a RUNNING task is looked for first and the redrive refused
  rather than failing halfway through a multi-DLQ redrive.
* **client** (FIFO DLQs; any DLQ where the endpoint has no move tasks): receive → `SendMessageBatch` →
  `DeleteMessageBatch`, keeping body, message attributes and `MessageGroupId`, with the group's order:
  within one received batch a group's messages are sent one per `SendMessageBatch` ("rounds": the 1st
  message of every group, then the 2nd, …), so a later message is never sent after an earlier one
  failed. The group then stops for this run: its failed message stays in the DLQ, still hidden, which
  makes SQS hold back the rest of the group, and everything left is made visible again at the end (or
  at a stop request) for the next run. Only entries that `SendMessageBatch` reported successful are
  deleted from the DLQ.

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

What a client-side move takes: only what was in the DLQ when it started (StartMessageMoveTask's
semantics: its ApproximateNumberOfMessagesToMove is "obtained at the time of starting the task"), i.e.
messages with SentTimestamp ≤ the start. A moved copy that fails again comes back as a message sent
after the start — by SQS's maxReceiveCount redrive or as the runtime's new dead-letter message — and is
left in the DLQ for the next run, so a redrive of messages that keep failing ends by itself.
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
    "ALL_MESSAGES",
    "DEFAULT_RATE",
    "MAX_RATE",
    "MOVE_VISIBILITY_SECONDS",
    "GroupCounts",
    "MoveInterrupted",
    "MoveReport",
    "MoveTask",
    "MoveTaskRunning",
    "MoveTasksUnsupported",
    "Planned",
    "deduplication_id",
    "fence",
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


class MoveTasksUnsupported(RuntimeError):
    """The endpoint answered ListMessageMoveTasks as an API it does not have (moto's server, `sandbox serve`)."""

    def __init__(self) -> None:
        super().__init__("this endpoint does not support message move tasks; use `--method client`")


UNSUPPORTED_CODES = frozenset(
    {
        "UnsupportedOperation",
        "AWS.SimpleQueueService.UnsupportedOperation",
        "InvalidAction",
        "NotImplemented",
        "UnknownOperationException",
        "UnknownOperation",
    }
)
"""Error codes an endpoint answers for an API it does not implement."""


def tasks_unsupported(exc: ClientError) -> bool:
    """Whether a ListMessageMoveTasks error means "no such API here" rather than a refusal (AccessDenied…).

    Besides the codes above: 404/405/501, or a 500 that is not an AWS error document at all (botocore
    then uses the bare status as the code) — moto's server answers an unimplemented action with an HTML 500.
    """
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in UNSUPPORTED_CODES or status in (404, 405, 501):
        return True
    message = str(error.get("Message", ""))
    return status == 500 and (code == "500" or message.lstrip().startswith("<") or "not been implemented" in message)


def running_task(sqs: SQSClient, source_arn: str) -> MoveTask | None:
    """The RUNNING move task of `source_arn`, if any (ListMessageMoveTasks returns the latest ≤ 10).

    Raises MoveTasksUnsupported when the endpoint has no message move tasks (detected from its answer)."""
    try:
        results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results", [])
    except ClientError as exc:
        if tasks_unsupported(exc):
            raise MoveTasksUnsupported() from None
        raise
    except NotImplementedError:  # moto's in-process mock
        raise MoveTasksUnsupported() from None
    for entry in results:
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
class GroupCounts:
    """What one FIFO message group (or, on a standard DLQ, the whole DLQ) saw in one run."""

    moved: int = 0
    failed: int = 0
    held: int = 0


ALL_MESSAGES = ""
"""`MoveReport.by_group` key of a standard DLQ: it has no groups."""


@dataclass
class MoveReport:
    moved: list[str] = field(default_factory=list)
    """DLQ message ids sent to the destination and deleted from the DLQ, in send order."""
    failed: dict[str, str] = field(default_factory=dict)
    """DLQ message id → why SendMessageBatch refused it; left in the DLQ."""
    held: list[str] = field(default_factory=list)
    """Left in the DLQ behind an earlier failed message of their FIFO group."""
    arrived_later: list[str] = field(default_factory=list)
    """Sent to the DLQ after the move started (SentTimestamp > `started_at_ms`): a copy that failed again
    and came back, or a new failure. Never moved by this run; left in the DLQ for the next one."""
    not_deleted: dict[str, str] = field(default_factory=dict)
    """Sent, but DeleteMessageBatch refused: still in the DLQ (a re-run within 5 min is deduplicated)."""
    planned: list[Planned] = field(default_factory=list)
    """Dry run: what would move."""
    stopped_groups: list[str] = field(default_factory=list)
    started_at_ms: int | None = None
    """The fence, in the queue's clock: only messages with SentTimestamp ≤ this are moved."""
    interrupted: bool = False
    """Stopped on request (Ctrl-C / SIGTERM) before the DLQ was done."""
    group_of: dict[str, str] = field(default_factory=dict)
    """DLQ message id → its FIFO group (`ALL_MESSAGES` on a standard DLQ)."""

    @property
    def complete(self) -> bool:
        """Everything that was in the DLQ at the start has moved (later arrivals are the next run's)."""
        return not (self.failed or self.held or self.not_deleted or self.interrupted)

    def by_group(self) -> dict[str, GroupCounts]:
        """moved / failed / held per group, in the order the groups were first seen; held includes the
        messages that arrived after the start (they stay in the DLQ too)."""
        counts: dict[str, GroupCounts] = {}

        def of(message_id: str) -> GroupCounts:
            return counts.setdefault(self.group_of.get(message_id, ALL_MESSAGES), GroupCounts())

        for group in dict.fromkeys(self.group_of.values()):
            counts[group] = GroupCounts()
        for message_id in self.moved:
            of(message_id).moved += 1
        for message_id in self.failed:
            of(message_id).failed += 1
        for message_id in [*self.held, *self.arrived_later]:
            of(message_id).held += 1
        return counts


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


def _timestamp(message: MessageTypeDef, name: str) -> int | None:
    value = message.get("Attributes", {}).get(name)  # type: ignore[call-overload]
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def fence(local_ms: float, first_batch: list[MessageTypeDef]) -> int:
    """The start of a move in the queue's own clock, taken at the first receive, before anything is sent.

    A message received for the first time (ApproximateReceiveCount 1) carries the queue's clock at this
    very receive (ApproximateFirstReceiveTimestamp): that is the start, exactly — whatever our clock says
    (`sandbox serve`'s virtual clock runs ahead of real time after a jump, and behind it while a batch
    runs). Otherwise our clock (AWS: NTP-synced), never below a timestamp SQS already put on a message
    of this receive. A copy sent back after this receive is stamped later by the same queue clock.
    """
    exact = [
        stamp
        for m in first_batch
        if m.get("Attributes", {}).get("ApproximateReceiveCount") == "1"
        and (stamp := _timestamp(m, "ApproximateFirstReceiveTimestamp")) is not None
    ]
    seen = [s for m in first_batch for name in ("SentTimestamp", "ApproximateFirstReceiveTimestamp")
            if (s := _timestamp(m, name)) is not None]
    if exact:
        return max(exact + seen)
    return max([int(local_ms), *seen])


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

    def __init__(self, rate: int | None, clock: Callable[[], float], sleep: Callable[[float], object]) -> None:
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.start = clock()
        self.sent = 0

    def account(self, n: int) -> None:
        self.sent += n
        if self.rate:
            ahead = self.start + self.sent / self.rate - self.clock()
            if ahead > 0:
                self.sleep(ahead)


@dataclass
class _Run:
    """The state of one client-side move: what is in hand (received, not deleted) and what was decided."""

    sqs: SQSClient
    dlq: Queue
    destination: Queue
    report: MoveReport
    pace: _Pace
    hand: dict[str, str] = field(default_factory=dict)
    """DLQ message id → latest receipt handle of everything received and not deleted: released at the end."""
    sent: set[str] = field(default_factory=set)
    """Sent in this run: if one reappears (its delete failed) it is only deleted, never sent again."""
    stopped: set[str] = field(default_factory=set)

    def take(self, m: MessageTypeDef) -> None:
        self.hand[m["MessageId"]] = m["ReceiptHandle"]
        self.report.group_of[m["MessageId"]] = _group_key(m, True) if self.dlq.fifo else ALL_MESSAGES


NO_PROGRESS_RECEIVES = 2
"""Receives in a row that bring nothing new before the move ends (the first may only return messages
whose hold ran out, which it hides again)."""


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
    sleep: Callable[[float], object] = time.sleep,
    wall_clock_ms: Callable[[], float] = lambda: time.time() * 1000.0,
    stop: Callable[[], bool] = lambda: False,
    report: MoveReport | None = None,
) -> MoveReport:
    """Client-side move of what was in `dlq` when it started to `destination` (see the module docstring).

    Only messages with SentTimestamp ≤ the start (`fence`) move — StartMessageMoveTask's semantics — so a
    copy that fails again and comes back is never moved twice, and the run ends by itself when receives
    bring nothing new. `stop()` is asked between steps (never between a send and its delete): when it
    says so the run ends early with `report.interrupted`. Whatever was received and not moved (failed,
    held, later arrivals, dry run, an interrupt or an error) is made visible again at once. A whole-call
    failure raises `MoveInterrupted` with the progress; pass `report` to keep the progress on any other
    exception (KeyboardInterrupt) too.
    """
    if dlq.fifo != destination.fifo:
        raise RedriveError(f"{dlq.name} and {destination.name} are not the same queue type")
    if rate is not None:
        check_rate(rate)
    wait = RECEIVE_WAIT_SECONDS if wait_seconds is None else wait_seconds
    report = report if report is not None else MoveReport()
    run = _Run(sqs, dlq, destination, report, _Pace(rate, clock, sleep))
    try:
        _receive_and_move(run, dry_run, wait, visibility, wall_clock_ms, stop)
    except (ClientError, BotoCoreError) as exc:
        raise MoveInterrupted(exc, report) from exc
    finally:
        release(sqs, dlq, run.hand.values())
    report.stopped_groups = sorted(g for g in run.stopped if dlq.fifo)
    return report


def _receive_and_move(
    run: _Run,
    dry_run: bool,
    wait: int,
    visibility: int,
    wall_clock_ms: Callable[[], float],
    stop: Callable[[], bool],
) -> None:
    report, fifo = run.report, run.dlq.fifo
    idle = 0
    while idle < NO_PROGRESS_RECEIVES:
        if stop():
            report.interrupted = True
            return
        local_ms = wall_clock_ms()
        batch = receive(run.sqs, run.dlq, max_messages=10, visibility=visibility, wait_seconds=wait)
        if report.started_at_ms is None:
            report.started_at_ms = fence(local_ms, batch)
        fresh: list[MessageTypeDef] = []
        for m in batch:
            if m["MessageId"] in run.sent:  # back after a failed delete: delete it, never send it again
                run.hand[m["MessageId"]] = m["ReceiptHandle"]
                _delete(run, [m])
            elif m["MessageId"] in run.hand:  # held, failed or later: hidden again by this receive
                run.hand[m["MessageId"]] = m["ReceiptHandle"]
            else:
                run.take(m)
                fresh.append(m)
        idle = 0 if fresh else idle + 1
        groups: OrderedDict[str, deque[MessageTypeDef]] = OrderedDict()
        for m in fresh:
            key = _group_key(m, fifo)
            sent_at = _timestamp(m, "SentTimestamp")
            if sent_at is not None and sent_at > report.started_at_ms:
                report.arrived_later.append(m["MessageId"])
                if fifo:  # nothing of its group may overtake it: what follows it is newer still
                    run.stopped.add(key)
            elif key in run.stopped:
                report.held.append(m["MessageId"])
            elif dry_run:
                report.planned.append(Planned(describe(m), deduplication_id(m) if fifo else None))
            else:
                groups.setdefault(key, deque()).append(m)
        _send_in_rounds(run, groups, stop)


def _send_in_rounds(run: _Run, groups: OrderedDict[str, deque[MessageTypeDef]], stop: Callable[[], bool]) -> None:
    """Send the heads of all groups together, then the next ones: a group stops at its first failure.

    A stop request is honoured between rounds; the rest stays in hand and is released."""
    report = run.report
    while groups:
        if stop():
            report.interrupted = True
            return
        heads = {key: queue[0] for key, queue in groups.items()}
        entries = [_entry(m, str(i), run.destination.fifo) for i, m in enumerate(heads.values())]
        response = run.sqs.send_message_batch(QueueUrl=run.destination.url, Entries=entries)
        ok = {e["Id"] for e in response.get("Successful", [])}
        errors = {e["Id"]: _error_text(dict(e)) for e in response.get("Failed", [])}
        delivered: list[MessageTypeDef] = []
        for (key, m), entry in zip(heads.items(), entries, strict=True):
            queue = groups[key]
            queue.popleft()
            if entry["Id"] in ok:
                delivered.append(m)
                run.sent.add(m["MessageId"])
            else:
                report.failed[m["MessageId"]] = errors.get(entry["Id"], "not reported by SendMessageBatch")
                run.stopped.add(key)
                report.held.extend(rest["MessageId"] for rest in queue)
                queue.clear()
            if not queue:
                del groups[key]
        _delete(run, delivered)
        run.pace.account(len(delivered))


def _delete(run: _Run, messages: list[MessageTypeDef]) -> None:
    """Delete what was delivered; a refused delete leaves a copy in the DLQ, reported, never resent here."""
    if not messages:
        return
    entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
        {"Id": str(i), "ReceiptHandle": run.hand[m["MessageId"]]} for i, m in enumerate(messages)
    ]
    response = run.sqs.delete_message_batch(QueueUrl=run.dlq.url, Entries=entries)
    failed = {e["Id"]: _error_text(dict(e)) for e in response.get("Failed", [])}
    for entry, m in zip(entries, messages, strict=True):
        if entry["Id"] in failed:
            run.report.not_deleted[m["MessageId"]] = failed[entry["Id"]]
        else:
            del run.hand[m["MessageId"]]
            if m["MessageId"] not in run.report.moved:
                run.report.moved.append(m["MessageId"])
            run.report.not_deleted.pop(m["MessageId"], None)


def method_for(queue: Queue, requested: Literal["auto", "task", "client"], tasks_supported: bool = True) -> Method:
    """`auto`: the server-side task for standard DLQs, the client-side move for FIFO (design.md §5) and
    for every DLQ of an endpoint without message move tasks."""
    if requested == "auto":
        return "client" if queue.fifo or not tasks_supported else "task"
    return requested
