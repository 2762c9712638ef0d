"""Measure what one message costs: run the stack's messages through the sandbox and meter every call.

The run is `sandbox run` itself (same capture, materialisation, publishing and event-source-mapping
loop); on top of it this module observes every AWS API call (`sandbox.api_calls`), every invocation
(`sandbox.invoke.observe_invocations`) and every byte the functions log, and keeps, per consumer, the
quantities the price model scales: records delivered, bytes received, records deleted, the units of
the calls the functions made, log bytes, and the warm duration per record.
"""

from __future__ import annotations

import io
import os
import statistics
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

from sandbox.api_calls import observe_api_calls
from sandbox.engine import RunOptions, RunResult, run
from sandbox.invoke import InvocationOutcome, observe_invocations
from sandbox.messages import MessageSpec
from sandbox.topology import FUNCTION, Topology, topology_from_capture
from stack_capture import Capture, capture_stack

from .meter import ENTRY, Attribution, Meter, Scope, Tally

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
KMS_KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
REST_API = "aws:apigateway/restApi:RestApi"


class LogBytes(io.TextIOBase):
    """The functions' log sink: counts UTF-8 bytes per `<pipeline>.<consumer>` (the invocation's environment)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_scope: Counter[Scope] = Counter()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        scope = (os.environ.get("AP_PIPELINE", ""), os.environ.get("AP_CONSUMER", ""))
        self.by_scope[scope] += len(text.encode())
        return len(text)


@dataclass(frozen=True)
class ConsumerProfile:
    """One consumer's configuration (from the capture) and what the run measured for it."""

    pipeline: str
    consumer: str
    function: str
    memory_mb: int
    architecture: str
    timeout: int
    batch_size: int
    batch_window: int
    max_concurrency: int | None
    """The main queue's mapping's `MaximumConcurrency` (a consumer's `maxConcurrency` is split over its mappings)."""
    configured_max_concurrency: int | None
    """The consumer's `maxConcurrency` as configured: the sum over its mappings."""
    fifo: bool
    visibility_timeout: int
    mapped_queues: int
    idempotency: bool
    records: int
    """Records delivered to the function (redeliveries included)."""
    polled_receives: int
    received_bytes: int
    deleted_records: int
    work_units: dict[str, float]
    """Billed units of the calls the function made (sends, DynamoDB, S3), whole run."""
    log_bytes: int
    invocations: int
    warm_ms_per_record: float | None
    """Median CPU time per record over invocations after the function's first (which pays imports and
    client set-up); CPU rather than wall time, so a busy machine does not inflate it."""
    groups: int
    """Distinct FIFO message groups the run delivered (0 for standard queues)."""
    probed: bool = False
    """Its pipeline had no sample messages: measured with smoke probes (sandbox/probes.py), not business ones."""


@dataclass(frozen=True)
class EntryProfile:
    pipeline: str
    messages: int
    bytes: int
    topic: bool
    fifo: bool


@dataclass
class Measurement:
    stack: str
    region: str
    published: Counter[str]
    consumers: dict[Scope, ConsumerProfile]
    entries: dict[str, EntryProfile]
    tallies: dict[Scope, Tally]
    alarms: dict[Scope, int]
    """Alarms per (pipeline, consumer); stack-level ones under ("(stack)", "")."""
    dashboards: int
    kms_keys: int
    encrypted_topics: dict[str, int]
    """Pipeline -> topics encrypted with KMS (the AWS-managed `alias/aws/sns` key)."""
    run_ok: bool
    wall_seconds: float
    rest_apis: int = 0
    """API Gateway REST APIs of `http:` ingress (not exercised by the measurement: noted, not priced)."""
    probed: tuple[str, ...] = ()
    """Pipelines measured with smoke probes because they had no sample messages."""

    @property
    def pipelines(self) -> list[str]:
        return list(self.published)


@dataclass
class _Invocations:
    by_function: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def __call__(self, function: Any, event: dict[str, Any], outcome: InvocationOutcome) -> None:
        seconds = outcome.cpu_seconds or outcome.duration
        self.by_function.setdefault(function.name, []).append((len(event.get("Records") or []), seconds))


def _warm_ms_per_record(samples: list[tuple[int, float]]) -> float | None:
    warm = [duration * 1000.0 / records for records, duration in samples[1:] if records]
    return statistics.median(warm) if warm else None


def _architectures(capture: Capture) -> dict[str, str]:
    out = {}
    for r in capture.of_type(FUNCTION):
        arch = (r.inputs.get("architectures") or ["x86_64"])[0]
        out[str(r.outputs.get("name"))] = str(arch)
    return out


