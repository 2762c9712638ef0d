"""One Powertools logger per service; its level follows POWERTOOLS_LOG_LEVEL on every invocation."""

from __future__ import annotations

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
