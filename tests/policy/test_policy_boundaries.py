"""The pack's limits at their exact boundaries: one step inside passes, one step outside is reported.

Each case is a one-character mutation the suite once let through (`> 10` → `> 11` in the batching
rule, `<` → `<=` in the visibility rule). The values come from AWS's documentation, via contract/aws.py
(the pack's own copies are checked against it in tests/test_contract_copies.py).
"""

from __future__ import annotations

import pytest

from contract import aws

BATCHING = "lambda-sqs-esm-batching-limits"
VISIBILITY = "lambda-sqs-esm-visibility-covers-timeout"
SIX_TIMES = "lambda-sqs-esm-visibility-six-times-timeout"
LIMIT = aws.ESM_BATCH_SIZE_WITHOUT_WINDOW_MAX  # 10: above it Lambda requires a batching window >= 1 s


@pytest.mark.parametrize(
    ("batch", "window", "reported"),
    [
        (LIMIT, 0, False),  # the largest batch without a window
        (LIMIT + 1, 0, True),  # one more needs a window
        (LIMIT + 1, 1, False),  # ... and the smallest window allows it
        (LIMIT, 1, False),
    ],
)
def test_batch_above_ten_needs_a_window_of_at_least_one_second(stack, crossguard, batch, window, reported):
    stack.props("orders-billing-esm").update(batchSize=batch, maximumBatchingWindowInSeconds=window)
    messages = crossguard.messages(BATCHING, stack)
    if reported:
        [message] = messages
        assert f"batchSize {batch} is above {LIMIT} but maximumBatchingWindowInSeconds is 0" in message
    else:
        assert messages == []


def test_batch_above_ten_without_any_window_property(stack, crossguard):
    props = stack.props("orders-billing-esm")
    props.pop("maximumBatchingWindowInSeconds", None)  # AWS default 0
    props["batchSize"] = LIMIT + 1
    assert len(crossguard.messages(BATCHING, stack)) == 1
    props["batchSize"] = LIMIT
    assert crossguard.messages(BATCHING, stack) == []


@pytest.mark.parametrize(
    ("fifo_batch", "reported"), [(aws.ESM_BATCH_SIZE_FIFO_MAX, False), (aws.ESM_BATCH_SIZE_FIFO_MAX + 1, True)]
)
def test_fifo_batch_limit(stack, crossguard, fifo_batch, reported):
    stack.add_subscriber("audit", fifo=True)
    stack.props("audit-esm")["batchSize"] = fifo_batch
    assert len(crossguard.messages(BATCHING, stack)) == int(reported)


@pytest.mark.parametrize(("visibility", "reported"), [(30, False), (29, True)])
def test_visibility_equal_to_the_function_timeout_is_allowed(stack, crossguard, visibility, reported):
    """Lambda rejects a mapping only when the queue's visibility timeout is *below* the function timeout."""
    stack.props("orders-billing-function")["timeout"] = 30
    stack.props("orders-billing-queue")["visibilityTimeoutSeconds"] = visibility
    messages = crossguard.messages(VISIBILITY, stack)
    assert len(messages) == int(reported)
    if reported:
        assert "visibility timeout (29 s) is below the function's timeout (30 s)" in messages[0]


@pytest.mark.parametrize(("visibility", "reported"), [(180, False), (179, True)])
def test_visibility_equal_to_six_times_the_timeout_is_enough(stack, crossguard, visibility, reported):
    stack.props("orders-billing-function")["timeout"] = 30
    stack.props("orders-billing-esm")["maximumBatchingWindowInSeconds"] = 0
    stack.props("orders-billing-queue")["visibilityTimeoutSeconds"] = visibility
    assert len(crossguard.messages(SIX_TIMES, stack)) == int(reported)
