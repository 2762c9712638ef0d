"""What happens to one SQS record (design.md §4). Used by :mod:`pipeline_runtime.entry`.

1. Parse the body. Not JSON, or not a JSON object -> DLQ with ``ap-error-kind=malformed``; handled.
2. Work out the delivery: idempotency key, logical id (``ap-message-id``), ``ap-attempt``, redrive
   (built when first needed: the idempotency key, a send, a log line or ``current_delivery()``).
3. Run the unit - business call, then its send - under Powertools idempotency when
   ``AP_IDEMPOTENCY_TABLE`` is set:
   * returns -> success; in a chain a returned dict goes to ``AP_NEXT_QUEUE_URL`` (None: nothing);
   * ``PermanentError`` -> DLQ with ``ap-error-kind=permanent`` and the reason; handled.
4. Any other exception from the business function is transient: re-raised (Powertools reports the
   record in ``batchItemFailures``), or, in a retry pipeline, escalated to the next delay tier / DLQ
   (the move is idempotent too, keyed by message and attempt: a redelivery does not move it twice).
   Failures of the runtime's own sends or of the idempotency store are re-raised (never escalated):
   SQS redelivers the record and its redrive policy is the safety net.

Redrive: a message that carries ``ap-error-kind`` came back from a DLQ. It starts a new generation -
key and logical id get ``~redrive:<ap-dead-letter-id>`` (else its messageId) and ``ap-attempt``
restarts at 0 - so an earlier stored outcome (e.g. "dead-lettered as permanent") does not swallow the redriven message.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pipeline_runtime import attributes as attrs
from pipeline_runtime import clients, hooks, large_messages
from pipeline_runtime.dead_letter import dead_letter
from pipeline_runtime.delivery import REDRIVE_MARK, Delivery, _current, new_delivery
from pipeline_runtime.errors import ConfigurationError, PermanentError
from pipeline_runtime.forwarding import encode_result, escalate, forward

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from pipeline_runtime.idempotency import Unit
    from pipeline_runtime.loader import BusinessFunction
    from pipeline_runtime.settings import Settings

__all__ = ["BusinessFailure", "RecordProcessor", "compile_key_expression"]


class BusinessFailure(Exception):
    """Carries a transient failure of the business function out of the idempotent unit."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@lru_cache(maxsize=64)
def compile_key_expression(expression: str) -> Any:
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise ConfigurationError(f"AP_IDEMPOTENCY_KEY {expression!r} is not valid JMESPath: {exc}") from exc


