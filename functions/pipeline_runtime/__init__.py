"""Generic SQS consumer runtime for async-pipelines (design.md §4, docs/contracts.md).

The Lambda entry point is :func:`pipeline_runtime.entry.handler`. Business functions only need::

    from pipeline_runtime import PermanentError, TransientError, put_json

This package ``__init__`` is import-light: it pulls in neither boto3 nor Powertools.
"""

from pipeline_runtime.delivery import Delivery, current_delivery
from pipeline_runtime.errors import ConfigurationError, PermanentError, TransientError
from pipeline_runtime.results import put_json

__all__ = [
    "ConfigurationError",
    "Delivery",
    "PermanentError",
    "TransientError",
    "current_delivery",
    "put_json",
]
