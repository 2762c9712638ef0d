"""What the runtime knows about the record being processed, readable by business functions.

:func:`current_delivery` returns the :class:`Delivery` of the record whose business function is
running (``None`` outside one). Business functions rarely need it; the example handlers use
:attr:`Delivery.tries` to make ``"simulate_failures": N`` deterministic (fail the first N tries).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REDRIVE_MARK", "Delivery", "current_delivery"]

REDRIVE_MARK = "~redrive:"
"""Separates a logical id from the redrive generation: ``<id>~redrive:<SQS messageId>``."""


@dataclass(frozen=True)
class Delivery:
    message_id: str
    """SQS ``messageId`` of this delivery."""
    key: str
    """Idempotency key: ``AP_IDEMPOTENCY_KEY`` on the body, else ``ap-message-id``, else messageId."""
    logical_id: str
    """``ap-message-id`` given to the copies this record produces (chain, retry tier, DLQ)."""
    attempt: int
    """Retry tiers this message has been through (``ap-attempt``; 0 outside retry pipelines)."""
    receive_count: int
    """``ApproximateReceiveCount`` of this SQS message."""
    group_id: str | None
    """FIFO ``MessageGroupId``."""
    source_arn: str
    redrive: bool
    """The message came back from a DLQ (it carries ``ap-error-kind``): a new generation."""
    attributes: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)
    """The incoming message attributes, Lambda event shape."""

    @property
    def tries(self) -> int:
        """1-based number of this try across SQS redeliveries and retry tiers."""
        return self.attempt + self.receive_count


_current: ContextVar[Delivery | None] = ContextVar("pipeline_runtime_delivery", default=None)


def current_delivery() -> Delivery | None:
    """The delivery being processed by the calling business function, or None."""
    return _current.get()
