"""Orchestration of one sandbox run: capture -> materialise -> publish in waves -> drain -> report.

The loop, in-process (virtual clock):

1. every mapping polls and invokes what is receivable *now* (`EventSourceMapping.tick`);
2. when no mapping did anything, the next wave of messages is published (queues stay shallow);
3. when nothing is left to publish either, the clock jumps to the next moment something can happen:
   a message becoming visible again or leaving its delay (read from moto's model), or a batching
   window closing; if there is no such moment and the queues are empty, the run has drained.

So virtual time never passes while work is possible, and never skips an event. With an endpoint the
clock is real: step 3 sleeps briefly and polls again, and the run takes as long as the delays say.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from producer import RetryPolicy
from sandbox.alarms import evaluate
from sandbox.botocore_speed import cached_signing_keys, memoised_user_agent_sanitising, shared_service_data
from sandbox.clients import AwsClients
from sandbox.clock import Clock, RealClock, VirtualClock
from sandbox.effects import observe_outcomes
from sandbox.esm import Chaos, EventSourceMapping
from sandbox.faults import ApiFaults, attributing, summary
from sandbox.fifo_order import fifo_oldest_first
from sandbox.gc_thresholds import fewer_young_collections
from sandbox.invoke import FUNCTION_OUTPUT, Invoker, ensure_functions_on_path
from sandbox.ledger import Ledger
from sandbox.materialize import materialize
from sandbox.messages import Message, MessageSpec, build, check_pipelines, load_file, load_samples
from sandbox.moto_expression_cache import cached_expression_parsing
from sandbox.moto_speed import depth_free_attribute_reads, one_draw_identifiers, remembered_routes
from sandbox.publish import Publisher
from sandbox.report import RunInfo, build_report
from sandbox.request_environ import direct_request_environ
from sandbox.state import ApiState, MotoState, QueueSnapshot, QueueState
from sandbox.topology import Topology, topology_from_capture
from stack_capture import Capture, capture_stack


class SandboxError(ValueError):
    """Bad input to a run (options, messages, endpoint): reported as one line, exit status 2."""


@dataclass
class RunOptions:
    stack: str = "dev"
    """A stack name (in `project_dir`) or a stack file's path."""
    project_dir: Path | None = None
    """Where `stack` is looked up (stack_capture.stack_files.project_dir)."""
    config: dict[str, Any] | None = None
    """Replaces `Pulumi.<stack>.yaml` (focused test stacks)."""
    capture: Capture | None = None
    """A capture to reuse instead of running the program again (its stack config is `config`)."""
    endpoint_url: str | None = None
    messages_file: Path | None = None
    messages: list[MessageSpec] | None = None
    """Messages given in code (tests); otherwise the file, otherwise the built-in samples."""
    count: int | None = None
    duplicate_rate: float = 0.0
    transient_rate: float = 0.0
    poison_rate: float = 0.0
    api_fault_rate: float = 0.0
    """Fraction of the producer's and the runtime's AWS calls that fail like AWS fails (sandbox/faults.py)."""
    seed: int = 0
    wave: int = 50
    max_virtual_seconds: float = 7 * 24 * 3600.0
    max_wall_seconds: float = 600.0
    function_logs: TextIO | None = None
    progress: Callable[[Progress], None] | None = None
    inspect: Callable[[AwsClients], None] | None = None
    """Called with the run's clients after the report is built, before an in-process emulator goes away."""


@dataclass(frozen=True)
class Progress:
    published: int
    to_publish: int
    settled: int
    tracks: int
    queued: int
    virtual_seconds: float


@dataclass
class RunResult:
    report: dict[str, Any]
    ledger: Ledger
    topology: Topology
    snapshots: dict[str, QueueSnapshot] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.report["ok"])


def _check_options(o: RunOptions) -> None:
    for name in ("duplicate_rate", "transient_rate", "poison_rate", "api_fault_rate"):
        value = getattr(o, name)
        if not 0.0 <= value <= 1.0:
            raise SandboxError(f"--{name.replace('_', '-')} {value} is out of range; allowed 0–1")
    if o.count is not None and o.count < 1:
        raise SandboxError(f"--count {o.count} must be at least 1")
    if o.wave < 1:
        raise SandboxError(f"--wave {o.wave} must be at least 1")


def _message_specs(options: RunOptions, topology: Topology, disabled: tuple[str, ...]) -> list[MessageSpec]:
    if options.messages is not None:
        specs = list(options.messages)
    elif options.messages_file is not None:
        specs = load_file(options.messages_file)
    else:
        specs = load_samples(topology.pipelines)
        if not specs:
            names = ", ".join(topology.pipelines) or "none"
            raise SandboxError(
                f"no built-in samples for the pipelines of stack {topology.stack!r} ({names}); "
                "pass --messages FILE.jsonl"
            )
    check_pipelines(specs, topology.pipelines, list(disabled), topology.stack)
    return specs


