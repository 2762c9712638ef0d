"""The consumer's wiring, read from the environment variables of docs/contracts.md §1.

Read on every invocation (:meth:`Settings.from_env`): the sandbox runs many consumers in one process
by swapping ``os.environ``, so nothing here may be cached at import time; only the parsing of a set of
values already seen is.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

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
        """Parse and validate the environment; every problem is reported in one ConfigurationError.

        The variables are read on every call; the parsing is cached per distinct set of values (a
        pure function of them), so an invocation pays for the reads only (bench/runtime_overhead.py).
        """
        if env is None or env is os.environ:
            return _parse(_process_environment(_VARIABLES))
        return _parse(tuple(env.get(name) for name in _VARIABLES))


_VARIABLES = (
    *_REQUIRED,
    "AP_NEXT_QUEUE_URL",
    "AP_RETRY_TIERS",
    "AP_IDEMPOTENCY_TABLE",
    "AP_IDEMPOTENCY_KEY",
    "AP_RESULTS_BUCKET",
    "AP_LARGE_MESSAGE_BUCKET",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
)
"""Every environment variable the settings read, in the order `_parse` receives their raw values."""


def _process_environment(names: tuple[str, ...]) -> tuple[str | None, ...]:
    """``os.environ.get(name)`` for each name, read the cheap way where CPython allows it.

    ``os.environ.get`` of an unset variable raises and catches a KeyError inside ``os._Environ``; with
    six optional variables usually unset that was most of an invocation's settings cost. On POSIX
    CPython ``os.environ`` keeps the variables, encoded, in the dict ``_data`` (what ``os.environ``
    reads and writes itself): look them up there and decode them as ``os.environ`` does. Anywhere else,
    ``os.environ.get``. tests/functions/test_settings.py checks both give the same values.
    """
    data = getattr(os.environ, "_data", None)
    if os.name != "posix" or type(data) is not dict:
        return tuple(os.environ.get(name) for name in names)
    encoding, errors = sys.getfilesystemencoding(), "surrogateescape"  # os.environ's own codec on POSIX
    get = data.get
    return tuple(
        None if (raw := get(key)) is None else raw.decode(encoding, errors)
        for key in _encoded(names, encoding)
    )


@lru_cache(maxsize=8)
def _encoded(names: tuple[str, ...], encoding: str) -> tuple[bytes, ...]:
    return tuple(name.encode(encoding, "surrogateescape") for name in names)


@lru_cache(maxsize=64)
def _parse(values: tuple[str | None, ...]) -> Settings:
    """Settings from the raw values of `_VARIABLES` (None = unset); errors are raised, never cached."""
    raw = dict(zip(_VARIABLES, values, strict=True))
    read = {name: (value or "").strip() or None for name, value in raw.items()}
    errors: list[str] = []

    missing = [name for name in _REQUIRED if not read[name]]
    if missing:
        errors.append(f"missing environment variable(s): {', '.join(missing)}")

    handler = read["AP_HANDLER"] or ""
    if handler and (handler.count(":") != 1 or not all(handler.split(":"))):
        errors.append(f"AP_HANDLER must be 'module:function', got {handler!r}")

    fifo = False
    fifo_raw = (read["AP_FIFO"] or "false").lower()
    if fifo_raw in ("true", "false"):
        fifo = fifo_raw == "true"
    else:
        errors.append(f"AP_FIFO must be 'true' or 'false', got {raw['AP_FIFO']!r}")

    tiers: tuple[RetryTier, ...] | None = None
    tiers_raw = read["AP_RETRY_TIERS"]
    if tiers_raw is not None:
        try:
            tiers = _parse_tiers(tiers_raw)
        except ValueError as exc:
            errors.append(f"AP_RETRY_TIERS: {exc}")

    if errors:
        raise ConfigurationError("; ".join(errors))

    pipeline = read["AP_PIPELINE"] or ""
    consumer = read["AP_CONSUMER"] or ""
    return Settings(
        handler=handler,
        pipeline=pipeline,
        consumer=consumer,
        dlq_url=read["AP_DLQ_URL"] or "",
        fifo=fifo,
        next_queue_url=read["AP_NEXT_QUEUE_URL"],
        retry_tiers=tiers,
        idempotency_table=read["AP_IDEMPOTENCY_TABLE"],
        idempotency_key=read["AP_IDEMPOTENCY_KEY"],
        results_bucket=read["AP_RESULTS_BUCKET"],
        large_message_bucket=read["AP_LARGE_MESSAGE_BUCKET"],
        service=read["POWERTOOLS_SERVICE_NAME"] or f"{pipeline}-{consumer}",
        log_level=(read["POWERTOOLS_LOG_LEVEL"] or "INFO").upper(),
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
