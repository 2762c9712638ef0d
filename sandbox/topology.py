"""Typed view of a captured stack: the queues, topics, functions, mappings and alarms the sandbox runs.

The sandbox keeps no topology of its own (design.md §2): everything here is read from the resources
the real program registered under mocks (`stack_capture`), so a change in `components/` shows up in
the sandbox without touching it. Values arrive as the Pulumi engine saw them (camelCase, numbers as
floats); this module turns them into small frozen records with AWS's attribute names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from contract import aws
from stack_capture import Capture, CapturedResource, PipelineOutputs

QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

DEFAULT_MAPPING_CONCURRENCY = aws.ESM_INITIAL_CONCURRENT_BATCHES
"""Batches one mapping may have in flight per tick when `maximumConcurrency` is unset: Lambda starts
an SQS event source with five pollers (it scales up from there in AWS)."""


def _int(value: Any, default: int = 0) -> int:
    return default if value is None else int(value)


@dataclass(frozen=True)
class QueueSpec:
    name: str
    url: str
    arn: str
    attributes: dict[str, str]
    """CreateQueue attributes derived from the captured inputs (AWS names, string values)."""
    fifo: bool = False
    visibility_timeout: int = aws.SQS_VISIBILITY_TIMEOUT_DEFAULT
    delay: int = 0
    dlq_arn: str | None = None
    max_receive_count: int | None = None


@dataclass(frozen=True)
class TopicSpec:
    name: str
    arn: str
    attributes: dict[str, str]
    fifo: bool = False


@dataclass(frozen=True)
class SubscriptionSpec:
    topic_arn: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]
    filter_policy: dict[str, Any] | None = None
    filter_scope: str = "MessageAttributes"


@dataclass(frozen=True)
class TableSpec:
    name: str
    hash_key: str
    range_key: str | None
    attribute_types: dict[str, str]
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    timeout: int
    memory: int
    environment: dict[str, str]
    handler: str

    @property
    def pipeline(self) -> str:
        return self.environment.get("AP_PIPELINE", "")

    @property
    def consumer(self) -> str:
        return self.environment.get("AP_CONSUMER", "")

    @property
    def dlq_url(self) -> str | None:
        return self.environment.get("AP_DLQ_URL")

    @property
    def next_queue_url(self) -> str | None:
        return self.environment.get("AP_NEXT_QUEUE_URL")


@dataclass(frozen=True)
class MappingSpec:
    uuid: str
    queue: QueueSpec
    function: FunctionSpec
    batch_size: int
    batch_window: int
    max_concurrency: int | None
    report_batch_item_failures: bool

    @property
    def concurrency(self) -> int:
        return self.max_concurrency or DEFAULT_MAPPING_CONCURRENCY


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    """Pulumi logical name (stable, readable); the physical name has a random-looking suffix."""
    namespace: str
    metric: str
    dimensions: dict[str, str]
    threshold: float
    comparison: str
    statistic: str
    evaluation_periods: int
    treat_missing_data: str
    description: str


@dataclass
class Topology:
    stack: str
    region: str
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    """By ARN."""
    topics: dict[str, TopicSpec] = field(default_factory=dict)
    subscriptions: list[SubscriptionSpec] = field(default_factory=list)
    tables: list[TableSpec] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    """By ARN."""
    mappings: list[MappingSpec] = field(default_factory=list)
    alarms: list[AlarmSpec] = field(default_factory=list)
    pipelines: dict[str, PipelineOutputs] = field(default_factory=dict)
    """The exported (enabled) pipelines, from the capture's typed outputs."""

    def queue_by_url(self, url: str) -> QueueSpec:
        for q in self.queues.values():
            if q.url == url:
                return q
        raise KeyError(url)

    def queue_by_name(self, name: str) -> QueueSpec | None:
        return next((q for q in self.queues.values() if q.name == name), None)

    def function_by_name(self, name: str) -> FunctionSpec | None:
        return next((f for f in self.functions.values() if f.name == name), None)


def _camel(argument: str) -> str:
    """`max_message_size` -> `maxMessageSize`: how captured inputs spell a Python argument."""
    head, *rest = argument.split("_")
    return head + "".join(part.title() for part in rest)


def _queue_defaults(fifo: bool) -> dict[str, tuple[str, str]]:
    """Captured input name -> (CreateQueue attribute, pulumi-aws default): the provider's, never moto's.

    FIFO-only attributes (deduplication scope, throughput limit) apply to FIFO queues only.
    """
    fifo_only = {"DeduplicationScope", "FifoThroughputLimit"}
    return {
        _camel(e.argument): (e.attribute, str(e.value))
        for e in aws.PROVIDER_DEFAULTS
        if e.resource == QUEUE and e.attribute and (fifo or e.attribute not in fifo_only)
    }


def _queue(r: CapturedResource, policies: dict[str, str]) -> QueueSpec:
    i, o = r.inputs, r.outputs
    attributes: dict[str, str] = {}
    fifo = bool(i.get("fifoQueue"))
    for source, (target, default) in _queue_defaults(fifo).items():
        value = i.get(source)
        attributes[target] = default if value is None else str(int(value) if isinstance(value, float) else value)
    if fifo:
        attributes["FifoQueue"] = "true"
        attributes["ContentBasedDeduplication"] = "true" if i.get("contentBasedDeduplication") else "false"
    if i.get("sqsManagedSseEnabled") is not None:
        attributes["SqsManagedSseEnabled"] = "true" if i["sqsManagedSseEnabled"] else "false"
    dlq_arn, max_receive = None, None
    if i.get("redrivePolicy"):
        attributes["RedrivePolicy"] = i["redrivePolicy"]
        redrive = json.loads(i["redrivePolicy"])
        dlq_arn, max_receive = redrive.get("deadLetterTargetArn"), _int(redrive.get("maxReceiveCount"))
    url = o["url"]
    if url in policies:
        attributes["Policy"] = policies[url]
    return QueueSpec(
        name=o["name"],
        url=url,
        arn=o["arn"],
        attributes=attributes,
        fifo=fifo,
        visibility_timeout=int(attributes["VisibilityTimeout"]),
        delay=int(attributes["DelaySeconds"]),
        dlq_arn=dlq_arn,
        max_receive_count=max_receive,
    )


