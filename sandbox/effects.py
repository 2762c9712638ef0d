"""See what the runtime decided for each record, to count business effects and follow messages.

The runtime's record handler (`pipeline_runtime.processing.RecordProcessor`) decides the
outcome of the record's unit of work: `succeeded`, `forwarded` (chain), `dead-lettered`,
`retry-tier-<n>` (retry pipeline), with `"duplicate": True` when Powertools idempotency returned a
stored outcome instead of running the unit again; it raises for a transient failure.

An *effect* is a committed success: the unit returned `succeeded`/`forwarded` and was not a replay
of a stored outcome. With idempotency on, Powertools has saved the record as COMPLETED before the
handler returns, so that is exactly "the idempotent unit completed"; a business function that ran but
whose unit raised (effect rolled back, record deleted) is not counted, nor is a later duplicate.
Without idempotency every successful run counts, so a redelivery shows up as a second effect, which is
the truth for such a consumer.

The sandbox listens through the runtime's outcome hook (`pipeline_runtime.hooks`) for the duration of a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from contract.runtime import MESSAGE_ID
from sandbox.invoke import ensure_functions_on_path

SUCCESS = ("succeeded", "forwarded")


class OutcomeListener(Protocol):
    def outcome(self, scope: str, logical_id: str, outcome: dict[str, Any] | None, error: str | None) -> None:
        """`outcome` is the runtime's outcome dict, or None with `error` when the record failed."""
        ...


def record_logical_id(raw: dict[str, Any]) -> str:
    """`ap-message-id` of a Lambda SQS record, else its messageId (the runtime's own rule)."""
    attr = (raw.get("messageAttributes") or {}).get(MESSAGE_ID) or {}
    value = attr.get("stringValue") if isinstance(attr, dict) else None
    return value if isinstance(value, str) and value else str(raw.get("messageId", ""))


def is_effect(outcome: dict[str, Any] | None) -> bool:
    return outcome is not None and outcome.get("outcome") in SUCCESS and not outcome.get("duplicate")


@contextmanager
def observe_outcomes(listener: OutcomeListener) -> Iterator[None]:
    """Report every record's outcome to `listener` while the context is open (the runtime's hooks.py)."""
    ensure_functions_on_path()
    from pipeline_runtime import hooks

    def observed(scope: str, record: dict[str, Any], outcome: dict[str, Any] | None, error: str | None) -> None:
        listener.outcome(scope, record_logical_id(record), outcome, error)

    hooks.add_outcome_listener(observed)
    try:
        yield
    finally:
        hooks.remove_outcome_listener(observed)
