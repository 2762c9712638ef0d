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
"""

from __future__ import annotations

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
`SendMessageBatch`; raised from 256 KiB in August 2025)."""
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
