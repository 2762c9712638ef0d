"""End to end, one pattern at a time, on small stacks captured from the real program."""

from __future__ import annotations

import itertools
import json
import sys
from typing import Any

import pytest

from sandbox.clients import AwsClients
from tests.sandbox.conftest import ORDER, message, only_track, receive_times, run_stack, stack

VISIBILITY = 6 * 30  # default visibility timeout: 6 x the default 30 s function timeout


@pytest.fixture(scope="module")
def shop() -> Any:
    return stack(
        {
            "shop": {
                "pattern": "fanout",
                "subscribers": {
                    "billing": {"handler": "handlers.orders:bill", "filter": {"type": ["order_created"]}},
                    "audit": {"handler": "handlers.analytics:record"},
                    "euro": {
                        "handler": "handlers.analytics:record",
                        "filter": {"currency": ["EUR"]},
                        "filterScope": "MessageBody",
                    },
                },
            }
        }
    )


def test_transient_failure_is_retried_until_max_receive_count_then_redriven(shop: Any) -> None:
    body = {**ORDER, "simulate": {"bill": "timeout"}}
    result = run_stack(shop, [message("shop", body, {"type": "order_created"})])

    billing = only_track(result, "shop.billing")
    assert billing.deliveries == 5  # maxReceiveCount default
    times = receive_times(billing)
    assert [round(b - a) for a, b in itertools.pairwise(times)] == [VISIBILITY] * 4
    assert billing.state == "dlq"
    assert billing.dlq_reason == f"maxReceiveCount exceeded (last error: {billing.last_error})"
    assert billing.last_error == "TransientError: payment gateway timed out (simulated)"
    assert only_track(result, "shop.audit").state == "processed"
    assert result.report["ok"] and result.report["totals"]["lost"] == 0
    alarms = {a["name"]: a["state"] for a in result.report["alarms"]}
    assert alarms["shop-billing-dlq-visible"] == "ALARM"
    assert alarms["shop-audit-dlq-visible"] == "OK"


def test_a_handler_that_cannot_be_imported_is_named_in_the_dlq_reason(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "handlers.orders", None)  # `import handlers.orders` raises ImportError
    result = run_stack(shop, [message("shop", ORDER, {"type": "order_created"})])
    billing = only_track(result, "shop.billing")
    assert billing.state == "dlq" and billing.deliveries == 5
    assert billing.dlq_reason is not None
    assert billing.dlq_reason.startswith("maxReceiveCount exceeded (last error: ")
    assert "cannot import 'handlers.orders'" in billing.dlq_reason
    [entry] = result.report["messages"].values()
    assert entry["consumers"]["billing"]["last_error"] == billing.last_error
    assert entry["consumers"]["audit"]["state"] == "processed"


def test_permanent_error_goes_to_the_dlq_after_one_receive(shop: Any) -> None:
    result = run_stack(shop, [message("shop", {**ORDER, "currency": "XYZ"}, {"type": "order_created"})])

    billing = only_track(result, "shop.billing")
    assert billing.deliveries == 1
    assert billing.state == "dlq"
    assert billing.dlq_reason is not None and billing.dlq_reason.startswith("permanent: unknown currency 'XYZ'")
    assert result.report["virtual_seconds"] < 1  # no visibility timeout was waited for
    consumer = result.report["pipelines"]["shop"]["consumers"]["billing"]
    assert consumer["dlq_count"] == 1 and consumer["retried"] == 0


def test_fan_out_filters_count_excluded_messages_as_filtered_not_lost(shop: Any) -> None:
    shipped = {"type": "order_shipped", "id": "o-1", "currency": "USD", "customer": {"id": "c-1"}}
    result = run_stack(
        shop,
        [message("shop", shipped, {"type": "order_shipped"}), message("shop", ORDER, {"type": "order_created"})],
    )

    consumers = result.report["pipelines"]["shop"]["consumers"]
    assert (consumers["billing"]["sent"], consumers["billing"]["filtered"]) == (1, 1)  # attribute filter
    assert (consumers["euro"]["sent"], consumers["euro"]["filtered"]) == (1, 1)  # MessageBody filter
    assert (consumers["audit"]["sent"], consumers["audit"]["processed"]) == (2, 2)
    # moto really did not deliver the filtered ones
    queues = result.report["queues"]
    assert queues["ap-sbx-shop-billing"]["received"] == 1
    assert queues["ap-sbx-shop-euro"]["received"] == 1
    assert result.report["totals"]["filtered"] == 2 and result.report["totals"]["lost"] == 0


