"""Price arithmetic against hand-computed cases, and the model's behaviour on measured runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from sandbox.cost.drivers import top_drivers
from sandbox.cost.measure import ConsumerProfile, EntryProfile, Measurement
from sandbox.cost.meter import ENTRY
from sandbox.cost.model import IDLE_RECEIVES_PER_QUEUE, Change, estimate, rates_for
from sandbox.cost.prices import PRICES

from .conftest import measure_single


def profile(**changes: object) -> ConsumerProfile:
    base = ConsumerProfile(
        pipeline="p", consumer="c", function="fn", memory_mb=256, architecture="x86_64", timeout=30,
        batch_size=10, batch_window=0, max_concurrency=None, configured_max_concurrency=None, fifo=False,
        visibility_timeout=180, mapped_queues=1,
        idempotency=True, records=100, polled_receives=10, received_bytes=100 * 1000, deleted_records=100,
        work_units={"dynamodb.wru": 200}, log_bytes=100 * 500, invocations=10, warm_ms_per_record=50.0, groups=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def measurement(consumer: ConsumerProfile | None = None, region: str = "us-east-1") -> Measurement:
    c = consumer or profile()
    return Measurement(
        stack="hand", region=region, published=Counter({"p": 100}), consumers={("p", "c"): c},
        entries={"p": EntryProfile("p", 100, 100 * 1000, topic=True, fifo=False)}, tallies={},
        alarms={("p", "c"): 4}, dashboards=1, kms_keys=1, encrypted_topics={}, run_ok=True, wall_seconds=1.0,
    )


def test_unit_prices() -> None:
    assert PRICES["sqs.standard"].cost(5_000_000) == pytest.approx(2.00)
    assert PRICES["lambda.requests"].cost(5_000_000) == pytest.approx(1.00)
    assert PRICES["lambda.gb_seconds.x86_64"].cost(25_000) == pytest.approx(0.4166675)
    assert PRICES["dynamodb.wru"].cost(2_000_000) == pytest.approx(1.25)
    assert PRICES["logs.ingestion"].cost(2.0) == pytest.approx(1.00)
    assert PRICES["s3.put"].cost(1000) == pytest.approx(0.005)
    assert all(p.source.startswith("https://aws.amazon.com/") for p in PRICES.values())


def test_a_month_priced_by_hand() -> None:
    """1M messages, 1 KB each, one consumer (256 MB, 50 ms per record, 2 WRU and 500 log bytes per message).

    At 0.38 msg/s every receive and invocation carries one record:
      SQS      1M receives + 1M deletes = 2M x $0.40/M                   = $0.80
      Lambda   1M x $0.20/M = $0.20; 1M x 0.050 s x 0.25 GB = 12,500 GB-s = $0.20833375
      Logs     (1M x 500 + 1M x 260) bytes = 0.76 GB x $0.50           = $0.38
      DynamoDB 2M WRU x $0.625/M                                          = $1.25
      SNS      1M publishes x $0.50/M                                     = $0.50
      fixed    4 alarms $0.40 + 657,000 idle receives $0.2628 + dashboard $3 + key $1 = $4.6628
    """
    est = estimate(measurement(), {"p": 1_000_000})
    assert est.monthly_usd == pytest.approx(8.00113375)
    assert est.fixed_usd == pytest.approx(4.6628)
    by_service = est.by_service()
    assert by_service["SQS"] == pytest.approx(0.80 + 0.2628)
    assert by_service["Lambda"] == pytest.approx(0.20 + 0.20833375)
    assert by_service["CloudWatch Logs"] == pytest.approx(0.38)
    assert by_service["DynamoDB"] == pytest.approx(1.25)
    assert by_service["SNS"] == pytest.approx(0.50)
    assert by_service["CloudWatch"] == pytest.approx(3.40)
    assert by_service["KMS"] == pytest.approx(1.00)
    assert est.cost_of("p", ENTRY) == pytest.approx(0.50)
    assert IDLE_RECEIVES_PER_QUEUE == 657_000
    assert not est.approximate and estimate(measurement(region="eu-west-1"), {"p": 1}).approximate


def test_free_tier_by_hand() -> None:
    """SQS 2,657,000 - 1M free = 1,657,000 x $0.40/M; SNS, Lambda, logs, alarms, dashboard within free; key $1."""
    est = estimate(measurement(), {"p": 1_000_000}, free_tier=True)
    assert est.monthly_usd == pytest.approx(0.6628 + 1.25 + 1.00)


def test_duration_override_and_arm64() -> None:
    est = estimate(measurement(profile(architecture="arm64", memory_mb=1024)), {"p": 1_000_000}, duration_ms=100)
    # 1M invocations x 0.1 s x 1 GB = 100,000 GB-s x $0.0000133334
    assert est.by_service()["Lambda"] == pytest.approx(0.20 + 1.33334)


def test_large_messages_are_chunked_per_receive() -> None:
    big = measurement(profile(received_bytes=100 * 200 * 1024))  # 200 KiB records: 4 chunks per receive
    est = estimate(big, {"p": 1_000_000})
    receives = [line for line in est.lines if line.item.startswith("ReceiveMessage")]
    assert receives[0].quantity == pytest.approx(4_000_000)


def test_batching_window_fills_batches_at_volume() -> None:
    # 10M/month = 3.8 records/s; 5 pollers gather 20 s each: 15.2 records per invocation
    r = rates_for(measurement(), profile(batch_size=100, batch_window=20), 10_000_000, None)
    assert r.records_per_invocation == pytest.approx(10_000_000 / (730 * 3600) * 20 / 5)
    assert r.records_per_receive == 1


def test_cost_is_monotonic_in_volume() -> None:
    m = measure_single(count=10)
    totals = [estimate(m, {"jobs": v}).monthly_usd for v in (0, 1e3, 1e5, 5e6, 5e7, 5e8)]
    assert totals == sorted(totals)
    assert len(set(totals)) == len(totals)


def test_batch_size_1_costs_more_sqs_requests_than_10() -> None:
    one, ten = measure_single(count=20, batchSize=1), measure_single(count=20, batchSize=10)
    # measured: the sandbox's polls of the same 20 messages
    assert one.consumers[("jobs", "record")].polled_receives > ten.consumers[("jobs", "record")].polled_receives
    # priced: once messages arrive faster than one per poll (here ~3,800/s), batches fill up
    assert estimate(one, {"jobs": 1e10}).by_service()["SQS"] > estimate(ten, {"jobs": 1e10}).by_service()["SQS"]
    # with a batching window, already at 5M a month
    windowed = measure_single(count=20, batchSize=10, batchWindow=20)
    assert estimate(one, {"jobs": 5e6}).by_service()["SQS"] > estimate(windowed, {"jobs": 5e6}).by_service()["SQS"]


def test_idempotency_off_removes_the_dynamodb_line() -> None:
    on, off = measure_single(count=10), measure_single(count=10, idempotency=False)
    assert any(line.service == "DynamoDB" and line.usd > 0 for line in estimate(on, {"jobs": 5e6}).lines)
    assert not any(line.service == "DynamoDB" for line in estimate(off, {"jobs": 5e6}).lines)
    # re-pricing with the key changed (what the drivers report) agrees with a real run without it
    change = Change(("jobs", "record"), "idempotency", False, {"idempotency": False}, ("dynamodb.",))
    repriced = estimate(on, {"jobs": 5e6}, changes=(change,))
    assert not any(line.service == "DynamoDB" for line in repriced.lines)


def test_drivers_name_the_key_and_the_saving() -> None:
    m = measurement(profile(work_units={"dynamodb.wru": 2000}))
    est = estimate(m, {"p": 10_000_000})
    drivers = top_drivers(m, est)
    assert len(drivers) == 3
    dynamo = next(d for d in drivers if d.service == "DynamoDB")
    assert dynamo.change == "`idempotency: false` on p.c"
    assert dynamo.saves_usd == pytest.approx(est.cost_of("p", "c", "DynamoDB"))
    assert drivers == sorted(drivers, key=lambda d: -d.usd)


def test_http_ingress_is_named_as_not_included() -> None:
    with_api = replace(measurement(), rest_apis=1)
    assert any("1 API Gateway REST API(s)" in a and "$3.50 per million" in a
               for a in estimate(with_api, {"p": 1}).assumptions)
    assert not any("API Gateway" in a for a in estimate(measurement(), {"p": 1}).assumptions)