def _key_text(value: Any) -> str | None:
    """A JMESPath result as an idempotency key; None when nothing was found."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _parse(body: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, TypeError) as exc:
        return None, f"body is not valid JSON: {exc}"
    if not isinstance(parsed, dict):
        return None, f"body is JSON {type(parsed).__name__}, expected an object"
    return parsed, None


def _strip_generation(value: str) -> str:
    return value.split(REDRIVE_MARK, 1)[0]


def _int(value: str | None, default: int) -> int:
    try:
        return max(int(value), 0) if value is not None else default
    except ValueError:
        return default


class RecordProcessor:
    """The Powertools record handler for one invocation: ``processor(record=SQSRecord)``."""

    def __init__(
        self,
        settings: Settings,
        business: BusinessFunction,
        logger: Logger,
        unit: Unit | None,
    ) -> None:
        self.settings = settings
        self.business = business
        self.logger = logger
        self.unit = unit
        self.key_expression = compile_key_expression(settings.idempotency_key) if settings.idempotency_key else None
        self.scope = settings.scope  # read per record by the outcome listeners: built once per invocation

    # -- the record handler ------------------------------------------------------------------
    def __call__(self, record: SQSRecord) -> dict[str, Any]:
        """Handle one record and tell the outcome listeners (hooks.py) what was decided."""
        return self.record_handler()(record)

    def record_handler(self) -> Callable[[SQSRecord], dict[str, Any]]:
        """This processor as the function Powertools calls per record.

        Powertools reads the handler's signature on every invocation (to pass ``lambda_context`` if
        asked); a bound method or callable instance costs it two signature builds, a function carrying
        its ``__signature__`` none (bench/runtime_overhead.py).
        """
        handle, scope, notify = self._handle, self.scope, hooks.notify

        def record_handler(record: SQSRecord) -> dict[str, Any]:
            try:
                outcome = handle(record)
            except Exception as exc:
                notify(scope, record.raw_event, None, f"{type(exc).__name__}: {exc}")
                raise
            notify(scope, record.raw_event, outcome)
            return outcome

        record_handler.__signature__ = _RECORD_HANDLER_SIGNATURE  # type: ignore[attr-defined]
        return record_handler

    def _handle(self, record: SQSRecord) -> dict[str, Any]:
        raw = record.raw_event
        body = raw.get("body")
        body_text = body if isinstance(body, str) else ""
        content, problem = self._content(raw, body_text)
        parsed, problem = _parse(content) if problem is None else (None, problem)
        delivery = _DeliveryOnDemand(self._delivery, raw, parsed)
        if self.unit is not None or self.key_expression is not None:
            delivery()  # needed now (the key), or its key-expression warning is due now, as the record starts

        transient: Exception | None = None
        try:
            if self.unit is None:
                outcome = self._run(delivery, body_text, parsed, problem)
            else:
                job = functools.partial(self._run, delivery, body_text, parsed, problem)
                outcome = self.unit(idempotency_key=delivery().key, job=job)
        except BusinessFailure as failure:
            transient = failure.error
        except Exception as exc:
            self.logger.warning(
                "record failed in the runtime; reported for retry",
                extra={
                    "decision": "report-failure",
                    "message_id": delivery().message_id,
                    "ap_message_id": delivery().logical_id,
                    "error": f"{type(exc).__name__}: {exc}",
                },
                exc_info=exc,
            )
            raise
        if transient is not None:  # handled outside the except block: no BusinessFailure context
            return self._transient(delivery(), body_text, transient)
        if outcome.get("duplicate"):
            self.logger.info(
                "duplicate delivery; already processed",
                extra={
                    "decision": "skip-duplicate",
                    "message_id": delivery().message_id,
                    "ap_message_id": delivery().logical_id,
                    "stored_outcome": outcome.get("outcome"),
                },
            )
        return outcome

    # -- steps ---------------------------------------------------------------------------------
    def _content(self, raw: dict[str, Any], body: str) -> tuple[str, str | None]:
        """The real body: a large-message pointer is resolved from S3 (contracts §6), else ``body``.

        Returns ``(content, problem)``; a pointer that can never resolve is a problem (-> DLQ as
        malformed, with the pointer body), an S3 error that may pass (throttling, 5xx) raises: retried.
        DLQ and retry-tier sends keep the small pointer body, never the resolved content.
        """
        if attrs.incoming_string(raw.get("messageAttributes"), attrs.LARGE_MESSAGE) is None:
            return body, None
        try:
            pointer = large_messages.parse_pointer(body)
            return large_messages.fetch(
                clients.s3(), pointer, bucket=self.settings.large_message_bucket, pipeline=self.settings.pipeline
            ), None
        except large_messages.LargeMessageError as exc:
            return body, str(exc)

    def _delivery(self, raw: dict[str, Any], parsed: dict[str, Any] | None) -> Delivery:
        incoming = raw.get("messageAttributes") or {}
        system = raw.get("attributes") or {}
        message_id = str(raw.get("messageId") or "")
        ap_message_id = attrs.incoming_string(incoming, attrs.MESSAGE_ID)

        key = ap_message_id or message_id
        if parsed is not None and self.key_expression is not None:
            found = _key_text(self.key_expression.search(parsed))
            if found is None:
                self.logger.warning(
                    "idempotency key expression found nothing; using the message id",
                    extra={"message_id": message_id, "expression": self.settings.idempotency_key},
                )
            else:
                key = found
        logical_id = ap_message_id or key

        redrive = attrs.ERROR_KIND in incoming
        attempt = 0 if redrive else _int(attrs.incoming_string(incoming, attrs.ATTEMPT), 0)
        if redrive:
            # Copies of one DLQ message (a mover that sent twice) share the generation; a new dead-lettering does not.
            generation = f"{REDRIVE_MARK}{attrs.incoming_string(incoming, attrs.DEAD_LETTER_ID) or message_id}"
            key = _strip_generation(key) + generation
            logical_id = _strip_generation(logical_id) + generation

        return new_delivery(
            message_id,
            key,
            logical_id,
            attempt,
            _int(system.get("ApproximateReceiveCount"), 1),
            system.get("MessageGroupId") or None,
            str(raw.get("eventSourceARN") or ""),
            redrive,
            incoming,
        )

    def _run(
        self, delivery: _DeliveryOnDemand, body: str, parsed: dict[str, Any] | None, problem: str | None
    ) -> dict[str, Any]:
        """The unit of work; its outcome is what the idempotency store remembers."""
        if parsed is None:
            return self._dead_letter(delivery(), body, "malformed", problem or "malformed body")
        token = _current.set(delivery)
        try:
            result = self.business(parsed)
        except PermanentError as exc:
            return self._dead_letter(delivery(), body, "permanent", str(exc) or type(exc).__name__)
        except Exception as exc:
            raise BusinessFailure(exc) from exc
        finally:
            _current.reset(token)

        if self.settings.next_queue_url is None or result is None:
            return {"outcome": "succeeded"}
        if not isinstance(result, dict):
            reason = f"chain stage returned {type(result).__name__}; it must return a dict or None"
            return self._dead_letter(delivery(), body, "permanent", reason)
        try:
            next_body = encode_result(result)
        except (TypeError, ValueError) as exc:
            return self._dead_letter(delivery(), body, "permanent", f"result is not JSON-serialisable: {exc}")
        sent = forward(self.settings, delivery(), next_body, self.logger)
        return {"outcome": "forwarded", "next_message_id": sent}

    def _dead_letter(self, delivery: Delivery, body: str, kind: Any, reason: str) -> dict[str, Any]:
        sent = dead_letter(self.settings, delivery, body, kind, reason, self.logger)
        return {"outcome": "dead-lettered", "kind": kind, "dlq_message_id": sent}

    def _transient(self, delivery: Delivery, body: str, error: Exception) -> dict[str, Any]:
        if self.settings.retry_tiers is None:
            self.logger.warning(
                "transient failure; reported for retry",
                extra={
                    "decision": "report-failure",
                    "message_id": delivery.message_id,
                    "ap_message_id": delivery.logical_id,
                    "error": f"{type(error).__name__}: {error}",
                    "receive_count": delivery.receive_count,
                },
            )
            raise error

        def move() -> dict[str, Any]:
            return {"outcome": escalate(self.settings, delivery, body, error, self.logger)}

        if self.unit is None:
            return move()
        # The move is its own idempotent unit (one per attempt), so a redelivered record is not moved twice.
        return self.unit(idempotency_key=f"{delivery.key}~escalate:{delivery.attempt}", job=move)


class _DeliveryOnDemand:
    """A record's :class:`Delivery`, built the first time it is needed, then the same object.

    A record that succeeds without idempotency never needs it unless its business function calls
    ``current_delivery()``; building it was a large part of the runtime's per-record cost.
    """

    __slots__ = ("_build", "_delivery", "_parsed", "_raw")

    def __init__(
        self,
        build: Callable[[dict[str, Any], dict[str, Any] | None], Delivery],
        raw: dict[str, Any],
        parsed: dict[str, Any] | None,
    ) -> None:
        self._build, self._raw, self._parsed = build, raw, parsed
        self._delivery: Delivery | None = None

    def __call__(self) -> Delivery:
        if self._delivery is None:
            self._delivery = self._build(self._raw, self._parsed)
        return self._delivery


def _record_handler_prototype(record: SQSRecord) -> dict[str, Any]:
    raise NotImplementedError  # only its signature is used


_RECORD_HANDLER_SIGNATURE = inspect.signature(_record_handler_prototype)
