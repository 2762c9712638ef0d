"""What the producer raises. Every failure names the pipeline and, for sends, every entry that failed."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FailedEntry", "ProducerError", "SendError"]


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
