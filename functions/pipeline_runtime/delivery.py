"""What the runtime knows about the record being processed, readable by business functions.

:func:`current_delivery` returns the :class:`Delivery` of the record whose business function is
running (``None`` outside one). Business functions rarely need it; the example handlers use
:attr:`Delivery.tries` to make ``"simulate_failures": N`` deterministic (fail the first N tries).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


_new = object.__new__


def new_delivery(
    message_id: str,
    key: str,
    logical_id: str,
    attempt: int,
    receive_count: int,
    group_id: str | None,
    source_arn: str,
    redrive: bool,
    attributes: Mapping[str, Any],
) -> Delivery:
    """``Delivery(...)`` built once per record without the frozen dataclass's ``__init__``.

    That ``__init__`` sets each field through ``object.__setattr__`` (frozen), which was the largest single
    per-record cost of the runtime (bench/runtime_overhead.py). The fields go into the instance's
    ``__dict__`` exactly as it would put them, so the object is the same: equal, same hash and repr,
    still immutable (tests/functions/test_delivery.py).
    """
    delivery: Delivery = _new(Delivery)
    delivery.__dict__.update(
        {
            "message_id": message_id,
            "key": key,
            "logical_id": logical_id,
            "attempt": attempt,
            "receive_count": receive_count,
            "group_id": group_id,
            "source_arn": source_arn,
            "redrive": redrive,
            "attributes": attributes,
        }
    )
    return delivery


_current: ContextVar[Delivery | Callable[[], Delivery] | None] = ContextVar("pipeline_runtime_delivery", default=None)
"""The running record's Delivery, or what builds it on first use (most business functions never ask)."""


def current_delivery() -> Delivery | None:
    """The delivery being processed by the calling business function, or None."""
    found = _current.get()
    if found is None or isinstance(found, Delivery):
        return found
    return found()
