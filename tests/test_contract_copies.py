"""The copies of `contract/` equal it: the Lambda runtime and the policy pack cannot import it, so they keep copies.

`contract.aws` (AWS limits, service defaults, advice) and `contract.runtime` (message attributes,
idempotency expiry) are the one table; everything else imports them. A copy that drifts — a batch
limit in the pack, an attribute name in the runtime — fails here, naming both sides.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from components import defaults
from contract import aws, runtime
from pipeline_runtime import attributes as runtime_attributes
from pipeline_runtime import delivery as runtime_delivery
from pipeline_runtime import idempotency as runtime_idempotency
from pipeline_runtime import large_messages as runtime_large_messages
from pipeline_runtime import probes as runtime_probes
from policy.guardrails import lambda_esm, queues

ROOT = Path(__file__).resolve().parents[1]

COPIES: list[tuple[str, Any, Any]] = [
    # the Lambda runtime (functions/ ships to Lambda on its own)
    ("pipeline_runtime.attributes.MESSAGE_ID", runtime_attributes.MESSAGE_ID, runtime.MESSAGE_ID),
    ("pipeline_runtime.attributes.ATTEMPT", runtime_attributes.ATTEMPT, runtime.ATTEMPT),
    ("pipeline_runtime.attributes.ERROR_KIND", runtime_attributes.ERROR_KIND, runtime.ERROR_KIND),
    ("pipeline_runtime.attributes.ERROR_REASON", runtime_attributes.ERROR_REASON, runtime.ERROR_REASON),
    ("pipeline_runtime.attributes.SOURCE_QUEUE", runtime_attributes.SOURCE_QUEUE, runtime.SOURCE_QUEUE),
    ("pipeline_runtime.attributes.DEAD_LETTER_ID", runtime_attributes.DEAD_LETTER_ID, runtime.DEAD_LETTER_ID),
    (
        "pipeline_runtime.attributes.ORIGINAL_ATTRIBUTES",
        runtime_attributes.ORIGINAL_ATTRIBUTES,
        runtime.ORIGINAL_ATTRIBUTES,
    ),
    ("pipeline_runtime.attributes.LARGE_MESSAGE", runtime_attributes.LARGE_MESSAGE, runtime.LARGE_MESSAGE),
    ("pipeline_runtime.attributes.PROBE", runtime_attributes.PROBE, runtime.PROBE),
    ("pipeline_runtime.delivery.REDRIVE_MARK", runtime_delivery.REDRIVE_MARK, runtime.REDRIVE_MARK),
    ("pipeline_runtime.probes.RECEIPT_PREFIX", runtime_probes.RECEIPT_PREFIX, runtime.PROBE_RECEIPT_PREFIX),
    (
        "pipeline_runtime.large_messages.SQS_MAX_MESSAGE_BYTES",
        runtime_large_messages.SQS_MAX_MESSAGE_BYTES,
        aws.QUEUE_MAX_MESSAGE_BYTES,
    ),
    (
        "pipeline_runtime.large_messages.SNS_MAX_MESSAGE_BYTES",
        runtime_large_messages.SNS_MAX_MESSAGE_BYTES,
        aws.SNS_MESSAGE_BYTES_MAX,
    ),
    ("pipeline_runtime.attributes.RUNTIME_PREFIX", runtime_attributes.RUNTIME_PREFIX, runtime.RUNTIME_PREFIX),
    ("pipeline_runtime.attributes.MAX_REASON_BYTES", runtime_attributes.MAX_REASON_BYTES, runtime.REASON_BYTES_MAX),
    ("pipeline_runtime.attributes.MAX_ATTRIBUTES", runtime_attributes.MAX_ATTRIBUTES, aws.SQS_MESSAGE_ATTRIBUTES_MAX),
    (
        "pipeline_runtime.idempotency.EXPIRES_AFTER_SECONDS",
        runtime_idempotency.EXPIRES_AFTER_SECONDS,
        runtime.IDEMPOTENCY_EXPIRES_AFTER_SECONDS,
    ),
    # the policy pack (policy/ installs on its own, with its own requirements)
    ("policy lambda_esm.DEFAULT_FUNCTION_TIMEOUT", lambda_esm.DEFAULT_FUNCTION_TIMEOUT, aws.LAMBDA_TIMEOUT_DEFAULT),
    ("policy lambda_esm.DEFAULT_BATCH_SIZE", lambda_esm.DEFAULT_BATCH_SIZE, aws.ESM_BATCH_SIZE_DEFAULT),
    ("policy lambda_esm.MAX_BATCH_STANDARD", lambda_esm.MAX_BATCH_STANDARD, aws.ESM_BATCH_SIZE_STANDARD_MAX),
    ("policy lambda_esm.MAX_BATCH_FIFO", lambda_esm.MAX_BATCH_FIFO, aws.ESM_BATCH_SIZE_FIFO_MAX),
    (
        "policy lambda_esm.MAX_BATCH_WITHOUT_WINDOW",
        lambda_esm.MAX_BATCH_WITHOUT_WINDOW,
        aws.ESM_BATCH_SIZE_WITHOUT_WINDOW_MAX,
    ),
    ("policy lambda_esm.MAX_BATCHING_WINDOW", lambda_esm.MAX_BATCHING_WINDOW, aws.ESM_BATCH_WINDOW_RANGE[1]),
    ("policy lambda_esm.CONCURRENCY_RANGE", lambda_esm.CONCURRENCY_RANGE, aws.ESM_MAX_CONCURRENCY_RANGE),
    (
        "policy lambda_esm.ADVISED_MAX_RECEIVE_COUNT",
        lambda_esm.ADVISED_MAX_RECEIVE_COUNT,
        aws.ADVISED_MAX_RECEIVE_COUNT,
    ),
    ("policy lambda_esm.VISIBILITY_FACTOR", lambda_esm.VISIBILITY_FACTOR, aws.VISIBILITY_TIMEOUT_FACTOR),
    ("policy queues.DEFAULT_RETENTION_SECONDS", queues.DEFAULT_RETENTION_SECONDS, aws.SQS_RETENTION_DEFAULT),
    ("policy queues.DEFAULT_VISIBILITY_SECONDS", queues.DEFAULT_VISIBILITY_SECONDS, aws.SQS_VISIBILITY_TIMEOUT_DEFAULT),
    ("policy queues.MAX_RECEIVE_COUNT_RANGE", queues.MAX_RECEIVE_COUNT_RANGE, aws.SQS_MAX_RECEIVE_COUNT_RANGE),
]


@pytest.mark.parametrize(("copy", "value", "source"), COPIES, ids=[c[0] for c in COPIES])
def test_every_copy_equals_the_contract(copy: str, value: Any, source: Any) -> None:
    assert value == source, f"{copy} = {value!r}, but contract/ says {source!r}"


@pytest.mark.parametrize(("timeout", "window"), [(1, 0), (3, 0), (30, 0), (30, 10), (120, 300), (900, 300)])
def test_the_advised_visibility_timeout_is_computed_the_same_everywhere(timeout: int, window: int) -> None:
    expected = aws.advised_visibility_timeout(timeout, window)
    assert expected == aws.VISIBILITY_TIMEOUT_FACTOR * timeout + window  # never capped for a valid function
    assert lambda_esm.advised_visibility(float(timeout), float(window)) == expected
    assert defaults.default_visibility_timeout(timeout, window) == expected


ATTRIBUTE_NAMES = (
    runtime.MESSAGE_ID,
    runtime.ATTEMPT,
    runtime.ERROR_KIND,
    runtime.ERROR_REASON,
    runtime.SOURCE_QUEUE,
    runtime.DEAD_LETTER_ID,
    runtime.ORIGINAL_ATTRIBUTES,
    runtime.LARGE_MESSAGE,
    runtime.PROBE,
)
ATTRIBUTE_LITERAL = re.compile("[\"'](" + "|".join(map(re.escape, ATTRIBUTE_NAMES)) + ")[\"']")
IMPORTERS = ("components", "sandbox", "ops", "stack_capture", "bench", "producer")
"""Packages that can import `contract`: they must, instead of spelling attribute names themselves."""


def test_no_package_that_can_import_the_contract_spells_an_attribute_name_itself() -> None:
    spelled = [
        f"{path.relative_to(ROOT)}:{n}: {m.group(1)}"
        for package in IMPORTERS
        for path in sorted((ROOT / package).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        for m in ATTRIBUTE_LITERAL.finditer(line)
    ]
    assert spelled == [], "import the name from contract.runtime instead:\n" + "\n".join(spelled)


def test_the_pack_knows_the_topic_policy_actions_the_program_writes() -> None:
    """The pack keeps its own list (it installs alone); it must accept every action the program may write,
    plus only `sns:Receive`, which SNS writes into its own default topic policy."""
    from components.policy_documents import SNS_TOPIC_POLICY_ACTIONS
    from policy.guardrails.topics import TOPIC_POLICY_ACTIONS

    assert {a.lower() for a in SNS_TOPIC_POLICY_ACTIONS} | {"sns:receive"} == set(TOPIC_POLICY_ACTIONS)
