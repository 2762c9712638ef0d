"""DeadLetteredQueue: one or more source queues that redrive into one DLQ of the same type, with alarms.

Safe defaults live here, not in callers: SSE-SQS, an SSL-only policy merged with any SNS grants
into ONE policy per queue, a DLQ that keeps messages 14 days (never less than its sources), a
redrive-allow policy so that only these sources may use the DLQ, and alarms on DLQ size, queue
age and queue depth.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import defaults as d
from components import policy_documents as docs
from components.alarms import metric_alarm
from components.config import AlarmThresholds, ConsumerSettings


@dataclass(frozen=True)
class SourceQueue:
    """A queue that dead-letters into the shared DLQ."""

    key: str
    """Logical key inside the component: `main`, `retry-1`, …; also the physical-name suffix (except `main`)."""
    delay: int = d.DELAY
    """Queue-level DelaySeconds (0–900): how retry tiers hold messages back, FIFO included."""


@dataclass(frozen=True)
class DeadLetteredQueueArgs:
    name: str
    """Physical base name, e.g. `ap-dev-orders-billing`; `.fifo` is appended for FIFO queues."""
    alarm_topic_arn: pulumi.Input[str]
    """Topic every alarm of this component notifies."""
    fifo: bool = False
    """FIFO source queues get a FIFO DLQ (AWS requires the same type) and content-based deduplication."""
    visibility_timeout: int = d.default_visibility_timeout(d.TIMEOUT, d.BATCH_WINDOW)
    """Must be ≥ the consumer's timeout; default 6 × timeout + batch window (design.md §3)."""
    retention: int = d.RETENTION
    """Source retention in seconds; the DLQ keeps max(14 days, this)."""
    max_receive_count: int = d.MAX_RECEIVE_COUNT
    """Receives before SQS moves a message to the DLQ."""
    sources: Sequence[SourceQueue] = (SourceQueue("main"),)
    """The source queues; the first is the main one. Retry tiers add one each (at most 10 in all)."""
    sns_topic_arns: Sequence[pulumi.Input[str]] = ()
    """Topics allowed to SendMessage to the sources AND the DLQ (the DLQ takes SNS's undeliverable messages)."""
    alarms: AlarmThresholds = field(default_factory=AlarmThresholds)

    @classmethod
    def for_consumer(
        cls,
        name: str,
        settings: ConsumerSettings,
        *,
        alarm_topic_arn: pulumi.Input[str],
        alarms: AlarmThresholds,
        retry_delays: Sequence[int] = (),
        sns_topic_arns: Sequence[pulumi.Input[str]] = (),
    ) -> DeadLetteredQueueArgs:
        """The queue settings a consumer's config implies; retry delays add one tier queue each."""
        tiers = [SourceQueue(f"retry-{i}", delay) for i, delay in enumerate(retry_delays, start=1)]
        return cls(
            name=name,
            alarm_topic_arn=alarm_topic_arn,
            fifo=settings.fifo,
            visibility_timeout=settings.visibility_timeout,
            retention=settings.retention,
            max_receive_count=settings.max_receive_count,
            sources=[SourceQueue("main", settings.delay), *tiers],
            sns_topic_arns=sns_topic_arns,
            alarms=alarms,
        )


