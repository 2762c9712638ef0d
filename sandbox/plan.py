"""No-cloud preview of a stack for pull requests: the resource tree and a Mermaid diagram of its pipelines.

Both are read from `stack_capture.capture_stack` (the real `__main__.py` under Pulumi mocks), never
from a second description of the topology:

- the tree follows each captured resource's parent URN;
- the diagram's edges follow what AWS would wire: a queue's `redrivePolicy` (its property dependency,
  or else the `deadLetterTargetArn`) → its DLQ; a subscription's `topic` → `endpoint`; an event source
  mapping's `eventSourceArn` → `functionName`; a function's `AP_NEXT_QUEUE_URL`, `AP_RETRY_TIERS` and
  `AP_DLQ_URL` environment variables (docs/contracts.md §1) → the queues with those URLs;
- a pipeline is a top-level component holding at least one queue; a disabled pipeline registers
  nothing, so it is absent;
- each pipeline's HTTP front door (auth, public, throttle, maxBodyBytes; `sandbox.front_door`), so a
  reviewer sees an `auth: none` API in the pull request.

    python -m sandbox plan --stack dev [--format text|mermaid|markdown] [--output plan.md]
    python -m sandbox.plan --stack dev            # the same, standalone
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract import aws
from sandbox import front_door
from stack_capture import Capture, CapturedResource, capture_stack

QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TABLE = "aws:dynamodb/table:Table"
KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"

FORMATS = ("text", "mermaid", "markdown")
PATTERN_LABELS = {"FanOut": "fan-out", "Chain": "chain", "DelayedRetry": "delayed retry"}

# Edge kinds. "Forward" edges carry messages along the happy path and order the nodes.
SUBSCRIBES, CONSUMES, NEXT, RETRY = "subscribes", "consumes", "next", "retry"
REDRIVE, PERMANENT = "redrive", "permanent"
FORWARD = (SUBSCRIBES, CONSUMES, NEXT, RETRY)
EDGE_RANK = {k: i for i, k in enumerate((SUBSCRIBES, CONSUMES, NEXT, RETRY, REDRIVE, PERMANENT))}


# --- flow graph -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    src: str
    """URN of the node messages leave."""
    dst: str
    """URN of the node messages arrive at."""
    kind: str
    label: str = ""
    via: str | None = None
    """URN of the resource that makes the edge (subscription, mapping), if not src itself."""


@dataclass
class Pipeline:
    urn: str
    name: str
    pattern: str
    nodes: list[str] = field(default_factory=list)
    """Topics, queues and functions in flow order (entry first, DLQs after their first source)."""


@dataclass
class FlowGraph:
    """The pipelines of a capture as a graph: nodes are topics, queues and functions; edges carry messages."""

    capture: Capture
    by_urn: dict[str, CapturedResource]
    edges: list[Edge]
    dlqs: set[str]
    pipelines: list[Pipeline]
    order: dict[str, int]
    """Flow position of every node over all pipelines; orders the tree too."""
    warnings: list[str]

    def out_edges(self, urn: str, kind: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.src == urn and (kind is None or e.kind == kind)]

    def in_edges(self, urn: str, kind: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.dst == urn and (kind is None or e.kind == kind)]


def _natural(text: str) -> list[Any]:
    """`retry-2` before `retry-10`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _num(value: Any) -> Any:
    """The engine hands numbers over as floats: 180.0 → 180."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def physical_name(r: CapturedResource) -> str:
    return str(r.outputs.get("name") or r.inputs.get("name") or r.name)


def _env(r: CapturedResource) -> dict[str, Any]:
    environment = r.inputs.get("environment") or {}
    return dict(environment.get("variables") or {}) if isinstance(environment, dict) else {}


class _Index:
    """Lookups by the attributes other resources reference them with."""

    def __init__(self, capture: Capture) -> None:
        self.by_urn = {r.urn: r for r in capture.resources}
        self.by_value: dict[tuple[str, str], str] = {}
        for r in capture.resources:
            for attr in ("arn", "url", "name", "id"):
                value = r.outputs.get(attr)
                if isinstance(value, str):
                    self.by_value.setdefault((r.type, value), r.urn)

    def resolve(self, r: CapturedResource, prop: str, types: Sequence[str]) -> str | None:
        """The resource of one of `types` that input `prop` of `r` refers to: property dependency, else value."""
        for urn in r.property_dependencies.get(prop, []):
            target = self.by_urn.get(urn)
            if target is not None and target.type in types:
                return urn
        return self.find(r.inputs.get(prop), types)

    def find(self, value: Any, types: Sequence[str]) -> str | None:
        if not isinstance(value, str):
            return None
        for t in types:
            urn = self.by_value.get((t, value))
            if urn is not None:
                return urn
        return None


def build_flow_graph(capture: Capture) -> FlowGraph:
    """Nodes, edges and pipelines of `capture`, from the captured inputs and dependencies only."""
    index = _Index(capture)
    edges: list[Edge] = []
    warnings: list[str] = []
    dlqs: set[str] = set()
    resources = sorted(capture.resources, key=lambda r: (r.type, _natural(r.name)))

    for r in resources:
        if r.type == QUEUE and r.inputs.get("redrivePolicy"):
            policy = _json(r.inputs["redrivePolicy"]) or {}
            dlq = index.resolve(r, "redrivePolicy", [QUEUE]) or index.find(policy.get("deadLetterTargetArn"), [QUEUE])
            if dlq is None:
                warnings.append(f"{r.name}: redrive target {policy.get('deadLetterTargetArn')!r} is not in the stack")
                continue
            dlqs.add(dlq)
            receives = _num(policy.get("maxReceiveCount"))
            edges.append(Edge(r.urn, dlq, REDRIVE, f"after {receives} receives" if receives else "redrive"))
        elif r.type == SUBSCRIPTION and r.inputs.get("protocol") == "sqs":
            topic = index.resolve(r, "topic", [TOPIC])
            queue = index.resolve(r, "endpoint", [QUEUE])
            if topic is None or queue is None:
                warnings.append(f"{r.name}: subscription endpoints not in the stack")
                continue
            edges.append(Edge(topic, queue, SUBSCRIBES, subscription_filter(r), via=r.urn))
        elif r.type == MAPPING:
            queue = index.resolve(r, "eventSourceArn", [QUEUE])
            function = index.resolve(r, "functionName", [FUNCTION])
            if queue is None or function is None:
                warnings.append(f"{r.name}: event source or function not in the stack")
                continue
            edges.append(Edge(queue, function, CONSUMES, mapping_summary(r, short=True), via=r.urn))
        elif r.type == FUNCTION:
            env = _env(r)
            if env.get("AP_NEXT_QUEUE_URL"):
                target = index.find(env["AP_NEXT_QUEUE_URL"], [QUEUE])
                if target is None:
                    warnings.append(f"{r.name}: AP_NEXT_QUEUE_URL {env['AP_NEXT_QUEUE_URL']} is not in the stack")
                else:
                    edges.append(Edge(r.urn, target, NEXT, "returns"))
            tiers = _json(env.get("AP_RETRY_TIERS")) or []
            for i, tier in enumerate(tiers, start=1):
                target = index.find(tier.get("url"), [QUEUE])
                if target is None:
                    warnings.append(f"{r.name}: retry tier {i} {tier.get('url')} is not in the stack")
                    continue
                edges.append(Edge(r.urn, target, RETRY, f"retry {i} · delay {_num(tier.get('delay'))} s"))
            if env.get("AP_DLQ_URL"):
                target = index.find(env["AP_DLQ_URL"], [QUEUE])
                if target is None:
                    warnings.append(f"{r.name}: AP_DLQ_URL {env['AP_DLQ_URL']} is not in the stack")
                else:
                    dlqs.add(target)
                    label = "permanent, retries exhausted" if tiers else "permanent"
                    edges.append(Edge(r.urn, target, PERMANENT, label))

    pipelines = _pipelines(index.by_urn, edges, dlqs)
    order: dict[str, int] = {}
    for p in pipelines:
        for urn in p.nodes:
            order.setdefault(urn, len(order))
    return FlowGraph(capture, index.by_urn, edges, dlqs, pipelines, order, warnings)


def _top_level(urn: str, by_urn: dict[str, CapturedResource]) -> str:
    while (parent := by_urn[urn].parent) in by_urn:
        assert parent is not None
        urn = parent
    return urn


def _pipelines(by_urn: dict[str, CapturedResource], edges: list[Edge], dlqs: set[str]) -> list[Pipeline]:
    """Group flow nodes by their top-level component; order each group along its forward edges."""
    flow_types = (TOPIC, QUEUE, FUNCTION)
    groups: dict[str, list[str]] = defaultdict(list)
    for urn, r in by_urn.items():
        if r.type in flow_types:
            groups[_top_level(urn, by_urn)].append(urn)

    def node_key(urn: str) -> tuple[Any, ...]:
        r = by_urn[urn]
        return (flow_types.index(r.type), urn in dlqs, _natural(r.name))

    forward: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        if e.kind in FORWARD:
            forward[e.src].append(e)
    # Retry edges keep the AP_RETRY_TIERS order (they were appended in it); others go by target name.
    for out in forward.values():
        out.sort(key=lambda e: (EDGE_RANK[e.kind], 0 if e.kind == RETRY else node_key(e.dst)))
    redrive_of: dict[str, list[str]] = defaultdict(list)
    for e in sorted(edges, key=lambda e: node_key(e.dst)):
        if e.kind == REDRIVE:
            redrive_of[e.src].append(e.dst)

    pipelines = []
    for top, members in groups.items():
        if not any(by_urn[m].type == QUEUE for m in members):
            continue  # the alarm topic: shared, not a pipeline
        member_set = set(members)
        has_incoming = {e.dst for e in edges if e.kind in FORWARD and e.src in member_set}
        entries = sorted((m for m in members if m not in has_incoming and m not in dlqs), key=node_key)
        ordered: list[str] = []
        seen: set[str] = set()
        queue = deque(entries)
        while queue or len(seen) < len(members):
            if not queue:  # a cycle without an entry, or an isolated node: continue with the first left
                queue.append(min(member_set - seen, key=node_key))
            urn = queue.popleft()
            if urn in seen:
                continue
            seen.add(urn)
            ordered.append(urn)
            for dlq in redrive_of.get(urn, []):
                if dlq not in seen and dlq in member_set:
                    seen.add(dlq)
                    ordered.append(dlq)
            queue.extend(e.dst for e in forward.get(urn, []) if e.dst in member_set and e.dst not in seen)
        component = by_urn[top]
        kind = component.type.rsplit(":", 1)[-1]
        pipelines.append(Pipeline(top, component.name, PATTERN_LABELS.get(kind, kind), ordered))
    return sorted(pipelines, key=lambda p: _natural(p.name))


# --- key settings -----------------------------------------------------------------------------


def short_type(type_: str) -> str:
    """`aws:sqs/queue:Queue` → `sqs:Queue`; `async-pipelines:index:FanOut` → `FanOut`."""
    package, module, name = [*type_.split(":"), "", ""][:3]
    if package == "aws":
        return f"{module.split('/')[0]}:{name}"
    return name or type_


def _seconds(value: Any) -> str:
    return f"{_num(value)} s"


def _days(value: Any) -> str:
    seconds = _num(value)
    if isinstance(seconds, int) and seconds % 86_400 == 0:
        return f"{seconds // 86_400} d"
    return f"{seconds} s"


def filter_text(policy: Any) -> str:
    """A filter policy without JSON punctuation: `type: [order_created, order_amended]`."""

    def fmt(node: Any) -> str:
        if isinstance(node, dict):
            return "{" + "; ".join(f"{k}: {fmt(v)}" for k, v in node.items()) + "}"
        if isinstance(node, list):
            return "[" + ", ".join(fmt(v) for v in node) + "]"
        if isinstance(node, str):
            return node
        return json.dumps(node)

    if isinstance(policy, dict):
        return "; ".join(f"{k}: {fmt(v)}" for k, v in policy.items())
    return fmt(policy)


def subscription_filter(r: CapturedResource) -> str:
    policy = _json(r.inputs.get("filterPolicy"))
    if not policy:
        return ""
    scope = r.inputs.get("filterPolicyScope") or "MessageAttributes"
    where = "body" if scope == "MessageBody" else "attributes"
    return f"{where} {filter_text(policy)}"


def mapping_summary(r: CapturedResource, *, short: bool = False) -> str:
    parts = [f"batch {_num(r.inputs.get('batchSize', aws.ESM_BATCH_SIZE_DEFAULT))}"]
    window = _num(r.inputs.get("maximumBatchingWindowInSeconds") or 0)
    if window:
        parts.append(f"window {window} s")
    concurrency = (r.inputs.get("scalingConfig") or {}).get("maximumConcurrency")
    if concurrency:
        parts.append(f"max concurrency {_num(concurrency)}")
    if not short:
        if "ReportBatchItemFailures" in (r.inputs.get("functionResponseTypes") or []):
            parts.append("partial batch failures")
        else:
            parts.append("NO partial batch failures")
    return " · ".join(parts)


def _mask(endpoint: Any) -> str:
    """Email endpoints may come from secret config: keep the domain only."""
    text = str(endpoint)
    if "@" in text:
        return "…@" + text.split("@", 1)[1]
    return text


def _queue_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    i = r.inputs
    parts: list[Any] = [
        physical_name(r),
        "FIFO" if i.get("fifoQueue") else "standard",
        f"visibility {_seconds(i.get('visibilityTimeoutSeconds', aws.SQS_VISIBILITY_TIMEOUT_DEFAULT))}",
        f"retention {_days(i.get('messageRetentionSeconds', aws.SQS_RETENTION_DEFAULT))}",
        f"delay {_seconds(i.get('delaySeconds', 0))}",
    ]
    for e in graph.out_edges(r.urn, REDRIVE):
        policy = _json(i.get("redrivePolicy")) or {}
        parts.append(f"maxReceiveCount {_num(policy.get('maxReceiveCount'))} → DLQ {name_of[e.dst]}")
    if r.urn in graph.dlqs:
        sources = sorted({name_of[e.src] for e in graph.in_edges(r.urn, REDRIVE)}, key=_natural)
        parts.append(f"DLQ of {', '.join(sources) or 'functions only'}")
    return parts


def _topic_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    i = r.inputs
    return [physical_name(r), "FIFO" if i.get("fifoTopic") else "standard"] + (
        ["SSE"] if i.get("kmsMasterKeyId") else []
    )


def _subscription_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    i = r.inputs
    target = next((e.dst for e in graph.edges if e.via == r.urn), None)
    endpoint = name_of[target] if target else _mask(i.get("endpoint"))
    parts: list[Any] = [f"{i.get('protocol')} → {endpoint}"]
    policy = _json(i.get("filterPolicy"))
    if policy:
        parts.append(f"filter ({i.get('filterPolicyScope') or 'MessageAttributes'}) {filter_text(policy)}")
    else:
        parts.append("no filter")
    if i.get("rawMessageDelivery"):
        parts.append("raw delivery")
    return parts


def _function_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    i = r.inputs
    env = _env(r)
    parts: list[Any] = [
        physical_name(r),
        f"handler {env.get('AP_HANDLER', i.get('handler'))}",
        f"timeout {_seconds(i.get('timeout', aws.LAMBDA_TIMEOUT_DEFAULT))}",
        f"memory {_num(i.get('memorySize', aws.LAMBDA_MEMORY_DEFAULT))} MB",
    ]
    if i.get("architectures"):
        parts.append("/".join(i["architectures"]))
    labels = {NEXT: "next", RETRY: "retry", PERMANENT: "DLQ"}
    for kind in (NEXT, RETRY, PERMANENT):
        targets = [
            name_of[e.dst] + (f" ({e.label.split(' · ')[-1]})" if kind == RETRY else "")
            for e in graph.out_edges(r.urn, kind)
        ]
        if targets:
            parts.append(f"{labels[kind]} → {', '.join(targets)}")
    return parts


def _mapping_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    edge = next((e for e in graph.edges if e.via == r.urn), None)
    return ([f"{name_of[edge.src]} → {name_of[edge.dst]}"] if edge else []) + [mapping_summary(r)]


COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": "≥",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "≤",
}


def _alarm_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    i = r.inputs
    dims = ",".join(str(v) for v in (i.get("dimensions") or {}).values())
    op = COMPARISONS.get(str(i.get("comparisonOperator")), i.get("comparisonOperator"))
    parts: list[Any] = [
        f"{i.get('namespace')} {i.get('metricName')}({dims}) {i.get('statistic')} {op} {_num(i.get('threshold'))}",
        f"{_num(i.get('evaluationPeriods'))} × {_seconds(i.get('period'))}",
    ]
    if i.get("treatMissingData"):
        parts.append(f"missing data {i['treatMissingData']}")
    return parts


def _log_group_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    return [physical_name(r), f"retention {_num(r.inputs.get('retentionInDays'))} d"]


def _table_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    ttl = (r.inputs.get("ttl") or {}).get("attributeName")
    return [physical_name(r), f"key {r.inputs.get('hashKey')}"] + ([f"TTL {ttl}"] if ttl else [])


def _key_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    return ["rotation on" if r.inputs.get("enableKeyRotation") else "rotation OFF"]


def _bucket_settings(r: CapturedResource, graph: FlowGraph, name_of: dict[str, str]) -> list[Any]:
    return [str(r.outputs.get("bucket") or r.name)]


SETTINGS: dict[str, Callable[[CapturedResource, FlowGraph, dict[str, str]], list[Any]]] = {
    QUEUE: _queue_settings,
    TOPIC: _topic_settings,
    SUBSCRIPTION: _subscription_settings,
    FUNCTION: _function_settings,
    MAPPING: _mapping_settings,
    ALARM: _alarm_settings,
    LOG_GROUP: _log_group_settings,
    TABLE: _table_settings,
    KEY: _key_settings,
    BUCKET: _bucket_settings,
}
"""Per resource type, the settings a reviewer checks."""


def settings(r: CapturedResource, graph: FlowGraph) -> str:
    """The settings a reviewer checks, one line."""
    describe = SETTINGS.get(r.type)
    if describe is None:
        return ""
    name_of = {urn: res.name for urn, res in graph.by_urn.items()}
    return " · ".join(str(p) for p in describe(r, graph, name_of))


# --- rendering ----------------------------------------------------------------------------------

TYPE_RANK = {t: i for i, t in enumerate((TOPIC, SUBSCRIPTION, QUEUE, FUNCTION, MAPPING))}


def render_tree(graph: FlowGraph) -> str:
    capture = graph.capture
    children: dict[str | None, list[CapturedResource]] = defaultdict(list)
    for r in capture.resources:
        children[r.parent if r.parent in graph.by_urn else None].append(r)

    pipeline_urns = {p.urn for p in graph.pipelines}
    via = {e.via: e.dst for e in graph.edges if e.via}
    rank_cache: dict[str, float] = {}

    def rank(r: CapturedResource) -> float:
        """Flow position of the resource, or of the earliest flow node below it."""
        if r.urn not in rank_cache:
            own = graph.order.get(r.urn, graph.order.get(via.get(r.urn, ""), float("inf")))
            rank_cache[r.urn] = min([own, *(rank(c) for c in children.get(r.urn, []))])
        return rank_cache[r.urn]

    def key(r: CapturedResource) -> tuple[Any, ...]:
        return (r.urn in pipeline_urns, rank(r), TYPE_RANK.get(r.type, len(TYPE_RANK)), _natural(r.name))

    pipelines = ", ".join(f"{p.name} ({p.pattern})" for p in graph.pipelines) or "none"
    lines = [
        f"stack {capture.stack} · {capture.region} · {len(capture.resources)} resources · pipelines: {pipelines}"
    ]

    def walk(parent: str | None, prefix: str) -> None:
        kids = sorted(children.get(parent, []), key=key)
        for n, r in enumerate(kids):
            last = n == len(kids) - 1
            detail = settings(r, graph)
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{short_type(r.type)} {r.name}"
                         + (f"  {detail}" if detail else ""))
            walk(r.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    lines += [f"warning: {w}" for w in graph.warnings]
    return "\n".join(lines) + "\n"


def _mm(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    for char, entity in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;")):
        text = text.replace(char, entity)
    return text


def _node_id(r: CapturedResource, used: set[str]) -> str:
    prefix = {TOPIC: "t", QUEUE: "q", FUNCTION: "fn"}[r.type]
    base = f"{prefix}_{re.sub(r'[^A-Za-z0-9]', '_', r.name)}"
    node_id, n = base, 2
    while node_id in used:
        node_id, n = f"{base}_{n}", n + 1
    used.add(node_id)
    return node_id


def _node(graph: FlowGraph, urn: str, node_id: str) -> str:
    r = graph.by_urn[urn]
    lines = [physical_name(r)]
    if r.type == TOPIC:
        lines.append("SNS topic" + (" · FIFO" if r.inputs.get("fifoTopic") else ""))
        return f'{node_id}{{{{"{"<br/>".join(map(_mm, lines))}"}}}}'
    if r.type == FUNCTION:
        lines.append(f"λ {_env(r).get('AP_HANDLER', r.inputs.get('handler'))}")
        return f'{node_id}(["{"<br/>".join(map(_mm, lines))}"])'
    fifo = " · FIFO" if r.inputs.get("fifoQueue") else ""
    if urn in graph.dlqs:
        lines.append(f"DLQ{fifo}")
        return f'{node_id}[("{"<br/>".join(map(_mm, lines))}")]'
    delay = _num(r.inputs.get("delaySeconds") or 0)
    lines.append(f"SQS queue{fifo}" + (f" · delay {delay} s" if delay else ""))
    return f'{node_id}["{"<br/>".join(map(_mm, lines))}"]'


def render_mermaid(graph: FlowGraph) -> str:
    """`flowchart LR`, one subgraph per enabled pipeline; solid = messages, dotted = failures."""
    lines = ["flowchart LR"]
    used: set[str] = set()
    ids: dict[str, str] = {}
    for p in graph.pipelines:
        for urn in p.nodes:
            ids[urn] = _node_id(graph.by_urn[urn], used)
    for p in graph.pipelines:
        sub_id = re.sub(r"[^A-Za-z0-9]", "_", f"pipeline_{p.name}")
        lines.append(f'  subgraph {sub_id}["{_mm(f"{p.name} · {p.pattern}")}"]')
        lines.append("    direction LR")
        lines += [f"    {_node(graph, urn, ids[urn])}" for urn in p.nodes]
        members = set(p.nodes)
        edges = [e for e in graph.edges if e.src in members and e.dst in ids]
        edges.sort(key=lambda e: (graph.order[e.src], EDGE_RANK[e.kind], graph.order[e.dst]))
        for e in edges:
            arrow = "-.->" if e.kind in (REDRIVE, PERMANENT) else "-->"
            label = f'|"{_mm(e.label)}"|' if e.label else ""
            lines.append(f"    {ids[e.src]} {arrow}{label} {ids[e.dst]}")
        lines.append("  end")
    dlq_ids = sorted(ids[u] for u in graph.dlqs if u in ids)
    if dlq_ids:
        lines.append("  classDef dlq fill:#fdecea,stroke:#c0392b,color:#7b241c")
        lines.append(f"  class {','.join(dlq_ids)} dlq")
    for w in graph.warnings:
        lines.append(f"  %% warning: {w}")
    return "\n".join(lines) + "\n"


def render_text(graph: FlowGraph) -> str:
    """The resource tree, then every pipeline's HTTP front door."""
    return render_tree(graph) + "\n" + front_door.text(front_door.front_doors(graph.capture.config))


