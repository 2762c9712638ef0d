"""See what the runtime decided for each record, to count business effects and follow messages.

The runtime's record handler (`pipeline_runtime.processing.RecordProcessor.__call__`) returns the
outcome of the record's unit of work: `succeeded`, `forwarded` (chain), `dead-lettered`,
`retry-tier-<n>` (retry pipeline), with `"duplicate": True` when Powertools idempotency returned a
stored outcome instead of running the unit again; it raises for a transient failure.

An *effect* is a committed success: the unit returned `succeeded`/`forwarded` and was not a replay
of a stored outcome. With idempotency on, Powertools has saved the record as COMPLETED before the
handler returns, so that is exactly "the idempotent unit completed"; a business function that ran but
whose unit raised (effect rolled back, record deleted) is not counted, nor is a later duplicate.
Without idempotency every successful run counts, so a redelivery shows up as a second effect, which is
the truth for such a consumer.

The sandbox wraps that method for the duration of a run (the runtime has no listener hook; see the
closing note of the sandbox README for the one-function hook that would replace this wrapper).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sandbox.invoke import ensure_functions_on_path

MESSAGE_ID = "ap-message-id"
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
    """Report every record's outcome to `listener` while the context is open."""
    ensure_functions_on_path()
    import pipeline_runtime.processing as processing

    cls = getattr(processing, "RecordProcessor", None)
    if cls is None or "__call__" not in vars(cls):
        raise RuntimeError(
            "pipeline_runtime.processing.RecordProcessor is gone: update sandbox/effects.py (business effects are "
            "counted from the record handler's outcome)"
        )
    original = cls.__call__

    def observed(self: Any, record: Any) -> dict[str, Any]:
        raw = getattr(record, "raw_event", record)
        scope = self.settings.scope
        logical_id = record_logical_id(raw)
        try:
            outcome = original(self, record)
        except Exception as exc:
            listener.outcome(scope, logical_id, None, f"{type(exc).__name__}: {exc}")
            raise
        listener.outcome(scope, logical_id, outcome if isinstance(outcome, dict) else None, None)
        return outcome

    setattr(cls, "__call__", observed)  # noqa: B010 - patched for the run only
    try:
        yield
    finally:
        setattr(cls, "__call__", original)  # noqa: B010
