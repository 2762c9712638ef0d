"""The whole stack: the alarm topic, the results bucket, and one component per enabled pipeline.

`__main__.py` calls `build()`; tests and the sandbox run that same `__main__.py` under mocks, so
there is exactly one description of the topology.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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

Pipeline = FanOutPipeline | ChainPipeline | RetryPipeline


@dataclass(frozen=True)
class _Entry:
    """Where a pipeline takes messages in: the component owning it, its ARN, and whether it is a topic."""

    parent: pulumi.Resource
    arn: pulumi.Input[str]
    is_topic: bool


@dataclass(frozen=True)
class _BuiltPipeline:
    """One pipeline's component as the stack needs it: its outputs, dashboard row and entry."""

    outputs: dict[str, Any]
    metrics: PipelineMetrics
    entry: _Entry


def build(config: StackConfig) -> dict[str, Any]:
    """Register every resource of the stack; returns the stack outputs, one entry per enabled pipeline."""
    alarm_topic = _alarm_topic(config)
    pipelines = config.enabled_pipelines
    stack = _stack_context(config, pipelines, alarm_topic)
    outputs: dict[str, Any] = {"alarmTopicArn": alarm_topic.topic.arn}
    if stack.results_bucket is not None:
        outputs["resultsBucket"] = stack.results_bucket.bucket
    account = _api_gateway_account(config, pipelines)
    pipeline_outputs: dict[str, Any] = {}
    rows: list[PipelineMetrics] = []
    for p in pipelines:
        built = _pipeline(p, config, stack)
        rows.append(built.metrics)
        pipeline_outputs[p.name] = built.outputs
        if p.http is not None:
            built.outputs.update(_http_ingress(p, built.entry, config, alarm_topic, account))
    if stack.large_messages is not None:
        for p in pipelines:
            if p.large_messages:
                pipeline_outputs[p.name]["largeMessageBucket"] = stack.large_messages.bucket.bucket
    outputs["pipelines"] = pipeline_outputs
    if rows:
        outputs["dashboard"] = stack_dashboard(config.name_prefix, config.region, rows).dashboard_name
    return outputs


def _alarm_topic(config: StackConfig) -> AlarmTopic:
    return AlarmTopic(
        "alarms",
        AlarmTopicArgs(name=f"{config.name_prefix}-alarms", region=config.region, email=config.alarm_email),
    )


