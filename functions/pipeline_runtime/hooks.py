"""Outcome listeners: who wants to know what the runtime decided for each record.

The local sandbox counts business effects and follows messages with it; in AWS nobody registers, and
a notification is a loop over an empty list. A listener must not raise: its errors are not caught.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["OutcomeListener", "add_outcome_listener", "notify", "remove_outcome_listener"]

OutcomeListener = Callable[[str, "dict[str, Any]", "dict[str, Any] | None", "str | None"], None]
"""Called as ``listener(scope, record, outcome, error)``: ``scope`` is ``<pipeline>.<consumer>``, ``record``
the Lambda SQS record as delivered,
``outcome`` the record's outcome dict (``{"outcome": "succeeded" | "forwarded" | "dead-lettered" |
"retry-tier-<n>", "duplicate": True?}``), or None with ``error`` when the record is reported as failed."""

_listeners: list[OutcomeListener] = []


def add_outcome_listener(listener: OutcomeListener) -> None:
    _listeners.append(listener)


def remove_outcome_listener(listener: OutcomeListener) -> None:
    _listeners.remove(listener)


def notify(scope: str, record: dict[str, Any], outcome: dict[str, Any] | None, error: str | None = None) -> None:
    if not _listeners:  # the AWS case: called once per record, so nothing to copy or loop over
        return
    for listener in tuple(_listeners):
        listener(scope, record, outcome, error)
