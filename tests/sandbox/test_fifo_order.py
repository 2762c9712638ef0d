"""FIFO groups come back oldest-first: moto 5.2.5's defect, the sandbox's correction, and a real run.

AWS: while a message of a group is in flight the group is locked; once it returns, the group's oldest
message is delivered next (SQS developer guide, "FIFO queue delivery logic in Amazon SQS").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox.clock import VirtualClock
from sandbox.fifo_order import fifo_oldest_first

from .conftest import message, run_stack, stack

VISIBILITY = 30


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    virtual = VirtualClock()
    with mock_aws(), virtual.patch_moto():
        yield virtual


def fifo_queue(sqs: Any, name: str = "order.fifo") -> str:
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": str(VISIBILITY)}
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def receive(sqs: Any, url: str, count: int = 10) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, WaitTimeSeconds=0).get(
        "Messages", []
    )
    return got


def bodies(messages: list[dict[str, Any]]) -> list[str]:
    return [m["Body"] for m in messages]


def fail_all_but_the_first(sqs: Any, url: str, clock: VirtualClock) -> None:
    """Send g1-0..3, receive them in one batch, delete g1-0, let the others' visibility timeout end."""
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"g1-{i}", MessageGroupId="g1")
    batch = receive(sqs, url)
    assert bodies(batch) == ["g1-0", "g1-1", "g1-2", "g1-3"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=batch[0]["ReceiptHandle"])
    clock.advance(VISIBILITY + 1)


def test_plain_moto_hands_out_the_last_pending_message_of_a_group_first(clock: VirtualClock) -> None:
    """The defect, on plain moto. When this fails, moto is fixed: delete sandbox/fifo_order.py and its call sites."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = fifo_queue(sqs)
    fail_all_but_the_first(sqs, url, clock)
    first = receive(sqs, url)
    assert bodies(first) == ["g1-3"], "moto now delivers FIFO groups oldest-first: drop sandbox/fifo_order.py"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert bodies(receive(sqs, url)) == ["g1-1", "g1-2"]


def test_with_the_correction_the_group_comes_back_oldest_first(clock: VirtualClock) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = fifo_queue(sqs)
    with fifo_oldest_first():
        fail_all_but_the_first(sqs, url, clock)
        again = receive(sqs, url)
    assert bodies(again) == ["g1-1", "g1-2", "g1-3"]
    assert receive(sqs, url) == []  # all three in flight: nothing else to hand out


def test_with_the_correction_a_group_stays_locked_while_a_message_is_in_flight(clock: VirtualClock) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = fifo_queue(sqs)
    with fifo_oldest_first():
        for body, group in [("a1", "A"), ("a2", "A"), ("b1", "B")]:
            sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
        assert bodies(receive(sqs, url, count=1)) == ["a1"]
        assert bodies(receive(sqs, url)) == ["b1"]  # A is locked by a1, in flight
        clock.advance(VISIBILITY + 1)  # a1 and b1 time out
        assert bodies(receive(sqs, url)) == ["a1", "a2", "b1"]


def test_standard_queues_are_untouched(clock: VirtualClock) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="plain", Attributes={"VisibilityTimeout": str(VISIBILITY)})["QueueUrl"]
    with fifo_oldest_first():
        for i in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"s{i}")
        assert sorted(bodies(receive(sqs, url))) == ["s0", "s1", "s2"]
        clock.advance(VISIBILITY + 1)
        assert sorted(bodies(receive(sqs, url))) == ["s0", "s1", "s2"]


def test_the_sandbox_processes_each_group_oldest_first_after_failures_and_visibility_timeouts() -> None:
    from pipeline_runtime import hooks

    jobs = stack(
        {
            "jobs": {
                "pattern": "chain",
                "fifo": True,
                "stages": [{"name": "compute", "handler": "handlers.compute:transform", "results": True}],
            }
        }
    )
    sent: dict[str, list[dict[str, Any]]] = {
        # g-2 fails once (the runtime returns g-2..g-5), g-4 twice: each failure waits out the visibility timeout
        "g": [
            {"id": "g-1", "values": [1]},
            {"id": "g-2", "values": [2], "simulate": "timeout", "simulate_failures": 1},
            {"id": "g-3", "values": [3]},
            {"id": "g-4", "values": [4], "simulate": "crash", "simulate_failures": 2},
            {"id": "g-5", "values": [5]},
        ],
        "h": [
            {"id": "h-1", "values": [1], "simulate": "timeout", "simulate_failures": 1},
            {"id": "h-2", "values": [2]},
            {"id": "h-3", "values": [3]},
        ],
    }
    interleaved = [("g", 0), ("h", 0), ("g", 1), ("h", 1), ("g", 2), ("h", 2), ("g", 3), ("g", 4)]
    specs = [message("jobs", sent[group][i], group=group) for group, i in interleaved]
    succeeded: list[str] = []

    def listen(scope: str, record: dict[str, Any], outcome: dict[str, Any] | None, error: str | None) -> None:
        if outcome is not None and outcome.get("outcome") == "succeeded" and not outcome.get("duplicate"):
            succeeded.append(json.loads(record["body"])["id"])

    hooks.add_outcome_listener(listen)
    try:
        result = run_stack(jobs, specs)
    finally:
        hooks.remove_outcome_listener(listen)

    assert result.ok
    for group, messages in sent.items():
        assert [i for i in succeeded if i.startswith(f"{group}-")] == [m["id"] for m in messages]
    tracks = result.ledger.of("jobs.compute")
    assert len(tracks) == 8 and all(t.state == "processed" and t.effects == 1 for t in tracks)
    assert max(t.deliveries for t in tracks) >= 3  # g-4 failed twice: visibility timeouts really ended
