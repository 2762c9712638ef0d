"""The client-side move (FIFO DLQs): group, body, attributes and order kept; only what was sent deleted."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from ops.queues import Queue, release, resolve
from ops.redrive import MoveInterrupted, MoveReport, deduplication_id, fence, move_messages
from sandbox.clock import VirtualClock

from .conftest import attributes_of, create_queues, dead_letter, drain, url, visible

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

pytestmark = pytest.mark.usefixtures("aws")

DLQ, MAIN = "ap-prod-ledger-dlq.fifo", "ap-prod-ledger.fifo"


def queues(sqs: SQSClient) -> tuple[Queue, Queue]:
    return resolve(sqs, DLQ), resolve(sqs, MAIN)


def by_group(messages: list[dict[str, Any]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for m in messages:
        groups.setdefault(m["Attributes"]["MessageGroupId"], []).append(m["Body"])
    return groups


def fail_sends(sqs: SQSClient, bodies: set[str]) -> list[list[str]]:
    """Make SendMessageBatch report the entries with these bodies as failed; returns the calls' bodies."""
    real = sqs.send_message_batch
    calls: list[list[str]] = []

    def send_message_batch(**kwargs: Any) -> Any:
        calls.append([e["MessageBody"] for e in kwargs["Entries"]])
        keep = [e for e in kwargs["Entries"] if e["MessageBody"] not in bodies]
        response = dict(real(**{**kwargs, "Entries": keep})) if keep else {"Successful": []}
        response["Failed"] = [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "try again"}
            for e in kwargs["Entries"]
            if e["MessageBody"] in bodies
        ]
        return response

    sqs.send_message_batch = send_message_batch  # type: ignore[method-assign]
    return calls


def test_keeps_group_body_attributes_and_per_group_order() -> None:
    sqs = create_queues("prod")
    for body, group in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A"), ("b2", "B")]:
        dead_letter(
            sqs,
            DLQ,
            body,
            group=group,
            extra={
                "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
                "ap-attempt": {"DataType": "Number", "StringValue": "2"},
            },
        )
    dlq, main = queues(sqs)
    report = move_messages(sqs, dlq, main, rate=None)
    assert report.complete and len(report.moved) == 5
    assert visible(sqs, DLQ) == 0
    moved = drain(sqs, MAIN)
    assert by_group(moved) == {"A": ["a1", "a2", "a3"], "B": ["b1", "b2"]}
    first = moved[0]
    assert attributes_of(first) == {
        "ap-error-kind": "permanent",
        "ap-error-reason": "bad order",
        "ap-message-id": f"logical-{first['Body']}",
        "ap-source-queue": "arn:aws:sqs:x:1:src",
        "ap-attempt": "2",
        "blob": b"\x00\xff",
    }
    assert first["MessageAttributes"]["ap-attempt"]["DataType"] == "Number"
    assert first["Attributes"]["MessageDeduplicationId"] != f"runtime-{first['Body']}"


def test_more_than_one_receive_batch_of_one_group_stays_in_order() -> None:
    sqs = create_queues("prod")
    bodies = [f"m{i:02d}" for i in range(13)]
    for body in bodies:
        dead_letter(sqs, DLQ, body, group="only")
    dlq, main = queues(sqs)
    assert len(move_messages(sqs, dlq, main, rate=None).moved) == 13
    assert [m["Body"] for m in drain(sqs, MAIN)] == bodies


