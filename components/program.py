"""The whole stack: the alarm topic, the results bucket, and one component per enabled pipeline.

`__main__.py` calls `build()`; tests and the sandbox run that same `__main__.py` under mocks, so
there is exactly one description of the topology.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components import defaults as d
from components import policy_documents as docs
from components import powertools
from components.alarms import AlarmTopic, AlarmTopicArgs
from components.chain import Chain, ChainArgs
from components.config import ChainPipeline, FanOutPipeline, RetryPipeline, StackConfig
from components.consumer import Consumer, StackContext
from components.dashboard import PipelineMetrics, stack_dashboard
from components.fanout import FanOut, FanOutArgs
from components.http_ingress import ApiGatewayAccount, HttpIngress, HttpIngressArgs
from components.large_messages import LargeMessageBucket, LargeMessageBucketArgs, expiration_days
from components.queue import DeadLetteredQueue
from components.retry import DelayedRetry, DelayedRetryArgs


def build(config: StackConfig) -> dict[str, Any]:
    """Register every resource of the stack; returns the stack outputs, one entry per enabled pipeline."""
    alarm_topic = AlarmTopic(
        "alarms",
        AlarmTopicArgs(name=f"{config.name_prefix}-alarms", region=config.region, email=config.alarm_email),
    )
    pipelines = config.enabled_pipelines
    needs_bucket = any(c.results for p in pipelines for c in _consumers(p))
    large = [p for p in pipelines if p.large_messages]
    stack = StackContext(
        region=config.region,
        alarm_topic_arn=alarm_topic.topic.arn,
        log_retention_days=config.log_retention_days,
        powertools_layer_arn=powertools.layer_arn(config.region, config.architecture, config.powertools_layer_version),
        architecture=config.architecture,
        results_bucket=results_bucket(d.results_bucket_prefix(config.stack)) if needs_bucket else None,
        large_messages=LargeMessageBucket(
            "large-messages",
            LargeMessageBucketArgs(config.stack, {p.name: _large_message_days(p) for p in large}),
        ) if large else None,
        large_message_pipelines=frozenset(p.name for p in large),
    )
    outputs: dict[str, Any] = {"alarmTopicArn": alarm_topic.topic.arn}
    if stack.results_bucket is not None:
        outputs["resultsBucket"] = stack.results_bucket.bucket
    pipeline_outputs: dict[str, Any] = {}
    rows: list[PipelineMetrics] = []
    account: tuple[pulumi.Resource, ...] = ()
    if config.api_gateway_cloudwatch_role and any(p.http for p in pipelines):
        logs_role = f"{config.name_prefix}-apigateway-logs"
        account = (ApiGatewayAccount("api-gateway-account", logs_role, config.region).account,)
    for p in pipelines:
        if isinstance(p, FanOutPipeline):
            fan = FanOut(p.name, FanOutArgs(p, config.name_prefix, stack, config.alarms))
            queues = fan.queues
            rows.append(_metrics(p.name, list(queues.values()), list(fan.consumers.values())))
            pipeline_outputs[p.name] = {
                "pattern": p.pattern,
                "entry": fan.topic.arn,
                "queueUrls": {k: q.queue.url for k, q in queues.items()},
                "dlqUrls": {k: q.dlq.url for k, q in queues.items()},
                "idempotencyTables": _tables(fan.consumers),
            }
            entry: tuple[pulumi.Resource, pulumi.Input[str], bool] = (fan, fan.topic.arn, True)
        elif isinstance(p, ChainPipeline):
            chain = Chain(p.name, ChainArgs(p, config.name_prefix, stack, config.alarms))
            rows.append(_metrics(p.name, list(chain.queues.values()), list(chain.consumers.values())))
            first = next(iter(chain.queues.values()))
            pipeline_outputs[p.name] = {
                "pattern": p.pattern,
                "entry": first.queue.url,
                "queueUrls": {k: q.queue.url for k, q in chain.queues.items()},
                "dlqUrls": {k: q.dlq.url for k, q in chain.queues.items()},
                "idempotencyTables": _tables(chain.consumers),
            }
            entry = (chain, first.queue.arn, False)
        else:
            retry = DelayedRetry(p.name, DelayedRetryArgs(p, config.name_prefix, stack, config.alarms))
            rows.append(_metrics(p.name, list(retry.queues.values()), list(retry.consumers.values())))
            (tiered,) = retry.queues.values()
            pipeline_outputs[p.name] = {
                "pattern": p.pattern,
                "entry": tiered.queue.url,
                "queueUrls": {k: q.url for k, q in tiered.sources.items()},
                "dlqUrls": {"dlq": tiered.dlq.url},
                "idempotencyTables": _tables(retry.consumers),
            }
            entry = (retry, tiered.queue.arn, False)
        if p.http is not None:
            parent, entry_arn, is_topic = entry
            ingress = HttpIngress(
                f"{p.name}-ingress",
                HttpIngressArgs(
                    pipeline=p.name,
                    name_prefix=config.name_prefix,
                    settings=p.http,
                    entry_arn=entry_arn,
                    entry_is_topic=is_topic,
                    region=config.region,
                    alarm_topic_arn=alarm_topic.topic.arn,
                    log_retention_days=config.log_retention_days,
                    depends_on=account,
                ),
                opts=pulumi.ResourceOptions(parent=parent),
            )
            pipeline_outputs[p.name]["httpUrl"] = ingress.url
            if ingress.api_key is not None:
                pipeline_outputs[p.name]["httpApiKeyId"] = ingress.api_key.id
    if stack.large_messages is not None:
        for p in large:
            pipeline_outputs[p.name]["largeMessageBucket"] = stack.large_messages.bucket.bucket
    outputs["pipelines"] = pipeline_outputs
    if rows:
        outputs["dashboard"] = stack_dashboard(config.name_prefix, config.region, rows).dashboard_name
    return outputs


def _metrics(name: str, queues: Sequence[DeadLetteredQueue], consumers: Sequence[Consumer]) -> PipelineMetrics:
    return PipelineMetrics(
        name=name,
        queue_names=[q.name for dlq in queues for q in dlq.sources.values()],
        dlq_names=[dlq.dlq.name for dlq in queues],
        function_names=[c.function.name for c in consumers],
    )


def _consumers(p: FanOutPipeline | ChainPipeline | RetryPipeline) -> list[Any]:
    if isinstance(p, FanOutPipeline):
        return [s.consumer for s in p.subscribers]
    if isinstance(p, ChainPipeline):
        return list(p.stages)
    return [p.consumer]


def _tables(consumers: Mapping[str, Consumer]) -> dict[str, Any]:
    """Consumer name -> its idempotency table; `ops.smoke` reads probe receipts there (docs/contracts.md §7)."""
    return {name: c.table.name for name, c in consumers.items() if c.table is not None}


def _large_message_days(p: FanOutPipeline | ChainPipeline | RetryPipeline) -> int:
    hops = 1 + (len(p.delays) if isinstance(p, RetryPipeline) else 0)
    return expiration_days(max(c.retention for c in _consumers(p)), hops)


def results_bucket(prefix: str) -> aws.s3.Bucket:
    """Private, encrypted, TLS-only bucket that business functions write JSON results to.

    Named by the provider from `prefix` (globally unique); everything reads the real name from the
    bucket's outputs (`bucket`, `arn`): the stack output, the Lambda environment, the IAM grants.
    """
    bucket = aws.s3.Bucket("results", bucket_prefix=prefix, force_destroy=False)
    opts = pulumi.ResourceOptions(parent=bucket)
    aws.s3.BucketPublicAccessBlock(
        "results-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        "results-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
        opts=opts,
    )
    aws.s3.BucketPolicy("results-policy", bucket=bucket.id, policy=bucket.arn.apply(docs.bucket_policy), opts=opts)
    return bucket
