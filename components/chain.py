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
    stack: StackContext
    alarms: AlarmThresholds


class Chain(pulumi.ComponentResource):
    """Each stage may send only to the next stage's queue and its own DLQ (its role says so)."""

    queues: list[DeadLetteredQueue]
    consumers: list[Consumer]

    def __init__(self, name: str, args: ChainArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:Chain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.pipeline
        base = f"{args.name_prefix}-{p.name}"
        # Queues first, so that each stage can be wired to its successor.
        self.queues = [
            DeadLetteredQueue(
                f"{name}-{s.name}",
                DeadLetteredQueueArgs.for_consumer(
                    f"{base}-{s.name}", s, alarm_topic_arn=args.stack.alarm_topic_arn, alarms=args.alarms
                ),
                opts=child,
            )
            for s in p.stages
        ]
        self.consumers = []
        for i, (s, queue) in enumerate(zip(p.stages, self.queues, strict=True)):
            nxt = self.queues[i + 1].queue if i + 1 < len(self.queues) else None
            self.consumers.append(
                Consumer(
                    f"{name}-{s.name}",
                    ConsumerArgs(
                        pipeline=p.name,
                        function_name=f"{base}-{s.name}",
                        settings=s,
                        sources={"main": queue.queue},
                        dlq=queue.dlq,
                        next_queue=nxt,
                        stack=args.stack,
                    ),
                    opts=child,
                )
            )
        self.register_outputs({"entry_queue_url": self.queues[0].queue.url})
