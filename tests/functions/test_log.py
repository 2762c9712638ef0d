"""One Powertools logger per service; its level follows POWERTOOLS_LOG_LEVEL on every invocation."""

from __future__ import annotations

import contextlib
import io
import logging

from pipeline_runtime.log import get_logger


def test_the_level_follows_each_request_and_the_logger_is_reused() -> None:
    first = get_logger("log-test-service", "INFO")
    assert first.log_level == logging.INFO
    assert get_logger("log-test-service", "DEBUG") is first
    assert first.log_level == logging.DEBUG
    assert get_logger("log-test-service", "DEBUG").log_level == logging.DEBUG
    assert get_logger("log-test-service", "WARNING").log_level == logging.WARNING
    assert get_logger("other-log-test-service", "ERROR").log_level == logging.ERROR
    assert first.log_level == logging.WARNING


def test_logs_follow_stdout_as_it_is_at_each_invocation() -> None:
    """Created under one stdout, the logger writes to the stdout of the later invocation (the sandbox swaps
    it per invocation; a logger bound to the first one lost every later function's logs)."""
    first, second = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(first):
        logger = get_logger("log-stream-test-service", "INFO")
        logger.info("one")
    with contextlib.redirect_stdout(second):
        get_logger("log-stream-test-service", "INFO").info("two")
    assert '"message":"one"' in first.getvalue() and "two" not in first.getvalue()
    assert '"message":"two"' in second.getvalue()
