"""Price a measured run at a monthly volume: per-message usage scaled, batching modelled, fixed costs added.

What scales linearly with the messages (measured per published message, then × volume): records
delivered to each consumer (redeliveries and retries included), the calls the functions make (SQS
sends to the next stage, retry tiers and DLQs; DynamoDB idempotency writes; S3 results), their log bytes.

What depends on the rate, not only on the count (the sandbox publishes in waves, so its batches are
fuller than a steady trickle's): ReceiveMessage calls, Lambda invocations and DeleteMessageBatch calls.
Traffic is taken as spread evenly over a 730-hour month, arriving at λ records/s per consumer, read by
P = 5 pollers (Lambda's initial and low-traffic number, AWS Lambda developer guide, "Configuring
scaling behavior for SQS event source mappings"):

* records per receive ρ = min(10, batchSize, max(1, λ·d/P)) with d the time to process one record:
  a long poll returns as soon as a message is there, so a trickle is received one message at a time;
* records per invocation: ρ without a batching window; with one, min(batchSize, max(ρ, λ·window/P))
  (each poller gathers its share of the arrivals for `batchWindow` seconds);
* one DeleteMessageBatch per 10 records deleted by an invocation.

Fixed monthly costs come from the captured resources: CloudWatch alarms, dashboards, customer
managed KMS keys, and idle polling: every mapped queue is long-polled by the event source mapping even
when empty, modelled as P = 5 pollers × one 20 s long poll each = 3 receives per poller per minute
(657,000 empty receives per queue per month; AWS may scale a quiet mapping down to 2 pollers when
`maxConcurrency` is unset, which would make it 262,800).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from contract import aws

from .measure import ConsumerProfile, EntryProfile, Measurement
from .meter import ENTRY, STACK, Scope, chunks
from .prices import FREE_TIER, PRICED_REGION, PRICES, PRICES_AS_OF, SECONDS_PER_MONTH

POLLERS = aws.ESM_INITIAL_CONCURRENT_BATCHES
"""Lambda's SQS event source starts (and at low traffic settles) at five concurrent pollers."""
LONG_POLL_SECONDS = aws.SQS_RECEIVE_WAIT_RANGE[1]
"""The longest ReceiveMessage wait SQS allows (20 s); an idle poller makes one receive per wait."""
PER_REQUEST = aws.SQS_MESSAGES_PER_RECEIVE_MAX
"""Messages per ReceiveMessage and entries per DeleteMessageBatch (10)."""
IDLE_RECEIVES_PER_QUEUE = POLLERS * SECONDS_PER_MONTH / LONG_POLL_SECONDS
PLATFORM_LOG_BYTES = 260
"""Lambda's own START, END and REPORT lines per invocation (text format, ~60 + 45 + 155 bytes)."""
DEFAULT_MS_PER_RECORD = 20.0
"""When no warm invocation was measured for any consumer (and no `--duration-ms`)."""

SERVICE_OF_UNIT = {
    "sqs.standard": "SQS",
    "sqs.fifo": "SQS",
    "sns.publish": "SNS",
    "sns.fifo_publish": "SNS",
    "sns.fifo_payload": "SNS",
    "lambda.requests": "Lambda",
    "lambda.gb_seconds.x86_64": "Lambda",
    "lambda.gb_seconds.arm64": "Lambda",
    "dynamodb.wru": "DynamoDB",
    "dynamodb.rru": "DynamoDB",
    "s3.put": "S3",
    "s3.get": "S3",
    "logs.ingestion": "CloudWatch Logs",
    "cloudwatch.alarm": "CloudWatch",
    "cloudwatch.dashboard": "CloudWatch",
    "kms.key": "KMS",
    "kms.requests": "KMS",
}
SERVICES = ("SNS", "SQS", "Lambda", "DynamoDB", "S3", "CloudWatch Logs", "CloudWatch", "KMS")


def free_tier_group(unit: str) -> str | None:
    if unit.startswith("sqs."):
        return "sqs"
    if unit.startswith("lambda.gb_seconds"):
        return "lambda.gb_seconds"
    return unit if unit in FREE_TIER else None


@dataclass(frozen=True)
class Line:
    pipeline: str
    consumer: str
    item: str
    """What is billed, e.g. "ReceiveMessage", "idempotency writes", "alarms"."""
    unit: str
    """A key of `PRICES`."""
    quantity: float
    usd: float
    fixed: bool = False

    @property
    def service(self) -> str:
        return SERVICE_OF_UNIT[self.unit]


@dataclass(frozen=True)
class Rates:
    """The batching the model derived for one consumer at the volume."""

    records_per_month: float
    per_second: float
    records_per_receive: float
    records_per_invocation: float
    ms_per_invocation: float
    ms_per_record: float
    duration_source: str