@contextmanager
def _function_output(target: TextIO | None) -> Iterator[None]:
    previous, FUNCTION_OUTPUT.target = FUNCTION_OUTPUT.target, target
    try:
        yield
    finally:
        FUNCTION_OUTPUT.target = previous


def _reset_runtime() -> None:
    """Cached clients / idempotency units of a previous run point at a discarded emulator."""
    ensure_functions_on_path()
    from pipeline_runtime.entry import reset_caches

    reset_caches()


@dataclass
class Live:
    """A materialised stack with its mappings, clock and ledger: what a run or `sandbox serve` drives."""

    topology: Topology
    aws: AwsClients
    clock: Clock
    state: QueueState
    ledger: Ledger
    mappings: list[EventSourceMapping]
    scope: Callable[[], AbstractContextManager[Any]] = nullcontext
    """Entered around every AWS-calling unit of work (invocations, publishing): `--api-fault-rate` applies inside."""

    @property
    def sources(self) -> list[str]:
        return sorted({m.spec.queue.name for m in self.mappings})


@contextmanager
def start(
    topology: Topology,
    endpoint_url: str | None = None,
    chaos: Chaos | None = None,
    function_logs: TextIO | None = None,
    faults: ApiFaults | None = None,
) -> Iterator[Live]:
    """Materialise `topology` (in-process moto on a virtual clock, or at `endpoint_url` on real time)."""
    chaos = chaos or Chaos()
    with ExitStack() as stack:
        clock: Clock
        state: QueueState
        if faults is not None:  # before any botocore session exists: every session gets the hooks
            stack.enter_context(faults.installed())
        stack.enter_context(shared_service_data())  # service models parsed once per process (botocore_speed)
        if endpoint_url:
            clock = RealClock()
            aws = AwsClients.create(topology.region, endpoint_url)
            aws.check_reachable()
            state = ApiState(aws)
        else:
            from moto import mock_aws

            stack.enter_context(mock_aws())
            stack.enter_context(fifo_oldest_first())  # moto 5.2.5 FIFO order defect (sandbox/fifo_order.py)
            stack.enter_context(depth_free_attribute_reads())  # moto without its cost per queue depth (moto_speed.py)
            stack.enter_context(one_draw_identifiers())  # moto's random ids drawn in one call each (moto_speed.py)
            stack.enter_context(cached_expression_parsing())  # DynamoDB expressions parsed once (moto_expression_cache)
            stack.enter_context(memoised_user_agent_sanitising())  # User-Agent built faster (botocore_speed)
            stack.enter_context(cached_signing_keys())  # SigV4 keys derived once a day (botocore_speed)
            stack.enter_context(remembered_routes())  # each URL's moto handler found once (moto_speed.py)
            stack.enter_context(direct_request_environ())  # moto's WSGI environs built directly (request_environ)
            stack.enter_context(fewer_young_collections())  # millions of short-lived objects (gc_thresholds.py)
            virtual = VirtualClock()
            stack.enter_context(virtual.patch_moto())
            stack.enter_context(virtual.patch_powertools())
            clock = virtual
            aws = AwsClients.create(topology.region)
            state = MotoState(topology.region)
        _reset_runtime()
        stack.callback(_reset_runtime)  # nor may later code in this process reuse this run's clients
        materialize(topology, aws, purge=bool(endpoint_url))
        ledger = Ledger(topology, clock.now)
        stack.enter_context(observe_outcomes(ledger))
        stack.enter_context(_function_output(function_logs))
        scope = faults.scope if faults is not None else nullcontext
        if faults is not None:
            stack.enter_context(attributing(faults))
        invoker = Invoker(topology.region, aws.function_environment(), scope)
        seed = chaos.seed or 0
        mappings = [
            EventSourceMapping(
                spec, aws, clock, invoker, ledger, chaos, random.Random(f"{seed}:{spec.uuid}"), state.receivable
            )
            for spec in topology.mappings
        ]
        yield Live(topology, aws, clock, state, ledger, mappings, scope)


def _no_wait(seconds: float) -> None:
    """A backoff on the virtual clock: zero time passes."""


def next_event(live: Live) -> float | None:
    """When something can next happen while every mapping is idle: a window closes, a message becomes receivable."""
    candidates = [d for m in live.mappings if (d := m.window_deadline) is not None]
    upcoming = live.state.next_event(live.sources, live.clock.now())
    if upcoming is not None:
        candidates.append(upcoming)
    return min(candidates) if candidates else None


def _messages(options: RunOptions, capture: Capture, topology: Topology) -> list[Message]:
    """The messages to publish, with reproducible ids in-process (see below)."""
    specs = _message_specs(options, topology, capture.disabled_pipelines)
    rng = random.Random(options.seed)
    # A fresh in-process moto makes seeded ids reproducible; a long-lived emulator keeps idempotency
    # records from earlier runs, so there every run needs ids of its own.
    run_id = f"sbx-{(uuid.uuid4() if options.endpoint_url else uuid.UUID(int=rng.getrandbits(128))).hex[:8]}"
    return build(specs, run_id=run_id, count=options.count, poison_rate=options.poison_rate, rng=rng)


