"""Chain: queue 1 → stage 1 → queue 2 → stage 2 → …, every stage with its own DLQ."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import AlarmThresholds, ChainPipeline
from components.consumer import Consumer, ConsumerArgs, StackContext
from components.queue import DeadLetteredQueue, DeadLetteredQueueArgs


@dataclass(frozen=True)
class ChainArgs:
    pipeline: ChainPipeline
    name_prefix: str
    stack_context: StackContext
    alarms: AlarmThresholds


class Chain(pulumi.ComponentResource):
    """Each stage may send only to the next stage's queue and its own DLQ (its role says so)."""

    queues: dict[str, DeadLetteredQueue]
    """By stage name, in flow order (the first is the entry); the same shape on every pattern."""
    consumers: dict[str, Consumer]

    def __init__(self, name: str, args: ChainArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:Chain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.pipeline
        base = f"{args.name_prefix}-{p.name}"
        # Queues first, so that each stage can be wired to its successor.
        self.queues = {
            s.name: DeadLetteredQueue(
                f"{name}-{s.name}",
                DeadLetteredQueueArgs.for_consumer(
                    f"{base}-{s.name}", s, alarm_topic_arn=args.stack_context.alarm_topic_arn, alarms=args.alarms
                ),
                opts=child,
            )
            for s in p.stages
        }
        queues = list(self.queues.values())
        self.consumers = {}
        for i, (s, queue) in enumerate(zip(p.stages, queues, strict=True)):
            nxt = queues[i + 1].queue if i + 1 < len(queues) else None
            self.consumers[s.name] = Consumer(
                f"{name}-{s.name}",
                ConsumerArgs(
                    pipeline=p.name,
                    function_name=f"{base}-{s.name}",
                    settings=s,
                    sources={"main": queue.queue},
                    dlq=queue.dlq,
                    next_queue=nxt,
                    stack_context=args.stack_context,
                ),
                opts=child,
            )
        self.register_outputs({"entry_queue_url": queues[0].queue.url})