def test_a_failed_send_stops_its_group_and_deletes_only_what_was_sent() -> None:
    sqs = create_queues("prod")
    ids = {}
    for body, group in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A"), ("b2", "B")]:
        ids[body] = dead_letter(sqs, DLQ, body, group=group)
    dlq, main = queues(sqs)
    calls = fail_sends(sqs, {"a2"})
    report = move_messages(sqs, dlq, main, rate=None)
    assert calls == [["a1", "b1"], ["a2", "b2"]]  # a3 is never sent after a2 failed
    assert sorted(report.moved) == sorted([ids["a1"], ids["b1"], ids["b2"]])
    assert report.failed == {ids["a2"]: "InternalError: try again"}
    assert report.held == [ids["a3"]]
    assert report.stopped_groups == ["A"]
    assert not report.complete
    # the rest of the group is back in the DLQ, visible at once, in order
    assert visible(sqs, DLQ) == 2
    assert by_group(drain(sqs, MAIN)) == {"A": ["a1"], "B": ["b1", "b2"]}

    # the next run (sends work again) moves the rest, in order
    del sqs.send_message_batch  # back to the client's own method
    again = move_messages(sqs, dlq, main, rate=None)
    assert again.complete and sorted(again.moved) == sorted([ids["a2"], ids["a3"]])
    assert [m["Body"] for m in drain(sqs, MAIN)] == ["a2", "a3"]
    assert visible(sqs, DLQ) == 0


def test_sent_but_not_deleted_is_not_duplicated_by_a_rerun() -> None:
    sqs = create_queues("prod")
    dead_letter(sqs, DLQ, "x1", group="G")
    dlq, main = queues(sqs)
    real_delete = sqs.delete_message_batch

    def refuse(**kwargs: Any) -> Any:
        return {
            "Successful": [],
            "Failed": [
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "boom"}
                for e in kwargs["Entries"]
            ],
        }

    sqs.delete_message_batch = refuse  # type: ignore[method-assign]
    first = move_messages(sqs, dlq, main, rate=None, visibility=0)
    assert first.moved == [] and list(first.not_deleted.values()) == ["InternalError: boom"]
    assert visible(sqs, MAIN) == 1
    sqs.delete_message_batch = real_delete  # type: ignore[method-assign]
    # a new run (new receive, new receive count) sends it again: same dedup id, SQS drops the copy
    second = move_messages(sqs, dlq, main, rate=None)
    assert len(second.moved) == 1 and second.complete
    assert visible(sqs, DLQ) == 0
    assert [m["Body"] for m in drain(sqs, MAIN)] == ["x1"]


def test_re_redrive_of_a_message_that_failed_again_is_not_dropped() -> None:
    sqs = create_queues("prod")
    dead_letter(sqs, DLQ, "order-7", group="acct-1")
    dlq, main = queues(sqs)
    assert len(move_messages(sqs, dlq, main, rate=None).moved) == 1
    # the consumer fails it again at once: the runtime sends the same body and attributes to the DLQ
    # while its copy in the main queue is still in flight (not yet deleted by the event source mapping)
    in_flight = sqs.receive_message(QueueUrl=url(sqs, MAIN), VisibilityTimeout=60)["Messages"][0]
    dead_letter(sqs, DLQ, "order-7", group="acct-1", reason="still broken")
    report = move_messages(sqs, dlq, main, rate=None)
    assert len(report.moved) == 1
    sqs.delete_message(QueueUrl=url(sqs, MAIN), ReceiptHandle=in_flight["ReceiptHandle"])
    again = drain(sqs, MAIN)
    assert [(m["Body"], attributes_of(m)["ap-error-reason"]) for m in again] == [("order-7", "still broken")]


def test_deduplication_id_is_per_dlq_message_not_per_receive_nor_the_original() -> None:
    sqs = create_queues("prod")
    dead_letter(sqs, DLQ, "same", group="G")
    sqs.send_message(QueueUrl=url(sqs, DLQ), MessageBody="same", MessageGroupId="H", MessageDeduplicationId="other")
    dlq = resolve(sqs, DLQ)

    def receive_all() -> list[Any]:
        got = sqs.receive_message(
            QueueUrl=dlq.url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], VisibilityTimeout=30
        )["Messages"]
        release(sqs, dlq, [m["ReceiptHandle"] for m in got])
        return sorted(got, key=lambda m: m["Attributes"]["MessageGroupId"])

    first, second = receive_all(), receive_all()
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in second] == ["2", "2"]
    assert [deduplication_id(m) for m in first] == [deduplication_id(m) for m in second]
    assert deduplication_id(first[0]) != deduplication_id(first[1])  # same body, different DLQ messages
    assert deduplication_id(first[0]) != first[0]["Attributes"]["MessageDeduplicationId"]