class DeadLetteredQueue(pulumi.ComponentResource):
    """Source queue(s) + DLQ + policies + alarms. `queue` is the main source, `dlq` the dead-letter queue."""

    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    sources: dict[str, aws.sqs.Queue]

    def __init__(self, name: str, args: DeadLetteredQueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:DeadLetteredQueue", name, None, opts)
        if not 1 <= len(args.sources) <= 10:
            raise ValueError(f"{name}: a DLQ takes 1–10 source queues, got {len(args.sources)}")
        self._name, self._args = name, args
        self.dlq = self._queue("dlq", retention=max(d.DLQ_RETENTION, args.retention))
        redrive = self.dlq.arn.apply(
            lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receive_count})
        )
        self.sources = {s.key: self._queue(s.key, args.retention, s.delay, redrive) for s in args.sources}
        self.queue = self.sources[args.sources[0].key]
        self._redrive_allow_policy()
        self._queue_policies()
        self._alarms()
        self.register_outputs(
            {
                "queue_url": self.queue.url,
                "queue_arn": self.queue.arn,
                "dlq_url": self.dlq.url,
                "dlq_arn": self.dlq.arn,
                "source_urls": {k: q.url for k, q in self.sources.items()},
            }
        )

    @property
    def _suffix(self) -> str:
        return ".fifo" if self._args.fifo else ""

    def _logical(self, key: str) -> str:
        """Pulumi name of a queue of this component: the component's own name for `main`."""
        return self._name if key == "main" else f"{self._name}-{key}"

    def _queue(
        self, key: str, retention: int, delay: int = 0, redrive: pulumi.Input[str] | None = None
    ) -> aws.sqs.Queue:
        """One queue with the safe defaults: SSE-SQS, long polling, 1 MiB messages, the same type as its siblings.

        `max_message_size` is always set: pulumi-aws would otherwise create the queue with 256 KiB
        (contract.aws.PROVIDER_DEFAULTS), while every size limit of the program assumes the queue's 1 MiB.
        """
        args = self._args
        fifo = True if args.fifo else None  # None leaves the attribute unset on standard queues
        return aws.sqs.Queue(
            self._logical(key),
            name=f"{args.name}{'' if key == 'main' else '-' + key}{self._suffix}",
            message_retention_seconds=retention,
            visibility_timeout_seconds=args.visibility_timeout,
            delay_seconds=delay,
            receive_wait_time_seconds=d.RECEIVE_WAIT,
            max_message_size=d.QUEUE_MAX_MESSAGE_BYTES,
            sqs_managed_sse_enabled=True,
            redrive_policy=redrive,
            fifo_queue=fifo,
            content_based_deduplication=fifo,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _redrive_allow_policy(self) -> None:
        """Only this component's sources may dead-letter into its DLQ (`byQueue`)."""
        aws.sqs.RedriveAllowPolicy(
            f"{self._name}-dlq-redrive-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=pulumi.Output.all(*[q.arn for q in self.sources.values()]).apply(
                lambda arns: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": list(arns)})
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _queue_policies(self) -> None:
        """ONE policy per queue: the TLS deny merged with the SNS grants (a second policy would replace it)."""
        for key, queue in [*self.sources.items(), ("dlq", self.dlq)]:
            aws.sqs.QueuePolicy(
                f"{self._logical(key)}-policy",
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, *self._args.sns_topic_arns).apply(
                    lambda a: docs.queue_policy(a[0], a[1:])
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _alarms(self) -> None:
        """DLQ not empty; per source queue: oldest message too old, too many messages waiting."""
        args = self._args
        metric_alarm(
            f"{self._name}-dlq-visible",
            parent=self,
            description=f"Messages are dead-lettered in {args.name}-dlq{self._suffix}: inspect and redrive them.",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dlq.name},
            threshold=0,
            alarm_topic_arn=args.alarm_topic_arn,
        )
        for key, queue in self.sources.items():
            metric_alarm(
                f"{self._logical(key)}-age",
                parent=self,
                description=f"The oldest message in a {args.name} queue waits longer than "
                f"{args.alarms.oldest_message_age} s: the consumer is failing or too slow.",
                namespace="AWS/SQS",
                metric_name="ApproximateAgeOfOldestMessage",
                dimensions={"QueueName": queue.name},
                threshold=args.alarms.oldest_message_age,
                alarm_topic_arn=args.alarm_topic_arn,
                evaluation_periods=3,
            )
            metric_alarm(
                f"{self._logical(key)}-depth",
                parent=self,
                description=f"More than {args.alarms.queue_depth} messages wait in a {args.name} queue.",
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": queue.name},
                threshold=args.alarms.queue_depth,
                alarm_topic_arn=args.alarm_topic_arn,
                evaluation_periods=3,
            )
