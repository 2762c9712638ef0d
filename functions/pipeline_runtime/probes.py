"""Smoke-test probes (``ops.smoke``, docs/contracts.md §7): the runtime answers them itself.

A record carrying the attribute ``ap-probe`` (= the probe id) never reaches the business function. The
runtime checks what the function's unit of work needs, the way a real message would use it:

1. ``handler``: ``AP_HANDLER`` imports and names a function (an import error is reported, not raised);
2. ``large-message``: a probe sent as a large message is resolved from S3 (the consumer's GetObject);
3. ``next-stage``: in a chain the probe is forwarded to ``AP_NEXT_QUEUE_URL`` (SendMessage), so every
   stage answers it in turn;
4. ``receipt``: ``{status, checks, error}`` is written to the consumer's idempotency table as the item
   ``id = "probe#<probe id>"`` (PutItem, 1 h TTL on ``expiration``), which ``ops.smoke`` reads.

A probe whose checks fail still succeeds as a record (its receipt says FAILED): no DLQ message, no
Lambda error, no alarm. Only a failure to *write* the receipt fails the record, so SQS retries it - and
``ops.smoke`` finds it still queued or, eventually, in the DLQ: either way it names the consumer.
A consumer with ``idempotency: false`` has no table; it logs the receipt and ``ops.smoke`` can only see
that the probe left the queue.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from pipeline_runtime import attributes as attrs
from pipeline_runtime import clients, large_messages, loader
from pipeline_runtime.dead_letter import is_fifo_url
from pipeline_runtime.ids import deterministic_id

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

    from pipeline_runtime.settings import Settings

__all__ = ["RECEIPT_PREFIX", "RECEIPT_TTL_SECONDS", "answer", "any_probe", "probe_id", "receipt_key"]

RECEIPT_PREFIX = "probe#"
RECEIPT_TTL_SECONDS = 3600


def probe_id(record: dict[str, Any]) -> str | None:
    """The probe id of a Lambda SQS record, or None for a business message."""
    return attrs.incoming_string(record.get("messageAttributes"), attrs.PROBE)


def any_probe(records: list[dict[str, Any]]) -> bool:
    """Whether some record carries the probe attribute at all: the cheap test run on every batch."""
    return any(attrs.PROBE in (r.get("messageAttributes") or ()) for r in records)


def receipt_key(probe: str) -> str:
    return f"{RECEIPT_PREFIX}{probe}"


def _check(checks: dict[str, str], name: str, action: Any) -> bool:
    try:
        action()
    except Exception as exc:  # every failure becomes the receipt's reason, never the record's
        checks[name] = f"FAILED: {type(exc).__name__}: {attrs.truncate_reason(str(exc), 300)}"
        return False
    checks[name] = "OK"
    return True


def _forward(settings: Settings, record: dict[str, Any], probe: str) -> None:
    url = settings.next_queue_url or ""
    own = {attrs.PROBE: attrs.string(probe), attrs.MESSAGE_ID: attrs.string(f"probe-{probe}")}
    params: dict[str, Any] = {
        "QueueUrl": url,
        "MessageBody": json.dumps({attrs.PROBE: probe}),
        "MessageAttributes": own,
    }
    if is_fifo_url(url):
        params["MessageGroupId"] = (record.get("attributes") or {}).get("MessageGroupId") or f"probe-{probe}"
        params["MessageDeduplicationId"] = deterministic_id(settings.scope, probe, "probe-forward")
    clients.sqs().send_message(**params)


def answer(settings: Settings, record: dict[str, Any], logger: Logger) -> bool:
    """Run the checks and write the receipt; True when every check passed (then a chain forwarded it).

    Raises only when the receipt cannot be written."""
    probe = probe_id(record) or ""
    checks: dict[str, str] = {}
    ok = _check(checks, "handler", lambda: loader.resolve(settings.handler))
    if attrs.incoming_string(record.get("messageAttributes"), attrs.LARGE_MESSAGE) is not None:
        ok = _check(
            checks,
            "large-message",
            lambda: large_messages.fetch(
                clients.s3(),
                large_messages.parse_pointer(str(record.get("body") or "")),
                bucket=settings.large_message_bucket,
                pipeline=settings.pipeline,
            ),
        ) and ok
    if ok and settings.next_queue_url:
        ok = _check(checks, "next-stage", lambda: _forward(settings, record, probe))
    status = "OK" if ok else "FAILED"
    logger.info(
        "probe answered",
        extra={"decision": "probe", "probe": probe, "probe_status": status, "checks": checks},
    )
    if not settings.idempotency_table:
        return ok
    clients.dynamodb().put_item(
        TableName=settings.idempotency_table,
        Item={
            "id": {"S": receipt_key(probe)},
            "expiration": {"N": str(int(time.time()) + RECEIPT_TTL_SECONDS)},
            "status": {"S": status},
            "consumer": {"S": settings.scope},
            "checks": {"S": json.dumps(checks, sort_keys=True)},
        },
    )
    return ok
