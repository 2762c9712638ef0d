"""Accounting: where every accepted message went, per consumer, so that "lost" can be proven zero.

A *track* is one logical message (`ap-message-id`) at one consumer (`<pipeline>.<consumer>`, the
runtime's scope). Tracks open when a message is accepted for that consumer: published to the
pipeline's entry and routed to it (fan-out: per subscription, with filter policies evaluated; a
subscriber the filter excludes gets a *filtered* track), forwarded to it by the previous chain stage,
or simply seen arriving in one of its queues. A chain stage's output is a new message for the next
stage: each stage accounts for it separately.

At the end every track gets exactly one state:

* `processed` - the consumer's unit of work committed a success (`sandbox.effects`);
* `dlq` - a copy is in the consumer's DLQ (reason from `ap-error-kind`/`ap-error-reason`, or
  "maxReceiveCount exceeded" for SQS's own redrive, which adds no attribute: then with the last error
  the record failed with, e.g. the handler module's ImportError, so the cause is never lost);
* `in_flight` - still in one of its queues (or the run stopped before draining);
* `filtered` - a fan-out filter policy excluded it and it never arrived;
* `lost` - none of the above: accepted, then gone. Must be 0.

`effects > 1` on a track is a business effect applied twice (what idempotency must prevent).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.effects import SUCCESS, is_effect, record_logical_id
from sandbox.esm import Invocation
from sandbox.messages import Message
from sandbox.publish import Route, consumer_of_queue
from sandbox.state import QueuedMessage, QueueSnapshot
from sandbox.topology import MappingSpec, Topology

_JSON_POSITION = re.compile(r"(: line \d+ column \d+ \(char \d+\)|:? at: line \d+ column \d+ \(char \d+\))")
"""Where a JSON parser gave up: dropped from DLQ reasons so that malformed messages group together."""
STATES = ("processed", "dlq", "in_flight", "filtered", "lost")
MAX_RECEIVE_REASON = "maxReceiveCount exceeded"


def _stage_order(topology: Topology, pipeline: str, consumer: str) -> tuple[int, int, str]:
    """Pipelines in stack-output order, consumers in config order (subscribers, stages)."""
    names = list(topology.pipelines)
    p = topology.pipelines.get(pipeline)
    stages = list(p.queue_urls) if p else []
    return (
        names.index(pipeline) if pipeline in names else len(names),
        stages.index(consumer) if consumer in stages else len(stages),
        consumer,
    )


@dataclass
class Track:
    consumer: str
    logical_id: str
    accepted: bool = False
    filtered: bool = False
    deliveries: int = 0
    duplicate_deliveries: int = 0
    effects: int = 0
    succeeded: bool = False
    tier_moves: int = 0
    dead_lettered: int = 0
    """Times the runtime sent it to the DLQ itself (not counting stored-outcome replays)."""
    dlq_copies: list[QueuedMessage] = field(default_factory=list)
    remaining: int = 0
    last_error: str | None = None
    """The last error a delivery failed with: the record's own, or its whole invocation's (exception, timeout)."""
    state: str = "open"
    timeline: list[tuple[float, str, str]] = field(default_factory=list)
    """(virtual time, queue name or "-", event): receive, deleted, failed, outcome:<kind>."""

    @property
    def dlq_reason(self) -> str | None:
        if not self.dlq_copies:
            return None
        copy = self.dlq_copies[0]
        if copy.error_kind:
            reason = _JSON_POSITION.sub("", copy.error_reason or "")
            return f"{copy.error_kind}: {reason}".rstrip(": ")
        if self.last_error:
            first_line = (self.last_error.strip().splitlines() or [""])[0]
            return f"{MAX_RECEIVE_REASON} (last error: {_JSON_POSITION.sub('', first_line)})"
        return MAX_RECEIVE_REASON

    def first(self, event: str, queue: str | None = None) -> float | None:
        """Virtual time of the first `event` (optionally in `queue`)."""
        return next((t for t, q, e in self.timeline if e == event and (queue is None or q == queue)), None)


@dataclass(frozen=True)
class ConsumerInfo:
    scope: str
    pipeline: str
    name: str
    function: str
    queues: tuple[str, ...]
    """Source queue names (a retry pipeline reads its main queue and every tier)."""
    dlq: str | None
    next_consumer: str | None


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    chaos_failures: int = 0
    injected_duplicates: int = 0
    error_times: list[float] = field(default_factory=list)
    duration: float = 0.0


class Ledger:
    """Observer of publishing, the mappings and the runtime; `finalize` assigns every track a state."""

    def __init__(self, topology: Topology, now: Callable[[], float]) -> None:
        self.topology = topology
        self.now = now
        self.consumers: dict[str, ConsumerInfo] = {}
        owners = consumer_of_queue(topology)
        for fn in sorted(topology.functions.values(), key=lambda f: _stage_order(topology, f.pipeline, f.consumer)):
            scope = f"{fn.pipeline}.{fn.consumer}"
            sources = tuple(m.queue.name for m in topology.mappings if m.function.arn == fn.arn)
            dlq = topology.queue_by_url(fn.dlq_url).name if fn.dlq_url else None
            nxt = owners.get(topology.queue_by_url(fn.next_queue_url).arn) if fn.next_queue_url else None
            self.consumers[scope] = ConsumerInfo(scope, fn.pipeline, fn.consumer, fn.name, sources, dlq, nxt)
        self.tracks: dict[tuple[str, str], Track] = {}
        self.published: Counter[str] = Counter()
        self.origins: dict[str, Message] = {}
        """ap-message-id -> the message as published (pipeline, `note`, file line): the report's messages."""
        self.poisoned: Counter[str] = Counter()
        self.queue_stats: dict[str, Counter[str]] = {}
        self.functions: dict[str, FunctionStats] = {fn.name: FunctionStats() for fn in topology.functions.values()}
        self.unexpected: Counter[str] = Counter()
        """Messages found in a queue at the end that no track accounts for (queue name -> count)."""
        self.finalized = False
        self._record_errors: set[tuple[str, str]] = set()
        """Records that failed with an error of their own in the invocation being observed: more precise
        than the invocation's (Powertools' BatchProcessingError when every record failed)."""
        self.on_first_sight: Callable[[MappingSpec, dict[str, Any]], None] | None = None
        """Called when a mapping receives a message nobody published through the sandbox (`serve`: sent
        through `--aws-port` or a deployed producer), before its track opens."""
        self._sighted: set[str] = set()
        """Ids already handed to `on_first_sight` (once each)."""

    # -- observation --------------------------------------------------------------------------
    def track(self, consumer: str, logical_id: str) -> Track:
        key = (consumer, logical_id)
        found = self.tracks.get(key)
        if found is None:
            found = self.tracks[key] = Track(consumer, logical_id)
        return found

    def accept(self, message: Message, routes: list[Route]) -> None:
        """The pipeline's entry accepted `message`; `routes` say which consumers must account for it."""
        self.published[message.pipeline] += 1
        self.origins[message.logical_id] = message
        if message.poison:
            self.poisoned[message.pipeline] += 1
        for route in routes:
            t = self.track(route.consumer, message.logical_id)
            if route.filtered:
                t.filtered = True
            else:
                t.accepted = True

    def _scope(self, mapping: MappingSpec) -> str:
        return f"{mapping.function.pipeline}.{mapping.function.consumer}"

    def _queue(self, name: str) -> Counter[str]:
        return self.queue_stats.setdefault(name, Counter())

    def received(self, mapping: MappingSpec, record: dict[str, Any], at: float) -> None:
        logical_id = record_logical_id(record)
        if self.on_first_sight is not None and logical_id not in self.origins and logical_id not in self._sighted:
            self._sighted.add(logical_id)
            self.on_first_sight(mapping, record)
        t = self.track(self._scope(mapping), logical_id)
        t.accepted = True
        t.deliveries += 1
        t.timeline.append((at, mapping.queue.name, "receive"))
        self._queue(mapping.queue.name)["received"] += 1

    def invoked(self, invocation: Invocation) -> None:
        m = invocation.mapping
        scope, queue = self._scope(m), m.queue.name
        stats = self.functions[m.function.name]
        stats.invocations += 1
        stats.duration += invocation.duration
        stats.injected_duplicates += invocation.duplicates
        if invocation.error is not None:
            stats.errors += 1
            stats.error_times.append(invocation.at)
            stats.timeouts += int(invocation.timed_out)
            stats.chaos_failures += int(invocation.chaos is not None)
        deleted, failed = set(invocation.deleted), set(invocation.failed)
        seen: set[str] = set()
        for record in invocation.records:
            ident = record["messageId"]
            t = self.track(scope, record_logical_id(record))
            if ident in seen:
                t.duplicate_deliveries += 1
            seen.add(ident)
        for record in {r["messageId"]: r for r in invocation.records}.values():
            t = self.track(scope, record_logical_id(record))
            if invocation.error is not None and (scope, t.logical_id) not in self._record_errors:
                t.last_error = invocation.error  # no error of its own (e.g. an ImportError, a timeout)
            if record["messageId"] in deleted:
                t.timeline.append((invocation.at, queue, "deleted"))
                self._queue(queue)["deleted"] += 1
            elif record["messageId"] in failed:
                t.timeline.append((invocation.at, queue, "failed"))
                self._queue(queue)["returned"] += 1
        self._queue(queue)["duplicate_deliveries"] += invocation.duplicates
        self._record_errors.clear()

    def outcome(self, scope: str, logical_id: str, outcome: dict[str, Any] | None, error: str | None) -> None:
        """From the runtime (sandbox.effects): what the unit of work decided for one record."""
        t = self.track(scope, logical_id)
        t.accepted = True
        kind = str((outcome or {}).get("outcome", "error" if error else "unknown"))
        duplicate = bool((outcome or {}).get("duplicate"))
        t.timeline.append((self.now(), "-", f"outcome:{kind}{':duplicate' if duplicate else ''}"))
        if error:
            t.last_error = error
            self._record_errors.add((scope, logical_id))
        if kind in SUCCESS:
            t.succeeded = True
        if is_effect(outcome):
            t.effects += 1
        if kind.startswith("retry-tier") and not duplicate:
            t.tier_moves += 1
        if kind == "dead-lettered" and not duplicate:
            t.dead_lettered += 1
        info = self.consumers.get(scope)
        if kind == "forwarded" and info is not None and info.next_consumer:
            self.track(info.next_consumer, logical_id).accepted = True

    # -- the end ------------------------------------------------------------------------------
    def finalize(self, snapshots: dict[str, QueueSnapshot], drained: bool) -> None:
        """Assign every track its final state from what the queues hold now."""
        by_consumer_queue: dict[str, str] = {}
        dlqs: dict[str, str] = {}
        for info in self.consumers.values():
            for q in info.queues:
                by_consumer_queue[q] = info.scope
            if info.dlq:
                dlqs[info.dlq] = info.scope
        for name, snap in snapshots.items():
            for msg in snap.messages:
                scope = dlqs.get(name) or by_consumer_queue.get(name)
                if scope is None or (scope, msg.original_id) not in self.tracks:
                    self.unexpected[name] += 1
                    continue
                t = self.tracks[(scope, msg.original_id)]
                if name in dlqs:
                    t.dlq_copies.append(msg)
                else:
                    t.remaining += 1
        for t in self.tracks.values():
            if t.succeeded:
                t.state = "processed"
            elif t.dlq_copies:
                t.state = "dlq"
            elif t.remaining or (t.accepted and not drained):
                t.state = "in_flight"
            elif t.filtered and not t.accepted:
                t.state = "filtered"
            else:
                t.state = "lost"
        self.finalized = True

    # -- summaries ----------------------------------------------------------------------------
    def settled(self) -> tuple[int, int]:
        """(tracks with a known outcome so far, all tracks): the progress bar."""
        done = sum(1 for t in self.tracks.values() if t.succeeded or t.dead_lettered or (t.filtered and not t.accepted))
        return done, len(self.tracks)

    def of(self, consumer: str) -> list[Track]:
        return [t for (c, _), t in self.tracks.items() if c == consumer]

    def count(self, state: str) -> int:
        return sum(1 for t in self.tracks.values() if t.state == state)

    @property
    def lost(self) -> list[Track]:
        return [t for t in self.tracks.values() if t.state == "lost"]

    @property
    def double_effects(self) -> list[Track]:
        return [t for t in self.tracks.values() if t.effects > 1]