def _subscription(r: CapturedResource) -> SubscriptionSpec:
    i = r.inputs
    attributes: dict[str, str] = {}
    if i.get("rawMessageDelivery"):
        attributes["RawMessageDelivery"] = "true"
    scope = i.get("filterPolicyScope") or "MessageAttributes"
    policy = None
    if i.get("filterPolicy"):
        attributes["FilterPolicyScope"] = scope  # before FilterPolicy: it selects how that is validated
        attributes["FilterPolicy"] = i["filterPolicy"]
        policy = json.loads(i["filterPolicy"])
    if i.get("redrivePolicy"):
        attributes["RedrivePolicy"] = i["redrivePolicy"]
    return SubscriptionSpec(
        topic_arn=i["topic"],
        protocol=i.get("protocol", ""),
        endpoint=i.get("endpoint", ""),
        attributes=attributes,
        filter_policy=policy,
        filter_scope=scope,
    )


def _table(r: CapturedResource) -> TableSpec:
    i = r.inputs
    ttl = i.get("ttl") or {}
    return TableSpec(
        name=r.outputs["name"],
        hash_key=i["hashKey"],
        range_key=i.get("rangeKey"),
        attribute_types={a["name"]: a["type"] for a in i.get("attributes") or []},
        ttl_attribute=ttl.get("attributeName") if ttl.get("enabled") else None,
    )


def _function(r: CapturedResource) -> FunctionSpec:
    i, o = r.inputs, r.outputs
    variables = (i.get("environment") or {}).get("variables") or {}
    return FunctionSpec(
        name=o["name"],
        arn=o["arn"],
        timeout=_int(i.get("timeout"), aws.LAMBDA_TIMEOUT_DEFAULT),
        memory=_int(i.get("memorySize"), aws.LAMBDA_MEMORY_DEFAULT),
        environment={str(k): str(v) for k, v in variables.items()},
        handler=str(i.get("handler", "")),
    )


def _alarm(r: CapturedResource) -> AlarmSpec:
    i = r.inputs
    return AlarmSpec(
        name=r.name,
        namespace=str(i.get("namespace", "")),
        metric=str(i.get("metricName", "")),
        dimensions={str(k): str(v) for k, v in (i.get("dimensions") or {}).items()},
        threshold=float(i.get("threshold", 0)),
        comparison=str(i.get("comparisonOperator", "GreaterThanThreshold")),
        statistic=str(i.get("statistic", "Maximum")),
        evaluation_periods=_int(i.get("evaluationPeriods"), 1),
        treat_missing_data=str(i.get("treatMissingData", "missing")),
        description=str(i.get("alarmDescription", "")),
    )


def topology_from_capture(capture: Capture) -> Topology:
    """Every resource the sandbox materialises or evaluates, keyed for lookups during a run."""
    t = Topology(stack=capture.stack, region=capture.region)
    policies = {r.inputs["queueUrl"]: r.inputs["policy"] for r in capture.of_type(QUEUE_POLICY)}
    for r in capture.of_type(QUEUE):
        q = _queue(r, policies)
        t.queues[q.arn] = q
    for r in capture.of_type(TOPIC):
        fifo = bool(r.inputs.get("fifoTopic"))
        attributes = {"FifoTopic": "true"} if fifo else {}
        if fifo:
            attributes["ContentBasedDeduplication"] = "true" if r.inputs.get("contentBasedDeduplication") else "false"
        t.topics[r.outputs["arn"]] = TopicSpec(r.outputs["name"], r.outputs["arn"], attributes, fifo)
    t.subscriptions = [_subscription(r) for r in capture.of_type(SUBSCRIPTION)]
    t.tables = [_table(r) for r in capture.of_type(TABLE)]
    t.buckets = [str(r.outputs.get("bucket") or r.inputs.get("bucket")) for r in capture.of_type(BUCKET)]
    for r in capture.of_type(FUNCTION):
        f = _function(r)
        t.functions[f.arn] = f
    for r in capture.of_type(MAPPING):
        i = r.inputs
        scaling = i.get("scalingConfig") or {}
        t.mappings.append(
            MappingSpec(
                uuid=str(r.outputs.get("uuid", r.name)),
                queue=t.queues[i["eventSourceArn"]],
                function=t.functions[i["functionName"]],
                batch_size=_int(i.get("batchSize"), aws.ESM_BATCH_SIZE_DEFAULT),
                batch_window=_int(i.get("maximumBatchingWindowInSeconds")),
                max_concurrency=_int(scaling["maximumConcurrency"]) if scaling.get("maximumConcurrency") else None,
                report_batch_item_failures="ReportBatchItemFailures" in (i.get("functionResponseTypes") or []),
            )
        )
    t.alarms = sorted((_alarm(r) for r in capture.of_type(ALARM)), key=lambda a: a.name)
    t.pipelines = capture.pipelines
    # Registration order under mocks is not deterministic; runs must be (same seed, same run).
    urls = [u for p in t.pipelines.values() for u in p.queue_urls.values()]
    t.mappings.sort(key=lambda m: (urls.index(m.queue.url) if m.queue.url in urls else len(urls), m.queue.name))
    return t