def _final_snapshots(
    options: RunOptions, topology: Topology, state: QueueState, now: float
) -> dict[str, QueueSnapshot]:
    """Every queue's final depth; an endpoint's source queues are only counted (reading would hide them)."""
    sources = [m.queue.name for m in topology.mappings]
    return {
        q.name: state.snapshot(q.name, now, read_messages=not options.endpoint_url or q.name not in sources)
        for q in topology.queues.values()
    }


def _run_info(
    options: RunOptions, topology: Topology, virtual_seconds: float, drained: bool, stopped_by: str | None,
    started: float,
) -> RunInfo:
    return RunInfo(
        stack=topology.stack,
        region=topology.region,
        endpoint_url=options.endpoint_url,
        virtual_clock=not options.endpoint_url,
        options={
            "messages": str(options.messages_file)
            if options.messages_file
            else ("given" if options.messages is not None else "samples"),
            "count": options.count,
            "seed": options.seed,
            "wave": options.wave,
            "duplicate_rate": options.duplicate_rate,
            "transient_rate": options.transient_rate,
            "poison_rate": options.poison_rate,
            "api_fault_rate": options.api_fault_rate,
        },
        drained=drained,
        stopped_by=stopped_by,
        virtual_seconds=virtual_seconds,
        wall_seconds=time.monotonic() - started,
    )


def run(options: RunOptions) -> RunResult:
    """One run; raises SandboxError (or UnknownStackError, MessageError, ConfigError) on bad input."""
    _check_options(options)
    started = time.monotonic()
    capture = options.capture or capture_stack(options.stack, config=options.config, project_dir=options.project_dir)
    topology = topology_from_capture(capture)
    messages = _messages(options, capture, topology)
    chaos = Chaos(options.duplicate_rate, options.transient_rate, options.seed)
    faults = ApiFaults(options.api_fault_rate, options.seed) if options.api_fault_rate else None
    with start(topology, options.endpoint_url, chaos, options.function_logs, faults) as live:
        # The producer's backoff takes no virtual time (the clock moves only when every mapping is idle).
        retry = RetryPolicy(
            sleep=_no_wait if live.clock.virtual else time.sleep, rng=random.Random(f"{options.seed}:producer")
        )
        publisher = Publisher(topology, live.aws, messages, live.ledger.accept, options.wave, retry, live.scope)
        drained, stopped_by = _drain(options, live, publisher, started)
        now = live.clock.now()
        snapshots = _final_snapshots(options, topology, live.state, now)
        live.ledger.finalize(snapshots, drained)
        alarms = evaluate(topology.alarms, snapshots, live.ledger.functions, start=live.clock.start, now=now)
        info = _run_info(options, topology, now - live.clock.start, drained, stopped_by, started)
        report = build_report(info, topology, live.ledger, snapshots, alarms)
        if faults is not None or publisher.rejected:
            report["api_faults"] = summary(
                faults or ApiFaults(0.0, options.seed),
                [(t.consumer, t.logical_id) for t in live.ledger.double_effects],
                [(m.pipeline, m.logical_id, reason) for m, reason in publisher.rejected],
            )
        if options.inspect is not None:
            options.inspect(live.aws)
    return RunResult(report, live.ledger, topology, snapshots)


def _drain(options: RunOptions, live: Live, publisher: Publisher, started: float) -> tuple[bool, str | None]:
    """The main loop (module docstring); returns (drained, what stopped it early)."""
    clock, state, mappings, ledger = live.clock, live.state, live.mappings, live.ledger
    sources = live.sources
    to_publish = len(publisher.pending)
    last_progress = 0.0

    def report_progress(force: bool = False) -> None:
        nonlocal last_progress
        if options.progress is None or (not force and time.monotonic() - last_progress < 0.1):
            return
        last_progress = time.monotonic()
        settled, tracks = ledger.settled()
        options.progress(
            Progress(publisher.sent, to_publish, settled, tracks, state.depth(sources), clock.now() - clock.start)
        )

    while True:
        if time.monotonic() - started > options.max_wall_seconds:
            return False, "max-wall-seconds"
        if clock.now() - clock.start > options.max_virtual_seconds:
            return False, "max-virtual-seconds"
        work = sum(m.tick() for m in mappings)
        report_progress()
        if work:
            continue
        if not publisher.done:
            publisher.publish_wave()
            continue
        holding = sum(m.holding for m in mappings)
        if not holding and state.depth(sources) == 0:
            report_progress(force=True)
            return True, None
        wake = next_event(live)
        if wake is None:
            return False, "stalled"
        clock.sleep_until(wake)
