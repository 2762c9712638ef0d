"""Sends that move a message on: to the next chain stage, or to the next retry tier.

Both keep the logical id (``ap-message-id``) and the incoming non-``ap-`` attributes. A chain result
over SQS's size limit goes to the pipeline's large-message bucket (when it has one) and the next stage
gets a pointer (:mod:`pipeline_runtime.large_messages`); a retry tier gets the incoming pointer as is. For FIFO
destinations the ``MessageGroupId`` of the incoming record is kept and a deterministic
``MessageDeduplicationId`` is used, so a repeated send within SQS's 5-minute window is dropped.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pipeline_runtime import attributes as attrs
from pipeline_runtime import clients, large_messages
from pipeline_runtime.dead_letter import dead_letter, is_fifo_url
from pipeline_runtime.ids import deterministic_id

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

    from pipeline_runtime.delivery import Delivery
    from pipeline_runtime.settings import Settings

__all__ = ["encode_result", "escalate", "forward"]


def _too_large(body: str, *attribute_sets: dict[str, Any]) -> bool:
    merged = {k: v for attributes in attribute_sets for k, v in attributes.items()}
    return large_messages.message_size(body, merged) > large_messages.SQS_MAX_MESSAGE_BYTES


def encode_result(result: dict[str, Any]) -> str:
    """JSON for the next stage; raises TypeError/ValueError when the result is not JSON-serialisable."""
    return json.dumps(result, ensure_ascii=False, allow_nan=False)


def forward(settings: Settings, delivery: Delivery, body: str, logger: Logger) -> str:
    """Send a chain stage's result to ``AP_NEXT_QUEUE_URL``; returns the new SQS message id."""
    url = settings.next_queue_url
    if not url:
        raise ValueError("forward() needs AP_NEXT_QUEUE_URL")
    own = {attrs.MESSAGE_ID: attrs.string(delivery.logical_id)}
    carried = attrs.originals(delivery.attributes, keep_runtime=False)
    if settings.large_message_bucket and _too_large(body, own, carried):
        pointer = large_messages.store(
            clients.s3(), settings.large_message_bucket, settings.pipeline, delivery.logical_id, body
        )
        body, own = pointer.body(), {**own, attrs.LARGE_MESSAGE: attrs.string(pointer.uri)}
    params: dict[str, Any] = {
        "QueueUrl": url,
        "MessageBody": body,
        "MessageAttributes": attrs.compose(own, carried),
    }
    if is_fifo_url(url):
        params["MessageGroupId"] = delivery.group_id or delivery.logical_id
        params["MessageDeduplicationId"] = deterministic_id(settings.scope, delivery.key, "forward")
    response = clients.sqs().send_message(**params)
    logger.info(
        "forwarded to next stage",
        extra={
            "decision": "forward",
            "message_id": delivery.message_id,
            "ap_message_id": delivery.logical_id,
            "next_queue": url,
            "next_message_id": response.get("MessageId"),
        },
    )
    return response.get("MessageId", "")


def escalate(settings: Settings, delivery: Delivery, body: str, error: BaseException, logger: Logger) -> str:
    """Retry pipeline, after a transient failure: send to the next delay tier, or to the DLQ.

    ``attempt = ap-attempt`` (absent = 0). While ``attempt < len(tiers)`` the original body goes to
    ``tiers[attempt]`` with ``ap-attempt = attempt + 1``; standard queues get ``DelaySeconds`` = the
    tier's delay (FIFO queues cannot delay per message: the tier queue's own delay applies). After the
    last tier the message is dead-lettered with ``ap-error-kind=retries-exhausted``. Returns the
    decision: ``"retry-tier-<n>"`` or ``"dead-lettered"``. A failed send raises.
    """
    tiers = settings.retry_tiers or ()
    reason = f"{type(error).__name__}: {error}"
    if delivery.attempt >= len(tiers):
        dead_letter(settings, delivery, body, "retries-exhausted", reason, logger)
        return "dead-lettered"
    tier = tiers[delivery.attempt]
    next_attempt = delivery.attempt + 1
    own = {
        attrs.MESSAGE_ID: attrs.string(delivery.logical_id),
        attrs.ATTEMPT: attrs.number(next_attempt),
    }
    pointer_uri = attrs.incoming_string(delivery.attributes, attrs.LARGE_MESSAGE)
    if pointer_uri is not None:  # the body is still the pointer: keep what marks it
        own[attrs.LARGE_MESSAGE] = attrs.string(pointer_uri)
    params: dict[str, Any] = {
        "QueueUrl": tier.url,
        "MessageBody": body,
        "MessageAttributes": attrs.compose(own, attrs.originals(delivery.attributes, keep_runtime=False)),
    }
    if is_fifo_url(tier.url):
        params["MessageGroupId"] = delivery.group_id or delivery.logical_id
        purpose = f"retry:{next_attempt}"
        params["MessageDeduplicationId"] = deterministic_id(settings.scope, delivery.key, purpose)
    else:
        params["DelaySeconds"] = tier.delay
    response = clients.sqs().send_message(**params)
    logger.warning(
        "escalated to retry tier",
        extra={
            "decision": "retry-tier",
            "message_id": delivery.message_id,
            "ap_message_id": delivery.logical_id,
            "attempt": next_attempt,
            "tier_queue": tier.url,
            "delay_seconds": tier.delay,
            "error": attrs.truncate_reason(reason),
            "tier_message_id": response.get("MessageId"),
        },
    )
    return f"retry-tier-{next_attempt}"
