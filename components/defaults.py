"""Every default the program applies, in one place, and the AWS limits it checks config against.

Like AWS Solutions Constructs' `sqs-defaults.ts`: a reader who wants to know what a queue gets
without configuration reads this file. The AWS limits themselves live in `contract.aws` (one table
shared with the sandbox, ops and the policy pack's checked copy); the names below are the program's
view of them.
"""

from __future__ import annotations

from pathlib import Path

from contract import aws

PROJECT = "async-pipelines"
NAME_PREFIX = "ap"
"""Physical names are `ap-<stack>-<pipeline>-<consumer>`; the stack keeps environments apart."""

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
ENTRY_POINT = "pipeline_runtime.entry.handler"
LAMBDA_RUNTIME = "python3.13"

# --- per-consumer defaults (design.md §3) -------------------------------------------------
TIMEOUT = 30
MEMORY = 256
BATCH_SIZE = 10
BATCH_WINDOW = 0
MAX_RECEIVE_COUNT = aws.ADVISED_MAX_RECEIVE_COUNT
"""The Lambda developer guide advises at least 5 for a queue read by an event source mapping: throttled
and interrupted receives count too, so with fewer a healthy message can reach the DLQ under load."""
RETENTION = 345_600  # 4 days
DLQ_RETENTION = aws.SQS_RETENTION_RANGE[1]  # 14 days: the SQS maximum
DELAY = 0
VISIBILITY_FACTOR = aws.VISIBILITY_TIMEOUT_FACTOR
"""AWS advises a queue visibility timeout of at least 6 x the function timeout (+ batching window)."""
RECEIVE_WAIT = aws.SQS_RECEIVE_WAIT_RANGE[1]
"""Long polling for anything that polls the queue outside Lambda (consoles, scripts)."""
QUEUE_MAX_MESSAGE_BYTES = aws.QUEUE_MAX_MESSAGE_BYTES
"""Every queue, tier and DLQ sets it: the provider's default is 256 KiB, the SQS maximum 1 MiB."""

# --- per-stack defaults -------------------------------------------------------------------
LOG_RETENTION_DAYS = 30
ARCHITECTURE = "x86_64"
OLDEST_MESSAGE_AGE_ALARM = 600  # seconds a message may wait before someone is told
QUEUE_DEPTH_ALARM = 1000  # visible messages before someone is told
ALARM_PERIOD = 60

# --- AWS limits (contract.aws) ---------------------------------------------------------------
TIMEOUT_RANGE = aws.LAMBDA_TIMEOUT_RANGE
MEMORY_RANGE = aws.LAMBDA_MEMORY_RANGE
BATCH_SIZE_STANDARD_MAX = aws.ESM_BATCH_SIZE_STANDARD_MAX
BATCH_SIZE_FIFO_MAX = aws.ESM_BATCH_SIZE_FIFO_MAX
BATCH_SIZE_WITHOUT_WINDOW_MAX = aws.ESM_BATCH_SIZE_WITHOUT_WINDOW_MAX
BATCH_WINDOW_RANGE = aws.ESM_BATCH_WINDOW_RANGE
MAX_CONCURRENCY_RANGE = aws.ESM_MAX_CONCURRENCY_RANGE
"""`ScalingConfig.MaximumConcurrency` of ONE event source mapping (Lambda developer guide); the consumer's
`maxConcurrency` is split over its mappings (`split_max_concurrency`), each getting at least the minimum."""
MAX_RECEIVE_COUNT_RANGE = aws.SQS_MAX_RECEIVE_COUNT_RANGE
VISIBILITY_RANGE = aws.SQS_VISIBILITY_TIMEOUT_RANGE
RETENTION_RANGE = aws.SQS_RETENTION_RANGE
DELAY_RANGE = aws.SQS_DELAY_RANGE
RETRY_TIERS_RANGE = (1, aws.SQS_REDRIVE_ALLOW_SOURCES_MAX - 1)
"""A DLQ's redrive-allow policy lists at most 10 source queues: the main queue + 9 tiers."""
FILTER_POLICY_MAX_KEYS = aws.SNS_FILTER_POLICY_KEYS_MAX
QUEUE_NAME_MAX = aws.SQS_QUEUE_NAME_MAX
FUNCTION_NAME_MAX = aws.LAMBDA_FUNCTION_NAME_MAX - len("-role")
"""Lambda allows 64 characters; the IAM role is named after the function with a `-role` suffix."""
LOG_RETENTION_CHOICES = aws.LOG_RETENTION_DAYS_CHOICES
ARCHITECTURES = aws.LAMBDA_ARCHITECTURES
FILTER_SCOPES = aws.SNS_FILTER_POLICY_SCOPES


def physical_name(stack: str, pipeline: str, consumer: str | None = None) -> str:
    """`ap-<stack>-<pipeline>[-<consumer>]`: the base of every queue, function and table name of a consumer."""
    return "-".join([NAME_PREFIX, stack, pipeline, *([consumer] if consumer else [])])


BUCKET_PREFIX_MAX = 37
"""pulumi_aws `s3.Bucket.bucket_prefix`: ≤ 37 characters; the provider appends a 26-character unique
suffix, and S3 bucket names are at most 63 characters (S3 user guide, "General purpose bucket naming
rules")."""


