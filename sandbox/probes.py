"""Smoke probes as sandbox messages: how a pipeline without sample messages is still exercised.

A probe (`ap-probe`, docs/contracts.md §7) takes the request path of a successful message - through the
pipeline's real entry, past every fan-out filter it is built to match (`ops.probe_filters`), received
by the event source mapping, answered by the runtime (handler import check, next-stage send, a receipt
PutItem), deleted - without running the business function. `ops.smoke` sends the same probes to a
deployed stack; `sandbox cost` measures with them when a pipeline has no samples, and says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from contract.runtime import PROBE
from ops.probe_filters import matching_probe
from sandbox.messages import MessageSpec
from sandbox.topology import Topology


def _probe_id(pipeline: str, n: int) -> str:
    return hashlib.sha1(f"{pipeline}:{n}".encode()).hexdigest()[:16]


def probe_messages(topology: Topology, pipelines: Iterable[str]) -> list[MessageSpec]:
    """One probe per pipeline; on a fan-out topic one per distinct subscription filter (each passes it)."""
    specs: list[MessageSpec] = []
    for name in pipelines:
        pipeline = topology.pipelines[name]
        shapes: list[tuple[dict[str, object], dict[str, object]]] = [({}, {})]
        if pipeline.entry_is_topic:
            shapes = []
            for sub in topology.subscriptions:
                if sub.topic_arn != pipeline.entry or sub.protocol != "sqs":
                    continue
                built = matching_probe(sub.filter_policy, sub.filter_scope)
                if built is not None and built not in shapes:
                    shapes.append(built)
        for n, (attributes, body) in enumerate(shapes):
            probe = _probe_id(name, n)
            specs.append(
                MessageSpec(
                    pipeline=name,
                    body=dict(body),  # `send_probe` adds the probe field itself
                    attributes={**attributes, PROBE: probe},  # carried to `messages.build` as Message.probe
                    group=f"probe-{probe}",
                    idempotency_key=f"probe-{probe}",  # the ap-message-id `send_probe` gives it
                    where=f"smoke probe {n + 1} of {name}",
                )
            )
    return specs
