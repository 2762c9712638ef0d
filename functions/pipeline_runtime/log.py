"""Powertools Logger instances, one per service name (``POWERTOOLS_SERVICE_NAME``).

The sandbox runs many consumers in one process, so the logger is chosen per invocation from the
settings instead of being created once at import time.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

__all__ = ["get_logger"]

_loggers: dict[str, Logger] = {}
_levels: dict[str, str] = {}
"""The level last set per service: `setLevel` clears every logger's cache in the process (costly per
invocation, bench/runtime_overhead.py), so it is only called when the level really changes."""


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is at write time. Powertools binds its stream once, when a Logger is
    created; in one process that runs many invocations (the sandbox, the test suite) stdout may be another
    stream by the next invocation, and the logs must follow it (in Lambda it never changes)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def get_logger(service: str, level: str = "INFO") -> Logger:
    found = _loggers.get(service)
    if found is None:
        from aws_lambda_powertools.logging import Logger

        found = _loggers[service] = Logger(service=service, level=level, stream=_CurrentStdout())  # type: ignore[arg-type]
    elif _levels.get(service) != level:
        found.setLevel(level)
    _levels[service] = level
    return found