@dataclass
class Estimate:
    stack: str
    region: str
    volumes: dict[str, float]
    lines: list[Line]
    rates: dict[Scope, Rates]
    assumptions: list[str]
    free_tier: bool
    duration_ms: Durations

    @property
    def approximate(self) -> bool:
        return self.region != PRICED_REGION

    @property
    def monthly_usd(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def fixed_usd(self) -> float:
        return sum(line.usd for line in self.lines if line.fixed)

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {s: 0.0 for s in SERVICES}
        for line in self.lines:
            out[line.service] += line.usd
        return {s: v for s, v in out.items() if v or any(line.service == s for line in self.lines)}

    def by_pipeline(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for line in self.lines:
            p = out.setdefault(line.pipeline, {"usd": 0.0, "fixed_usd": 0.0, "by_service": {}, "consumers": {}})
            p["usd"] += line.usd
            p["fixed_usd"] += line.usd if line.fixed else 0.0
            p["by_service"][line.service] = p["by_service"].get(line.service, 0.0) + line.usd
            c = p["consumers"].setdefault(line.consumer or "-", {})
            c[line.service] = c.get(line.service, 0.0) + line.usd
        return out

    def cost_of(self, pipeline: str, consumer: str | None = None, service: str | None = None) -> float:
        return sum(
            line.usd
            for line in self.lines
            if line.pipeline == pipeline
            and (consumer is None or line.consumer == consumer)
            and (service is None or line.service == service)
        )


@dataclass(frozen=True)
class Change:
    """A what-if on one consumer: its config key, the new value, and how the profile changes."""

    scope: Scope
    key: str
    value: Any
    fields: dict[str, Any] = field(default_factory=dict)
    drop_units: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        shown = str(self.value).lower() if isinstance(self.value, bool) else self.value
        return f"`{self.key}: {shown}` on {self.scope[0]}.{self.scope[1]}"


def _unit_cost(unit: str, quantity: float) -> float:
    return PRICES[unit].cost(quantity)


def _line(pipeline: str, consumer: str, item: str, unit: str, quantity: float, fixed: bool = False) -> Line:
    return Line(pipeline, consumer, item, unit, quantity, _unit_cost(unit, quantity), fixed)


@dataclass(frozen=True)
class Durations:
    """`--duration-ms`: one duration per invocation for every consumer, and/or per `pipeline.consumer`."""

    default: float | None = None
    per_consumer: dict[Scope, float] = field(default_factory=dict)

    def of(self, scope: Scope) -> float | None:
        return self.per_consumer.get(scope, self.default)

    def source(self, scope: Scope) -> str:
        if scope in self.per_consumer:
            return f"--duration-ms {scope[0]}.{scope[1]}=… (per invocation)"
        return "--duration-ms (per invocation)"

    def to_json(self) -> float | dict[str, float] | None:
        if not self.per_consumer:
            return self.default
        out = {f"{p}.{c}": ms for (p, c), ms in self.per_consumer.items()}
        return out | ({"*": self.default} if self.default is not None else {})


def as_durations(duration_ms: float | Durations | None) -> Durations:
    return duration_ms if isinstance(duration_ms, Durations) else Durations(duration_ms)


def _ms_per_record(m: Measurement, c: ConsumerProfile) -> tuple[float, str]:
    if c.warm_ms_per_record is not None and not c.probed:
        return c.warm_ms_per_record, "measured (warm sandbox invocations)"
    measured = [
        p.warm_ms_per_record for p in m.consumers.values() if p.warm_ms_per_record is not None and not p.probed
    ]
    why = "measured with smoke probes only, which skip the business function" if c.probed else (
        "no warm invocation of its own"
    )
    if measured:
        return max(measured), f"the slowest measured consumer ({why}; set --duration-ms {c.pipeline}.{c.consumer}=MS)"
    return DEFAULT_MS_PER_RECORD, f"assumed {DEFAULT_MS_PER_RECORD:g} ms per record ({why})"


def rates_for(m: Measurement, c: ConsumerProfile, volume: float, duration: float | Durations | None) -> Rates:
    durations = as_durations(duration)
    duration_ms = durations.of((c.pipeline, c.consumer))
    published = m.published.get(c.pipeline, 0)
    records = c.records * volume / published if published else 0.0
    per_second = records / SECONDS_PER_MONTH
    pollers = min(POLLERS, c.max_concurrency or POLLERS)
    ms_record, source = _ms_per_record(m, c)
    if duration_ms is not None:
        ms_record, source = duration_ms, durations.source((c.pipeline, c.consumer))
    rho = min(float(PER_REQUEST), float(c.batch_size), max(1.0, per_second * ms_record / 1000.0 / pollers))
    fill = rho if c.batch_window == 0 else min(float(c.batch_size), max(rho, per_second * c.batch_window / pollers))
    ms_invocation = duration_ms if duration_ms is not None else fill * ms_record
    return Rates(records, per_second, rho, fill, ms_invocation, ms_record, source)


def _consumer_lines(m: Measurement, c: ConsumerProfile, volume: float, r: Rates, drop: tuple[str, ...]) -> list[Line]:
    p, name = c.pipeline, c.consumer
    published = m.published.get(p, 0)
    if not published or not r.records_per_month:
        return []
    scale = volume / published
    sqs_unit = "sqs.fifo" if c.fifo else "sqs.standard"
    invocations = r.records_per_month / r.records_per_invocation
    receives = r.records_per_month / r.records_per_receive
    bytes_per_record = c.received_bytes / c.records if c.records else 0.0
    receive_chunks = max(1, math.ceil(r.records_per_receive * bytes_per_record / (64 * 1024)))
    deleted = c.deleted_records * scale
    deletes = deleted / r.records_per_invocation * math.ceil(r.records_per_invocation / PER_REQUEST)
    gb_seconds = invocations * math.ceil(r.ms_per_invocation) / 1000.0 * c.memory_mb / 1024.0
    logs_gb = (c.log_bytes * scale + invocations * PLATFORM_LOG_BYTES) / 1e9
    lines = [
        _line(p, name, "ReceiveMessage (event source polls)", sqs_unit, receives * receive_chunks),
        _line(p, name, "DeleteMessageBatch (event source)", sqs_unit, deletes),
        _line(p, name, "invocations", "lambda.requests", invocations),
        _line(p, name, f"duration ({c.memory_mb} MB, {c.architecture})", f"lambda.gb_seconds.{c.architecture}",
              gb_seconds),
        _line(p, name, "log ingestion", "logs.ingestion", logs_gb),
    ]
    names = {
        "sqs.standard": "SendMessage (next stage, retry tiers, DLQ)",
        "sqs.fifo": "SendMessage (next stage, retry tiers, DLQ)",
        "dynamodb.wru": "idempotency writes",
        "dynamodb.rru": "idempotency reads",
        "s3.put": "results PutObject",
        "s3.get": "GetObject",
    }
    for unit, quantity in sorted(c.work_units.items()):
        if any(unit.startswith(d) for d in drop):
            continue
        lines.append(_line(p, name, names.get(unit, unit), unit, quantity * scale))
    return lines


def _entry_lines(e: EntryProfile, volume: float) -> list[Line]:
    if not e.messages or not volume:
        return []
    per_message = e.bytes / e.messages
    requests = volume * chunks(math.ceil(per_message))
    if e.topic and e.fifo:
        return [
            _line(e.pipeline, ENTRY, "Publish (one message per request)", "sns.fifo_publish", requests),
            _line(e.pipeline, ENTRY, "published payload", "sns.fifo_payload", volume * per_message / 1e9),
        ]
    if e.topic:
        return [_line(e.pipeline, ENTRY, "Publish (one message per request)", "sns.publish", requests)]
    unit = "sqs.fifo" if e.fifo else "sqs.standard"
    return [_line(e.pipeline, ENTRY, "SendMessage (one message per request)", unit, requests)]


def _fixed_lines(m: Measurement, consumers: dict[Scope, ConsumerProfile]) -> list[Line]:
    lines = []
    for (p, c), count in sorted(m.alarms.items()):
        lines.append(_line(p, c, f"{count} alarms", "cloudwatch.alarm", count, fixed=True))
    for (p, c), profile in sorted(consumers.items()):
        unit = "sqs.fifo" if profile.fifo else "sqs.standard"
        idle = IDLE_RECEIVES_PER_QUEUE * profile.mapped_queues
        lines.append(_line(p, c, f"idle polling of {profile.mapped_queues} queue(s)", unit, idle, fixed=True))
    if m.dashboards:
        lines.append(_line(STACK, "", f"{m.dashboards} dashboard(s)", "cloudwatch.dashboard", m.dashboards, True))
    if m.kms_keys:
        lines.append(_line(STACK, "", f"{m.kms_keys} customer managed key(s)", "kms.key", m.kms_keys, True))
    return lines


def _apply_free_tier(lines: list[Line]) -> list[Line]:
    totals: dict[str, float] = defaultdict(float)
    for line in lines:
        group = free_tier_group(line.unit)
        if group:
            totals[group] += line.quantity
    out = []
    for line in lines:
        group = free_tier_group(line.unit)
        if group and totals[group] > 0:
            factor = max(0.0, totals[group] - FREE_TIER[group]) / totals[group]
            line = replace(line, usd=line.usd * factor)
        out.append(line)
    return out


def estimate(
    m: Measurement,
    volumes: dict[str, float],
    *,
    duration_ms: float | Durations | None = None,
    free_tier: bool = False,
    changes: tuple[Change, ...] = (),
) -> Estimate:
    """Monthly cost of the measured stack at `volumes` (messages per month into each pipeline)."""
    durations = as_durations(duration_ms)
    consumers = dict(m.consumers)
    drops: dict[Scope, tuple[str, ...]] = defaultdict(tuple)
    for change in changes:
        if change.scope in consumers:
            consumers[change.scope] = replace(consumers[change.scope], **change.fields)
            drops[change.scope] += change.drop_units
    lines: list[Line] = []
    rates: dict[Scope, Rates] = {}
    for name, entry in m.entries.items():
        lines += _entry_lines(entry, volumes.get(name, 0.0))
    for scope, c in consumers.items():
        volume = volumes.get(c.pipeline, 0.0)
        r = rates[scope] = rates_for(m, c, volume, durations)
        lines += _consumer_lines(m, c, volume, r, drops[scope])
    lines += _fixed_lines(m, consumers)
    if free_tier:
        lines = _apply_free_tier(lines)
    return Estimate(m.stack, m.region, dict(volumes), lines, rates, assumptions(m, free_tier), free_tier, durations)


def assumptions(m: Measurement, free_tier: bool) -> list[str]:
    sampled = ", ".join(f"{p} {n}" for p, n in m.published.items())
    out = [
        f"Prices: AWS list prices for {PRICED_REGION} as of {PRICES_AS_OF} (sandbox/cost/prices.py names each page)"
        + ("" if m.region == PRICED_REGION else f"; stack region {m.region}: APPROXIMATE (us-east-1 prices used)"),
        f"Usage per message measured by running the stack's messages through the sandbox ({sampled} published); "
        "the mix of successes, retries and failures of those messages is assumed for the whole volume.",
        "Traffic spread evenly over a 730-hour month; 5 pollers per event source mapping at low traffic "
        "(AWS Lambda guide: 'Configuring scaling behavior for SQS event source mappings').",
        "A trickle is received one message per ReceiveMessage (a long poll returns as soon as a message is there); "
        "batching windows gather each poller's share of the arrivals.",
        "The producer publishes one message per request (the entry line); batching 10 per request divides it by "
        "up to 10.",
        "SNS deliveries to SQS: no charge (SNS pricing); the SendMessage SNS makes on delivery is not billed to the "
        "queue owner as a request.",
        "Lambda duration: warm sandbox invocations (moto in-process, calls ~2–6 ms) per record, billed per 1 ms; cold "
        "starts and the INIT phase are not included; `--duration-ms` replaces it.",
        "Idle polling: 5 pollers × one 20 s long poll = 657,000 empty receives per mapped queue per month, charged "
        "even at volume (then some of them return messages instead).",
        "CloudWatch Logs: the functions' own output plus ~260 bytes of START/END/REPORT per invocation; storage "
        "($0.03/GB-month, compressed) and Logs Insights are not included.",
        "Not included: SNS topics encrypted with the AWS-managed key alias/aws/sns make KMS requests on publish "
        "(no key fee; at most one $0.03/10,000 request per publish, fewer with data key reuse); DynamoDB and S3 "
        "storage; data transfer; the customer managed key's requests (only when alarms notify).",
    ]
    if m.probed:
        out.append(
            f"Measured with smoke probes (no sample messages): {', '.join(m.probed)} - a probe takes a successful "
            "message's request path (entry, fan-out filters, receive, the runtime's checks, next-stage send, a "
            "receipt write, delete) but not the business function: its own calls and duration are not measured; "
            "pass --messages FILE with real messages, or --duration-ms PIPELINE.CONSUMER=MS."
        )
    if m.rest_apis:
        rest = PRICES["apigateway.rest"]
        out.append(
            f"Not included: {m.rest_apis} API Gateway REST API(s) of `http:` ingress - messages were measured "
            f"published straight to the entry; each message sent through HTTP adds ${rest.usd:.2f} per million "
            "requests, plus its access log lines."
        )
    if free_tier:
        out.append("--free-tier: the always-free monthly allowances are subtracted once for the whole stack "
                   "(SQS 1M requests, SNS 1M publishes, Lambda 1M requests and 400,000 GB-s, 5 GB logs, 10 alarms, "
                   "3 dashboards, 20,000 KMS requests).")
    else:
        out.append("No free tier (pass --free-tier to subtract the always-free allowances; the account's other "
                   "usage shares them).")
    return out
