"""`python -m sandbox invoke`: run one consumer once on given messages, like `sam local invoke`.

    python -m sandbox invoke --stack dev --consumer orders.billing --body '{"type": "order_created", ...}'
    python -m sandbox invoke --stack dev --consumer media.thumbnail --file messages.jsonl

The stack is materialised in in-process moto (so the runtime's forwarding, retry-tier and DLQ sends
really happen); the messages (the one message-file format, or `--body`) are sent to the consumer's
source queue and received from it, each becoming a record built by `sandbox.sqs_event` exactly as the
event source mapping builds it; the consumer's real entry point runs once on that batch through the real
runtime, with the consumer's own environment (`sandbox.invoke`).

Printed: the batch response, each record's outcome (by its `ap-message-id`), what the invocation sent
to other queues (next stage, retry tier, DLQ), the function's logs, and the full traceback of an
exception. Exit status: 0 every record succeeded, 1 a record failed (reported for retry, moved to a
retry tier or dead-lettered) or the invocation raised, 2 bad input.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from contract.aws import SQS_MESSAGES_PER_RECEIVE_MAX
from producer.message_file import MessageFileError, MessageLine, parse_line, read_file
from sandbox.topology import FunctionSpec, MappingSpec, Topology

SUCCESS = ("succeeded", "forwarded")


class InvokeInputError(ValueError):
    """Bad input: one line on stderr, exit status 2."""


@dataclass
class RecordOutcome:
    logical_id: str
    outcome: dict[str, Any] | None = None
    error: str | None = None
    traceback: str | None = None


@dataclass
class InvokeResult:
    function: FunctionSpec
    queue: str
    response: Any
    error: str | None
    traceback: str | None
    records: list[RecordOutcome] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    """One line per message the invocation left in another queue (next stage, retry tier, DLQ)."""
    logs: str = ""

    @property
    def failed_ids(self) -> list[str]:
        if not isinstance(self.response, dict):
            return []
        return [str(i.get("itemIdentifier")) for i in self.response.get("batchItemFailures") or []
                if isinstance(i, dict)]

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and not self.failed_ids
            and all(r.outcome is not None and r.outcome.get("outcome") in SUCCESS for r in self.records)
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="dev", help="stack name: Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--consumer", required=True, metavar="PIPELINE.CONSUMER",
                        help="e.g. orders.billing (subscriber), media.thumbnail (chain stage), email.consumer (retry)")
    body = parser.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", metavar="JSON", help="one message's body, as JSON")
    body.add_argument("--file", type=Path, metavar="FILE.jsonl",
                      help="messages in the one message-file format (pipeline optional); one batch")


def find_mapping(topology: Topology, consumer: str) -> MappingSpec:
    """The event source mapping of `PIPELINE.CONSUMER` on its main source queue."""
    known = sorted({f"{m.function.pipeline}.{m.function.consumer}" for m in topology.mappings})
    pipeline, _, name = consumer.partition(".")
    found = [m for m in topology.mappings if (m.function.pipeline, m.function.consumer) == (pipeline, name)]
    if not found:
        raise InvokeInputError(
            f"--consumer {consumer!r}: no such consumer in stack {topology.stack!r} (consumers: {', '.join(known)})"
        )
    return min(found, key=lambda m: (m.queue.delay, m.queue.name))  # a retry pipeline's main queue, not a tier


def messages(args: argparse.Namespace, pipeline: str) -> list[MessageLine]:
    try:
        if args.file is not None:
            return read_file(args.file, pipeline=pipeline)
        try:
            body = json.loads(args.body)
        except json.JSONDecodeError as exc:
            raise InvokeInputError(f"--body is not JSON ({exc.msg} at column {exc.colno})") from None
        return [parse_line(json.dumps({"body": body}), "--body", pipeline=pipeline)]
    except MessageFileError as exc:
        raise InvokeInputError(str(exc)) from None


@contextmanager
def _outcomes(records: dict[str, RecordOutcome]) -> Iterator[None]:
    """Each record's outcome from the runtime's hook, with the traceback of a record that raised."""
    from sandbox.effects import observe_outcomes

    class Listener:
        def outcome(self, scope: str, logical_id: str, outcome: dict[str, Any] | None, error: str | None) -> None:
            entry = records.setdefault(logical_id, RecordOutcome(logical_id))
            entry.outcome, entry.error = outcome, error
            if error is not None and sys.exc_info()[0] is not None:  # called inside the runtime's `except`
                entry.traceback = traceback.format_exc()

    with observe_outcomes(Listener()):
        yield


def _send(live: Any, mapping: MappingSpec, lines: list[MessageLine]) -> list[dict[str, Any]]:
    """Send the messages to the consumer's queue and receive them back as Lambda records."""
    from sandbox.messages import build, message_attributes
    from sandbox.sqs_event import lambda_record

    sqs, queue = live.aws.sqs, mapping.queue
    for n, m in enumerate(build(lines, run_id="invoke")):
        params: dict[str, Any] = {"QueueUrl": queue.url, "MessageBody": m.body,
                                  "MessageAttributes": message_attributes(m, sns=False)}
        if queue.fifo:
            params |= {"MessageGroupId": m.group or m.pipeline, "MessageDeduplicationId": f"{m.logical_id}-{n}"}
        else:
            params["DelaySeconds"] = 0  # a queue's delay would hide it: this is about the handler
        sqs.send_message(**params)
    records: list[dict[str, Any]] = []
    while len(records) < len(lines):
        got = sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=min(SQS_MESSAGES_PER_RECEIVE_MAX, len(lines) - len(records)),
            WaitTimeSeconds=0, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            raise InvokeInputError(f"only {len(records)} of {len(lines)} messages could be received from {queue.name}")
        records.extend(lambda_record(m, queue.arn, live.aws.region, queue.fifo) for m in got)
    return records


