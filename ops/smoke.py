"""`python -m ops.smoke --stack dev`: after `pulumi up`, one command tells whether every consumer works.

One harmless probe per pipeline goes in through the pipeline's real entry (the topic or first queue),
sent by the `producer` package; on a fan-out topic one probe per filtered subscriber, built to pass its
live filter policy (`ops.probe_filters`). The runtime answers probes itself - it imports the business
function, resolves a large-message pointer, forwards the probe to the next chain stage - and writes a
receipt to the consumer's idempotency table; the business function never runs (docs/contracts.md §7).
This tool waits for every consumer's receipt and prints one line per consumer:

    OK                          receipt written, every check passed
    FAILED <check>: <reason>    receipt written, a check failed (e.g. the handler cannot be imported)
    not reached                 an earlier chain stage failed, so the probe never got here
    in DLQ: <kind>: <reason>    the probe was dead-lettered (the runtime could not even answer it)
    still queued: ...           no receipt yet, the probe is visible or in flight (being retried)
    filtered: ...               no probe can pass this subscriber's filter policy
    timed out                   no receipt, not queued, not in the DLQ

Exit status: 0 every consumer OK, 1 any not OK, 2 bad input (unknown stack, bad option, no credentials,
unreachable endpoint) - one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from contract import runtime as wire
from contract.cli import CliParser, UsageError
from ops import queues as q
from ops.probe_filters import matching_probe
from ops.targets import queue_name
from stack_capture.cli import add_stack_arguments

__all__ = ["Check", "Target", "main", "plan_probes", "run_smoke"]

POLL_SECONDS = 0.5
DLQ_PEEK_LIMIT = 50


@dataclass
class Target:
    """One consumer of one pipeline, and how its probe is doing."""

    pipeline: str
    consumer: str
    pattern: str
    queue: str
    dlq: str
    table: str | None
    probe: str = ""
    status: str = "pending"
    detail: str = ""
    after: Target | None = None
    """Chain: the previous stage; if it failed, this one is `not reached`."""

    @property
    def ok(self) -> bool:
        return self.status == "OK"


@dataclass
class Check:
    targets: list[Target]
    probes: list[tuple[str, str, dict[str, Any], dict[str, Any], bool]] = field(default_factory=list)
    """(pipeline, probe id, attributes, body fields, through S3) to send."""


def _targets(name: str, spec: Mapping[str, Any]) -> list[Target]:
    pattern = str(spec.get("pattern", ""))
    queues: Mapping[str, str] = spec.get("queueUrls") or {}
    dlqs: Mapping[str, str] = spec.get("dlqUrls") or {}
    tables: Mapping[str, str] = spec.get("idempotencyTables") or {}
    if pattern == "retry":
        return [Target(name, "consumer", pattern, queue_name(str(spec["entry"])), queue_name(dlqs["dlq"]),
                       tables.get("consumer"))]
    found = [Target(name, c, pattern, queue_name(url), queue_name(dlqs[c]), tables.get(c)) for c, url in queues.items()]
    if pattern == "chain":
        for previous, stage in itertools.pairwise(found):
            stage.after = previous
    return found


def plan_probes(outputs: Mapping[str, Any], subscriptions: Callable[[str], dict[str, tuple[str | None, str | None]]],
                new_id: Callable[[], str] = lambda: uuid.uuid4().hex) -> Check:
    """Which probes to send and which consumer answers which. `subscriptions(topic ARN)` maps a queue
    name to its live (filter policy, scope)."""
    pipelines: Mapping[str, Any] = outputs.get("pipelines") or {}
    check = Check([])
    for name, spec in pipelines.items():
        targets = _targets(name, spec)
        check.targets.extend(targets)
        through_s3 = bool(spec.get("largeMessageBucket"))
        if spec.get("pattern") != "fanout":
            probe = new_id()
            for t in targets:
                t.probe = probe
            check.probes.append((name, probe, {}, {}, through_s3))
            continue
        live = subscriptions(str(spec["entry"]))
        unfiltered: str | None = None
        for t in targets:
            policy, scope = live.get(t.queue, (None, None))
            if t.queue not in live:
                t.status, t.detail = "not subscribed", "its queue has no subscription to the topic"
                continue
            built = matching_probe(policy, scope)
            if built is None:
                t.status, t.detail = "filtered", f"no probe can pass its filter policy {policy}"
                continue
            attributes, body = built
            if not attributes and not body and unfiltered is not None:
                t.probe = unfiltered  # subscribers without a filter share one probe
                continue
            t.probe = new_id()
            unfiltered = t.probe if not attributes and not body else unfiltered
            check.probes.append((name, t.probe, attributes, body, through_s3))
    return check


def _receipt(dynamodb: Any, table: str, probe: str) -> dict[str, Any] | None:
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": wire.PROBE_RECEIPT_PREFIX + probe}}, ConsistentRead=True)
    return item.get("Item")


def _failed_check(item: Mapping[str, Any]) -> str:
    checks = json.loads(item.get("checks", {}).get("S", "{}"))
    failed = [f"{name}: {text.removeprefix('FAILED: ')}" for name, text in checks.items() if text != "OK"]
    return "; ".join(failed) or "FAILED"


def _diagnose(sqs: Any, t: Target) -> tuple[str, str]:
    """Where a probe without a receipt stopped: the DLQ, still queued, or nowhere to be seen."""
    dlq = q.resolve(sqs, t.dlq)
    for m in q.peek(sqs, dlq, DLQ_PEEK_LIMIT, wait_seconds=0):
        if m.attributes.get(wire.PROBE) == t.probe:
            reason = f"{m.error_kind}: {m.error_reason}" if m.error_kind else "maxReceiveCount exceeded"
            return "in DLQ", reason
    source = q.resolve(sqs, t.queue)
    c = q.counts(sqs, source)
    if c.visible or c.in_flight or c.delayed:
        return "still queued", f"{c.visible} visible, {c.in_flight} in flight, {c.delayed} delayed in {t.queue}"
    if not t.table:
        return "OK", "probe consumed (no idempotency table, so no receipt to check)"
    return "timed out", "no receipt, not queued, not in the DLQ"


def run_smoke(check: Check, send: Callable[[str, str, dict[str, Any], dict[str, Any], bool], None], dynamodb: Any,
              sqs: Any, timeout: float, clock: Callable[[], float] = time.monotonic,
              sleep: Callable[[float], None] = time.sleep) -> list[Target]:
    """Send the probes, wait for receipts until `timeout`, diagnose the rest."""
    for pipeline, probe, attributes, body, through_s3 in check.probes:
        send(pipeline, probe, attributes, body, through_s3)
    deadline = clock() + timeout
    pending = [t for t in check.targets if t.probe and t.status == "pending" and t.table]
    while pending:
        for t in list(pending):
            try:
                item = _receipt(dynamodb, t.table or "", t.probe)
            except ClientError as exc:  # the table is gone or unreadable: where the probe stopped tells more
                t.detail = f"(receipts: {exc.response.get('Error', {}).get('Code', '?')} on {t.table})"
                pending.remove(t)
                continue
            if item is not None:
                ok = item.get("status", {}).get("S") == "OK"
                t.status, t.detail = ("OK", "receipt: every check passed") if ok else ("FAILED", _failed_check(item))
                pending.remove(t)
        for t in list(pending):  # a failed earlier stage: this one will never see the probe
            if t.after is not None and t.after.status not in ("pending", "OK"):
                t.status, t.detail = "not reached", f"stopped at {t.after.consumer}"
                pending.remove(t)
        if not pending or clock() >= deadline:
            break
        sleep(POLL_SECONDS)
    for t in check.targets:
        if t.probe and t.status == "pending":
            status, detail = _diagnose(sqs, t)
            t.status, t.detail = status, f"{detail} {t.detail}".strip()
    return check.targets


# --- command line -------------------------------------------------------------------------------



def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{value:g} is out of range; allowed 1–3600 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="python -m ops.smoke", description=__doc__.split("\n\n")[0] if __doc__ else None,
                     epilog="exit status: 0 every consumer OK, 1 any not OK, 2 bad input.")
    add_stack_arguments(parser, default=None)
    parser.add_argument("--timeout", type=_timeout, default=120.0, metavar="S",
                        help="seconds to wait for every receipt (default 120)")
    parser.add_argument("--outputs", type=Path, metavar="FILE.json",
                        help="`pulumi stack output --json` of the deployed stack (default: the program's outputs "
                        "under mocks - right for `python -m sandbox serve` and emulators)")
    parser.add_argument("--endpoint-url", metavar="URL", help="an emulator, e.g. `python -m sandbox serve --aws-port`")
    parser.add_argument("--region", help="default: the stack's aws:region")
    parser.add_argument("--profile", help="AWS profile")
    return parser


def _outputs(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    if args.outputs is not None:
        from producer.entries import load_outputs_file, region_of
        from producer.errors import ProducerError

        try:
            outputs = load_outputs_file(args.outputs)
        except ProducerError as exc:
            raise UsageError(str(exc)) from None
        entries = [str(p.get("entry", "")) for p in (outputs.get("pipelines") or {}).values()]
        region = args.region or next((r for e in entries if (r := region_of(e))), None)
        if not region:
            raise UsageError("cannot tell the region from the outputs; pass --region")
        return outputs, region
    from ops.targets import capture_of

    capture = capture_of(args.stack, args.project_dir)
    return capture.outputs, args.region or capture.region


def _session(region: str, endpoint_url: str | None, profile: str | None) -> Any:
    import boto3

    session = boto3.session.Session(profile_name=profile, region_name=region)
    if session.get_credentials() is None:
        if endpoint_url is None:
            raise UsageError("no AWS credentials found (set AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID/..., "
                             "or use a role)")
        session = boto3.session.Session(region_name=region, aws_access_key_id="testing",
                                        aws_secret_access_key="testing")
    return session


Filters = dict[str, tuple[str | None, str | None]]
"""Queue name -> (filter policy JSON, filter policy scope) of its subscription to a topic."""


def _live_subscriptions(sns: Any, sqs_arn_to_name: Callable[[str], str]) -> Callable[[str], Filters]:
    def read(topic_arn: str) -> Filters:
        found: Filters = {}
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for sub in page.get("Subscriptions", []):
                if sub.get("Protocol") != "sqs":
                    continue
                attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
                found[sqs_arn_to_name(sub["Endpoint"])] = (attributes.get("FilterPolicy"),
                                                           attributes.get("FilterPolicyScope"))
        return found

    return read


def render(targets: Sequence[Target]) -> str:
    rows = [("PIPELINE", "CONSUMER", "STATUS", "DETAIL")] + [
        (t.pipeline, t.consumer, t.status, t.detail) for t in targets
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows)


def smoke(args: argparse.Namespace) -> int:
    from producer import Producer

    outputs, region = _outputs(args)
    session = _session(region, args.endpoint_url, args.profile)

    def client(service: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=args.endpoint_url)

    sqs, sns, dynamodb = client("sqs"), client("sns"), client("dynamodb")
    producer = Producer.from_outputs(outputs, clients={"sqs": sqs, "sns": sns, "s3": client("s3")}, region=region)

    def send(pipeline: str, probe: str, attributes: dict[str, Any], body: dict[str, Any], through_s3: bool) -> None:
        producer.send_probe(pipeline, probe, body=body, attributes=attributes, through_s3=through_s3)

    check = plan_probes(outputs, _live_subscriptions(sns, lambda arn: arn.rsplit(":", 1)[-1]))
    targets = run_smoke(check, send, dynamodb, sqs, args.timeout)
    print(render(targets))
    return 0 if all(t.ok for t in targets) else 1


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    from producer.errors import ProducerError, SendError
    from stack_capture.stack_errors import StackUnreadable, report

    try:
        return smoke(build_parser().parse_args(argv))
    except StackUnreadable as exc:
        return report(exc)
    except (UsageError, ProducerError, q.QueueNotFound) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print("error: no AWS credentials found", file=sys.stderr)
        return 2
    except EndpointConnectionError as exc:
        print(f"error: endpoint unreachable: {exc}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError, SendError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