def test_dry_run_moves_nothing_and_leaves_messages_visible() -> None:
    sqs = create_queues("prod")
    for body, group in [("a1", "A"), ("b1", "B"), ("a2", "A")]:
        dead_letter(sqs, DLQ, body, group=group)
    dlq, main = queues(sqs)
    report = move_messages(sqs, dlq, main, dry_run=True, rate=None)
    assert [p.message.body_preview for p in report.planned] == ["a1", "b1", "a2"]
    assert all(p.deduplication_id for p in report.planned)
    assert report.moved == []
    assert visible(sqs, MAIN) == 0
    assert visible(sqs, DLQ) == 3


def test_standard_queues_move_too_without_group_or_dedup() -> None:
    sqs = create_queues("dev")
    for body in ["s1", "s2", "s3"]:
        dead_letter(sqs, "ap-dev-orders-billing-dlq", body)
    dlq, src = resolve(sqs, "ap-dev-orders-billing-dlq"), resolve(sqs, "ap-dev-orders-billing")
    report = move_messages(sqs, dlq, src, rate=None)
    assert report.complete and len(report.moved) == 3
    moved = drain(sqs, "ap-dev-orders-billing")
    assert sorted(m["Body"] for m in moved) == ["s1", "s2", "s3"]
    assert all("MessageGroupId" not in m["Attributes"] for m in moved)


def test_rate_paces_the_sends() -> None:
    sqs = create_queues("prod")
    for i in range(4):
        dead_letter(sqs, DLQ, f"p{i}", group=f"g{i}")
    dlq, main = queues(sqs)
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    move_messages(sqs, dlq, main, rate=2, clock=lambda: now[0], sleep=sleep)
    assert slept == [2.0]  # 4 messages in one round at 2 msg/s: 2 s


def test_a_whole_call_failure_reports_progress_and_releases_the_rest() -> None:
    sqs = create_queues("prod")
    for body, group in [("a1", "A"), ("b1", "B")]:
        dead_letter(sqs, DLQ, body, group=group)
    dlq, main = queues(sqs)
    from botocore.exceptions import ClientError

    def broken(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "SendMessageBatch")

    sqs.send_message_batch = broken  # type: ignore[method-assign]
    with pytest.raises(MoveInterrupted) as raised:
        move_messages(sqs, dlq, main, rate=None)
    assert raised.value.report.moved == []
    assert "AccessDenied" in str(raised.value)
    assert visible(sqs, DLQ) == 2  # released at once, not hidden for the visibility timeout


def test_queue_types_must_match() -> None:
    sqs = create_queues("prod")
    with pytest.raises(ValueError, match="not the same queue type"):
        move_messages(sqs, resolve(sqs, DLQ), resolve(sqs, "ap-prod-orders-billing"), rate=None)


def test_a_move_interrupted_mid_group_releases_what_it_holds_and_the_next_run_keeps_the_order() -> None:
    """Ctrl-C between rounds: a1 moved, a2..a4 made visible again at once (not after the move's 60 s
    visibility timeout), and the next run sends them oldest-first, as SQS hands them out (moto 5.2.5 alone
    would hand out a4 first: see sandbox/fifo_order.py, applied by the `aws` fixture)."""
    clock = VirtualClock()
    with clock.patch_moto():
        sqs = create_queues("prod")
        for body in ["a1", "a2", "a3", "a4"]:
            dead_letter(sqs, DLQ, body, group="A")
        dlq, main = queues(sqs)
        real = sqs.send_message_batch
        rounds: list[list[str]] = []

        def interrupted_in_round_two(**kwargs: Any) -> Any:
            rounds.append([e["MessageBody"] for e in kwargs["Entries"]])
            if len(rounds) == 2:
                raise KeyboardInterrupt  # a second Ctrl-C, in the middle of a call
            return real(**kwargs)

        sqs.send_message_batch = interrupted_in_round_two  # type: ignore[method-assign]
        report = MoveReport()
        with pytest.raises(KeyboardInterrupt):
            move_messages(sqs, dlq, main, rate=None, report=report)
        del sqs.send_message_batch  # back to the client's own method
        assert rounds == [["a1"], ["a2"]]
        assert len(report.moved) == 1  # the progress survives the interrupt
        clock.advance(0.001)  # moto: visible once the clock passes the moment of the release
        assert visible(sqs, DLQ) == 3
        again = move_messages(sqs, dlq, main, rate=None)
        assert again.complete and len(again.moved) == 3
        assert [m["Body"] for m in drain(sqs, MAIN)] == ["a1", "a2", "a3", "a4"]


