"""Settings: the environment variables of docs/contracts.md §1."""

from __future__ import annotations

import json
import os

import pytest

from pipeline_runtime.errors import ConfigurationError
from pipeline_runtime.settings import RetryTier, Settings

BASE = {
    "AP_HANDLER": "handlers.orders:bill",
    "AP_PIPELINE": "orders",
    "AP_CONSUMER": "billing",
    "AP_DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/orders-billing-dlq",
    "AP_FIFO": "false",
}


def test_minimal_environment_and_defaults():
    settings = Settings.from_env(BASE)
    assert settings.handler == "handlers.orders:bill"
    assert settings.fifo is False
    assert settings.next_queue_url is None
    assert settings.retry_tiers is None
    assert settings.idempotency_table is None and settings.idempotency_key is None
    assert settings.results_bucket is None
    assert settings.service == "orders-billing"
    assert settings.log_level == "INFO"
    assert settings.scope == "orders.billing"


def test_full_environment():
    env = BASE | {
        "AP_FIFO": "TRUE",
        "AP_NEXT_QUEUE_URL": "https://q/next.fifo",
        "AP_RETRY_TIERS": json.dumps([{"url": "https://q/t0", "delay": 30}, {"url": "https://q/t1", "delay": 900}]),
        "AP_IDEMPOTENCY_TABLE": "idem",
        "AP_IDEMPOTENCY_KEY": "order.id",
        "AP_RESULTS_BUCKET": "bucket",
        "POWERTOOLS_SERVICE_NAME": "svc",
        "POWERTOOLS_LOG_LEVEL": "debug",
    }
    settings = Settings.from_env(env)
    assert settings.fifo is True
    assert settings.retry_tiers == (RetryTier("https://q/t0", 30), RetryTier("https://q/t1", 900))
    assert (settings.idempotency_table, settings.idempotency_key) == ("idem", "order.id")
    assert (settings.results_bucket, settings.service, settings.log_level) == ("bucket", "svc", "DEBUG")


def test_empty_values_count_as_unset():
    settings = Settings.from_env(BASE | {"AP_IDEMPOTENCY_TABLE": "", "AP_NEXT_QUEUE_URL": " "})
    assert settings.idempotency_table is None and settings.next_queue_url is None


def test_all_problems_are_reported_together():
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"AP_HANDLER": "no-colon", "AP_FIFO": "yes", "AP_RETRY_TIERS": "{"})
    message = str(caught.value)
    for part in (
        "AP_PIPELINE",
        "AP_CONSUMER",
        "AP_DLQ_URL",
        "AP_HANDLER must be",
        "AP_FIFO must be",
        "AP_RETRY_TIERS: not valid JSON",
    ):
        assert part in message


@pytest.mark.parametrize(
    ("tiers", "problem"),
    [
        ({"url": "u", "delay": 1}, "must be a JSON list"),
        ([{"url": "u"}], "exactly the keys"),
        ([{"url": "", "delay": 1}], "url must be"),
        ([{"url": "u", "delay": 901}], "delay must be an integer 0-900"),
        ([{"url": "u", "delay": True}], "delay must be an integer"),
    ],
)
def test_retry_tiers_are_validated(tiers, problem):
    with pytest.raises(ConfigurationError, match=problem):
        Settings.from_env(BASE | {"AP_RETRY_TIERS": json.dumps(tiers)})


def test_empty_tier_list_is_a_retry_pipeline_without_tiers():
    assert Settings.from_env(BASE | {"AP_RETRY_TIERS": "[]"}).retry_tiers == ()


def test_process_environment_reads_what_os_environ_reads(monkeypatch):
    from pipeline_runtime.settings import _process_environment

    monkeypatch.setenv("AP_TEST_SET", "value")
    monkeypatch.setenv("AP_TEST_EMPTY", "")
    monkeypatch.setenv("AP_TEST_ACCENT", "café-ü")
    monkeypatch.delenv("AP_TEST_UNSET", raising=False)
    names = ("AP_TEST_SET", "AP_TEST_EMPTY", "AP_TEST_ACCENT", "AP_TEST_UNSET")
    assert _process_environment(names) == tuple(os.environ.get(n) for n in names) == (
        "value", "", "café-ü", None
    )


def test_from_env_follows_every_change_of_the_environment_and_parses_a_set_of_values_once(monkeypatch):
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AP_IDEMPOTENCY_TABLE", raising=False)
    first = Settings.from_env()
    assert Settings.from_env() is first  # same values: parsed once
    monkeypatch.setenv("AP_IDEMPOTENCY_TABLE", "t")
    assert Settings.from_env().idempotency_table == "t"
    monkeypatch.delenv("AP_IDEMPOTENCY_TABLE")
    assert Settings.from_env() is first
    monkeypatch.setenv("AP_FIFO", "maybe")
    for _ in range(2):  # an error is raised on every call, never remembered as a result
        with pytest.raises(ConfigurationError, match="AP_FIFO must be 'true' or 'false', got 'maybe'"):
            Settings.from_env()
