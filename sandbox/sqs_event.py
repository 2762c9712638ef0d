"""The Lambda SQS event record, built from a `ReceiveMessage` result: the one builder the sandbox's
event source mapping and the runtime tests share.

Shape (AWS Lambda developer guide, "Using Lambda with Amazon SQS", example standard and FIFO events;
the Powertools `SqsRecordModel` has the same fields): `messageId`, `receiptHandle`, `body`,
`attributes` (ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp;
FIFO adds SequenceNumber, MessageGroupId, MessageDeduplicationId; AWSTraceHeader and
DeadLetterQueueSourceArn when SQS has them), `messageAttributes` (camelCase, `stringListValues` and
`binaryListValues` always present, binary values base64), `md5OfBody`, `md5OfMessageAttributes` when
there are attributes, `eventSource` `aws:sqs`, `eventSourceARN`, `awsRegion`.
"""

from __future__ import annotations

import base64
from typing import Any

SYSTEM_ATTRIBUTES = ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
FIFO_ATTRIBUTES = ("SequenceNumber", "MessageGroupId", "MessageDeduplicationId")
OPTIONAL_ATTRIBUTES = ("AWSTraceHeader", "DeadLetterQueueSourceArn")
"""Passed on when SQS returns them (a traced message; a message received from a DLQ)."""


def _base64(value: Any) -> Any:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def lambda_attribute(attr: dict[str, Any]) -> dict[str, Any]:
    """SQS `MessageAttributeValue` -> the Lambda event shape."""
    out: dict[str, Any] = {}
    if "StringValue" in attr:
        out["stringValue"] = attr["StringValue"]
    if "BinaryValue" in attr:
        out["binaryValue"] = _base64(attr["BinaryValue"])
    out["stringListValues"] = list(attr.get("StringListValues") or [])
    out["binaryListValues"] = [_base64(v) for v in attr.get("BinaryListValues") or []]
    out["dataType"] = attr["DataType"]
    return out


def lambda_record(message: dict[str, Any], queue_arn: str, region: str, fifo: bool) -> dict[str, Any]:
    """One record of a Lambda SQS event, from a ReceiveMessage result (all attributes requested)."""
    system = message.get("Attributes") or {}
    names = SYSTEM_ATTRIBUTES + (FIFO_ATTRIBUTES if fifo else ()) + OPTIONAL_ATTRIBUTES
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: system[name] for name in names if name in system},
        "messageAttributes": {k: lambda_attribute(v) for k, v in (message.get("MessageAttributes") or {}).items()},
        "md5OfBody": message["MD5OfBody"],
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record |= {"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region}
    return record
