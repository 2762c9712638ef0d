"""SQS event source mappings: partial batch responses, visibility vs. timeout, batching, advisories."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import EnforcementLevel

from policy.guardrails.model import EVENT_SOURCE_MAPPING, FUNCTION, FUNCTION_ALIAS

PARTIAL = "lambda-sqs-esm-reports-batch-item-failures"
VISIBILITY = "lambda-sqs-esm-visibility-covers-timeout"
BATCHING = "lambda-sqs-esm-batching-limits"
SIX_TIMES = "lambda-sqs-esm-visibility-six-times-timeout"
RECEIVES = "lambda-sqs-esm-max-receive-count-at-least-5"

ESM_LABEL = (
    'Lambda event source mapping "orders-billing-esm" '
    '(queue "orders-billing-queue" -> function "orders-billing-function")'
)


@pytest.mark.parametrize("types", [None, []])
def test_mapping_without_partial_batch_responses(stack, crossguard, types):
    props = stack.props("orders-billing-esm")
    del props["functionResponseTypes"]
    if types is not None:
        props["functionResponseTypes"] = types
    [message] = crossguard.messages(PARTIAL, stack)
    assert message.startswith(f'{ESM_LABEL} does not set functionResponseTypes = ["ReportBatchItemFailures"]')
    assert 'Fix: functionResponseTypes=["ReportBatchItemFailures"]' in message


def test_non_sqs_mappings_are_ignored(stack, crossguard):
    stack.add(
        EVENT_SOURCE_MAPPING,
        "stream-esm",
        {
            "eventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
            "functionName": "orders-billing",
            "startingPosition": "LATEST",
        },
    )
    assert crossguard.run(stack.resources) == []


def test_visibility_below_function_timeout(stack, crossguard):
    stack.props("orders-billing-function")["timeout"] = 300
    [message] = crossguard.messages(VISIBILITY, stack)
    assert message.startswith(
        f"{ESM_LABEL}: the queue's visibility timeout (180 s) is below the function's timeout (300 s), "
        "so Lambda rejects the mapping"
    )
    assert 'visibilityTimeoutSeconds on "orders-billing-queue" to at least 300' in message
    assert "6 x timeout + batching window = 1800 s" in message


def test_visibility_and_timeout_defaults(stack, crossguard):
    del stack.props("orders-billing-queue")["visibilityTimeoutSeconds"]  # SQS default 30 s
    del stack.props("orders-billing-function")["timeout"]  # Lambda default 3 s
    assert crossguard.messages(VISIBILITY, stack) == []

    stack.props("orders-billing-function")["timeout"] = 60
    [message] = crossguard.messages(VISIBILITY, stack)
    assert "visibility timeout (30 s) is below the function's timeout (60 s)" in message


def test_function_reached_through_an_alias(stack, crossguard):
    stack.props("orders-billing-function")["timeout"] = 900
    stack.add(
        FUNCTION_ALIAS,
        "orders-billing-live",
        {"name": "live", "functionName": "orders-billing", "functionVersion": "3"},
        {"functionName": ["orders-billing-function"]},
    )
    stack.set_deps("orders-billing-esm", "functionName", "orders-billing-live")
    [message] = crossguard.messages(VISIBILITY, stack)
    assert "below the function's timeout (900 s)" in message


def test_queue_and_function_found_by_value_without_dependencies(stack, crossguard):
    stack["orders-billing-esm"]["property_dependencies"] = {}
    stack.props("orders-billing-function")["timeout"] = 600
    [message] = crossguard.messages(VISIBILITY, stack)
    assert message.startswith(ESM_LABEL)

    stack.props("orders-billing-esm")["functionName"] = stack.props("orders-billing-function")["arn"] + ":live"
    [message] = crossguard.messages(VISIBILITY, stack)
    assert message.startswith(ESM_LABEL)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"batchSize": 100},
            "batchSize 100 is above 10 but maximumBatchingWindowInSeconds is 0: Lambda requires a batching "
            "window of at least 1 s",
        ),
        ({"batchSize": 20_000, "maximumBatchingWindowInSeconds": 1}, "batchSize 20000 exceeds 10000"),
        ({"maximumBatchingWindowInSeconds": 301}, "maximumBatchingWindowInSeconds 301 is outside 0-300"),
        ({"scalingConfig": {"maximumConcurrency": 1}}, "scalingConfig.maximumConcurrency 1 is outside 2-1000"),
        ({"batchSize": 0}, "batchSize 0 is invalid"),
    ],
)
def test_batching_violations_standard(stack, crossguard, change, expected):
    stack.props("orders-billing-esm").update(change)
    [message] = crossguard.messages(BATCHING, stack)
    assert message.startswith(f"{ESM_LABEL}: {expected}")


@pytest.mark.parametrize(
    "change",
    [
        {"batchSize": 100, "maximumBatchingWindowInSeconds": 5},
        {"batchSize": 10_000, "maximumBatchingWindowInSeconds": 300},
        {"scalingConfig": {"maximumConcurrency": 2}},
        {"scalingConfig": [{"maximumConcurrency": 1000}]},
    ],
)
def test_batching_valid_standard(stack, crossguard, change):
    stack.props("orders-billing-esm").update(change)
    assert crossguard.messages(BATCHING, stack) == []


FIFO_LABEL = 'Lambda event source mapping "audit-esm" (queue "audit-queue" -> function "audit-function")'


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"batchSize": 20}, "batchSize 20 exceeds 10, the maximum for a FIFO queue"),
        ({"maximumBatchingWindowInSeconds": 5}, "maximumBatchingWindowInSeconds is 5 but FIFO queues do not support"),
    ],
)
def test_batching_violations_fifo(stack, crossguard, change, expected):
    stack.add_subscriber("audit", fifo=True)
    stack.props("audit-esm").update(change)
    [message] = crossguard.messages(BATCHING, stack)
    assert message.startswith(f"{FIFO_LABEL}: {expected}")


def test_fifo_type_from_event_source_arn_alone(stack, crossguard):
    stack.add(
        EVENT_SOURCE_MAPPING,
        "external-esm",
        {
            "eventSourceArn": "arn:aws:sqs:us-east-1:123456789012:external.fifo",
            "functionName": "orders-billing",
            "batchSize": 50,
            "functionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    [message] = crossguard.messages(BATCHING, stack)
    assert message.startswith(
        'Lambda event source mapping "external-esm" (its queue -> function "orders-billing-function"): '
        "batchSize 50 exceeds 10, the maximum for a FIFO queue"
    )


# --- advisory ---------------------------------------------------------------------------------------


def test_visibility_below_six_times_timeout_is_advisory(stack, crossguard):
    stack.props("orders-billing-queue")["visibilityTimeoutSeconds"] = 60
    reported = crossguard.run(stack.resources, only=SIX_TIMES)
    assert [r.level for r in reported] == [EnforcementLevel.ADVISORY]
    assert reported[0].message.startswith(
        f"{ESM_LABEL}: the queue's visibility timeout (60 s) is below the advised 6 x function timeout + "
        "batching window = 6 x 30 + 0 = 180 s"
    )
    assert crossguard.messages(VISIBILITY, stack) == []


def test_six_times_rule_counts_the_batching_window(stack, crossguard):
    stack.props("orders-billing-esm").update(batchSize=100, maximumBatchingWindowInSeconds=10)
    [message] = crossguard.messages(SIX_TIMES, stack)
    assert "= 6 x 30 + 10 = 190 s" in message
    stack.props("orders-billing-queue")["visibilityTimeoutSeconds"] = 190
    assert crossguard.messages(SIX_TIMES, stack) == []


def test_six_times_rule_leaves_hard_violations_to_the_mandatory_rule(stack, crossguard):
    stack.props("orders-billing-queue")["visibilityTimeoutSeconds"] = 10
    assert crossguard.messages(SIX_TIMES, stack) == []
    assert len(crossguard.messages(VISIBILITY, stack)) == 1


def _set_max_receive_count(stack, count):
    props = stack.props("orders-billing-queue")
    props["redrivePolicy"] = json.dumps(json.loads(props["redrivePolicy"]) | {"maxReceiveCount": count})


@pytest.mark.parametrize("count", [1, 3, 4])
def test_low_max_receive_count_is_advisory(stack, crossguard, count):
    """Issue 8: the AWS Lambda guide advises maxReceiveCount >= 5 for queues read by a mapping."""
    _set_max_receive_count(stack, count)
    reported = crossguard.run(stack.resources, only=RECEIVES)
    assert [r.level for r in reported] == [EnforcementLevel.ADVISORY]
    assert reported[0].message.startswith(
        f'{ESM_LABEL}: queue "orders-billing-queue" dead-letters after maxReceiveCount {count}. '
        "Receives made while the function is throttled"
    )
    assert "Fix: raise maxReceiveCount to 5 or more" in reported[0].message
    assert crossguard.run(stack.resources, only="sqs-redrive-max-receive-count") == []


def test_low_max_receive_count_names_max_concurrency(stack, crossguard):
    _set_max_receive_count(stack, 3)
    stack.props("orders-billing-esm")["scalingConfig"] = {"maximumConcurrency": 5}
    [message] = crossguard.messages(RECEIVES, stack)
    assert "dead-letters after maxReceiveCount 3 and caps concurrency at 5" in message


def test_max_receive_count_of_unconsumed_queue_is_not_advised(stack, crossguard):
    _set_max_receive_count(stack, 1)
    stack.remove("orders-billing-esm")
    assert crossguard.messages(RECEIVES, stack) == []


@pytest.mark.parametrize("count", [5, 10])
def test_max_receive_count_of_five_or_more_passes(stack, crossguard, count):
    _set_max_receive_count(stack, count)
    assert crossguard.messages(RECEIVES, stack) == []


def test_batch_size_one_needs_no_partial_batch_responses(stack, crossguard):
    """Issue 13 case 7: with one record per batch a partial response changes nothing."""
    props = stack.props("orders-billing-esm")
    props.update(batchSize=1, functionResponseTypes=[])
    assert crossguard.messages(PARTIAL, stack) == []
    props["batchSize"] = 2
    assert len(crossguard.messages(PARTIAL, stack)) == 1


def test_function_type_constant_is_the_engine_type():
    assert FUNCTION == "aws:lambda/function:Function"
