"""AWS limits, service defaults and advice the program, sandbox, ops and policy pack rely on.

Sources (AWS documentation):
* SQS: API reference `CreateQueue` / `SetQueueAttributes` (queue attributes, their defaults and ranges),
  `ReceiveMessage` (at most 10 messages per call), `SendMessage` (at most 10 message attributes), and
  the developer guide's "Amazon SQS quotas" (queue names: 80 characters) and "Using dead-letter queues"
  (`maxReceiveCount` 1–1000; a redrive-allow policy names at most 10 source queues).
* Lambda: "Configure Lambda function timeout" (default 3 s, at most 900 s), "Configure Lambda function
  memory" (default 128 MB, 128–10 240 MB), `CreateFunction` (names up to 64 characters).
* Lambda + SQS: "Lambda parameters for Amazon SQS event source mappings"
  (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html): `BatchSize` default 10,
  at most 10 000 on standard and 10 on FIFO queues; `MaximumBatchingWindowInSeconds` default 0, 0–300,
  not on FIFO; "batch sizes above 10 need a batching window of at least 1 s" (`CreateEventSourceMapping`);
  `ScalingConfig.MaximumConcurrency` 2–1000 per mapping ("Configuring maximum concurrency").
  "Using Lambda with Amazon SQS": set the queue's visibility timeout to at least 6 × the function
  timeout (plus the batching window), and `maxReceiveCount` to at least 5.
* SNS: "Amazon SNS subscription filter policy constraints" (at most 5 attribute keys), `FilterPolicyScope`.
* CloudWatch Logs: `PutRetentionPolicy` (the allowed `retentionInDays` values).
* Message sizes: SQS "Amazon SQS message quotas" (1 MiB, body and attributes, raised from 256 KiB in
  2025); SNS "Publishing large messages" (`MaximumMessageSize` defaults to 262,144 bytes, body and
  attributes; our topics keep the default). FIFO `MessageDeduplicationId` / `MessageGroupId`: 128 characters.
* API Gateway: "Amazon API Gateway quotas" (account throttle per region: 10,000 requests/s, burst 5,000;
  a stage's or usage plan's throttle cannot exceed it).
* pulumi-aws defaults: what the provider sends for an argument the program leaves unset, quoted from the
  docstrings of pulumi_aws 7.51.1 (`PROVIDER_DEFAULTS`; tests/test_provider_defaults.py re-reads them).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- SQS --------------------------------------------------------------------------------------------
SQS_VISIBILITY_TIMEOUT_DEFAULT = 30
SQS_VISIBILITY_TIMEOUT_RANGE = (0, 43_200)
SQS_RETENTION_DEFAULT = 345_600  # 4 days
SQS_RETENTION_RANGE = (60, 1_209_600)  # 1 minute - 14 days
SQS_DELAY_RANGE = (0, 900)
SQS_RECEIVE_WAIT_RANGE = (0, 20)
SQS_MAX_RECEIVE_COUNT_RANGE = (1, 1000)
SQS_MESSAGES_PER_RECEIVE_MAX = 10
SQS_MESSAGE_ATTRIBUTES_MAX = 10
SQS_MESSAGE_BYTES_MAX = 1_048_576
"""1 MiB per message *and* per SendMessageBatch request, body plus attributes (SQS API reference,
`SendMessageBatch`; raised from 256 KiB in August 2025) - at a queue's `MaximumMessageSize` of 1 MiB."""
SQS_MAX_MESSAGE_SIZE_PROVIDER_DEFAULT = 262_144
"""What pulumi-aws sends as `MaximumMessageSize` when `max_message_size` is unset (see PROVIDER_DEFAULTS);
moto's own default is 1 MiB, so an unset size passes every local test and fails in AWS."""
QUEUE_MAX_MESSAGE_BYTES = SQS_MESSAGE_BYTES_MAX
"""The `max_message_size` every queue of the program is created with (components/queue.py: main queues,
retry tiers and DLQs). Every size limit on the way into a queue derives from it: chain forwarding
(the runtime's copy), the producer, `http.maxBodyBytes` of SQS entries."""
SQS_BATCH_ENTRIES_MAX = 10
SQS_QUEUE_NAME_MAX = 80
SQS_REDRIVE_ALLOW_SOURCES_MAX = 10

