"""The record's Delivery: built cheaply and only when needed, yet the same object it always was."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from pipeline_runtime import current_delivery, entry
from pipeline_runtime.delivery import Delivery, new_delivery
from pipeline_runtime.processing import RecordProcessor
from tests.functions.conftest import event, failures

SEEN: list[tuple[Delivery | None, Delivery | None]] = []


def asks(message: dict[str, Any]) -> None:
    """A business function that reads its delivery twice."""
    SEEN.append((current_delivery(), current_delivery()))


def quiet(message: dict[str, Any]) -> None:
    """A business function that never reads its delivery."""


FIELDS: dict[str, Any] = {
    "message_id": "m-1", "key": "k", "logical_id": "l", "attempt": 2, "receive_count": 3,
    "group_id": None, "source_arn": "arn:aws:sqs:us-east-1:123456789012:q", "redrive": False,
    "attributes": {"a": {"stringValue": "b", "dataType": "String"}},
}


def test_new_delivery_is_the_dataclass_it_replaces():
    built, constructed = new_delivery(**FIELDS), Delivery(**FIELDS)
    assert type(built) is Delivery
    assert built == constructed and hash(built) == hash(constructed) and repr(built) == repr(constructed)
    assert vars(built) == vars(constructed)
    assert built.tries == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.key = "other"  # type: ignore[misc]


@pytest.fixture
def counted_builds(monkeypatch: pytest.MonkeyPatch) -> list[Delivery]:
    builds: list[Delivery] = []
    original = RecordProcessor._delivery

    def counting(self: RecordProcessor, raw: dict[str, Any], parsed: dict[str, Any] | None) -> Delivery:
        builds.append(original(self, raw, parsed))
        return builds[-1]

    monkeypatch.setattr(RecordProcessor, "_delivery", counting)
    return builds


def test_a_record_nobody_asks_about_builds_no_delivery(aws, consumer_env, context, counted_builds):
    source, dlq = aws.queue("orders-billing"), aws.queue("orders-billing-dlq")
    consumer_env(dlq=dlq, table=None, handler="tests.functions.test_delivery:quiet")
    aws.send(source, {"n": 1}, {"ap-message-id": "m-1"})
    assert failures(entry.handler(event(*aws.receive_records(source, expected=1)), context)) == []
    assert counted_builds == []


def test_current_delivery_is_built_once_on_first_use_with_the_record_s_fields(
    aws, consumer_env, context, counted_builds
):
    source, dlq = aws.queue("orders-billing"), aws.queue("orders-billing-dlq")
    consumer_env(dlq=dlq, table=None, handler="tests.functions.test_delivery:asks")
    SEEN.clear()
    aws.send(source, {"n": 1}, {"ap-message-id": "m-1", "ap-attempt": "1"})
    [record] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    [(first, second)] = SEEN
    assert first is second and counted_builds == [first]
    assert first == Delivery(
        message_id=record["messageId"], key="m-1", logical_id="m-1", attempt=1, receive_count=1,
        group_id=None, source_arn=source.arn, redrive=False, attributes=record["messageAttributes"],
    )
    assert current_delivery() is None  # outside the business function


def test_with_idempotency_the_delivery_is_built_up_front_for_its_key(aws, consumer_env, context, counted_builds):
    source, dlq = aws.queue("orders-billing"), aws.queue("orders-billing-dlq")
    aws.table()
    consumer_env(dlq=dlq, handler="tests.functions.test_delivery:quiet")
    aws.send(source, {"n": 1}, {"ap-message-id": "m-1"})
    assert failures(entry.handler(event(*aws.receive_records(source, expected=1)), context)) == []
    assert [d.key for d in counted_builds] == ["m-1"]


def test_the_record_handler_carries_its_signature_so_powertools_need_not_build_it(aws, consumer_env):
    from pipeline_runtime.settings import Settings

    consumer_env(dlq=aws.queue("orders-billing-dlq"), table=None)
    handler = RecordProcessor(Settings.from_env(), quiet, None, None).record_handler()  # type: ignore[arg-type]
    signature = inspect.signature(handler)
    assert list(signature.parameters) == ["record"]  # no lambda_context: Powertools passes the record only
    assert inspect.signature(handler) is signature  # prebuilt, not computed per invocation
