"""The one Lambda entry point of every consumer: ``pipeline_runtime.entry.handler``.

Per invocation: read the settings from the environment (docs/contracts.md §1), pick the logger and the
business function (``AP_HANDLER``), then let Powertools drive the batch -
``BatchProcessor(event_type=EventType.SQS)`` for standard queues, ``SqsFifoPartialProcessor()`` for
FIFO (stops at the first failure and reports it and every remaining record) - with
``process_partial_response``. The per-record work is :class:`pipeline_runtime.processing.RecordProcessor`.
Smoke-test probes (``ap-probe``) are answered first, by :mod:`pipeline_runtime.probes`, and never reach
the business function (nor need it to import).

The return value is the partial batch response ``{"batchItemFailures": [{"itemIdentifier": id}, ...]}``.
When *every* record failed, Powertools raises ``BatchProcessingError`` instead (its default): the
invocation fails, SQS retries the whole batch, and the Lambda ``Errors`` metric sees it.

Import cost is kept low on purpose (bench/cold_start.py): the Powertools batch and idempotency
utilities and boto3 are imported on the first invocation, not at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline_runtime import clients, hooks, idempotency, loader, probes
from pipeline_runtime.log import get_logger
from pipeline_runtime.processing import RecordProcessor
from pipeline_runtime.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BasePartialBatchProcessor

__all__ = ["handler", "reset_caches"]

_cold_start = True


def _processor(fifo: bool) -> BasePartialBatchProcessor:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, SqsFifoPartialProcessor

    if fifo:
        return SqsFifoPartialProcessor()
    return BatchProcessor(event_type=EventType.SQS)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda handler for an SQS event-source-mapping batch (ReportBatchItemFailures on)."""
    global _cold_start
    settings = Settings.from_env()
    logger = get_logger(settings.service, settings.log_level)
    logger.append_keys(
        pipeline=settings.pipeline,
        consumer=settings.consumer,
        function_request_id=getattr(context, "aws_request_id", None),
        cold_start=_cold_start,
    )
    _cold_start = False

    records = list(event.get("Records") or [])
    probe_ids = [probes.probe_id(r) for r in records] if probes.any_probe(records) else []
    probe_failures: list[dict[str, Any]] = []
    if any(probe_ids):
        probe_failures = [
            {"itemIdentifier": r.get("messageId", "")}
            for r, probe in zip(records, probe_ids, strict=True)
            if probe and not _probe(settings, r, logger)
        ]
        business_records = [r for r, probe in zip(records, probe_ids, strict=True) if not probe]
        if not business_records:
            return {"batchItemFailures": probe_failures}
        event = {**event, "Records": business_records}

    business = loader.resolve(settings.handler)
    unit = idempotency.unit_for(settings, context) if settings.idempotency_table else None
    processor = RecordProcessor(settings, business, logger, unit)

    from aws_lambda_powertools.utilities.batch import process_partial_response

    response: dict[str, Any] = dict(
        process_partial_response(
            event=event,
            record_handler=processor.record_handler(),  # a function with a ready signature (processing.py)
            processor=_processor(settings.fifo),
            context=context,
        )
    )
    if probe_failures:
        response["batchItemFailures"] = [*(response.get("batchItemFailures") or []), *probe_failures]
    return response


def _probe(settings: Settings, record: dict[str, Any], logger: Any) -> bool:
    """Answer a smoke-test probe (probes.py); False when its receipt could not be written (retry it)."""
    try:
        ok = probes.answer(settings, record, logger)
    except Exception as exc:
        logger.warning("probe receipt not written; reported for retry", extra={"error": f"{type(exc).__name__}: {exc}"})
        return False
    # Outcome listeners (the sandbox's ledger) see a probe handled like a record: forwarded along a chain.
    hooks.notify(settings.scope, record, {"outcome": "forwarded" if ok and settings.next_queue_url else "succeeded",
                                          "probe": True})
    return True


def reset_caches() -> None:
    """Drop cached clients, idempotency units and resolved handlers (tests, emulator restarts)."""
    clients.reset()
    idempotency.reset()
    loader.reset()
