"""Whole runs: the dev stack's samples, the chaos run, and proof that losses and double effects are caught."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.engine import RunOptions, run
from sandbox.esm import EventSourceMapping
from stack_capture import cached_capture
from tests.sandbox.conftest import ORDER, message, run_stack, stack


@pytest.fixture(scope="module")
def dev() -> Any:
    return run(RunOptions(stack="dev", capture=cached_capture("dev")))


def test_dev_samples_drain_with_nothing_lost_and_the_bad_ones_in_dlqs(dev: Any) -> None:
    report = dev.report
    assert report["ok"] and report["drained"] and report["totals"]["lost"] == 0
    assert report["totals"]["double_effects"] == 0 and report["totals"]["in_flight"] == 0
    consumers = {(p, c): d for p, pipe in report["pipelines"].items() for c, d in pipe["consumers"].items()}
    reasons = {key: set(d["dlq_reasons"]) for key, d in consumers.items()}
    assert any(r.startswith("maxReceiveCount exceeded (last error: ") for r in reasons[("orders", "email")])
    assert any(r.startswith("malformed: body is not valid JSON") for r in reasons[("orders", "billing")])
    assert any(r.startswith("permanent: unknown currency 'XYZ'") for r in reasons[("orders", "billing")])
    assert any(r.startswith("retries-exhausted: TransientError") for r in reasons[("email", "consumer")])
    assert reasons[("media", "thumbnail")] == {"permanent: cannot make a thumbnail of application/pdf"}
    assert consumers[("orders", "billing")]["filtered"] == 2  # order_shipped, order_cancelled
    assert consumers[("media", "publish")]["processed"] == 3
    # the throttled e-mail waited out 5 visibility timeouts (5 x 180 s) on the virtual clock
    assert report["virtual_seconds"] >= 900


def test_the_report_follows_every_message_by_its_id_with_the_last_error_and_the_note(dev: Any) -> None:
    messages = dev.report["messages"]
    assert len(messages) == dev.report["totals"]["published"]
    throttled = next(m for m in messages.values() if (m["note"] or "").startswith("e-mail provider always throttles"))
    email = throttled["consumers"]["email"]
    assert email["state"] == "dlq" and email["deliveries"] == 5
    assert email["last_error"].startswith("TransientError: ")
    assert email["dlq_reason"] == f"maxReceiveCount exceeded (last error: {email['last_error']})"
    pdf = next(m for m in messages.values() if m["note"] and m["note"].startswith("bad for thumbnail"))
    assert [c["state"] for c in pdf["consumers"].values()] == ["processed", "dlq", "not_reached"]
    assert pdf["from"].endswith("media.jsonl:4")


def test_dev_alarms_fire_for_exactly_the_dlqs_that_hold_messages(dev: Any) -> None:
    report = dev.report
    firing = {a["dimensions"].get("QueueName") for a in report["alarms"] if a["state"] == "ALARM"}
    with_messages = {q for q, d in report["queues"].items() if d["role"] == "dlq" and d["final"]["visible"]}
    assert firing == with_messages and len(firing) == 6
    errors = {a["name"]: a for a in report["alarms"] if a["metric"] == "Errors"}
    assert errors["orders-email-errors"]["breached_during_run"]  # the throttled e-mail failed whole batches
    assert not errors["orders-billing-errors"]["breached_during_run"]


def test_runs_are_reproducible(dev: Any) -> None:
    again = run(RunOptions(stack="dev", capture=cached_capture("dev")))

    def stable(report: dict[str, Any]) -> dict[str, Any]:
        """Everything but real-time measurements."""
        out = {k: v for k, v in report.items() if k not in ("wall_seconds", "virtual_seconds")}
        out["totals"] = {k: v for k, v in report["totals"].items() if k != "function_seconds"}
        return out

    assert stable(again.report) == stable(dev.report)
    assert again.report["virtual_seconds"] == pytest.approx(dev.report["virtual_seconds"], abs=0.01)


@pytest.mark.chaos
def test_chaos_run_loses_nothing_and_applies_no_effect_twice() -> None:
    """150 messages at high fault rates exercise what the 1,000-message run does (that one is
    `bench/sandbox_throughput.py`, which exits 1 on a loss or a double effect)."""
    result = run(
        RunOptions(
            stack="dev",
            capture=cached_capture("dev"),
            count=150,
            duplicate_rate=0.1,
            transient_rate=0.1,
            poison_rate=0.05,
            seed=7,
        )
    )
    t = result.report["totals"]
    assert result.report["ok"] and result.report["drained"]
    assert t["published"] == 150 and t["lost"] == 0 and t["in_flight"] == 0
    assert t["double_effects"] == 0
    # the chaos really happened, and at-least-once delivery was exercised
    assert t["injected_duplicates"] > 10 and t["chaos_failures"] > 0
    assert sum(p["poisoned"] for p in result.report["pipelines"].values()) > 2
    assert sum(1 for tr in result.ledger.tracks.values() if tr.deliveries > 1) > 20
    assert t["processed"] + t["dlq"] + t["filtered"] == t["tracks"]


def test_a_lost_message_is_reported_and_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    shop = stack({"shop": {"pattern": "fanout", "subscribers": {"audit": {"handler": "handlers.analytics:record"}}}})
    original = EventSourceMapping._invoke
    dropped: list[str] = []

    def drop_first_batch(self: EventSourceMapping, batch: list[dict[str, Any]]) -> None:
        if not dropped:  # delete it without running the function: the bug the ledger must catch
            dropped.extend(r["messageId"] for r in batch)
            self._delete(batch, {r["messageId"] for r in batch})
            return
        original(self, batch)

    monkeypatch.setattr(EventSourceMapping, "_invoke", drop_first_batch)
    result = run_stack(shop, [message("shop", {"type": "x"}), message("shop", {"type": "y"})], wave=1)
    consumer = result.report["pipelines"]["shop"]["consumers"]["audit"]
    assert dropped and consumer["lost"] == 1 and len(consumer["lost_ids"]) == 1
    assert not result.report["ok"] and result.report["totals"]["lost"] == 1


@pytest.mark.parametrize("idempotency", [False, True])
def test_double_effects_are_caught_and_idempotency_prevents_them(idempotency: bool) -> None:
    """Every invocation fails; half of them after the function ran (its effect committed)."""
    shop = stack(
        {
            "shop": {
                "pattern": "fanout",
                "subscribers": {
                    "billing": {"handler": "handlers.orders:bill", "idempotency": idempotency, "maxReceiveCount": 8}
                },
            }
        }
    )
    result = run_stack(shop, [message("shop", ORDER)], transient_rate=1.0, seed=3)
    (track,) = result.ledger.of("shop.billing")
    assert track.deliveries == 8 and track.dlq_copies  # never acknowledged: redriven in the end
    if idempotency:
        assert track.effects == 1 and track.state == "processed"
        assert result.report["totals"]["double_effects"] == 0
        assert result.report["pipelines"]["shop"]["consumers"]["billing"]["also_in_dlq"] == 1
    else:
        assert track.effects > 1
        assert result.report["totals"]["double_effects"] == 1
        assert result.report["pipelines"]["shop"]["consumers"]["billing"]["double_effect_ids"] == [track.logical_id]


def test_a_run_that_cannot_drain_in_time_is_not_ok_and_loses_nothing() -> None:
    result = run(RunOptions(stack="dev", capture=cached_capture("dev"), max_virtual_seconds=100))
    report = result.report
    assert not report["ok"] and not report["drained"] and report["stopped_by"] == "max-virtual-seconds"
    assert report["totals"]["in_flight"] > 0 and report["totals"]["lost"] == 0