def test_a_stop_request_ends_the_move_between_rounds_and_releases_the_rest() -> None:
    clock = VirtualClock()
    with clock.patch_moto():
        sqs = create_queues("prod")
        for body, group in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A")]:
            dead_letter(sqs, DLQ, body, group=group)
        dlq, main = queues(sqs)
        calls: list[int] = []
        real = sqs.send_message_batch

        def count(**kwargs: Any) -> Any:
            calls.append(len(kwargs["Entries"]))
            return real(**kwargs)

        sqs.send_message_batch = count  # type: ignore[method-assign]
        report = move_messages(sqs, dlq, main, rate=None, stop=lambda: len(calls) == 1)
        assert report.interrupted and not report.complete
        assert calls == [2]  # round one (a1, b1) only; never a send without its delete
        counts = report.by_group()
        assert (counts["A"].moved, counts["B"].moved) == (1, 1)
        clock.advance(0.001)
        assert visible(sqs, DLQ) == 2  # a2, a3 released at once
        assert [m["Body"] for m in drain(sqs, MAIN)] == ["a1", "b1"]


# --- a redrive takes only what was in the DLQ when it started ---------------------------------------


def fail_again(sqs: SQSClient, clock: VirtualClock, dlq: str, bodies: set[str], limit: int = 30) -> list[str]:
    """The consumer fails these bodies again as soon as they are moved: the runtime dead-letters each as a
    NEW message (new id, later SentTimestamp). Returns every body sent; fails the test instead of looping."""
    real = sqs.send_message_batch
    sent: list[str] = []

    def send_message_batch(**kwargs: Any) -> Any:
        response = real(**kwargs)
        clock.advance(0.05)  # the consumer takes a moment
        for entry in kwargs["Entries"]:
            sent.append(entry["MessageBody"])
            assert len(sent) <= limit, f"the move never ends: {sent}"
            if entry["MessageBody"] in bodies:
                again: dict[str, Any] = {
                    "QueueUrl": url(sqs, dlq),
                    "MessageBody": entry["MessageBody"],
                    "MessageAttributes": {**entry["MessageAttributes"], "ap-error-reason": {
                        "DataType": "String", "StringValue": "again"}},
                }
                if "MessageGroupId" in entry:  # the runtime's own dedup id for this new dead-lettering
                    again |= {"MessageGroupId": entry["MessageGroupId"], "MessageDeduplicationId": f"again-{len(sent)}"}
                sqs.send_message(**again)
        return response

    sqs.send_message_batch = send_message_batch  # type: ignore[method-assign]
    return sent


def test_copies_that_fail_again_and_come_back_are_not_moved_again() -> None:
    clock = VirtualClock()
    with clock.patch_moto():
        sqs = create_queues("dev")
        dlq_name, source_name = "ap-dev-orders-billing-dlq", "ap-dev-orders-billing"
        for body in ["o1", "o2", "o3"]:
            dead_letter(sqs, dlq_name, body)
        sent = fail_again(sqs, clock, dlq_name, {"o1", "o2", "o3"})
        report = move_messages(sqs, resolve(sqs, dlq_name), resolve(sqs, source_name), rate=None,
                               wall_clock_ms=lambda: clock.now() * 1000)
        assert sorted(sent) == ["o1", "o2", "o3"]  # each moved once, then the move ended by itself
        assert len(report.moved) == 3 and report.complete
        assert len(report.arrived_later) == 3  # the copies that came back, left for the next run
        assert report.by_group()[""].held == 3
        clock.advance(0.001)
        assert visible(sqs, dlq_name) == 3  # released at once


