"""Capacity: the throughput ceiling a consumer's config allows, backlog growth, and what caps it."""

from __future__ import annotations

import pytest

from sandbox.cost.capacity import ESM_MAX_CONCURRENT_BATCHES, account_concurrency, capacities, consumer_capacity
from sandbox.cost.model import Durations

from .test_model import measurement, profile


def test_ceiling_is_concurrency_times_batch_over_duration() -> None:
    c = profile(batch_size=10, warm_ms_per_record=100.0)
    cap = consumer_capacity(measurement(c), c, rate=1.0, duration_ms=None, fifo_groups=None)
    # 1,000 batches x 10 records / 1 s per batch
    assert cap.concurrency == ESM_MAX_CONCURRENT_BATCHES
    assert cap.ceiling_per_second == pytest.approx(10_000)
    assert cap.backlog_per_hour == 0 and cap.warnings == []


def test_max_concurrency_caps_and_the_backlog_grows() -> None:
    c = profile(max_concurrency=2, configured_max_concurrency=2, batch_size=10)
    cap = consumer_capacity(measurement(c), c, rate=50.0, duration_ms=1000, fifo_groups=None)
    assert cap.ceiling_per_second == pytest.approx(20)
    assert cap.backlog_per_hour == pytest.approx(30 * 3600)
    assert any("`maxConcurrency: 2` caps it" in w for w in cap.warnings)


def test_fifo_runs_one_batch_per_message_group() -> None:
    c = profile(fifo=True, groups=2, batch_size=10)
    cap = consumer_capacity(measurement(c), c, rate=100.0, duration_ms=500, fifo_groups=None)
    assert cap.concurrency == 2 and cap.ceiling_per_second == pytest.approx(40)
    assert any("FIFO with 2 message group(s)" in w for w in cap.warnings)
    more = consumer_capacity(measurement(c), c, rate=100.0, duration_ms=500, fifo_groups=50)
    assert more.concurrency == 50 and more.backlog_per_hour == 0


def test_visibility_shorter_than_window_plus_timeout_warns() -> None:
    c = profile(visibility_timeout=30, batch_window=10, timeout=30)
    cap = consumer_capacity(measurement(c), c, rate=0.1, duration_ms=None, fifo_groups=None)
    assert any("visibility timeout 30 s < batchWindow 10 s + timeout 30 s" in w for w in cap.warnings)
    ok = profile(visibility_timeout=190, batch_window=10, timeout=30)
    assert consumer_capacity(measurement(ok), ok, rate=0.1, duration_ms=None, fifo_groups=None).warnings == []


def test_a_split_max_concurrency_caps_the_main_queue_at_its_share() -> None:
    c = profile(max_concurrency=7, configured_max_concurrency=20, batch_size=10)
    cap = consumer_capacity(measurement(c), c, rate=100.0, duration_ms=1000, fifo_groups=None)
    assert cap.concurrency == 7 and "7 of 20" in cap.concurrency_source
    assert any("`maxConcurrency: 20` caps it" in w for w in cap.warnings)


def test_an_uncapped_consumer_is_capped_by_the_accounts_shared_concurrency() -> None:
    c = profile(batch_size=10, warm_ms_per_record=100.0)
    cap = consumer_capacity(measurement(c), c, rate=1.0, duration_ms=None, fifo_groups=None, shared_by=7)
    assert cap.concurrency == 1000
    assert cap.concurrency_source == (
        "the account's Lambda concurrency (1,000, shared by all 7 consumers and every other function in the region)"
    )
    smaller = consumer_capacity(measurement(c), c, rate=1.0, duration_ms=None, fifo_groups=None,
                                account_concurrency=300)
    assert smaller.concurrency == 300 and smaller.ceiling_per_second == pytest.approx(3000)


def test_account_concurrency_adds_up_every_consumer_and_warns_past_the_limit() -> None:
    c = profile(batch_size=10, warm_ms_per_record=100.0)  # 1 s per batch of 10
    m = measurement(c)
    caps = capacities(m, {"p": 2000.0})  # 2,000 records/s -> 200 batches/s x 1 s = 200 in flight
    shared = account_concurrency(caps)
    assert (shared.limit, shared.consumers, shared.reserved) == (1000, 1, 0)
    assert shared.needed == pytest.approx(200) and shared.warnings == []
    tight = account_concurrency(capacities(m, {"p": 2000.0}, account_concurrency=150), 150)
    assert tight.needed == pytest.approx(200)
    assert tight.warnings == [
        "the 1 consumers need ~200 concurrent executions at these rates, more than the account's 150 (shared by "
        "every function in the region): they throttle each other - ask AWS for a higher quota, or set "
        "maxConcurrency to share it on purpose"
    ]


def test_reserved_max_concurrency_beyond_the_account_warns() -> None:
    c = profile(max_concurrency=800, configured_max_concurrency=800)
    caps = capacities(measurement(c), {"p": 1.0}) * 2  # two such consumers
    assert account_concurrency(caps).warnings == [
        "maxConcurrency adds up to 1,600 over the consumers, more than the account's 1,000: the caps cannot all "
        "be reached at once"
    ]


def test_duration_per_consumer_sets_its_batch_time_only() -> None:
    c = profile(batch_size=10, warm_ms_per_record=100.0)
    cap = consumer_capacity(measurement(c), c, rate=1.0, duration_ms=Durations(None, {("p", "c"): 250.0}),
                            fifo_groups=None)
    other = consumer_capacity(measurement(c), c, rate=1.0, duration_ms=Durations(None, {("p", "x"): 250.0}),
                              fifo_groups=None)
    assert (cap.ms_per_batch, other.ms_per_batch) == (250.0, 1000.0)