def _left_elsewhere(live: Any, source: str) -> list[str]:
    """What the invocation sent: every message now in another queue of the stack."""
    now = live.clock.now()
    lines = []
    for q in sorted(live.topology.queues.values(), key=lambda q: q.name):
        if q.name == source:
            continue
        for m in live.state.snapshot(q.name, now).messages:
            why = f" ({m.error_kind}: {m.error_reason})" if m.error_kind else ""
            lines.append(f"{q.name} ← {m.logical_id}{why}")
    return lines


def invoke(stack: str, consumer: str, args: argparse.Namespace, *, config: dict[str, Any] | None = None
           ) -> InvokeResult:
    """Materialise the stack, send the messages to the consumer's queue, invoke its function once."""
    from sandbox.engine import start
    from sandbox.invoke import Invoker
    from sandbox.topology import topology_from_capture
    from stack_capture import cached_capture, capture_stack

    pipeline, dot, name = consumer.partition(".")
    if not (pipeline and dot and name):
        raise InvokeInputError(f"--consumer {consumer!r} is not PIPELINE.CONSUMER (e.g. orders.billing)")
    lines = messages(args, pipeline)  # bad input fails before the stack is captured
    capture = cached_capture(stack) if config is None else capture_stack(stack, config=config)
    topology = topology_from_capture(capture)
    mapping = find_mapping(topology, consumer)
    if len(lines) > mapping.batch_size:
        raise InvokeInputError(f"{len(lines)} messages; {consumer}'s batchSize is {mapping.batch_size}")
    logs = io.StringIO()
    outcomes: dict[str, RecordOutcome] = {}
    with start(topology, function_logs=logs) as live, _outcomes(outcomes):
        records = _send(live, mapping, lines)
        invoker = Invoker(topology.region, live.aws.function_environment(), live.scope)
        done = invoker.invoke(mapping.function, {"Records": records})
        sent = _left_elsewhere(live, mapping.queue.name)
    from sandbox.effects import record_logical_id

    ordered = [outcomes.get(i) or RecordOutcome(i) for i in dict.fromkeys(record_logical_id(r) for r in records)]
    return InvokeResult(mapping.function, mapping.queue.name, done.response, done.error, done.traceback,
                        ordered, sent, logs.getvalue())


def _outcome_text(r: RecordOutcome) -> str:
    if r.outcome is None:
        return f"failed: {r.error}" if r.error else "no outcome (the invocation failed before the record ran)"
    kind = str(r.outcome.get("outcome"))
    details = {k: v for k, v in r.outcome.items() if k != "outcome"}
    return kind + (f" {json.dumps(details, sort_keys=True)}" if details else "")


def render(result: InvokeResult, out: TextIO) -> None:
    fn = result.function
    print(f"invoked {fn.name} ({fn.environment.get('AP_HANDLER', fn.handler)}) once with "
          f"{len(result.records)} record(s) from {result.queue}", file=out)
    print(f"\nbatch response: {json.dumps(result.response)}", file=out)
    if result.error:
        first = result.error.splitlines()[0]
        print(f"invocation failed: {first} (the whole batch would return to the queue)", file=out)
    print("\noutcome:", file=out)
    for r in result.records:
        print(f"  {r.logical_id}: {_outcome_text(r)}", file=out)
    print("\nsent:" if result.sent else "\nsent: nothing to other queues", file=out)
    for line in result.sent:
        print(f"  {line}", file=out)
    print("\nlogs:" if result.logs.strip() else "\nlogs: none", file=out)
    for line in result.logs.splitlines():
        print(f"  {line}", file=out)
    traces: list[tuple[str, str | None]] = [(r.logical_id, r.traceback) for r in result.records if r.traceback]
    if not traces:  # else the invocation's error only wraps the records' (Powertools: all records failed)
        traces = [("the invocation", result.traceback)]
    for who, trace in traces:
        if trace:
            print(f"\ntraceback ({who}):\n{trace.rstrip()}", file=out)
    print(f"\n{'OK' if result.ok else 'FAILED'}", file=out)


def main(args: argparse.Namespace, *, config: dict[str, Any] | None = None) -> int:
    """`sandbox invoke`: 0 success, 1 a failed record, 2 bad input."""
    from pulumi.errors import RunError

    from components.config import ConfigError
    from stack_capture import UnknownStackError

    try:
        result = invoke(args.stack, args.consumer, args, config=config)
    except (InvokeInputError, UnknownStackError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except (ConfigError, RunError) as exc:
        print(f"error: stack {args.stack!r}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    render(result, sys.stdout)
    return 0 if result.ok else 1
