"""Notifications: an email for a message (or for an order event).

Message: either an explicit email ``{"to": "ana@example.com", "subject": "Hi", "text": "..."}`` or any
event with ``customer.email`` (e.g. an order from the ``orders`` topic), in which case the subject is
derived from ``type`` and ``id``. ``"simulate": "throttle"`` -> the provider answers 429 (transient).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from handlers.common import simulate
from pipeline_runtime import PermanentError

__all__ = ["SAMPLE_EMAIL", "send"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_SUBJECT = 200

SAMPLE_EMAIL: dict[str, Any] = {"to": "ana@example.com", "subject": "Welcome", "text": "Hello Ana"}


def _recipient(message: dict[str, Any]) -> str:
    to = message.get("to")
    if to is None and isinstance(message.get("customer"), dict):
        to = message["customer"].get("email")
    if not isinstance(to, str) or not _EMAIL.match(to):
        raise PermanentError(f"no valid recipient: 'to' or 'customer.email' must be an email, got {to!r}")
    return to


def _subject(message: dict[str, Any]) -> str:
    subject = message.get("subject")
    if subject is None:
        kind, ident = message.get("type"), message.get("id")
        if not isinstance(kind, str) or not kind:
            raise PermanentError("'subject' is required unless the message is an event with a 'type'")
        subject = f"{kind.replace('_', ' ')} {ident}" if ident is not None else kind.replace("_", " ")
    if not isinstance(subject, str) or not subject.strip():
        raise PermanentError("'subject' must be a non-empty string")
    if len(subject) > MAX_SUBJECT:
        raise PermanentError(f"'subject' is longer than {MAX_SUBJECT} characters")
    return subject.strip()


def send(message: dict[str, Any]) -> dict[str, Any]:
    """Validate and 'send' the email; returns the provider receipt (deterministic id)."""
    to = _recipient(message)
    subject = _subject(message)
    text = message.get("text", "")
    if not isinstance(text, str):
        raise PermanentError("'text' must be a string")
    simulate(message, "send", timeout="email provider timed out", throttle="email provider throttled (429)")
    digest = hashlib.sha256(f"{to}\n{subject}\n{text}".encode()).hexdigest()[:16]
    return {"email_id": f"email-{digest}", "to": to, "subject": subject, "status": "sent"}
