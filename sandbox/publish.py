"""Publish messages through each pipeline's real entry, in waves, and say where each one should land.

The entry is the stack output `pipelines.<name>.entry`: a topic ARN -> SNS `PublishBatch` (moto fans
it out to the subscribed queues, applying raw delivery and filter policies), a queue URL -> SQS
`SendMessageBatch`, both sent by the `producer` package (the library users' services use). Waves keep
queues shallow: moto's ReceiveMessage scans the whole queue, so its
cost grows with depth (design.md §6); the engine publishes the next wave only when the previous one
has been handled as far as it can be right now.

Routing (which consumers must account for a message) is computed here with moto's own SNS filter
matcher, so a subscriber that a filter policy excludes counts the message as *filtered*, not lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from moto.sns.utils import FilterPolicyMatcher

from contract.runtime import PROBE
from producer import Entry, Producer, RetryPolicy, SendError
from producer import Message as ProducerMessage
from sandbox.clients import AwsClients
from sandbox.messages import Message, filter_attributes
from sandbox.topology import Topology
from stack_capture import PipelineOutputs


@dataclass(frozen=True)
class Route:
    consumer: str
    """`<pipeline>.<consumer>`: the runtime's scope, the ledger's key."""
    filtered: bool


def consumer_of_queue(topology: Topology) -> dict[str, str]:
    """Queue ARN -> scope of the function its event source mapping invokes."""
    return {
        m.queue.arn: f"{m.function.pipeline}.{m.function.consumer}" for m in topology.mappings
    }


def routes(topology: Topology, pipeline: PipelineOutputs, message: Message) -> list[Route]:
    """Consumers that receive `message` at the pipeline's entry (fan-out: one per subscription)."""
    return routes_of(topology, pipeline, dict(filter_attributes(message)), message.body)


def routes_of_record(topology: Topology, pipeline: PipelineOutputs, record: dict[str, Any]) -> list[Route]:
    """The same for a message only seen as a Lambda SQS record (sent around the sandbox, e.g. through
    `serve --aws-port`): raw delivery hands subscribers the published body and attributes unchanged."""
    attributes = {
        name: {"Type": a.get("dataType", "String"), "Value": a.get("stringValue")}
        for name, a in (record.get("messageAttributes") or {}).items()
        if isinstance(a, dict)
    }
    return routes_of(topology, pipeline, attributes, str(record.get("body", "")))


def routes_of(
    topology: Topology, pipeline: PipelineOutputs, attributes: dict[str, dict[str, Any]], body: str
) -> list[Route]:
    """Routing from the attributes as moto's SNS filter matcher reads them ({"Type", "Value"}) and the body."""
    consumers = consumer_of_queue(topology)
    if not pipeline.entry_is_topic:
        queue = topology.queue_by_url(pipeline.entry)
        return [Route(consumers[queue.arn], False)] if queue.arn in consumers else []
    # a probe's own attribute (seen in records of probes sent around the sandbox): no filter names it
    attributes = {name: value for name, value in attributes.items() if name != PROBE}
    out = []
    for sub in topology.subscriptions:
        if sub.topic_arn != pipeline.entry or sub.protocol != "sqs" or sub.endpoint not in consumers:
            continue
        matched = True
        if sub.filter_policy:
            matcher = FilterPolicyMatcher(sub.filter_policy, sub.filter_scope)
            matched = matcher.matches(attributes, body)
        out.append(Route(consumers[sub.endpoint], not matched))
    return out


def entry_queue_arns(topology: Topology, pipeline: PipelineOutputs) -> set[str]:
    """The queues a message sent to the pipeline's entry lands in first (its subscriptions, or the queue)."""
    if not pipeline.entry_is_topic:
        return {topology.queue_by_url(pipeline.entry).arn}
    return {s.endpoint for s in topology.subscriptions if s.topic_arn == pipeline.entry and s.protocol == "sqs"}


class Publisher:
    """Sends `messages` in waves; calls `accepted(message, routes, at)` for each message the entry took.

    The sends themselves are the `producer` package's (one implementation of the producer rules:
    batching within AWS's limits, retrying only failed entries, `ap-message-id`, FIFO group and
    deduplication id, large bodies through S3), with the sandbox's clients and `retry` policy.
    """

    def __init__(
        self,
        topology: Topology,
        aws: AwsClients,
        messages: list[Message],
        accepted: Callable[[Message, list[Route]], None],
        wave: int = 50,
        retry: RetryPolicy | None = None,
        scope: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        """`scope()` is entered around every send (the API faults of `--api-fault-rate` apply inside)."""
        self.topology = topology
        self.scope = scope
        self.rejected: list[tuple[Message, str]] = []
        """Messages the entry never accepted (the producer raised after its retries): not tracked, reported."""
        self.pending = list(messages)
        self.accepted = accepted
        self.wave = max(1, wave)
        self.sent = 0
        self.producer = Producer(
            [Entry(name, p.entry, p.large_message_bucket) for name, p in topology.pipelines.items()],
            clients={"sqs": aws.sqs, "sns": aws.sns, "s3": aws.s3},
            region=topology.region,
            retry=retry,
        )

    @property
    def done(self) -> bool:
        return not self.pending

    def _send_probe(self, pipeline: str, m: Message, probe: str) -> dict[int, str]:
        """A smoke probe (sandbox/probes.py) goes out as `ops.smoke` sends it: the producer's `send_probe`."""
        try:
            with self.scope():
                self.producer.send_probe(pipeline, probe, body=json.loads(m.body), attributes=m.attributes)
        except SendError as exc:
            return {id(m): str(exc)}
        return {}

    def publish_wave(self) -> int:
        """Publish the next wave; returns how many messages went out."""
        wave, self.pending = self.pending[: self.wave], self.pending[self.wave :]
        by_pipeline: dict[str, list[Message]] = {}
        for m in wave:
            by_pipeline.setdefault(m.pipeline, []).append(m)
        for name, messages in by_pipeline.items():
            pipeline = self.topology.pipelines[name]
            fifo = self.producer.entry(name).fifo
            business = [m for m in messages if m.probe is None]
            outgoing = [
                ProducerMessage(m.body, m.attributes, (m.group or m.pipeline) if fifo else None, m.logical_id)
                for m in business
            ]
            failed: dict[int, str] = {}
            try:
                if outgoing:
                    with self.scope():
                        self.producer.send_many(name, outgoing)
            except SendError as exc:
                failed = {id(business[f.index]): str(f) for f in exc.failed}
            for m in messages:
                if m.probe is not None:
                    failed.update(self._send_probe(name, m, m.probe))
            for m in messages:
                if id(m) in failed:
                    self.rejected.append((m, failed[id(m)]))
                else:
                    self.accepted(m, routes(self.topology, pipeline, m))
        self.sent += len(wave)
        return len(wave)