def test_chain_forwards_each_stage_output_and_accounts_per_stage() -> None:
    media = stack(
        {
            "media": {
                "pattern": "chain",
                "stages": [
                    {"name": "download", "handler": "handlers.media:download"},
                    {"name": "thumbnail", "handler": "handlers.media:thumbnail"},
                    {"name": "publish", "handler": "handlers.media:publish", "results": True},
                ],
            }
        }
    )
    objects: dict[str, Any] = {}

    bucket = media.capture.outputs["resultsBucket"]
    assert bucket.startswith("ap-sbx-results-") and bucket != "ap-sbx-results"

    def read_results(aws: AwsClients) -> None:
        for item in aws.s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            body = aws.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            objects[item["Key"]] = json.loads(body)

    result = run_stack(
        media,
        [
            message("media", {"id": "m-1", "url": "https://cdn.example.com/cat.jpg"}),
            message("media", {"id": "m-2", "url": "https://cdn.example.com/menu.pdf"}),
        ],
        inspect=read_results,
    )

    consumers = result.report["pipelines"]["media"]["consumers"]
    assert [consumers[s]["sent"] for s in ("download", "thumbnail", "publish")] == [2, 2, 1]
    assert [consumers[s]["processed"] for s in ("download", "thumbnail", "publish")] == [2, 1, 1]
    assert consumers["thumbnail"]["dlq_reasons"] == {"permanent: cannot make a thumbnail of application/pdf": 1}
    assert set(objects) == {"media/publish/m-1.json"}
    assert objects["media/publish/m-1.json"]["thumbnail"]["width"] == 128
    # each stage starts after the previous one committed, under the same logical id
    ids = {t.logical_id for t in result.ledger.of("media.publish")}
    (logical_id,) = ids
    download = result.ledger.tracks[("media.download", logical_id)]
    publish = result.ledger.tracks[("media.publish", logical_id)]
    assert download.first("deleted") is not None and publish.first("receive") is not None
    assert publish.first("receive") >= download.first("deleted")  # type: ignore[operator]


def test_retry_tiers_run_in_order_with_their_delays() -> None:
    mail = stack(
        {"mail": {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}, {"delay": 300}]}}
    )
    email = {"to": "ana@example.com", "subject": "Hi", "text": "x"}
    dlq: list[dict[str, Any]] = []

    def read_dlq(aws: AwsClients) -> None:
        url = aws.sqs.get_queue_url(QueueName="ap-sbx-mail-dlq")["QueueUrl"]
        got = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        dlq.extend(got.get("Messages", []))

    result = run_stack(
        mail,
        [
            message("mail", {**email, "simulate": "timeout", "simulate_failures": 2}),
            message("mail", {**email, "simulate": "throttle"}),
            message("mail", {**email, "to": "nobody"}),
        ],
        inspect=read_dlq,
    )

    recovers, exhausted, permanent = sorted(result.ledger.of("mail.consumer"), key=lambda t: t.logical_id)
    main, tier1, tier2 = "ap-sbx-mail", "ap-sbx-mail-retry-1", "ap-sbx-mail-retry-2"
    for track in (recovers, exhausted):
        (t0,), (t1,), (t2,) = (receive_times(track, q) for q in (main, tier1, tier2))
        assert 30 <= t1 - t0 < 31
        assert 300 <= t2 - t1 < 301
    assert recovers.state == "processed" and recovers.effects == 1 and recovers.tier_moves == 2
    assert exhausted.state == "dlq" and exhausted.dlq_reason is not None
    assert exhausted.dlq_reason.startswith("retries-exhausted: TransientError: email provider throttled")
    assert permanent.state == "dlq" and receive_times(permanent) == [receive_times(permanent, main)[0]]
    attributes = [m["MessageAttributes"] for m in dlq]
    attempts = {a["ap-error-kind"]["StringValue"]: a.get("ap-attempt", {}).get("StringValue") for a in attributes}
    assert attempts == {"retries-exhausted": "2", "permanent": None}


def test_fifo_stops_at_the_first_failure_and_keeps_group_order() -> None:
    jobs = stack(
        {
            "jobs": {
                "pattern": "chain",
                "fifo": True,
                "stages": [{"name": "compute", "handler": "handlers.compute:transform", "results": True}],
            }
        }
    )
    result = run_stack(
        jobs,
        [
            message("jobs", {"id": "job-1", "values": [1, 2]}, group="g"),
            message("jobs", {"id": "job-2", "values": [3], "simulate": "timeout", "simulate_failures": 1}, group="g"),
            message("jobs", {"id": "job-3", "values": [4]}, group="g"),
        ],
    )
    first, second, third = sorted(result.ledger.of("jobs.compute"), key=lambda t: t.logical_id)
    assert (first.deliveries, second.deliveries, third.deliveries) == (1, 2, 2)
    # job-3 was returned unprocessed with job-2 (stop at the first failure), not run out of order
    start = first.first("receive")
    assert start is not None
    outcomes_3 = [t - start for t, _, e in third.timeline if e.startswith("outcome:")]
    outcomes_2 = [t - start for t, _, e in second.timeline if e == "outcome:succeeded"]
    assert len(outcomes_3) == 1 and outcomes_3[0] >= outcomes_2[0] >= VISIBILITY
    assert all(t.state == "processed" and t.effects == 1 for t in (first, second, third))


def test_batching_window_gathers_records_then_invokes_once() -> None:
    counts = stack(
        {
            "counts": {
                "pattern": "chain",
                "stages": [
                    {"name": "record", "handler": "handlers.analytics:record", "batchSize": 50, "batchWindow": 10}
                ],
            }
        }
    )
    result = run_stack(counts, [message("counts", {"type": f"e{i}"}) for i in range(5)])

    consumer = result.report["pipelines"]["counts"]["consumers"]["record"]
    assert consumer["invocations"] == 1 and consumer["processed"] == 5
    for track in result.ledger.of("counts.record"):
        received, deleted = track.first("receive"), track.first("deleted")
        assert received is not None and deleted is not None
        assert 10 <= deleted - received < 10.01
