"""StartMessageMoveTask (standard DLQs): exact parameters, and refusal while a task is RUNNING.

moto does not implement the message move task APIs, so botocore's Stubber answers them and checks
the request parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.stub import Stubber

from ops.redrive import MoveTaskRunning, start_move_task

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DLQ = "arn:aws:sqs:us-east-1:111122223333:ap-dev-email-dlq"
MAIN = "arn:aws:sqs:us-east-1:111122223333:ap-dev-email"


@pytest.fixture
def stubbed() -> Iterator[tuple[SQSClient, Stubber]]:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber


def test_starts_the_task_with_explicit_source_destination_and_rate(stubbed: tuple[SQSClient, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "list_message_move_tasks",
        {"Results": [{"TaskHandle": "old", "Status": "COMPLETED", "SourceArn": DLQ}]},
        {"SourceArn": DLQ, "MaxResults": 10},
    )
    stubber.add_response(
        "start_message_move_task",
        {"TaskHandle": "task-1"},
        {"SourceArn": DLQ, "DestinationArn": MAIN, "MaxNumberOfMessagesPerSecond": 42},
    )
    assert start_move_task(client, DLQ, MAIN, 42) == "task-1"
    stubber.assert_no_pending_responses()


def test_refuses_while_a_task_is_running(stubbed: tuple[SQSClient, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "list_message_move_tasks",
        {
            "Results": [
                {
                    "TaskHandle": "busy",
                    "Status": "RUNNING",
                    "SourceArn": DLQ,
                    "ApproximateNumberOfMessagesMoved": 3,
                    "ApproximateNumberOfMessagesToMove": 10,
                }
            ]
        },
        {"SourceArn": DLQ, "MaxResults": 10},
    )
    # no start_message_move_task response is stubbed: calling it would raise a different error
    with pytest.raises(MoveTaskRunning) as raised:
        start_move_task(client, DLQ, MAIN, 100)
    assert (raised.value.task.handle, raised.value.task.moved, raised.value.task.to_move) == ("busy", 3, 10)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("rate", [0, 501])
def test_rate_outside_1_to_500_is_refused_before_any_call(stubbed: tuple[SQSClient, Stubber], rate: int) -> None:
    client, _ = stubbed
    with pytest.raises(ValueError, match=f"rate {rate} is out of range; allowed 1–500"):
        start_move_task(client, DLQ, MAIN, rate)
