"""DelayedRetry: main queue → retry tiers with growing delays → DLQ, one consumer reading them all.

A transient failure is moved to the next tier by an explicit SendMessage (the runtime's job), so
the tier's delay always applies, FIFO included (queue-level DelaySeconds). Each tier also redrives
to the DLQ: the safety net for crashes and timeouts that never reach the runtime's own decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import AlarmThresholds, RetryPipeline
from components.consumer import Consumer, ConsumerArgs, RetryTier, StackContext
from components.queue import DeadLetteredQueue, DeadLetteredQueueArgs


@dataclass(frozen=True)
class DelayedRetryArgs:
    pipeline: RetryPipeline
    name_prefix: str
    stack: StackContext
    alarms: AlarmThresholds


class DelayedRetry(pulumi.ComponentResource):
    queues: DeadLetteredQueue
    consumer: Consumer

    def __init__(self, name: str, args: DelayedRetryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:DelayedRetry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.pipeline
        base = f"{args.name_prefix}-{p.name}"
        self.queues = DeadLetteredQueue(
            name,
            DeadLetteredQueueArgs.for_consumer(
                base,
                p.consumer,
                alarm_topic_arn=args.stack.alarm_topic_arn,
                alarms=args.alarms,
                retry_delays=p.delays,
            ),
            opts=child,
        )
        tiers = [RetryTier(self.queues.sources[f"retry-{i}"], delay) for i, delay in enumerate(p.delays, start=1)]
        self.consumer = Consumer(
            name,
            ConsumerArgs(
                pipeline=p.name,
                function_name=base,
                settings=p.consumer,
                sources=self.queues.sources,
                dlq=self.queues.dlq,
                retry_tiers=tiers,
                stack=args.stack,
            ),
            opts=child,
        )
        self.register_outputs({"entry_queue_url": self.queues.queue.url})
