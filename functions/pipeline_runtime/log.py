"""Powertools Logger instances, one per service name (``POWERTOOLS_SERVICE_NAME``).

The sandbox runs many consumers in one process, so the logger is chosen per invocation from the
settings instead of being created once at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

__all__ = ["get_logger"]

_loggers: dict[str, Logger] = {}


def get_logger(service: str, level: str = "INFO") -> Logger:
    found = _loggers.get(service)
    if found is None:
        from aws_lambda_powertools.logging import Logger

        found = _loggers[service] = Logger(service=service, level=level)
    else:
        found.setLevel(level)
    return found
