"""DelayedRetry: main queue → retry tiers with growing delays → DLQ, one consumer reading them all.

A transient failure is moved to the next tier by an explicit SendMessage (the runtime's job), so
the tier's delay always applies, FIFO included (queue-level DelaySeconds). Each tier also redrives
to the DLQ: the safety net for crashes and timeouts that never reach the runtime's own decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import AlarmThresholds, RetryPipeline
from components.consumer import Consumer, ConsumerArgs, RetryTierQueue, StackContext
from components.queue import DeadLetteredQueue, DeadLetteredQueueArgs


@dataclass(frozen=True)
class DelayedRetryArgs:
    pipeline: RetryPipeline
    name_prefix: str
    stack_context: StackContext
    alarms: AlarmThresholds


class DelayedRetry(pulumi.ComponentResource):
    queues: dict[str, DeadLetteredQueue]
    """By consumer name (one: main queue + tiers + DLQ); the same shape on every pattern."""
    consumers: dict[str, Consumer]

    def __init__(self, name: str, args: DelayedRetryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:DelayedRetry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.pipeline
        base = f"{args.name_prefix}-{p.name}"
        queues = DeadLetteredQueue(
            name,
            DeadLetteredQueueArgs.for_consumer(
                base,
                p.consumer,
                alarm_topic_arn=args.stack_context.alarm_topic_arn,
                alarms=args.alarms,
                retry_delays=p.delays,
            ),
            opts=child,
        )
        tiers = [RetryTierQueue(queues.sources[f"retry-{i}"], delay) for i, delay in enumerate(p.delays, start=1)]
        consumer = Consumer(
            name,
            ConsumerArgs(
                pipeline=p.name,
                function_name=base,
                settings=p.consumer,
                sources=queues.sources,
                dlq=queues.dlq,
                retry_tiers=tiers,
                stack_context=args.stack_context,
            ),
            opts=child,
        )
        self.queues, self.consumers = {p.consumer.name: queues}, {p.consumer.name: consumer}
        self.register_outputs({"entry_queue_url": queues.queue.url})