def test_fifo_a_group_whose_first_message_fails_again_keeps_its_order_and_is_held() -> None:
    clock = VirtualClock()
    with clock.patch_moto():
        sqs = create_queues("prod")
        for body, group in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B")]:
            dead_letter(sqs, DLQ, body, group=group)
        dlq, main = queues(sqs)
        sent = fail_again(sqs, clock, DLQ, {"a1"})
        report = move_messages(sqs, dlq, main, rate=None, wall_clock_ms=lambda: clock.now() * 1000)
        assert sent == ["a1", "b1", "a2", "b2"]
        counts = report.by_group()
        assert (counts["A"].moved, counts["A"].failed, counts["A"].held) == (2, 0, 1)
        assert (counts["B"].moved, counts["B"].failed, counts["B"].held) == (2, 0, 0)
        assert by_group(drain(sqs, MAIN)) == {"A": ["a1", "a2"], "B": ["b1", "b2"]}
        clock.advance(0.001)
        assert [(m["Body"], attributes_of(m)["ap-error-reason"]) for m in drain(sqs, DLQ)] == [("a1", "again")]


def test_the_start_is_taken_from_the_queues_clock_when_ours_is_behind() -> None:
    """`sandbox serve`'s virtual clock runs ahead of real time: what is in the DLQ still moves."""
    clock = VirtualClock(start=time.time() + 3600)
    with clock.patch_moto():
        sqs = create_queues("prod")
        for body in ["a1", "a2"]:
            dead_letter(sqs, DLQ, body, group="A")
        clock.advance(5)
        dlq, main = queues(sqs)
        report = move_messages(sqs, dlq, main, rate=None, wall_clock_ms=lambda: (time.time()) * 1000)
        assert len(report.moved) == 2 and not report.arrived_later
        assert report.started_at_ms is not None and report.started_at_ms >= int(clock.now() * 1000) - 5_000


def test_fence_is_the_queues_clock_at_a_first_receive_else_ours_but_never_below_what_sqs_stamped() -> None:
    fresh: Any = {"MessageId": "m1", "Attributes": {"SentTimestamp": "1000", "ApproximateReceiveCount": "1",
                                                    "ApproximateFirstReceiveTimestamp": "4000"}}
    seen: Any = {"MessageId": "m2", "Attributes": {"SentTimestamp": "3000", "ApproximateReceiveCount": "3",
                                                   "ApproximateFirstReceiveTimestamp": "2000"}}
    assert fence(9000.2, [fresh, seen]) == 4000  # the queue's clock now, even with ours ahead
    assert fence(2500.7, [fresh, seen]) == 4000  # ... or behind
    assert fence(9000.2, [seen]) == 9000  # no first receive: our clock
    assert fence(2500.7, [seen]) == 3000  # but never below what SQS stamped
    assert fence(10.0, []) == 10


def test_with_our_clock_ahead_of_the_queues_copies_that_come_back_are_still_not_moved() -> None:
    clock = VirtualClock()
    with clock.patch_moto():
        sqs = create_queues("prod")
        for body, group in [("a1", "A"), ("b1", "B")]:
            dead_letter(sqs, DLQ, body, group=group)
        dlq, main = queues(sqs)
        sent = fail_again(sqs, clock, DLQ, {"a1", "b1"})
        report = move_messages(sqs, dlq, main, rate=None, wall_clock_ms=lambda: (clock.now() + 3600) * 1000)
        assert sorted(sent) == ["a1", "b1"] and len(report.arrived_later) == 2