# --- Lambda -----------------------------------------------------------------------------------------
LAMBDA_TIMEOUT_DEFAULT = 3
LAMBDA_TIMEOUT_RANGE = (1, 900)
LAMBDA_MEMORY_DEFAULT = 128
LAMBDA_MEMORY_RANGE = (128, 10_240)
LAMBDA_FUNCTION_NAME_MAX = 64
LAMBDA_ARCHITECTURES = ("x86_64", "arm64")

# --- Lambda event source mapping on SQS -------------------------------------------------------------
ESM_BATCH_SIZE_DEFAULT = 10
ESM_BATCH_SIZE_STANDARD_MAX = 10_000
ESM_BATCH_SIZE_FIFO_MAX = 10
ESM_BATCH_SIZE_WITHOUT_WINDOW_MAX = 10
"""Above this, Lambda requires `MaximumBatchingWindowInSeconds` ≥ 1."""
ESM_BATCH_WINDOW_DEFAULT = 0
ESM_BATCH_WINDOW_RANGE = (0, 300)
ESM_MAX_CONCURRENCY_RANGE = (2, 1000)
"""`ScalingConfig.MaximumConcurrency` of ONE mapping (AWS applies it per mapping, not per function)."""
ESM_INITIAL_CONCURRENT_BATCHES = 5
"""Lambda starts an SQS mapping with five concurrent batches and scales back to five at low traffic
("Configuring scaling behavior for SQS event source mappings",
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html; it "can optimize to as few as 2"
when `maxConcurrency` is unset)."""
ESM_MAX_CONCURRENT_BATCHES = 1000
"""Same page: "The maximum number of batches that an event source mapping can process simultaneously is 1,000"."""
ESM_SCALE_UP_BATCHES_PER_MINUTE = 300
"""Same page: Lambda adds "up to 300 more instances per minute" while messages are available."""
LAMBDA_ACCOUNT_CONCURRENCY_DEFAULT = 1000
"""Concurrent executions per account and region, shared by every function there ("Lambda quotas",
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 1,000 by default, raisable)."""

# --- AWS's advice for queues read by Lambda ---------------------------------------------------------
VISIBILITY_TIMEOUT_FACTOR = 6
ADVISED_MAX_RECEIVE_COUNT = 5
"""Throttled and interrupted receives count too: with fewer, a healthy message can reach the DLQ."""


def advised_visibility_timeout(timeout: int | float, batch_window: int | float) -> int | float:
    """6 × function timeout + batching window, capped at the SQS maximum (also serverless-lift's rule)."""
    return min(VISIBILITY_TIMEOUT_FACTOR * timeout + batch_window, SQS_VISIBILITY_TIMEOUT_RANGE[1])


FIFO_ID_LENGTH_MAX = 128
"""`MessageDeduplicationId` and `MessageGroupId`, on SQS and SNS FIFO."""

# --- SNS --------------------------------------------------------------------------------------------
SNS_MESSAGE_BYTES_MAX = 262_144
"""256 KiB per message and per PublishBatch request at a topic's default `MaximumMessageSize` (SNS API
reference, `PublishBatch`; a topic may raise it to 1 MiB - ours keep the default)."""
SNS_BATCH_ENTRIES_MAX = 10
SNS_FILTER_POLICY_KEYS_MAX = 5
SNS_FILTER_POLICY_SCOPES = ("MessageAttributes", "MessageBody")

# --- CloudWatch Logs --------------------------------------------------------------------------------
LOG_RETENTION_DAYS_CHOICES = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# --- API Gateway ------------------------------------------------------------------------------------
APIGATEWAY_ACCOUNT_RATE_LIMIT = 10_000.0
APIGATEWAY_ACCOUNT_BURST_LIMIT = 5_000


