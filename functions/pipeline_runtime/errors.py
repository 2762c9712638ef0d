"""Exceptions that business functions raise to steer the runtime.

* :class:`PermanentError` - the message can never succeed as it is (bad input, failed validation,
  unknown type, a 4xx-like answer). The runtime sends it to the DLQ at once with the reason as a
  message attribute and counts it as handled: it is not retried.
* :class:`TransientError` - the message may succeed later (timeout, throttling, a 5xx-like answer).
  The runtime reports it for retry (``batchItemFailures``) or, in a retry pipeline, moves it to the
  next delay tier. Any *other* exception is treated exactly like a ``TransientError``.

This module has no dependencies, so business code can import it cheaply::

    from pipeline_runtime import PermanentError, TransientError
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "PermanentError", "PipelineError", "TransientError"]


class PipelineError(Exception):
    """Base class of the errors a business function raises on purpose."""


class PermanentError(PipelineError):
    """Do not retry: dead-letter the message now (``ap-error-kind=permanent``)."""


class TransientError(PipelineError):
    """Retry later: report the record as failed, or move it to the next retry tier."""


class ConfigurationError(RuntimeError):
    """The function's environment does not satisfy docs/contracts.md (a deployment bug).

    Raised for the whole invocation (or by :func:`pipeline_runtime.put_json`), so the batch is
    retried and, after ``maxReceiveCount``, redriven to the DLQ by SQS.
    """
