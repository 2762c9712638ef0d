"""Backoff with full jitter for the entries AWS did not accept (AWS Architecture Blog, "Exponential
Backoff And Jitter": sleep = random(0, min(cap, base * 2**attempt)))."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RETRYABLE_CODES", "RetryPolicy", "is_retryable"]

RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "KMSThrottlingException",
        "KMSThrottling",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "AWS.SimpleQueueService.RequestThrottled",
    }
)
"""Error codes that say "try again" (botocore's standard retry mode treats the same ones as transient)."""


def is_retryable(code: str, http_status: int | None = None) -> bool:
    return code in RETRYABLE_CODES or (http_status is not None and (http_status >= 500 or http_status == 429))


@dataclass
class RetryPolicy:
    """How often and how patiently failed entries are sent again."""

    max_attempts: int = 6
    """Attempts per entry, the first included."""
    base_delay: float = 0.05
    max_delay: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    """Injectable: tests and the sandbox's virtual clock pass their own."""
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempt: int) -> float:
        """Sleep before attempt ``attempt + 1`` (``attempt`` ≥ 1 attempts made so far)."""
        return self.rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def backoff(self, attempt: int) -> None:
        self.sleep(self.delay(attempt))
