"""What the producer raises. Every failure names the pipeline and, for sends, every entry that failed."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FailedEntry", "ProducerError", "SendError", "SendRefused"]


class ProducerError(ValueError):
    """Bad use: unknown pipeline, FIFO without a group, a body too large with no bucket, bad attributes."""


@dataclass(frozen=True)
class FailedEntry:
    index: int
    """Position of the message in the ``send_many`` input."""
    message_id: str
    """Its ``ap-message-id`` (the idempotency key, or the generated id): resend with it, it stays one message."""
    code: str
    reason: str
    attempts: int
    retryable: bool
    """False: AWS blamed the request (``SenderFault``) or the error is not transient; retrying will not help."""

    def __str__(self) -> str:
        kind = "gave up after" if self.retryable else "rejected on"
        return f"#{self.index} ({self.message_id}): {self.code}: {self.reason} [{kind} attempt {self.attempts}]"


class SendError(RuntimeError):
    """Some messages were not accepted. ``failed`` lists every one; ``sent``: index -> ``ap-message-id`` of the rest."""

    def __init__(self, pipeline: str, failed: list[FailedEntry], sent: dict[int, str]) -> None:
        self.pipeline = pipeline
        self.failed = failed
        self.sent = sent
        lines = "\n".join(f"  {f}" for f in failed)
        super().__init__(
            f"pipeline {pipeline!r}: {len(failed)} of {len(failed) + len(sent)} message(s) not accepted:\n{lines}"
        )


class SendRefused(SendError):
    """A call failed in a way no retry can fix - no credentials, access denied, the queue or topic does not
    exist, invalid parameters: raised at once, nothing after it is tried. ``failed`` lists every message not
    sent, ``sent`` the ones that went out before it; the message is one line."""

    def __init__(self, pipeline: str, code: str, reason: str, failed: list[FailedEntry], sent: dict[int, str]) -> None:
        super().__init__(pipeline, failed, sent)
        self.code = code
        self.reason = reason
        done = f"{len(sent)} message(s) were sent before it" if sent else "nothing was sent"
        self.args = (f"pipeline {pipeline!r}: {reason} (not retried; {done})",)

    def __str__(self) -> str:
        return str(self.args[0])