# --- pulumi-aws provider defaults ---------------------------------------------------------------------
@dataclass(frozen=True)
class ProviderDefault:
    """One argument's provider default, with the docstring sentence of pulumi_aws that states it."""

    resource: str
    """Pulumi type token, e.g. `aws:sqs/queue:Queue`."""
    argument: str
    """The Python argument of the resource's args class, e.g. `max_message_size`."""
    value: int | str | bool | tuple[str, ...]
    stated: str
    """The words of the argument's docstring (pulumi_aws 7.51.1) that give the default; the test finds them."""
    attribute: str | None = None
    """The AWS API attribute it becomes, where the sandbox materialises it (SQS CreateQueue)."""


PROVIDER_DEFAULTS: tuple[ProviderDefault, ...] = (
    # SQS queue (pulumi_aws/sqs/queue.py, QueueArgs)
    ProviderDefault(
        "aws:sqs/queue:Queue",
        "max_message_size",
        SQS_MAX_MESSAGE_SIZE_PROVIDER_DEFAULT,
        "The default for this attribute is 262144 (256 KiB)",
        "MaximumMessageSize",
    ),
    ProviderDefault(
        "aws:sqs/queue:Queue",
        "message_retention_seconds",
        SQS_RETENTION_DEFAULT,
        "The default for this attribute is 345600 (4 days)",
        "MessageRetentionPeriod",
    ),
    ProviderDefault(
        "aws:sqs/queue:Queue",
        "visibility_timeout_seconds",
        SQS_VISIBILITY_TIMEOUT_DEFAULT,
        "The default for this attribute is 30",
        "VisibilityTimeout",
    ),
    ProviderDefault(
        "aws:sqs/queue:Queue", "delay_seconds", 0, "The default for this attribute is 0 seconds", "DelaySeconds"
    ),
    ProviderDefault(
        "aws:sqs/queue:Queue",
        "receive_wait_time_seconds",
        0,
        "The default for this attribute is 0, meaning that the call will return immediately",
        "ReceiveMessageWaitTimeSeconds",
    ),
    ProviderDefault("aws:sqs/queue:Queue", "fifo_queue", False, "If not set, it defaults to `false`"),
    ProviderDefault("aws:sqs/queue:Queue", "deduplication_scope", "queue", "`queue` (default)", "DeduplicationScope"),
    ProviderDefault(
        "aws:sqs/queue:Queue", "fifo_throughput_limit", "perQueue", "`perQueue` (default)", "FifoThroughputLimit"
    ),
    # Lambda function and its SQS event source mapping (pulumi_aws/lambda_/function.py, event_source_mapping.py)
    ProviderDefault("aws:lambda/function:Function", "timeout", LAMBDA_TIMEOUT_DEFAULT, "Defaults to 3."),
    ProviderDefault("aws:lambda/function:Function", "memory_size", LAMBDA_MEMORY_DEFAULT, "Defaults to 128."),
    ProviderDefault("aws:lambda/function:Function", "architectures", ("x86_64",), 'Default is `["x86_64"]`'),
    ProviderDefault(
        "aws:lambda/function:Function",
        "reserved_concurrent_executions",
        -1,
        "Defaults to Unreserved Concurrency Limits `-1`",
    ),
    ProviderDefault(
        "aws:lambda/eventSourceMapping:EventSourceMapping", "batch_size", ESM_BATCH_SIZE_DEFAULT, "`10` for SQS"
    ),
    ProviderDefault("aws:lambda/eventSourceMapping:EventSourceMapping", "enabled", True, "Defaults to `true`."),
    # SNS (pulumi_aws/sns/topic.py, topic_subscription.py)
    ProviderDefault("aws:sns/topic:Topic", "fifo_topic", False, "Default is `false`."),
    ProviderDefault(
        "aws:sns/topicSubscription:TopicSubscription",
        "filter_policy_scope",
        "MessageAttributes",
        "`MessageAttributes` (default)",
    ),
    ProviderDefault(
        "aws:sns/topicSubscription:TopicSubscription", "raw_message_delivery", False, "Default is `false`."
    ),
)
"""Every provider default the program relies on by leaving an argument unset (or that the sandbox must
apply to a capture that leaves it unset). Not here, because the provider documents no default and the
program always sets them: a queue's `sqs_managed_sse_enabled`, an ESM's `maximum_batching_window_in_seconds`
(AWS: 0; the program sets it on standard queues and must leave it unset on FIFO), a log group's
`retention_in_days` (unset = never expire), a table's `billing_mode`."""


