"""The one Lambda SQS record builder (sandbox.sqs_event), against AWS's documented event shape."""

from __future__ import annotations

from typing import Any

from sandbox.sqs_event import lambda_record

ARN = "arn:aws:sqs:us-east-2:123456789012:my-queue"


def received(**attributes: str) -> dict[str, Any]:
    """A ReceiveMessage result as SQS returns it with all attribute names requested."""
    return {
        "MessageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "ReceiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "MD5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "Body": "Test message.",
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
            **attributes,
        },
    }


def test_standard_record_matches_the_documented_example() -> None:
    """The standard-queue example event of the Lambda developer guide ("Using Lambda with Amazon SQS")."""
    assert lambda_record(received(), ARN, "us-east-2", fifo=False) == {
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": "Test message.",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": ARN,
        "awsRegion": "us-east-2",
    }


def test_fifo_attributes_only_on_fifo_records_and_dlq_source_when_present() -> None:
    fifo = received(SequenceNumber="18849496460467696128", MessageGroupId="1", MessageDeduplicationId="1")
    assert {"SequenceNumber", "MessageGroupId", "MessageDeduplicationId"} <= set(
        lambda_record(fifo, ARN + ".fifo", "us-east-2", fifo=True)["attributes"]
    )
    from_dlq = received(DeadLetterQueueSourceArn="arn:aws:sqs:us-east-2:123456789012:src", MessageGroupId="x")
    attributes = lambda_record(from_dlq, ARN, "us-east-2", fifo=False)["attributes"]
    assert attributes["DeadLetterQueueSourceArn"].endswith(":src")
    assert "MessageGroupId" not in attributes


def test_message_attributes_are_camel_case_with_base64_binaries() -> None:
    message = received() | {
        "MD5OfMessageAttributes": "582c92c5c5b6ac403040a4f3ab3115c9",
        "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": b"1100"}},
    }
    record = lambda_record(message, ARN, "us-east-2", fifo=False)
    assert record["messageAttributes"] == {
        "blob": {"binaryValue": "MTEwMA==", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"}
    }
    assert record["md5OfMessageAttributes"] == "582c92c5c5b6ac403040a4f3ab3115c9"