def _alarm_scopes(capture: Capture, topology: Topology) -> dict[Scope, int]:
    by_queue = {q.name: s for url, s in Attribution(topology).queues.items() if (q := topology.queue_by_url(url))}
    by_function = {f.name: (f.pipeline, f.consumer) for f in topology.functions.values()}
    out: Counter[Scope] = Counter()
    for r in capture.of_type(ALARM):
        dims = r.inputs.get("dimensions") or {}
        scope = by_queue.get(str(dims.get("QueueName"))) or by_function.get(str(dims.get("FunctionName")))
        out[scope or ("(stack)", "")] += 1
    return dict(out)


def measure(
    stack: str,
    *,
    config: dict[str, Any] | None = None,
    capture: Capture | None = None,
    messages: list[MessageSpec] | None = None,
    messages_file: Path | None = None,
    count: int | None = None,
    probed: Collection[str] = (),
) -> Measurement:
    """Run the stack's samples (or the given messages) through the sandbox, metering every call.

    `probed` names the pipelines whose messages are smoke probes (`sandbox.cost.workload`)."""
    capture = capture or capture_stack(stack, config=config)
    topology = topology_from_capture(capture)
    meter = Meter(Attribution(topology))
    invocations = _Invocations()
    logs = LogBytes()
    options = RunOptions(
        stack=stack, config=config, capture=capture, messages=messages, messages_file=messages_file,
        count=count, function_logs=cast(TextIO, logs),
    )
    with observe_api_calls(meter), observe_invocations(invocations):
        result = run(options)
    return _measurement(capture, topology, result, meter, invocations, logs, tuple(probed))


def _measurement(
    capture: Capture, topology: Topology, result: RunResult, meter: Meter, invocations: _Invocations, logs: LogBytes,
    probed: tuple[str, ...] = (),
) -> Measurement:
    arch = _architectures(capture)
    consumers: dict[Scope, ConsumerProfile] = {}
    for fn in topology.functions.values():
        scope = (fn.pipeline, fn.consumer)
        maps = [m for m in topology.mappings if m.function.arn == fn.arn]
        if not maps:
            continue
        main = maps[0]
        tally = meter.tallies.get(scope) or Tally()
        samples = invocations.by_function.get(fn.name, [])
        consumers[scope] = ConsumerProfile(
            pipeline=fn.pipeline,
            consumer=fn.consumer,
            function=fn.name,
            memory_mb=fn.memory,
            architecture=arch.get(fn.name, "x86_64"),
            timeout=fn.timeout,
            batch_size=main.batch_size,
            batch_window=main.batch_window,
            max_concurrency=main.max_concurrency,
            configured_max_concurrency=(
                sum(m.max_concurrency or 0 for m in maps) if any(m.max_concurrency for m in maps) else None
            ),
            fifo=main.queue.fifo,
            visibility_timeout=min(m.queue.visibility_timeout for m in maps),
            mapped_queues=len(maps),
            idempotency=bool(fn.environment.get("AP_IDEMPOTENCY_TABLE")),
            records=tally.polled_records,
            polled_receives=tally.polled_receives,
            received_bytes=tally.polled_bytes,
            deleted_records=tally.deleted_records,
            work_units=dict(tally.work_units),
            log_bytes=logs.by_scope.get(scope, 0),
            invocations=len(samples),
            warm_ms_per_record=_warm_ms_per_record(samples),
            groups=len(tally.groups),
            probed=fn.pipeline in probed,
        )
    entries = {}
    for name, p in topology.pipelines.items():
        t = meter.tallies.get((name, ENTRY)) or Tally()
        fifo = topology.topics[p.entry].fifo if p.entry_is_topic else topology.queue_by_url(p.entry).fifo
        entries[name] = EntryProfile(name, t.entry_messages, t.entry_bytes, p.entry_is_topic, fifo)
    encrypted: Counter[str] = Counter()
    for r in capture.of_type("aws:sns/topic:Topic"):
        arn = str(r.outputs.get("arn"))
        pipeline = next((p.name for p in topology.pipelines.values() if p.entry == arn), None)
        if pipeline and r.inputs.get("kmsMasterKeyId"):
            encrypted[pipeline] += 1
    return Measurement(
        stack=topology.stack,
        region=topology.region,
        published=Counter({name: result.ledger.published.get(name, 0) for name in topology.pipelines}),
        consumers=consumers,
        entries=entries,
        tallies=meter.tallies,
        alarms=_alarm_scopes(capture, topology),
        dashboards=len(capture.of_type(DASHBOARD)),
        kms_keys=len(capture.of_type(KMS_KEY)),
        encrypted_topics=dict(encrypted),
        run_ok=result.ok,
        rest_apis=len(capture.of_type(REST_API)),
        probed=tuple(p for p in topology.pipelines if p in probed),
        wall_seconds=float(result.report.get("wall_seconds", 0.0)),
    )
