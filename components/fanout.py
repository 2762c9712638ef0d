"""FanOut: one SNS topic delivering to one dead-lettered queue per subscriber, a consumer each."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import policy_documents as docs
from components.config import AlarmThresholds, FanOutPipeline
from components.consumer import Consumer, ConsumerArgs, StackContext
from components.queue import DeadLetteredQueue, DeadLetteredQueueArgs


@dataclass(frozen=True)
class FanOutArgs:
    pipeline: FanOutPipeline
    name_prefix: str
    """`ap-<stack>`: prefixes every physical name."""
    stack_context: StackContext
    alarms: AlarmThresholds


class FanOut(pulumi.ComponentResource):
    """SNS topic (SSE, TLS-only) → raw delivery with a filter policy → queue + DLQ → consumer, per subscriber."""

    topic: aws.sns.Topic
    queues: dict[str, DeadLetteredQueue]
    consumers: dict[str, Consumer]

    def __init__(self, name: str, args: FanOutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:FanOut", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.pipeline
        base = f"{args.name_prefix}-{p.name}"
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=f"{base}{'.fifo' if p.fifo else ''}",
            kms_master_key_id="alias/aws/sns",
            fifo_topic=True if p.fifo else None,
            content_based_deduplication=True if p.fifo else None,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=self.topic.arn.apply(docs.topic_policy),
            opts=child,
        )

        self.queues, self.consumers = {}, {}
        for sub in p.subscribers:
            s = sub.consumer
            sub_name = f"{name}-{s.name}"
            queue = DeadLetteredQueue(
                sub_name,
                DeadLetteredQueueArgs.for_consumer(
                    f"{base}-{s.name}",
                    s,
                    alarm_topic_arn=args.stack_context.alarm_topic_arn,
                    alarms=args.alarms,
                    sns_topic_arns=[self.topic.arn],
                ),
                opts=child,
            )
            aws.sns.TopicSubscription(
                f"{sub_name}-subscription",
                topic=self.topic.arn,
                protocol="sqs",
                endpoint=queue.queue.arn,
                raw_message_delivery=True,
                filter_policy=json.dumps(sub.filter_policy) if sub.filter_policy else None,
                filter_policy_scope=sub.filter_scope if sub.filter_policy else None,
                redrive_policy=queue.dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn})),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[queue]),
            )
            self.queues[s.name] = queue
            self.consumers[s.name] = Consumer(
                sub_name,
                ConsumerArgs(
                    pipeline=p.name,
                    function_name=f"{base}-{s.name}",
                    settings=s,
                    sources={"main": queue.queue},
                    dlq=queue.dlq,
                    stack_context=args.stack_context,
                ),
                opts=child,
            )
        self.register_outputs({"topic_arn": self.topic.arn})
