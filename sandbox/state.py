"""What is in the queues right now: depth, the next moment something becomes receivable, contents.

In-process the sandbox reads moto's SQS model directly (no API call can see in-flight or delayed
messages' timers, and the virtual clock needs exactly those). Against an endpoint it asks the API,
which is all an emulator offers; there the clock is real and nothing has to be predicted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from contract.runtime import ERROR_KIND, ERROR_REASON, MESSAGE_ID, REDRIVE_MARK
from sandbox.clients import AwsClients
from stack_capture import ACCOUNT_ID


@dataclass(frozen=True)
class QueuedMessage:
    logical_id: str
    message_id: str
    sent_at: float
    """SentTimestamp, seconds."""
    error_kind: str | None = None
    error_reason: str | None = None
    receive_count: int = 0

    @property
    def original_id(self) -> str:
        """The `ap-message-id` the message was sent with (a redriven copy's redrive generation removed)."""
        return self.logical_id.split(REDRIVE_MARK, 1)[0]


@dataclass
class QueueSnapshot:
    name: str
    visible: int = 0
    in_flight: int = 0
    delayed: int = 0
    oldest_sent_at: float | None = None
    messages: list[QueuedMessage] = field(default_factory=list)
    complete: bool = True
    """False when the snapshot could not see every message (an endpoint hides in-flight ones)."""

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


class QueueState(Protocol):
    def depth(self, names: list[str]) -> int:
        """Messages (visible, in flight or delayed) in these queues."""
        ...

    def next_event(self, names: list[str], now: float) -> float | None:
        """Earliest time after `now` at which a message of these queues becomes receivable."""
        ...

    def receivable(self, name: str, now: float) -> bool:
        """Whether a ReceiveMessage could return something now (True when unknown): saves empty polls."""
        ...

    def snapshot(self, name: str, now: float, *, read_messages: bool = True) -> QueueSnapshot:
        """Counts, oldest SentTimestamp and (when asked and possible) the messages themselves."""
        ...


def _string(attributes: dict[str, Any], name: str) -> str | None:
    value = (attributes or {}).get(name) or {}
    text = value.get("StringValue") if isinstance(value, dict) else None
    return text if isinstance(text, str) and text else None


class MotoState:
    """Reads `moto.sqs.models.sqs_backends` of the run's region (the in-process mode)."""

    def __init__(self, region: str, account_id: str = ACCOUNT_ID) -> None:
        from moto.sqs.models import sqs_backends

        self._backend = sqs_backends[account_id][region]

    def _messages(self, name: str) -> list[Any]:
        queue = self._backend.queues.get(name)
        return list(queue._messages) if queue is not None else []

    def depth(self, names: list[str]) -> int:
        return sum(len(self._messages(n)) for n in names)

    def next_event(self, names: list[str], now: float) -> float | None:
        now_ms = now * 1000.0
        best: float | None = None
        for name in names:
            for m in self._messages(name):
                # moto: visible when now > visible_at (strictly); undelayed when now >= delayed_until.
                due = max(m.visible_at + 1.0, m.delayed_until)
                if due > now_ms and (best is None or due < best):
                    best = due
        return None if best is None else best / 1000.0

    def receivable(self, name: str, now: float) -> bool:
        now_ms = now * 1000.0
        return any(now_ms > m.visible_at and now_ms >= m.delayed_until for m in self._messages(name))

    def snapshot(self, name: str, now: float, *, read_messages: bool = True) -> QueueSnapshot:
        snap = QueueSnapshot(name)
        now_ms = now * 1000.0
        for m in self._messages(name):
            if now_ms < m.delayed_until:
                snap.delayed += 1
            elif now_ms > m.visible_at:
                snap.visible += 1
            else:
                snap.in_flight += 1
            sent = (m.sent_timestamp or now_ms) / 1000.0
            snap.oldest_sent_at = sent if snap.oldest_sent_at is None else min(snap.oldest_sent_at, sent)
            attrs = m.message_attributes or {}
            snap.messages.append(
                QueuedMessage(
                    logical_id=_string(attrs, MESSAGE_ID) or m.id,
                    message_id=m.id,
                    sent_at=sent,
                    error_kind=_string(attrs, ERROR_KIND),
                    error_reason=_string(attrs, ERROR_REASON),
                    receive_count=m.approximate_receive_count,
                )
            )
        return snap


class ApiState:
    """Asks the emulator through the SQS API (the `--endpoint-url` mode)."""

    def __init__(self, aws: AwsClients) -> None:
        self.aws = aws
        self._urls: dict[str, str] = {}

    def _url(self, name: str) -> str:
        if name not in self._urls:
            self._urls[name] = self.aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[name]

    def _counts(self, name: str) -> tuple[int, int, int]:
        a = self.aws.sqs.get_queue_attributes(
            QueueUrl=self._url(name),
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return (
            int(a.get("ApproximateNumberOfMessages", 0)),
            int(a.get("ApproximateNumberOfMessagesNotVisible", 0)),
            int(a.get("ApproximateNumberOfMessagesDelayed", 0)),
        )

    def depth(self, names: list[str]) -> int:
        return sum(sum(self._counts(n)) for n in names)

    def next_event(self, names: list[str], now: float) -> float | None:
        """Unknowable through the API: poll again in a moment while anything is queued."""
        return now + 0.5 if self.depth(names) else None

    def receivable(self, name: str, now: float) -> bool:
        return True

    def snapshot(self, name: str, now: float, *, read_messages: bool = True) -> QueueSnapshot:
        """Counts, plus the visible messages (received briefly, then made visible again).

        Only read the messages of queues without a redrive policy (DLQs): receiving counts as a
        receive, and could push a source queue's message over its maxReceiveCount.
        """
        visible, in_flight, delayed = self._counts(name)
        snap = QueueSnapshot(name, visible, in_flight, delayed, complete=in_flight == 0 and delayed == 0)
        if not read_messages:
            snap.complete = snap.total == 0
            return snap
        url = self._url(name)
        seen: set[str] = set()
        handles: list[str] = []
        while True:
            got = self.aws.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                VisibilityTimeout=30,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for m in fresh:
                seen.add(m["MessageId"])
                handles.append(m["ReceiptHandle"])
                attrs = m.get("MessageAttributes") or {}
                sent = int(m.get("Attributes", {}).get("SentTimestamp", now * 1000)) / 1000.0
                snap.oldest_sent_at = sent if snap.oldest_sent_at is None else min(snap.oldest_sent_at, sent)
                snap.messages.append(
                    QueuedMessage(
                        logical_id=_string(attrs, MESSAGE_ID) or m["MessageId"],
                        message_id=m["MessageId"],
                        sent_at=sent,
                        error_kind=_string(attrs, ERROR_KIND),
                        error_reason=_string(attrs, ERROR_REASON),
                        receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
                    )
                )
        for start in range(0, len(handles), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(handles[start : start + 10])
            ]
            self.aws.sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        return snap
