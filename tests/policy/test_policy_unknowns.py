"""Preview semantics: unknown values mean "cannot judge", yet dependencies still resolve references."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from policy.guardrails import evaluate
from policy.guardrails.model import UNKNOWN, number, to_plain


def test_preview_of_compliant_stack_is_clean(stack, crossguard):
    stack.preview()
    assert crossguard.run(stack.resources) == []
    assert evaluate(stack.resources) == []


def test_every_value_unknown_is_clean(stack, crossguard):
    """Even with every property unknown (names aside), nothing is reported or crashes."""
    for resource in stack.resources:
        props = resource["props"]
        for key in props:
            if key != "name":
                props[key] = UNKNOWN_STRING_VALUE
    assert crossguard.run(stack.resources) == []


@pytest.mark.parametrize(
    ("name", "key", "sentinel"),
    [
        ("orders-billing-queue", "sqsManagedSseEnabled", UNKNOWN_BOOLEAN_VALUE),
        ("orders-billing-queue", "visibilityTimeoutSeconds", UNKNOWN_NUMBER_VALUE),
        ("orders-billing-function", "timeout", UNKNOWN_NUMBER_VALUE),
        ("orders-billing-esm", "batchSize", UNKNOWN_NUMBER_VALUE),
        ("orders-billing-esm", "functionResponseTypes", UNKNOWN_STRING_VALUE),
        ("orders-topic", "kmsMasterKeyId", UNKNOWN_STRING_VALUE),
        ("orders-billing-dlq", "fifoQueue", UNKNOWN_BOOLEAN_VALUE),
    ],
)
def test_single_unknown_value_passes(stack, crossguard, name, key, sentinel):
    stack.preview()
    stack.props(name)[key] = sentinel
    assert crossguard.run(stack.resources) == []


def test_unknown_inside_lists_and_objects(stack, crossguard):
    stack.props("orders-billing-esm")["functionResponseTypes"] = [UNKNOWN_STRING_VALUE]
    stack.props("orders-billing-esm")["scalingConfig"] = {"maximumConcurrency": UNKNOWN_NUMBER_VALUE}
    stack.props("orders-billing-role-policy")["policy"] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": UNKNOWN_STRING_VALUE}],
    }
    assert crossguard.run(stack.resources) == []


def test_preview_still_finds_dlq_of_wrong_type_through_dependencies(stack, crossguard):
    stack.props("orders-billing-dlq").update(fifoQueue=True, name="orders-billing-dlq.fifo")
    stack.preview()
    assert stack.props("orders-billing-queue")["redrivePolicy"] == UNKNOWN_STRING_VALUE
    [message] = crossguard.messages("sqs-queue-has-redrive-policy", stack)
    assert "is a standard queue but its dead-letter queue" in message


def test_preview_still_finds_missing_alarm(stack, crossguard):
    stack.remove("orders-billing-dlq-alarm")
    stack.preview()
    [message] = crossguard.messages("sqs-dlq-has-alarm", stack)
    assert message.startswith('SQS queue "orders-billing-dlq" (dead-letter queue of "orders-billing-queue")')


def test_preview_still_checks_visibility_against_timeout(stack, crossguard):
    stack.props("orders-billing-function")["timeout"] = 900
    stack.preview()
    [message] = crossguard.messages("lambda-sqs-esm-visibility-covers-timeout", stack)
    assert "below the function's timeout (900 s)" in message


def test_preview_still_finds_queue_without_policy_and_unredriven_queue(stack, crossguard):
    stack.remove("orders-billing-dlq-policy")
    stack.preview()
    assert len(crossguard.messages("sqs-queue-has-resource-policy", stack)) == 1


def test_unresolvable_redrive_target_suppresses_missing_redrive_reports(stack, crossguard):
    """If some queue's DLQ cannot be identified, no queue can be called 'not a DLQ'."""
    stack.preview()
    stack["orders-billing-queue"]["property_dependencies"] = {}
    assert crossguard.messages("sqs-queue-has-redrive-policy", stack) == []
    assert crossguard.messages("sqs-dlq-has-alarm", stack) == []


def test_to_plain_reads_proxies_without_raising():
    proxied = unknown_checking_proxy(
        {"a": UNKNOWN_STRING_VALUE, "b": [1, UNKNOWN_NUMBER_VALUE, {"c": UNKNOWN_BOOLEAN_VALUE}], "d": "x"}
    )
    assert to_plain(proxied) == {"a": UNKNOWN, "b": [1.0, UNKNOWN, {"c": UNKNOWN}], "d": "x"}


def test_mock_unknowns_are_unknown():
    assert to_plain({"arn": Unknown(), "list": [Unknown()]}) == {"arn": UNKNOWN, "list": [UNKNOWN]}


@pytest.mark.parametrize(("value", "expected"), [(30.0, 30.0), ("45", 45.0), (None, 7.0), (True, UNKNOWN)])
def test_number_reader(value, expected):
    assert number(value, 7) == expected


def test_capture_with_mock_unknowns_is_clean(stack):
    """evaluate() accepts pulumi.output.Unknown values as Pulumi mocks produce them during a dry run."""
    for resource in stack.resources:
        if "arn" in resource["props"]:
            resource["props"]["arn"] = Unknown()
    stack.props("orders-billing-queue")["redrivePolicy"] = Unknown()
    assert evaluate(stack.resources) == []
