"""`GET /messages/{id}` states that a live server passes through too quickly to catch: from the ledger's tracks."""

from __future__ import annotations

from sandbox.follow import consumer_state
from sandbox.ledger import Track
from sandbox.state import QueuedMessage


def track(*events: str, **fields: object) -> Track:
    t = Track("email.consumer", "m-1", **fields)  # type: ignore[arg-type]
    t.timeline = [(float(i), "q", e) for i, e in enumerate(events)]
    return t


def test_not_reached_is_pending() -> None:
    assert consumer_state(None, None) == {"state": "pending"}


def test_received_and_failed_is_queued() -> None:
    t = track("receive", "failed", "outcome:error", accepted=True, deliveries=1)
    assert consumer_state(t, None) == {"state": "queued", "deliveries": 1, "effects": 0}


def test_moved_to_a_tier_is_retrying_with_the_tier() -> None:
    t = track("receive", "outcome:retry-tier-1", "deleted", "receive", "outcome:retry-tier-2", accepted=True)
    assert consumer_state(t, None)["state"] == "retrying"
    assert consumer_state(t, None)["tier"] == 2


def test_retried_then_processed_is_processed() -> None:
    t = track("outcome:retry-tier-1", "outcome:succeeded", accepted=True, succeeded=True, effects=1)
    assert consumer_state(t, None)["state"] == "processed"


def test_dead_lettered_by_the_runtime_carries_kind_and_reason() -> None:
    copy = QueuedMessage("m-1", "sqs-1", 0.0, error_kind="permanent", error_reason="bad amount")
    state = consumer_state(track("outcome:dead-lettered", accepted=True), copy)
    assert (state["state"], state["ap-error-kind"], state["ap-error-reason"]) == ("dlq", "permanent", "bad amount")


def test_redriven_by_sqs_at_max_receive_count() -> None:
    state = consumer_state(track("receive", "failed", accepted=True), QueuedMessage("m-1", "sqs-1", 0.0))
    assert (state["state"], state["ap-error-kind"], state["ap-error-reason"]) == (
        "dlq", "max-receive-count", "maxReceiveCount exceeded")


def test_kept_out_by_a_filter_is_filtered() -> None:
    assert consumer_state(track(filtered=True), None)["state"] == "filtered"


def test_a_stage_after_a_dead_lettered_one_is_not_reached() -> None:
    assert consumer_state(None, None, earlier_stage_dead=True) == {"state": "not_reached"}


def test_redriven_at_max_receive_count_keeps_the_last_error() -> None:
    t = track("receive", "failed", accepted=True, deliveries=5, last_error="ImportError: no module named 'x'")
    state = consumer_state(t, QueuedMessage("m-1", "sqs-1", 0.0))
    assert (state["state"], state["lastError"]) == ("dlq", "ImportError: no module named 'x'")
    assert consumer_state(t, None)["lastError"] == "ImportError: no module named 'x'"  # still retrying


def test_a_redriven_copy_is_found_by_the_id_it_was_sent_with() -> None:
    assert QueuedMessage("m-1~redrive:abc", "sqs-2", 0.0).original_id == "m-1"
