"""`ops.dlq` names a dead-lettered message by the one id every other tool shows (docs/contracts.md §8)."""

from __future__ import annotations

from contract.runtime import MESSAGE_ID, REDRIVE_MARK
from ops.queues import describe, shown_id


def _dlq_message(logical_id: str | None) -> dict:
    attributes = {} if logical_id is None else {MESSAGE_ID: {"DataType": "String", "StringValue": logical_id}}
    return {"MessageId": "sqs-1", "ReceiptHandle": "r", "Body": "{}", "MessageAttributes": attributes,
            "Attributes": {"ApproximateReceiveCount": "1"}}


def test_the_logical_id_comes_first_and_the_sqs_id_second() -> None:
    assert shown_id(describe(_dlq_message("order-7"))) == "order-7  (sqs sqs-1)"  # type: ignore[arg-type]


def test_a_copy_that_failed_again_after_a_redrive_is_shown_by_its_own_id() -> None:
    again = describe(_dlq_message(f"order-7{REDRIVE_MARK}dl-123"))  # type: ignore[arg-type]
    assert shown_id(again) == "order-7  (sqs sqs-1, failed again after a redrive)"


def test_a_message_without_an_ap_message_id_is_named_by_its_sqs_id() -> None:
    assert shown_id(describe(_dlq_message(None))) == "(no ap-message-id) sqs sqs-1"  # type: ignore[arg-type]
