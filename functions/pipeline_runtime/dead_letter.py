"""Sending a record to its DLQ with the reason attached (docs/contracts.md §2).

The body is sent unchanged; the runtime's attributes (``ap-error-kind``, ``ap-error-reason``,
``ap-source-queue``, ``ap-message-id``, ``ap-dead-letter-id``) take precedence, the incoming attributes
follow within the 10-attribute limit (overflow packed into ``ap-original-attributes``). A failed send raises, so the
record is reported as failed and retried rather than lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pipeline_runtime import attributes as attrs
from pipeline_runtime import clients
from pipeline_runtime.ids import deterministic_id

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

    from pipeline_runtime.delivery import Delivery
    from pipeline_runtime.settings import Settings

__all__ = ["ErrorKind", "dead_letter", "is_fifo_url"]

ErrorKind = Literal["malformed", "permanent", "retries-exhausted"]


def is_fifo_url(url: str) -> bool:
    """FIFO queue names must end in ``.fifo``, so the URL tells the destination's type exactly."""
    return url.rstrip("/").endswith(".fifo")


def dead_letter(
    settings: Settings,
    delivery: Delivery,
    body: str,
    kind: ErrorKind,
    reason: str,
    logger: Logger,
) -> str:
    """Send ``body`` to ``AP_DLQ_URL``; returns the DLQ message id."""
    reason = attrs.truncate_reason(reason)
    own = {
        attrs.ERROR_KIND: attrs.string(kind),
        attrs.ERROR_REASON: attrs.string(reason),
        attrs.SOURCE_QUEUE: attrs.string(delivery.source_arn or "unknown"),
        attrs.MESSAGE_ID: attrs.string(delivery.logical_id),
        attrs.DEAD_LETTER_ID: attrs.string(
            deterministic_id(settings.scope, delivery.key, f"dead-letter:{kind}:{delivery.attempt}")
        ),
    }
    params: dict[str, Any] = {
        "QueueUrl": settings.dlq_url,
        "MessageBody": body,
        "MessageAttributes": attrs.compose(own, attrs.originals(delivery.attributes, keep_runtime=True)),
    }
    if is_fifo_url(settings.dlq_url):
        params["MessageGroupId"] = delivery.group_id or delivery.logical_id
        params["MessageDeduplicationId"] = deterministic_id(
            settings.scope, delivery.key, f"dlq:{kind}:{delivery.attempt}"
        )
    response = clients.sqs().send_message(**params)
    logger.warning(
        "dead-lettered",
        extra={
            "decision": "dead-letter",
            "message_id": delivery.message_id,
            "ap_message_id": delivery.logical_id,
            "error_kind": kind,
            "error_reason": reason,
            "dlq_message_id": response.get("MessageId"),
        },
    )
    return response.get("MessageId", "")
