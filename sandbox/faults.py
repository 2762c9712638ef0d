"""`--api-fault-rate R`: AWS API calls fail the way AWS fails, injected through botocore's event hooks.

A fraction R of the calls that the producer (publishing) and the consumer runtime (inside a function
invocation) make fails, reproducibly from `--seed`, without touching their code:

* a whole call fails with a transient AWS error - `ThrottlingException` (HTTP 400), `InternalError`
  (500) or `ServiceUnavailable` (503); S3 answers `SlowDown` (503) instead of throttling - through a
  `before-call` handler that answers in place of the service (botocore raises the ClientError the
  caller would get after its own retries gave up);
* on `*Batch` calls (SendMessageBatch, PublishBatch, ...) each entry fails on its own with chance R: a
  `before-parameter-build` handler removes it from the request and an `after-call` handler reports it
  under `Failed` (`InternalError`, `SenderFault: false`) - a 200 answer with a partial result, the case
  naive producers drop.

The handlers are added to `botocore.handlers.BUILTIN_HANDLERS`, which every botocore session created
afterwards registers (moto's `mock_aws` hooks in the same way), so the runtime's own clients get them;
they act only inside `scope()` (the sandbox opens it around publishing and around each invocation), so
the sandbox's own polling - AWS Lambda's event source mapping, which retries internally - is not
faulted. Every injected fault is counted, and attributed to the record being processed (through the
runtime's outcome hook) so that a business effect applied twice can be explained in the report.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from contract.runtime import MESSAGE_ID
from sandbox.api_calls import botocore_handlers

__all__ = ["ApiFaults", "attributing", "summary"]

_WHOLE_CALL = (("ThrottlingException", 400), ("InternalError", 500), ("ServiceUnavailable", 503))
_S3_WHOLE_CALL = (("SlowDown", 503), ("InternalError", 500), ("ServiceUnavailable", 503))
_BATCH_ENTRIES = {"SendMessageBatch": "Entries", "PublishBatch": "PublishBatchRequestEntries",
                  "DeleteMessageBatch": "Entries", "ChangeMessageVisibilityBatch": "Entries"}
_DROPPED = "sandbox_api_faults_dropped"


class ApiFaults:
    """Seeded fault injection for one run (see the module docstring)."""

    def __init__(self, rate: float, seed: int) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"api fault rate {rate} is out of range; allowed 0–1")
        self.rate = rate
        self.rng = random.Random(f"{seed}:api-faults")
        self.injected: Counter[str] = Counter()
        """`<service>.<Operation>: <code>` -> how many (whole calls and batch entries)."""
        self.since_last_record: list[str] = []
        """Faults injected since the runtime last decided a record: they belong to the next decision."""
        self.by_record: dict[tuple[str, str], list[str]] = {}
        """(consumer scope, ap-message-id) -> the faults injected while that record was processed."""
        self.reruns: list[tuple[str, str]] = []
        """(scope, logical id) of records whose unit of work ran but could not be recorded as done."""
        self._depth = 0

    @property
    def active(self) -> bool:
        return self._depth > 0

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Calls made inside are subject to faults (publishing, a function invocation)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    @contextmanager
    def installed(self) -> Iterator[ApiFaults]:
        """Register the handlers for every botocore session created while open (`sandbox.api_calls`)."""
        entries: list[tuple[str, Callable[..., Any]]] = [
            ("before-parameter-build", self._drop_entries),
            ("before-call", self._fail_call),
            ("after-call", self._report_dropped),
        ]
        with botocore_handlers(entries):
            yield self

    def record_decided(self, scope: str, record: dict[str, Any], error: str | None) -> None:
        """Outcome hook: the faults since the previous decision belonged to this record.

        A record reported failed after its idempotency record could not be completed (`UpdateItem`
        faulted) had its unit of work run already: the redelivery runs it again (a re-run).
        """
        if self.since_last_record:
            attrs = record.get("messageAttributes") or {}
            logical = (attrs.get(MESSAGE_ID) or {}).get("stringValue") or str(record.get("messageId"))
            self.by_record.setdefault((scope, logical), []).extend(self.since_last_record)
            if error is not None and any(f.startswith("dynamodb.UpdateItem") for f in self.since_last_record):
                self.reruns.append((scope, logical))
            self.since_last_record = []

    # -- botocore handlers ----------------------------------------------------------------------
    def _fault(self, what: str) -> None:
        self.injected[what] += 1
        self.since_last_record.append(what)

    def _drop_entries(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.active or self.rate == 0:
            return
        key = _BATCH_ENTRIES.get(model.name)
        if key is None:
            return
        entries = params.get(key)
        if not entries or len(entries) < 2:
            return
        dropped = [e for e in entries if self.rng.random() < self.rate]
        if len(dropped) == len(entries):
            dropped = dropped[1:]  # an empty batch is a different (sender) error: keep one entry
        if not dropped:
            return
        params[key] = [e for e in entries if e not in dropped]
        context[_DROPPED] = [str(e["Id"]) for e in dropped]
        service = model.service_model.service_name
        for _entry in dropped:
            self._fault(f"{service}.{model.name}: partial InternalError")

    def _fail_call(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        if not self.active or self.rate == 0 or context.get(_DROPPED) or self.rng.random() >= self.rate:
            return None
        from botocore.awsrequest import AWSResponse, HTTPHeaders

        service = model.service_model.service_name
        code, status = self.rng.choice(_S3_WHOLE_CALL if service == "s3" else _WHOLE_CALL)
        self._fault(f"{service}.{model.name}: {code}")
        parsed = {
            "Error": {"Code": code, "Message": "injected by the sandbox (--api-fault-rate)"},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return AWSResponse("https://sandbox.invalid/", status, HTTPHeaders(), None), parsed

    def _report_dropped(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        dropped = context.pop(_DROPPED, None)
        if not dropped or "Error" in parsed:
            return
        failed = list(parsed.get("Failed") or [])
        failed += [
            {"Id": entry_id, "Code": "InternalError", "Message": "injected by the sandbox (--api-fault-rate)",
             "SenderFault": False}
            for entry_id in dropped
        ]
        parsed["Failed"] = failed


AT_LEAST_ONCE = (
    "at-least-once: the unit of work ran (business function and its send, or a retry-tier move), then "
    "saving its completion to the idempotency table failed ({faults}); the record was reported failed, "
    "its in-progress record expired after the function timeout, and the redelivery ran the unit again. "
    "The runtime cannot know work happened unless it managed to write that down."
)


@contextmanager
def attributing(faults: ApiFaults) -> Iterator[None]:
    """Tell `faults` each time the runtime decides a record (its outcome hook), to attribute faults."""
    from sandbox.invoke import ensure_functions_on_path

    ensure_functions_on_path()
    from pipeline_runtime import hooks

    def listener(scope: str, record: dict[str, Any], outcome: Any, error: Any) -> None:
        faults.record_decided(scope, record, error)

    hooks.add_outcome_listener(listener)
    try:
        yield
    finally:
        hooks.remove_outcome_listener(listener)


def summary(
    faults: ApiFaults, double_effects: list[tuple[str, str]], rejected: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """The report's `api_faults` section.

    `double_effects`: (consumer scope, logical id) of every track the ledger saw commit twice;
    `reruns`: units of work that ran again because their completion could not be saved (the ledger
    counts committed effects, so these are listed here); both explained by the faults injected while
    that message was processed. `rejected`: (pipeline, id, reason) of messages the entry never
    accepted (the producer raised after its retries; nothing was tracked for them).
    """

    def explain(scope: str, logical: str) -> dict[str, Any]:
        seen = faults.by_record.get((scope, logical), [])
        text = AT_LEAST_ONCE.format(faults="; ".join(sorted(set(seen)))) if seen else (
            "no API fault was injected for this message (see the chaos options)"
        )
        return {"consumer": scope, "id": logical, "faults": seen, "explanation": text}

    return {
        "rate": faults.rate,
        "injected_total": sum(faults.injected.values()),
        "injected": dict(sorted(faults.injected.items())),
        "rejected_at_entry": [{"pipeline": p, "id": i, "reason": r} for p, i, r in rejected],
        "double_effects": [explain(scope, logical) for scope, logical in double_effects],
        "reruns": [explain(scope, logical) for scope, logical in dict.fromkeys(faults.reruns)],
    }
