"""SQS event source mappings: partial batch responses, visibility vs. timeout, batching limits.

The queue is resolved through the property dependencies of ``eventSourceArn`` and the function
through those of ``functionName`` (both unknown during a preview), falling back to matching the
values against queue ARNs and function names/ARNs; a mapping on a Lambda alias is followed to its
function.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .model import (
    EVENT_SOURCE_MAPPING,
    FUNCTION,
    FUNCTION_ALIAS,
    UNKNOWN,
    Finding,
    Resource,
    Stack,
    _Unknown,
    fmt,
    number,
)
from .queues import esm_queues, is_fifo, redrive_links, visibility_timeout

# AWS limits, defaults and advice: the pack's copy of contract/aws.py (it is installed on its own);
# tests/test_contract_copies.py fails when they differ.
DEFAULT_FUNCTION_TIMEOUT: Final = 3  # Lambda default, seconds
DEFAULT_BATCH_SIZE: Final = 10
MAX_BATCH_STANDARD: Final = 10_000
MAX_BATCH_FIFO: Final = 10
MAX_BATCH_WITHOUT_WINDOW: Final = 10  # above it Lambda requires a batching window >= 1 s
MAX_BATCHING_WINDOW: Final = 300
CONCURRENCY_RANGE: Final = (2, 1000)
VISIBILITY_FACTOR: Final = 6  # AWS advises visibility >= 6 x function timeout + batching window
# AWS Lambda developer guide, "Creating and configuring an Amazon SQS event source mapping"
# (services-sqs-configure): set the source queue's maxReceiveCount to at least 5, because receives made
# while the function is throttled count too.
ADVISED_MAX_RECEIVE_COUNT: Final = 5
_SQS_ARN: Final = re.compile(r"^arn:[^:]+:sqs:")
_FUNCTION_ATTRS: Final = ("name", "arn", "id")


@dataclass(frozen=True)
class SqsMapping:
    esm: Resource
    queue: Resource | None
    function: Resource | None
    fifo: bool | _Unknown

    @property
    def label(self) -> str:
        queue = f'queue "{self.queue.name}"' if self.queue else "its queue"
        function = f'function "{self.function.name}"' if self.function else "its function"
        return f"{self.esm.label} ({queue} -> {function})"

    @property
    def batch_size(self) -> float | _Unknown | None:
        return number(self.esm.get("batchSize"), DEFAULT_BATCH_SIZE)

    @property
    def batching_window(self) -> float | _Unknown | None:
        return number(self.esm.get("maximumBatchingWindowInSeconds"), 0)

    @property
    def maximum_concurrency(self) -> float | _Unknown | None:
        scaling: Any = self.esm.get("scalingConfig")
        if isinstance(scaling, list):  # tolerate the Terraform list-of-one-block shape
            scaling = scaling[0] if scaling else None
        if scaling is UNKNOWN:
            return UNKNOWN
        return number(scaling.get("maximumConcurrency")) if isinstance(scaling, Mapping) else None

    @property
    def function_timeout(self) -> float | _Unknown | None:
        if self.function is None:
            return UNKNOWN
        return number(self.function.get("timeout"), DEFAULT_FUNCTION_TIMEOUT)

    @property
    def visibility(self) -> float | _Unknown | None:
        return UNKNOWN if self.queue is None else visibility_timeout(self.queue)


def advised_visibility(timeout: float, window: float) -> float:
    """The visibility timeout AWS advises for a queue read by Lambda: 6 x timeout + batching window."""
    return VISIBILITY_FACTOR * timeout + window


def _function_of(stack: Stack, esm: Resource) -> Resource | None:
    found = stack.resolve(esm, "functionName", (FUNCTION, FUNCTION_ALIAS), attrs=_FUNCTION_ATTRS)
    if not found:
        value = esm.get("functionName")
        if isinstance(value, str) and value.count(":") == 7:  # qualified ARN: ...:function:name:qualifier
            found = stack.matching(value.rsplit(":", 1)[0], (FUNCTION,), _FUNCTION_ATTRS)
    functions = [f for f in found if f.type == FUNCTION]
    for alias in (a for a in found if a.type == FUNCTION_ALIAS):
        functions += stack.resolve(alias, "functionName", (FUNCTION,), attrs=_FUNCTION_ATTRS)
    unique = {f.urn: f for f in functions}
    return next(iter(unique.values())) if len(unique) == 1 else None


def sqs_mappings(stack: Stack) -> list[SqsMapping]:
    """The event source mappings that read from SQS (known ARN or a resolved queue)."""
    mappings: list[SqsMapping] = []
    for esm in stack.of_type(EVENT_SOURCE_MAPPING):
        arn = esm.get("eventSourceArn")
        queues = esm_queues(stack, esm)
        if not queues and not (isinstance(arn, str) and _SQS_ARN.match(arn)):
            continue
        queue = queues[0] if len(queues) == 1 else None
        if queue is not None:
            fifo = is_fifo(queue)
        elif isinstance(arn, str):
            fifo = arn.endswith(".fifo")
        else:
            fifo = UNKNOWN
        mappings.append(SqsMapping(esm, queue, _function_of(stack, esm), fifo))
    return mappings


# --- mandatory ------------------------------------------------------------------------------------


def check_reports_batch_item_failures(stack: Stack) -> Iterator[Finding]:
    for mapping in sqs_mappings(stack):
        if mapping.batch_size == 1:
            continue  # one record per batch: a partial response could change nothing
        types = mapping.esm.get("functionResponseTypes")
        if types is UNKNOWN or (isinstance(types, list) and UNKNOWN in types):
            continue
        if not (isinstance(types, list) and "ReportBatchItemFailures" in types):
            yield Finding.about(
                mapping.esm,
                f'{mapping.label} does not set functionResponseTypes = ["ReportBatchItemFailures"]: '
                "the consumer's batchItemFailures answer is ignored, so one failed record makes SQS "
                "redeliver the whole batch, successes included. "
                'Fix: functionResponseTypes=["ReportBatchItemFailures"] (the Consumer component sets it).',
            )


def check_visibility_covers_timeout(stack: Stack) -> Iterator[Finding]:
    for mapping in sqs_mappings(stack):
        visibility, timeout = mapping.visibility, mapping.function_timeout
        if isinstance(visibility, float) and isinstance(timeout, float) and visibility < timeout:
            assert mapping.queue is not None and mapping.function is not None
            window = mapping.batching_window
            advised = advised_visibility(timeout, window if isinstance(window, float) else 0)
            yield Finding.about(
                mapping.esm,
                f"{mapping.label}: the queue's visibility timeout ({fmt(visibility)} s) is below the "
                f"function's timeout ({fmt(timeout)} s), so Lambda rejects the mapping (and a message would "
                "reappear while still being processed). Fix: set visibilityTimeoutSeconds on "
                f'"{mapping.queue.name}" to at least {fmt(timeout)}; AWS advises 6 x timeout + batching '
                f"window = {fmt(advised)} s.",
            )


def check_batching(stack: Stack) -> Iterator[Finding]:
    for mapping in sqs_mappings(stack):
        yield from (Finding.about(mapping.esm, f"{mapping.label}: {m}") for m in _batching_problems(mapping))


def _batching_problems(mapping: SqsMapping) -> Iterator[str]:
    batch, window, concurrency = mapping.batch_size, mapping.batching_window, mapping.maximum_concurrency
    if isinstance(batch, float) and (batch < 1 or not batch.is_integer()):
        yield f"batchSize {fmt(batch)} is invalid. Fix: use a whole number from 1 (default 10)."
    if isinstance(window, float) and not 0 <= window <= MAX_BATCHING_WINDOW:
        yield (
            f"maximumBatchingWindowInSeconds {fmt(window)} is outside 0-{MAX_BATCHING_WINDOW}. "
            f"Fix: use 0-{MAX_BATCHING_WINDOW} seconds."
        )
    low, high = CONCURRENCY_RANGE
    if isinstance(concurrency, float) and not low <= concurrency <= high:
        yield (
            f"scalingConfig.maximumConcurrency {fmt(concurrency)} is outside {low}-{high}. "
            f"Fix: use {low}-{high}, or leave it unset."
        )
    if mapping.fifo is True:
        if isinstance(batch, float) and batch > MAX_BATCH_FIFO:
            yield (
                f"batchSize {fmt(batch)} exceeds {MAX_BATCH_FIFO}, the maximum for a FIFO queue. "
                f"Fix: batchSize <= {MAX_BATCH_FIFO}."
            )
        if isinstance(window, float) and window > 0:
            yield (
                f"maximumBatchingWindowInSeconds is {fmt(window)} but FIFO queues do not support a batching "
                "window. Fix: leave maximumBatchingWindowInSeconds unset on FIFO mappings."
            )
    elif mapping.fifo is False:
        if isinstance(batch, float) and batch > MAX_BATCH_STANDARD:
            yield (
                f"batchSize {fmt(batch)} exceeds {MAX_BATCH_STANDARD}, the maximum for a standard queue. "
                f"Fix: batchSize <= {MAX_BATCH_STANDARD}."
            )
        elif isinstance(batch, float) and batch > MAX_BATCH_WITHOUT_WINDOW and isinstance(window, float) and window < 1:
            yield (
                f"batchSize {fmt(batch)} is above {MAX_BATCH_WITHOUT_WINDOW} but maximumBatchingWindowInSeconds is "
                f"{fmt(window)}: Lambda requires a batching window of at least 1 s for batches above "
                f"{MAX_BATCH_WITHOUT_WINDOW}. "
                "Fix: set maximumBatchingWindowInSeconds to 1-300 (batchWindow in the stack config)."
            )


# --- advisory -------------------------------------------------------------------------------------


def check_visibility_six_times_timeout(stack: Stack) -> Iterator[Finding]:
    for mapping in sqs_mappings(stack):
        visibility, timeout, window = mapping.visibility, mapping.function_timeout, mapping.batching_window
        if not (isinstance(visibility, float) and isinstance(timeout, float) and isinstance(window, float)):
            continue
        advised = advised_visibility(timeout, window)
        if timeout <= visibility < advised:
            assert mapping.queue is not None
            yield Finding.about(
                mapping.esm,
                f"{mapping.label}: the queue's visibility timeout ({fmt(visibility)} s) is below the advised "
                f"{VISIBILITY_FACTOR} x function timeout + batching window = {VISIBILITY_FACTOR} x {fmt(timeout)} + "
                f"{fmt(window)} = "
                f"{fmt(advised)} s, so throttled or retried invocations can make messages reappear while "
                f'still in flight. Fix: set visibilityTimeoutSeconds on "{mapping.queue.name}" to '
                f"{fmt(advised)} (the design default).",
            )


def check_max_receive_count(stack: Stack) -> Iterator[Finding]:
    """A queue read by a Lambda mapping dead-letters after at least 5 receives (AWS advice)."""
    links = {link.source.urn: link for link in redrive_links(stack)}
    for mapping in sqs_mappings(stack):
        if mapping.queue is None:
            continue
        link = links.get(mapping.queue.urn)
        count = link.max_receive_count if link else None
        if not (isinstance(count, float) and count < ADVISED_MAX_RECEIVE_COUNT):
            continue
        concurrency = mapping.maximum_concurrency
        capped = (
            f" and caps concurrency at {fmt(concurrency)} (scalingConfig.maximumConcurrency), which makes "
            "throttled receives likelier"
            if isinstance(concurrency, float)
            else ""
        )
        yield Finding.about(
            mapping.esm,
            f'{mapping.label}: queue "{mapping.queue.name}" dead-letters after maxReceiveCount {fmt(count)}{capped}. '
            "Receives made while the function is throttled or its batch is interrupted count too, so healthy "
            f"messages can land in the DLQ under load; the AWS Lambda guide advises at least "
            f"{ADVISED_MAX_RECEIVE_COUNT}. Fix: raise maxReceiveCount to {ADVISED_MAX_RECEIVE_COUNT} or more "
            "(maxReceiveCount in the stack config; lower values stay allowed).",
        )
