"""Consumer: the Lambda that drains one or more queues, with least privilege, logs, idempotency and alarms.

Every consumer runs the same generic entry point (`functions/pipeline_runtime`); what differs is
wiring, passed in environment variables (docs/contracts.md §1). The role names every action and
every resource it needs and nothing else; event source mappings always report batch item failures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import defaults as d
from components import policy_documents as docs
from components.alarms import metric_alarm
from components.config import ConsumerSettings
from components.large_messages import LargeMessageBucket
from components.package import lambda_package


@dataclass(frozen=True)
class StackContext:
    """What every consumer of a stack shares: region, Lambda platform settings, alarm topic, results bucket."""

    region: str
    alarm_topic_arn: pulumi.Input[str]
    powertools_layer_arn: pulumi.Input[str]
    """The Powertools layer every function runs with (components.powertools.layer_arn)."""
    log_retention_days: int = d.LOG_RETENTION_DAYS
    architecture: str = d.ARCHITECTURE
    results_bucket: aws.s3.Bucket | None = None
    large_messages: LargeMessageBucket | None = None
    """The stack's large-message bucket; a consumer of a pipeline in `large_message_pipelines` may read its prefix."""
    large_message_pipelines: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RetryTierQueue:
    """One delay tier of a retry pipeline as deployed: the tier's queue and its delay in seconds.

    The runtime's view of the same tier is `pipeline_runtime.settings.RetryTier` (URL and delay, read
    from ``AP_RETRY_TIERS``); the runtime ships alone and never imports components.
    """

    queue: aws.sqs.Queue
    delay: int


@dataclass(frozen=True)
class ConsumerArgs:
    pipeline: str
    """Pipeline name, for the function's environment and logs."""
    function_name: str
    """Physical Lambda name (≤ 64 characters), also names its log group and idempotency table."""
    settings: ConsumerSettings
    """Timeout, memory, batching, idempotency… as validated by the config model."""
    sources: Mapping[str, aws.sqs.Queue]
    """Queues this consumer reads, by key: one event source mapping each (a retry pipeline reads main + tiers)."""
    dlq: aws.sqs.Queue
    """Where permanent failures go at once (and exhausted retries)."""
    stack_context: StackContext
    """What every consumer of the stack shares (region, layer, alarm topic, buckets)."""
    next_queue: aws.sqs.Queue | None = None
    """Chain: the next stage's queue that the business function's return value is sent to."""
    retry_tiers: Sequence[RetryTierQueue] = ()
    """Retry pipeline: tier queues a transient failure escalates through, in order."""


