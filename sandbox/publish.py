"""Publish messages through each pipeline's real entry, in waves, and say where each one should land.

The entry is the stack output `pipelines.<name>.entry`: a topic ARN -> SNS `PublishBatch` (moto fans
it out to the subscribed queues, applying raw delivery and filter policies), a queue URL -> SQS
`SendMessageBatch`. Waves keep queues shallow: moto's ReceiveMessage scans the whole queue, so its
cost grows with depth (design.md §6); the engine publishes the next wave only when the previous one
has been handled as far as it can be right now.

Routing (which consumers must account for a message) is computed here with moto's own SNS filter
matcher, so a subscriber that a filter policy excludes counts the message as *filtered*, not lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.sns.utils import FilterPolicyMatcher

from sandbox.clients import AwsClients
from sandbox.messages import Message, filter_attributes, message_attributes
from sandbox.topology import Topology
from stack_capture import PipelineOutputs

MAX_BATCH = 10


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
    consumers = consumer_of_queue(topology)
    if not pipeline.entry_is_topic:
        queue = topology.queue_by_url(pipeline.entry)
        return [Route(consumers[queue.arn], False)] if queue.arn in consumers else []
    out = []
    for sub in topology.subscriptions:
        if sub.topic_arn != pipeline.entry or sub.protocol != "sqs" or sub.endpoint not in consumers:
            continue
        matched = True
        if sub.filter_policy:
            matcher = FilterPolicyMatcher(sub.filter_policy, sub.filter_scope)
            matched = matcher.matches(dict(filter_attributes(message)), message.body)
        out.append(Route(consumers[sub.endpoint], not matched))
    return out


class Publisher:
    """Sends `messages` in waves; calls `accepted(message, routes, at)` for each message the entry took."""

    def __init__(
        self,
        topology: Topology,
        aws: AwsClients,
        messages: list[Message],
        accepted: Callable[[Message, list[Route]], None],
        wave: int = 50,
    ) -> None:
        self.topology = topology
        self.aws = aws
        self.pending = list(messages)
        self.accepted = accepted
        self.wave = max(1, wave)
        self.sent = 0

    @property
    def done(self) -> bool:
        return not self.pending

    def publish_wave(self) -> int:
        """Publish the next wave; returns how many messages went out."""
        wave, self.pending = self.pending[: self.wave], self.pending[self.wave :]
        by_pipeline: dict[str, list[Message]] = {}
        for m in wave:
            by_pipeline.setdefault(m.pipeline, []).append(m)
        for name, messages in by_pipeline.items():
            pipeline = self.topology.pipelines[name]
            for start in range(0, len(messages), MAX_BATCH):
                chunk = messages[start : start + MAX_BATCH]
                if pipeline.entry_is_topic:
                    self._publish(pipeline, chunk)
                else:
                    self._send(pipeline, chunk)
                for m in chunk:
                    self.accepted(m, routes(self.topology, pipeline, m))
        self.sent += len(wave)
        return len(wave)

    def _fifo_fields(self, fifo: bool, m: Message) -> dict[str, Any]:
        if not fifo:
            return {}
        return {"MessageGroupId": m.group or m.pipeline, "MessageDeduplicationId": m.logical_id[:128]}

    def _publish(self, pipeline: PipelineOutputs, chunk: list[Message]) -> None:
        fifo = self.topology.topics[pipeline.entry].fifo
        entries = [
            {
                "Id": str(n),
                "Message": m.body,
                "MessageAttributes": message_attributes(m, sns=True),
                **self._fifo_fields(fifo, m),
            }
            for n, m in enumerate(chunk)
        ]
        response = self.aws.sns.publish_batch(TopicArn=pipeline.entry, PublishBatchRequestEntries=entries)
        _raise_failed(response, f"publish to {pipeline.entry}")

    def _send(self, pipeline: PipelineOutputs, chunk: list[Message]) -> None:
        fifo = self.topology.queue_by_url(pipeline.entry).fifo
        entries = [
            {
                "Id": str(n),
                "MessageBody": m.body,
                "MessageAttributes": message_attributes(m, sns=False),
                **self._fifo_fields(fifo, m),
            }
            for n, m in enumerate(chunk)
        ]
        response = self.aws.sqs.send_message_batch(QueueUrl=pipeline.entry, Entries=entries)
        _raise_failed(response, f"send to {pipeline.entry}")


def _raise_failed(response: dict[str, Any], what: str) -> None:
    failed = response.get("Failed") or []
    if failed:
        raise RuntimeError(f"{what}: {len(failed)} entries rejected: {json.dumps(failed)[:300]}")
