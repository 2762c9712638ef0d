"""The consumer's wiring, read from the environment variables of docs/contracts.md §1.

Read on every invocation (:meth:`Settings.from_env`): the sandbox runs many consumers in one process
by swapping ``os.environ``, so nothing here may be cached at import time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline_runtime.errors import ConfigurationError

__all__ = ["MAX_DELAY_SECONDS", "RetryTier", "Settings"]

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds upper bound

_REQUIRED = ("AP_HANDLER", "AP_PIPELINE", "AP_CONSUMER", "AP_DLQ_URL", "AP_FIFO")


@dataclass(frozen=True)
class RetryTier:
    """One delay tier of a retry pipeline: the tier queue and its delay in seconds."""

    url: str
    delay: int


@dataclass(frozen=True)
class Settings:
    handler: str
    """``module:function`` relative to ``functions/`` (``AP_HANDLER``)."""
    pipeline: str
    consumer: str
    dlq_url: str
    fifo: bool
    """The source queue(s) are FIFO (``AP_FIFO``): selects the FIFO batch processor."""
    next_queue_url: str | None = None
    retry_tiers: tuple[RetryTier, ...] | None = None
    """``None``: not a retry pipeline. ``()``: a retry pipeline without tiers (straight to the DLQ)."""
    idempotency_table: str | None = None
    idempotency_key: str | None = None
    """JMESPath evaluated on the parsed body; ``None`` = the message key (``ap-message-id``/messageId)."""
    results_bucket: str | None = None
    large_message_bucket: str | None = None
    """S3 bucket of the pipeline's large bodies (``AP_LARGE_MESSAGE_BUCKET``, pipeline ``largeMessages: true``)."""
    service: str = ""
    log_level: str = "INFO"

    @property
    def scope(self) -> str:
        """``<pipeline>.<consumer>``: namespaces idempotency records and deterministic ids."""
        return f"{self.pipeline}.{self.consumer}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Parse and validate the environment; every problem is reported in one ConfigurationError."""
        env = os.environ if env is None else env
        errors: list[str] = []
        read: dict[str, str | None] = {}  # each variable read once: os.environ lookups dominate this method

        def opt(name: str) -> str | None:
            if name not in read:
                read[name] = env.get(name, "").strip() or None
            return read[name]

        missing = [name for name in _REQUIRED if not opt(name)]
        if missing:
            errors.append(f"missing environment variable(s): {', '.join(missing)}")

        handler = opt("AP_HANDLER") or ""
        if handler and (handler.count(":") != 1 or not all(handler.split(":"))):
            errors.append(f"AP_HANDLER must be 'module:function', got {handler!r}")

        fifo = False
        fifo_raw = (opt("AP_FIFO") or "false").lower()
        if fifo_raw in ("true", "false"):
            fifo = fifo_raw == "true"
        else:
            errors.append(f"AP_FIFO must be 'true' or 'false', got {env.get('AP_FIFO')!r}")

        tiers: tuple[RetryTier, ...] | None = None
        tiers_raw = opt("AP_RETRY_TIERS")
        if tiers_raw is not None:
            try:
                tiers = _parse_tiers(tiers_raw)
            except ValueError as exc:
                errors.append(f"AP_RETRY_TIERS: {exc}")

        if errors:
            raise ConfigurationError("; ".join(errors))

        pipeline = opt("AP_PIPELINE") or ""
        consumer = opt("AP_CONSUMER") or ""
        return cls(
            handler=handler,
            pipeline=pipeline,
            consumer=consumer,
            dlq_url=opt("AP_DLQ_URL") or "",
            fifo=fifo,
            next_queue_url=opt("AP_NEXT_QUEUE_URL"),
            retry_tiers=tiers,
            idempotency_table=opt("AP_IDEMPOTENCY_TABLE"),
            idempotency_key=opt("AP_IDEMPOTENCY_KEY"),
            results_bucket=opt("AP_RESULTS_BUCKET"),
            large_message_bucket=opt("AP_LARGE_MESSAGE_BUCKET"),
            service=opt("POWERTOOLS_SERVICE_NAME") or f"{pipeline}-{consumer}",
            log_level=(opt("POWERTOOLS_LOG_LEVEL") or "INFO").upper(),
        )


def _parse_tiers(raw: str) -> tuple[RetryTier, ...]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise ValueError('must be a JSON list of {"url": ..., "delay": ...}')
    tiers = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or set(item) != {"url", "delay"}:
            raise ValueError(f"tier {i} must be an object with exactly the keys 'url' and 'delay'")
        url, delay = item["url"], item["delay"]
        if not isinstance(url, str) or not url:
            raise ValueError(f"tier {i}: url must be a non-empty string")
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_DELAY_SECONDS:
            raise ValueError(f"tier {i}: delay must be an integer 0-{MAX_DELAY_SECONDS}, got {delay!r}")
        tiers.append(RetryTier(url=url, delay=delay))
    return tuple(tiers)
