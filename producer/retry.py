"""Backoff with full jitter for the entries AWS did not accept (AWS Architecture Blog, "Exponential
Backoff And Jitter": sleep = random(0, min(cap, base * 2**attempt)))."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "ACCESS_CODES",
    "MISSING_CODES",
    "RETRYABLE_CODES",
    "RetryPolicy",
    "describe_refusal",
    "is_retryable",
    "is_retryable_exception",
]

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


ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "AuthFailure",
        "UnauthorizedOperation",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidSecurity",
        "KMS.AccessDeniedException",
        "KmsAccessDenied",
    }
)
"""The caller may not do this: new credentials or a policy change are needed, not a retry."""
MISSING_CODES = frozenset(
    {
        "AWS.SimpleQueueService.NonExistentQueue",
        "NonExistentQueue",
        "QueueDoesNotExist",
        "NotFound",
        "NotFoundException",
        "ResourceNotFoundException",
        "NoSuchBucket",
    }
)
"""The queue, topic or bucket is not there (not deployed, wrong account or region)."""


def is_retryable_exception(exc: BaseException) -> bool:
    """Whether a whole call that raised `exc` may succeed if sent again.

    A ClientError by its code and status (throttling, 5xx); from botocore itself only what botocore's
    standard retry mode calls transient: a connection that failed or broke (ConnectionError,
    HTTPClientError). No credentials, a bad parameter, an unknown region never get better by retrying.
    """
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return is_retryable(str(error.get("Code", "")), status if isinstance(status, int) else None)
    return isinstance(exc, ConnectionError | HTTPClientError)


def describe_refusal(exc: BaseException) -> tuple[str, str]:
    """(code, one clear sentence) for an error that retrying cannot fix."""
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return type(exc).__name__, (
            "no AWS credentials found (set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use a role)"
        )
    if not isinstance(exc, ClientError):
        return type(exc).__name__, " ".join(str(exc).split())
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    detail = " ".join(str(error.get("Message") or "").split())
    call = exc.operation_name
    if code in ACCESS_CODES:
        return code, f"access denied: {call}: {code}: {detail}".rstrip(": ")
    if code in MISSING_CODES:
        return code, f"does not exist: {call}: {code}: {detail} (is the stack deployed in this account and region?)"
    return code, f"AWS refused {call}: {code}: {detail}".rstrip(": ")