class Consumer(pulumi.ComponentResource):
    """One Lambda reading its queues: log group, idempotency table, role, function, mappings, alarms."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    table: aws.dynamodb.Table | None
    mappings: list[aws.lambda_.EventSourceMapping]

    def __init__(self, name: str, args: ConsumerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:Consumer", name, None, opts)
        self._name, self._args = name, args
        log_group = self._log_group()
        self.table = self._idempotency_table() if args.settings.idempotency else None
        self.role = self._role()
        self.role_policy = self._role_policy(log_group)
        self.function = self._function(log_group)
        self.mappings = self._mappings()
        self._alarms()
        self.register_outputs({"function_name": self.function.name, "role_arn": self.role.arn})

    @property
    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    @property
    def _large_messages(self) -> LargeMessageBucket | None:
        """The stack's large-message bucket when this consumer's pipeline uses it."""
        context = self._args.stack_context
        return context.large_messages if self._args.pipeline in context.large_message_pipelines else None

    @property
    def _results_bucket(self) -> aws.s3.Bucket | None:
        return self._args.stack_context.results_bucket if self._args.settings.results else None

    def _log_group(self) -> aws.cloudwatch.LogGroup:
        """Created by the stack with retention: Lambda would create it with none, and the role cannot."""
        return aws.cloudwatch.LogGroup(
            f"{self._name}-logs",
            name=f"/aws/lambda/{self._args.function_name}",
            retention_in_days=self._args.stack_context.log_retention_days,
            opts=self._child,
        )

    def _idempotency_table(self) -> aws.dynamodb.Table:
        """Powertools idempotency records: partition key `id`, TTL on `expiration`, on demand, encrypted."""
        return aws.dynamodb.Table(
            f"{self._name}-idempotency",
            name=f"{self._args.function_name}-idempotency",
            billing_mode="PAY_PER_REQUEST",
            hash_key="id",
            attributes=[aws.dynamodb.TableAttributeArgs(name="id", type="S")],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name="expiration", enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            opts=self._child,
        )

    def _role(self) -> aws.iam.Role:
        return aws.iam.Role(
            f"{self._name}-role",
            name=f"{self._args.function_name}-role",
            assume_role_policy=docs.assume_role_policy("lambda.amazonaws.com"),
            description=f"Least-privilege role of {self._args.function_name}",
            opts=self._child,
        )

    def _role_policy(self, log_group: aws.cloudwatch.LogGroup) -> aws.iam.RolePolicy:
        """Named actions on this consumer's own resources only (docs.consumer_role_policy)."""
        args, s = self._args, self._args.settings
        send_targets = [args.dlq, *([args.next_queue] if args.next_queue else []), *(t.queue for t in args.retry_tiers)]
        results, large = self._results_bucket, self._large_messages
        return aws.iam.RolePolicy(
            f"{self._name}-policy",
            role=self.role.id,
            policy=pulumi.Output.all(
                sources=[q.arn for q in args.sources.values()],
                sends=[q.arn for q in send_targets],
                log_group=log_group.arn,
                table=self.table.arn if self.table else None,
                bucket=results.arn if results else None,
                large=large.object_arn(args.pipeline) if large else None,
            ).apply(
                lambda a: docs.consumer_role_policy(
                    source_queue_arns=a["sources"],
                    send_queue_arns=a["sends"],
                    log_group_arn=a["log_group"],
                    table_arn=a["table"],
                    results_object_arn=f"{a['bucket']}/{args.pipeline}/{s.name}/*" if a["bucket"] else None,
                    large_message_object_arn=a["large"],
                    large_message_write=args.next_queue is not None,
                )
            ),
            opts=self._child,
        )

    def _environment(self) -> dict[str, pulumi.Input[str]]:
        """The runtime's wiring (docs/contracts.md §1): handler, DLQ, next queue, tiers, table, buckets."""
        args, s = self._args, self._args.settings
        variables: dict[str, pulumi.Input[str]] = {
            "AP_HANDLER": s.handler,
            "AP_PIPELINE": args.pipeline,
            "AP_CONSUMER": s.name,
            "AP_DLQ_URL": args.dlq.url,
            "AP_FIFO": "true" if s.fifo else "false",
            "POWERTOOLS_SERVICE_NAME": f"{args.pipeline}-{s.name}",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        if args.next_queue is not None:
            variables["AP_NEXT_QUEUE_URL"] = args.next_queue.url
        if args.retry_tiers:
            variables["AP_RETRY_TIERS"] = pulumi.Output.all(*[t.queue.url for t in args.retry_tiers]).apply(
                lambda urls: json.dumps(
                    [{"url": u, "delay": t.delay} for u, t in zip(urls, args.retry_tiers, strict=True)]
                )
            )
        if self.table is not None:
            variables["AP_IDEMPOTENCY_TABLE"] = self.table.name
            if s.idempotency_key:
                variables["AP_IDEMPOTENCY_KEY"] = s.idempotency_key
        if (results := self._results_bucket) is not None:
            variables["AP_RESULTS_BUCKET"] = results.bucket
        if (large := self._large_messages) is not None:
            variables["AP_LARGE_MESSAGE_BUCKET"] = large.bucket.bucket
        return variables

    def _function(self, log_group: aws.cloudwatch.LogGroup) -> aws.lambda_.Function:
        """The generic entry point from the shared source package, with the Powertools layer."""
        args, s, context = self._args, self._args.settings, self._args.stack_context
        return aws.lambda_.Function(
            f"{self._name}-function",
            name=args.function_name,
            description=f"{args.pipeline}/{s.name}: {s.handler}",
            role=self.role.arn,
            runtime=d.LAMBDA_RUNTIME,
            handler=d.ENTRY_POINT,
            code=lambda_package(),
            timeout=s.timeout,
            memory_size=s.memory,
            architectures=[context.architecture],
            layers=[context.powertools_layer_arn],
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=self._environment()),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, self.role_policy]),
        )

    def _mappings(self) -> list[aws.lambda_.EventSourceMapping]:
        """One mapping per source queue, reporting batch item failures, sharing the consumer's maxConcurrency."""
        args, s = self._args, self._args.settings
        # AWS caps each mapping, not the function: split the consumer's cap so the mappings sum to it.
        shares = (
            d.split_max_concurrency(s.max_concurrency, len(args.sources))
            if s.max_concurrency
            else [None] * len(args.sources)
        )
        return [
            aws.lambda_.EventSourceMapping(
                f"{self._name}-{key}-mapping",
                event_source_arn=queue.arn,
                function_name=self.function.arn,
                batch_size=s.batch_size,
                maximum_batching_window_in_seconds=None if s.fifo else s.batch_window,
                function_response_types=["ReportBatchItemFailures"],
                scaling_config=(
                    aws.lambda_.EventSourceMappingScalingConfigArgs(maximum_concurrency=share) if share else None
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]),
            )
            for (key, queue), share in zip(args.sources.items(), shares, strict=True)
        ]

    def _alarms(self) -> None:
        for metric, why in (
            ("Errors", "invocations failed as a whole (timeouts, crashes): their batches return to the queue"),
            ("Throttles", "invocations were throttled: raise reserved concurrency or lower maxConcurrency"),
        ):
            metric_alarm(
                f"{self._name}-{metric.lower()}",
                parent=self,
                description=f"{self._args.function_name}: {why}.",
                namespace="AWS/Lambda",
                metric_name=metric,
                dimensions={"FunctionName": self.function.name},
                threshold=0,
                statistic="Sum",
                alarm_topic_arn=self._args.stack_context.alarm_topic_arn,
            )