def render_markdown(graph: FlowGraph) -> str:
    capture = graph.capture
    counts = Counter(short_type(r.type) for r in capture.resources)
    summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    pipelines = ", ".join(f"`{p.name}` ({p.pattern})" for p in graph.pipelines) or "none"
    parts = [
        f"### Plan of stack `{capture.stack}` ({capture.region}): no cloud, from the program under mocks\n",
        f"**{len(capture.resources)} resources**: {summary}\n",
        f"**Pipelines**: {pipelines}\n",
        "Solid arrows carry messages (subscription filter, batch settings, next stage, retry tier); "
        "dotted arrows lead to dead-letter queues.\n",
        "```mermaid\n" + render_mermaid(graph) + "```\n",
        "**HTTP front doors**\n",
        front_door.markdown(front_door.front_doors(capture.config)),
        f"<details><summary>Resource tree ({len(capture.resources)})</summary>\n",
        "```text\n" + render_text(graph) + "```\n",
        "</details>\n",
    ]
    return "\n".join(parts)


def render(capture: Capture, fmt: str = "markdown") -> str:
    graph = build_flow_graph(capture)
    if fmt == "text":
        return render_text(graph)
    if fmt == "mermaid":
        return render_mermaid(graph)
    if fmt == "markdown":
        return render_markdown(graph)
    raise ValueError(f"unknown format {fmt!r}; allowed {', '.join(FORMATS)}")


# --- command line ---------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    """`sandbox plan`: 0 on success, 2 on an unknown stack or an invalid stack config."""
    from stack_capture.stack_errors import report_stack_error, stack_error_types

    stack: str = args.stack
    fmt: str = getattr(args, "format", None) or "markdown"
    output: str | None = getattr(args, "output", None)
    try:
        capture = capture_stack(stack, project_dir=getattr(args, "project_dir", None))
    except stack_error_types() as error:
        return report_stack_error(stack, error)
    text = render(capture, fmt)
    if output and output != "-":
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from stack_capture.cli import add_stack_arguments

    add_stack_arguments(parser, default=None)
    parser.add_argument("--output", default=None, help="file to write (default: stdout)")
    parser.add_argument("--format", choices=FORMATS, default="markdown",
                        help="text = resource tree and front doors, mermaid = diagram, markdown = all (default)")


def cli(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.plan", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return main(parser.parse_args(None if argv is None else list(argv)))


if __name__ == "__main__":
    sys.exit(cli())