def results_bucket_prefix(stack: str) -> str:
    """`ap-<stack>-results-`: S3 names are global across ALL accounts, so the provider makes the name unique.

    A fixed name like `ap-<stack>-results` fails with BucketAlreadyExists for the second user of this
    project (or anyone who took the name). Long stack names are cut to fit `BUCKET_PREFIX_MAX`.
    """
    suffix = "-results-"
    head = f"{NAME_PREFIX}-{stack}"[: BUCKET_PREFIX_MAX - len(suffix)].rstrip("-")
    return head + suffix


def powertools_layer_arn(region: str, version: int, architecture: str) -> str:
    """AWS's public Powertools layer for python3.13 in the stack's region, at an explicit layer version.

    Partition-aware: `arn:aws-cn:` in China, `arn:aws-us-gov:` in GovCloud, each with the account Powertools
    publishes from there (contract.aws). `powertools_region_problem` has refused regions without a layer.
    """
    account = aws.powertools_layer_account(region)
    if account is None:
        raise ValueError(powertools_region_problem(region, explicit_version=True))
    layer = aws.POWERTOOLS_LAYER_NAME.format(architecture=architecture)
    return f"arn:{aws.partition_of(region)}:lambda:{region}:{account}:layer:{layer}:{version}"


def powertools_region_problem(region: str, *, explicit_version: bool) -> str | None:
    """Why the Powertools layer cannot be picked in `region` (a config error), or None.

    Without `powertoolsLayerVersion` the layer comes from Powertools' public SSM parameter, which exists
    only in commercial layer regions (not me-central-1, China or GovCloud); with it, the region must
    still be one where Powertools publishes the layer at all.
    """
    if aws.powertools_layer_account(region) is None:
        return (
            f"{region!r}: Powertools publishes no public Lambda layer in this region (Powertools docs, "
            '"Lambda Layer"), so neither its SSM parameter nor powertoolsLayerVersion can pick one'
        )
    if not explicit_version and not aws.powertools_ssm_published(region):
        return (
            f"{region!r}: Powertools publishes no public SSM parameter /aws/service/powertools/python/... here, "
            f"so the layer cannot be resolved from the pinned release; set async-pipelines:powertoolsLayerVersion "
            f"to the version of {aws.POWERTOOLS_LAYER_NAME.format(architecture='<architecture>')} in "
            f"{region} that holds the release pinned in requirements.txt"
        )
    return None


def default_visibility_timeout(timeout: int, batch_window: int) -> int:
    """serverless-lift's rule: 6 x timeout + batching window, capped at the SQS maximum."""
    return int(aws.advised_visibility_timeout(timeout, batch_window))


def split_max_concurrency(total: int, mappings: int) -> list[int]:
    """A consumer's `maxConcurrency` over its event source mappings: they sum to `total`, each ≥ 2.

    AWS applies `ScalingConfig.MaximumConcurrency` per mapping, not per function, so a consumer reading
    the main queue and N retry tiers would otherwise run (N + 1) × total batches. The main queue (first
    mapping) gets the remainder of an uneven split: it carries the traffic.
    """
    base, extra = divmod(total, mappings)
    if base < MAX_CONCURRENCY_RANGE[0]:
        raise ValueError(
            f"maxConcurrency {total} cannot be split over {mappings} event source mappings "
            f"(each needs ≥ {MAX_CONCURRENCY_RANGE[0]}); use ≥ {min_max_concurrency(mappings)}"
        )
    return [base + (extra if i == 0 else 0) for i in range(mappings)]


def min_max_concurrency(mappings: int) -> int:
    """The smallest consumer `maxConcurrency` that leaves every one of its mappings AWS's minimum of 2."""
    return MAX_CONCURRENCY_RANGE[0] * mappings


# --- HTTP ingress (issue 9; docs/http.md) ---------------------------------------------------
HTTP_AUTHS = ("iam", "apiKey", "none")
HTTP_AUTH = "iam"
"""SigV4 (API Gateway `AWS_IAM`): callers need an IAM identity allowed `execute-api:Invoke`."""
HTTP_THROTTLE_RATE = 50.0
"""Steady requests per second per pipeline API (API Gateway stage `throttlingRateLimit`)."""
HTTP_THROTTLE_BURST = 100
"""Token-bucket size (API Gateway stage `throttlingBurstLimit`)."""
HTTP_THROTTLE_RATE_MAX = aws.APIGATEWAY_ACCOUNT_RATE_LIMIT
HTTP_THROTTLE_BURST_MAX = aws.APIGATEWAY_ACCOUNT_BURST_LIMIT
"""API Gateway's default account quota per region: a stage cannot exceed it."""
SNS_MAX_MESSAGE_BYTES = aws.SNS_MESSAGE_BYTES_MAX
"""SNS Publish: body + message attributes ≤ 256 KiB, the topic default (our topics keep it)."""
SQS_MAX_MESSAGE_BYTES = aws.QUEUE_MAX_MESSAGE_BYTES
"""SQS SendMessage: body + message attributes ≤ the queues' `max_message_size` (1 MiB, set explicitly)."""
HTTP_GROUP_HEADER = "X-Message-Group-Id"
"""Where a FIFO pipeline's MessageGroupId comes from when `groupFrom` is not set."""
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = aws.FIFO_ID_LENGTH_MAX
"""The key becomes the FIFO MessageDeduplicationId."""
API_STAGE = "v1"
