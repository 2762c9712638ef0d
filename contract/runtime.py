"""The consumer runtime's wire contract (docs/contracts.md §2): message attributes and idempotency expiry.

The runtime (`functions/pipeline_runtime/`) ships to Lambda and keeps its own copy of these names;
`tests/test_contract_copies.py` checks the copy. The sandbox and ops read messages the runtime wrote,
so they import the names from here.
"""

from __future__ import annotations

RUNTIME_PREFIX = "ap-"
"""Every attribute the runtime sets starts with it; forwarding drops incoming ones."""
MESSAGE_ID = "ap-message-id"
"""The logical message id, kept through chain stages, retry tiers and DLQs (idempotency key)."""
ATTEMPT = "ap-attempt"
"""Retry pipeline: how many retry tiers the message has been through (Number; absent = 0)."""
ERROR_KIND = "ap-error-kind"
"""On DLQ messages: `malformed` | `permanent` | `retries-exhausted`."""
ERROR_REASON = "ap-error-reason"
"""The error text, at most `REASON_BYTES_MAX` UTF-8 bytes."""
SOURCE_QUEUE = "ap-source-queue"
"""On DLQ messages: ARN of the queue the message was consumed from."""
DEAD_LETTER_ID = "ap-dead-letter-id"
"""One dead-lettering: copies of a DLQ message share it, a later dead-lettering gets a new one."""
REDRIVE_MARK = "~redrive:"
"""A redriven message that fails again is dead-lettered as `<ap-message-id><REDRIVE_MARK><ap-dead-letter-id>`:
the part before the mark is the one id tools follow it by."""
ORIGINAL_ATTRIBUTES = "ap-original-attributes"
"""Original attributes that did not fit SQS's 10, packed as JSON."""

LARGE_MESSAGE = "ap-large-message"
"""The body is a pointer to an S3 object holding the real body (`s3://<bucket>/<key>`; docs/contracts.md §6)."""
PROBE = "ap-probe"
"""A smoke-test probe (`ops.smoke`): the runtime answers it itself, the business function never runs."""

PROBE_RECEIPT_PREFIX = "probe#"
"""A probe's receipt is the item `id = <prefix><probe id>` in the consumer's idempotency table."""

REASON_BYTES_MAX = 1024

IDEMPOTENCY_EXPIRES_AFTER_SECONDS = 24 * 60 * 60
"""How long a completed unit of work is remembered: longer than Powertools' default 1 h, so a
redelivery after the longest visibility timeout (6 × 900 s + 300 s) still finds the record."""