def provider_default(resource: str, argument: str) -> int | str | bool | tuple[str, ...]:
    """The provider's default for `argument` of `resource` (KeyError when the table has none)."""
    for entry in PROVIDER_DEFAULTS:
        if (entry.resource, entry.argument) == (resource, argument):
            return entry.value
    raise KeyError(f"{resource}.{argument}: no provider default in contract.aws.PROVIDER_DEFAULTS")


# --- partitions -----------------------------------------------------------------------------------
PARTITION_BY_REGION_PREFIX: tuple[tuple[str, str], ...] = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
)
"""Region name prefix -> ARN partition (AWS General Reference, "Amazon Resource Names": `aws`, `aws-cn`,
`aws-us-gov`, …); every other region is in `aws`. Longer prefixes first (`us-isob-` before `us-iso-`)."""


def partition_of(region: str) -> str:
    """The ARN partition of `region`: `arn:<partition>:…` (never hard-code `arn:aws:`)."""
    return next((partition for prefix, partition in PARTITION_BY_REGION_PREFIX if region.startswith(prefix)), "aws")


def dns_suffix_of(region: str) -> str:
    """The region's service domain: `amazonaws.com.cn` in China (e.g. `execute-api.cn-north-1.amazonaws.com.cn`)."""
    return "amazonaws.com.cn" if partition_of(region) == "aws-cn" else "amazonaws.com"


# --- Powertools for AWS Lambda (Python) public layer ----------------------------------------------
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-{architecture}"
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
"""The publishing account in the `aws` partition (Powertools docs, "Installation" > "Lambda Layer")."""
POWERTOOLS_LAYER_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
        "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
        "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
        "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    }
)  # fmt: skip
"""Commercial regions with the public layer (Powertools docs, "All regional Layer ARNs", x86_64 and arm64)."""
POWERTOOLS_LAYER_ACCOUNTS_BY_REGION: dict[str, str] = {
    "cn-north-1": "498634801083",
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
}
"""Outside `aws` each region has its own publishing account (Powertools docs, "AWS China regions" and
"AWS GovCloud regions"); no other China or GovCloud region has the layer."""
POWERTOOLS_SSM_UNPUBLISHED: frozenset[str] = frozenset({"me-central-1"})
"""Layer regions whose public SSM parameters `/aws/service/powertools/...` are missing (design.md §5, issue 16;
the Powertools docs list no SSM regions). China and GovCloud have no such parameter either."""


def powertools_layer_account(region: str) -> str | None:
    """The account publishing the Powertools layer in `region`, None where Powertools publishes none."""
    if region in POWERTOOLS_LAYER_ACCOUNTS_BY_REGION:
        return POWERTOOLS_LAYER_ACCOUNTS_BY_REGION[region]
    return POWERTOOLS_LAYER_ACCOUNT if region in POWERTOOLS_LAYER_REGIONS else None


def powertools_ssm_published(region: str) -> bool:
    """Whether `/aws/service/powertools/python/...` resolves in `region` (commercial layer regions only)."""
    return region in POWERTOOLS_LAYER_REGIONS and region not in POWERTOOLS_SSM_UNPUBLISHED
