"""One SQS event source mapping: poll, batch, build the Lambda event, invoke, delete what succeeded.

AWS semantics reproduced (Lambda developer guide, "Using Lambda with Amazon SQS"):

* up to `batchSize` records per invocation; with a batching window the poller keeps receiving until
  the batch is full or the window (counted from the first record of the batch) has passed; without
  one it invokes with whatever one poll returned;
* the event is exactly the SQS event shape (`sandbox.sqs_event.lambda_record`);
* the function's real entry point and environment (`sandbox.invoke`);
* with `ReportBatchItemFailures`, records named in `batchItemFailures` stay in the queue and reappear
  after the visibility timeout; the others are deleted. A response that names an unknown or empty
  `itemIdentifier` fails the whole batch, as in AWS. An exception (or a timeout) fails the whole batch.
  FIFO "stop at the first failure" is the runtime's job: whatever it reports is honoured;
* SQS's own redrive (moto's) moves a message to the DLQ once its receive count reaches
  `maxReceiveCount` and it is received again;
* `maximumConcurrency`: at most that many batches of one mapping per tick (default 5, Lambda's
  initial number of pollers).

Receives always pass `WaitTimeSeconds=0`: the captured queues long-poll for 20 s, and moto's long-poll
loop waits on the (virtual, frozen) clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from contract.aws import SQS_MESSAGES_PER_RECEIVE_MAX
from sandbox.clients import AwsClients
from sandbox.clock import Clock
from sandbox.invoke import Invoker
from sandbox.sqs_event import lambda_record
from sandbox.topology import MappingSpec

MAX_RECEIVE = SQS_MESSAGES_PER_RECEIVE_MAX
"""SQS returns at most 10 messages per ReceiveMessage; larger batches take several polls."""


@dataclass(frozen=True)
class Chaos:
    """At-least-once faults injected by the mapping (the Lambda/SQS side), reproducible by seed.

    * `duplicate_rate`: per record, deliver it once more - in the same batch, or in the mapping's next
      batch (both happen in AWS: SQS standard queues may deliver a message more than once).
    * `transient_rate`: per invocation, the invocation fails as a whole - half the time before the
      handler runs (nothing happened), half the time *after* it ran (its effects happened but its
      response is lost, like a timeout at the very end). Either way the whole batch comes back.
    """

    duplicate_rate: float = 0.0
    transient_rate: float = 0.0
    seed: int | None = None


@dataclass
class Invocation:
    """What one invocation did; the ledger and the alarms read these."""

    mapping: MappingSpec
    at: float
    records: list[dict[str, Any]]
    duplicates: int = 0
    """Records in `records` that are injected duplicate deliveries."""
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str | None = None
    timed_out: bool = False
    chaos: str | None = None
    duration: float = 0.0


class Observer(Protocol):
    def received(self, mapping: MappingSpec, record: dict[str, Any], at: float) -> None: ...

    def invoked(self, invocation: Invocation) -> None: ...


class EventSourceMapping:
    """The poller for one captured `aws:lambda/eventSourceMapping`."""

    def __init__(
        self,
        spec: MappingSpec,
        aws: AwsClients,
        clock: Clock,
        invoker: Invoker,
        observer: Observer,
        chaos: Chaos | None = None,
        rng: random.Random | None = None,
        receivable: Callable[[str, float], bool] | None = None,
    ) -> None:
        """`receivable(queue_name, now)` may say a poll would come back empty (saves the call)."""
        self.spec = spec
        self.receivable = receivable
        self.aws = aws
        self.clock = clock
        self.invoker = invoker
        self.observer = observer
        self.chaos = chaos or Chaos()
        self.rng = rng or random.Random(self.chaos.seed)
        self._buffer: list[dict[str, Any]] = []
        self._window_started: float | None = None
        self._ghosts: list[dict[str, Any]] = []
        self._received = 0
        self.invocations = 0
        self.errors = 0

    # -- state the engine reads to decide when time may move -----------------------------------
    @property
    def window_deadline(self) -> float | None:
        """When the batch being gathered must be invoked (None: nothing gathered)."""
        if self._window_started is None:
            return None
        return self._window_started + self.spec.batch_window

    @property
    def holding(self) -> int:
        """Records received but not yet invoked (gathering a batch), plus pending duplicates."""
        return len(self._buffer) + len(self._ghosts)

    # -- one tick ------------------------------------------------------------------------------
    def tick(self) -> int:
        """Poll and invoke up to `concurrency` batches now; returns the work done (0 = idle).

        Work = invocations + records received (gathering a batch during a window is progress too).
        """
        self._received = 0
        ran = 0
        for _ in range(self.spec.concurrency):
            batch = self._next_batch()
            if not batch:
                break
            self._invoke(batch)
            ran += 1
        return ran + self._received

    def _receive(self, count: int) -> list[dict[str, Any]]:
        response = self.aws.sqs.receive_message(
            QueueUrl=self.spec.queue.url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        now = self.clock.now()
        self._received += len(response.get("Messages", []))
        records = []
        for message in response.get("Messages", []):
            record = lambda_record(message, self.spec.queue.arn, self.aws.region, self.spec.queue.fifo)
            self.observer.received(self.spec, record, now)
            records.append(record)
        return records

    def _next_batch(self) -> list[dict[str, Any]]:
        size, window = self.spec.batch_size, self.spec.batch_window
        while len(self._buffer) < size:
            if self.receivable is not None and not self.receivable(self.spec.queue.name, self.clock.now()):
                break
            got = self._receive(min(MAX_RECEIVE, size - len(self._buffer)))
            if got and self._window_started is None:
                self._window_started = self.clock.now()
            self._buffer.extend(got)
            if not got or window == 0:
                break
        deadline = self.window_deadline
        full = len(self._buffer) >= size
        if self._buffer and (full or window == 0 or (deadline is not None and self.clock.now() >= deadline)):
            batch, self._buffer = self._buffer[:size], self._buffer[size:]
            self._window_started = self.clock.now() if self._buffer else None
            return self._with_duplicates(batch)
        if not self._buffer and self._ghosts:
            ghosts, self._ghosts = self._ghosts[:size], self._ghosts[size:]
            return ghosts
        return []

    def _with_duplicates(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Prepend duplicates held back from the previous batch; maybe hold back or repeat some now."""
        size = self.spec.batch_size
        room = max(0, size - len(batch))
        out = self._ghosts[:room] + batch
        self._ghosts = self._ghosts[room:]
        rate = self.chaos.duplicate_rate
        if rate <= 0:
            return out
        for record in batch:
            if self.rng.random() >= rate:
                continue
            ghost = {**record, "_sandbox_duplicate": True}
            if len(out) < size and self.rng.random() < 0.5:
                out.append(ghost)
            else:
                self._ghosts.append(ghost)
        return out

    def _invoke(self, batch: list[dict[str, Any]]) -> None:
        at = self.clock.now()
        duplicates = sum(1 for r in batch if r.get("_sandbox_duplicate"))
        records = [{k: v for k, v in r.items() if k != "_sandbox_duplicate"} for r in batch]
        result = Invocation(self.spec, at, records, duplicates=duplicates)
        chaos = None
        if self.chaos.transient_rate > 0 and self.rng.random() < self.chaos.transient_rate:
            chaos = "before" if self.rng.random() < 0.5 else "after"
        self.invocations += 1
        if chaos == "before":
            result.error, result.chaos = "chaos: the invocation failed before the handler ran", "transient-before"
        else:
            discard = "chaos: the invocation timed out after the handler ran" if chaos == "after" else None
            outcome = self.invoker.invoke(self.spec.function, {"Records": records}, discard_response=discard)
            result.duration, result.timed_out = outcome.duration, outcome.timed_out
            result.chaos = "transient-after" if chaos == "after" else None
            result.error = outcome.error
            if result.error is None:
                failed_ids, problem = self._failures(outcome.response, records)
                if problem:
                    result.error = problem
                else:
                    result.failed = sorted(failed_ids)
        ids = list(dict.fromkeys(r["messageId"] for r in records))
        if result.error is not None:
            self.errors += 1
            result.failed = ids
        else:
            result.deleted = [i for i in ids if i not in set(result.failed)]
            self._delete(records, set(result.deleted))
        self.observer.invoked(result)

    def _failures(self, response: Any, records: list[dict[str, Any]]) -> tuple[set[str], str | None]:
        """Parse a partial batch response; a malformed one fails the whole batch (AWS does the same)."""
        if not self.spec.report_batch_item_failures or response is None:
            return set(), None
        if not isinstance(response, dict):
            return set(), None
        items = response.get("batchItemFailures")
        if items is None:
            return set(), None
        known = {r["messageId"] for r in records}
        failed: set[str] = set()
        for item in items if isinstance(items, list) else [None]:
            ident = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not ident or ident not in known:
                return set(), f"invalid batchItemFailures entry {item!r}: the whole batch failed"
            failed.add(ident)
        return failed, None

    def _delete(self, records: list[dict[str, Any]], ids: set[str]) -> None:
        handles: dict[str, str] = {}
        for r in records:
            if r["messageId"] in ids:
                handles[r["messageId"]] = r["receiptHandle"]  # the latest receipt of a repeated id
        entries = [{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(handles.values())]
        for start in range(0, len(entries), 10):
            self.aws.sqs.delete_message_batch(QueueUrl=self.spec.queue.url, Entries=entries[start : start + 10])


Factory = Callable[[MappingSpec], EventSourceMapping]