def _stack_context(config: StackConfig, pipelines: Sequence[Pipeline], alarm_topic: AlarmTopic) -> StackContext:
    """What every consumer shares; creates the results bucket, then the large-message bucket, when used."""
    needs_bucket = any(c.results for p in pipelines for c in _consumers(p))
    large = [p for p in pipelines if p.large_messages]
    return StackContext(
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


def _api_gateway_account(config: StackConfig, pipelines: Sequence[Pipeline]) -> tuple[pulumi.Resource, ...]:
    """The account-wide API Gateway logging role, when asked for and some pipeline has an HTTP front door."""
    if config.api_gateway_cloudwatch_role and any(p.http for p in pipelines):
        logs_role = f"{config.name_prefix}-apigateway-logs"
        return (ApiGatewayAccount("api-gateway-account", logs_role, config.region).account,)
    return ()


def _pipeline(p: Pipeline, config: StackConfig, stack: StackContext) -> _BuiltPipeline:
    if isinstance(p, FanOutPipeline):
        return _fan_out(p, config, stack)
    if isinstance(p, ChainPipeline):
        return _chain(p, config, stack)
    return _delayed_retry(p, config, stack)


def _fan_out(p: FanOutPipeline, config: StackConfig, stack: StackContext) -> _BuiltPipeline:
    fan = FanOut(p.name, FanOutArgs(p, config.name_prefix, stack, config.alarms))
    queues = fan.queues
    return _BuiltPipeline(
        outputs={
            "pattern": p.pattern,
            "entry": fan.topic.arn,
            "queueUrls": {k: q.queue.url for k, q in queues.items()},
            "dlqUrls": {k: q.dlq.url for k, q in queues.items()},
            "idempotencyTables": _tables(fan.consumers),
        },
        metrics=_metrics(p.name, list(queues.values()), list(fan.consumers.values())),
        entry=_Entry(fan, fan.topic.arn, is_topic=True),
    )


def _chain(p: ChainPipeline, config: StackConfig, stack: StackContext) -> _BuiltPipeline:
    chain = Chain(p.name, ChainArgs(p, config.name_prefix, stack, config.alarms))
    first = next(iter(chain.queues.values()))
    return _BuiltPipeline(
        outputs={
            "pattern": p.pattern,
            "entry": first.queue.url,
            "queueUrls": {k: q.queue.url for k, q in chain.queues.items()},
            "dlqUrls": {k: q.dlq.url for k, q in chain.queues.items()},
            "idempotencyTables": _tables(chain.consumers),
        },
        metrics=_metrics(p.name, list(chain.queues.values()), list(chain.consumers.values())),
        entry=_Entry(chain, first.queue.arn, is_topic=False),
    )


def _delayed_retry(p: RetryPipeline, config: StackConfig, stack: StackContext) -> _BuiltPipeline:
    retry = DelayedRetry(p.name, DelayedRetryArgs(p, config.name_prefix, stack, config.alarms))
    (tiered,) = retry.queues.values()
    return _BuiltPipeline(
        outputs={
            "pattern": p.pattern,
            "entry": tiered.queue.url,
            "queueUrls": {k: q.url for k, q in tiered.sources.items()},
            "dlqUrls": {"dlq": tiered.dlq.url},
            "idempotencyTables": _tables(retry.consumers),
        },
        metrics=_metrics(p.name, list(retry.queues.values()), list(retry.consumers.values())),
        entry=_Entry(retry, tiered.queue.arn, is_topic=False),
    )


def _http_ingress(
    p: Pipeline,
    entry: _Entry,
    config: StackConfig,
    alarm_topic: AlarmTopic,
    account: tuple[pulumi.Resource, ...],
) -> dict[str, Any]:
    """The pipeline's HTTP front door (a child of its component); returns its stack outputs."""
    assert p.http is not None
    ingress = HttpIngress(
        f"{p.name}-ingress",
        HttpIngressArgs(
            pipeline=p.name,
            name_prefix=config.name_prefix,
            settings=p.http,
            entry_arn=entry.arn,
            entry_is_topic=entry.is_topic,
            region=config.region,
            alarm_topic_arn=alarm_topic.topic.arn,
            log_retention_days=config.log_retention_days,
            depends_on=account,
        ),
        opts=pulumi.ResourceOptions(parent=entry.parent),
    )
    outputs: dict[str, Any] = {"httpUrl": ingress.url}
    if ingress.api_key is not None:
        outputs["httpApiKeyId"] = ingress.api_key.id
    return outputs


def _metrics(name: str, queues: Sequence[DeadLetteredQueue], consumers: Sequence[Consumer]) -> PipelineMetrics:
    return PipelineMetrics(
        name=name,
        queue_names=[q.name for dlq in queues for q in dlq.sources.values()],
        dlq_names=[dlq.dlq.name for dlq in queues],
        function_names=[c.function.name for c in consumers],
    )


def _consumers(p: Pipeline) -> list[Any]:
    if isinstance(p, FanOutPipeline):
        return [s.consumer for s in p.subscribers]
    if isinstance(p, ChainPipeline):
        return list(p.stages)
    return [p.consumer]


def _tables(consumers: Mapping[str, Consumer]) -> dict[str, Any]:
    """Consumer name -> its idempotency table; `ops.smoke` reads probe receipts there (docs/contracts.md §7)."""
    return {name: c.table.name for name, c in consumers.items() if c.table is not None}


def _large_message_days(p: Pipeline) -> int:
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
