"""`python -m ops.dlq list|redrive|purge`: the operator's tool for failed messages.

The DLQs of a stack come from the program's own outputs (`ops.targets`); their live URLs and ARNs
from the account the boto3 credentials belong to (`ops.queues.resolve`). Errors — unknown stack,
pipeline or consumer, a queue that is not deployed, no credentials, an unreachable endpoint, a
refused AWS call — are one line on stderr and exit status 2, never a traceback (a stack file that cannot
be read: one line per problem at its `file:LINE:COL`, `stack_capture.stack_errors`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from contract.cli import CliParser, UsageError
from ops import queues as q
from ops import redrive as rd
from ops.stop import StopOnSignal
from ops.targets import DlqTarget, StackTargets, TargetError, load_targets
from stack_capture.cli import add_stack_arguments

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

EXIT_OK, EXIT_INCOMPLETE, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
NO_REASON = "- (no ap-error-reason: SQS moved it at maxReceiveCount)"

EPILOG = """\
targets: the DLQs of every enabled pipeline of the stack, as the program exports them. Narrow with
--pipeline (and --consumer: a subscriber or chain stage name; `dlq` for a retry pipeline's one DLQ).
Queue URLs and ARNs are looked up in the live account (GetQueueUrl), in the stack's aws:region
unless --region is given. Use --endpoint-url for an emulator (moto server, LocalStack).

exit status: 0 done, 1 not everything done (a move task already running, messages left in a DLQ,
a purge refused, confirmation declined), 2 error (bad input, missing queue, credentials, endpoint),
130 interrupted (Ctrl-C / SIGTERM: what was held is visible again).
"""

LIST_HELP = """\
Approximate counts (ApproximateNumberOfMessages; they lag by up to a minute) of each DLQ, and with
--peek N up to N messages of each: id, ap-error-kind, ap-error-reason, receive count, body preview.
Peeking receives messages without deleting them and makes them visible again at once, but every
peek adds 1 to each peeked message's ApproximateReceiveCount (DLQs have no redrive policy, so
nothing else changes).
"""

REDRIVE_HELP = """\
Move a pipeline's dead-lettered messages back to the queue they failed from: the consumer's queue,
or for a retry pipeline its main queue (never a delay tier), so the retry ladder restarts.
Standard DLQs: one StartMessageMoveTask per DLQ (server-side, --rate ≤ 500 msg/s). SQS runs one task
per queue: if one is RUNNING the DLQ is refused. FIFO DLQs: a client-side move keeping body,
attributes, MessageGroupId and each group's order; a group stops at its first failed send and the rest
of it stays in the DLQ for the next run. A client-side move takes only what was in the DLQ when it
started (SentTimestamp ≤ its start): a message that fails again and comes back stays for the next run,
so the move ends by itself, printing moved / failed / held per group. Ctrl-C or SIGTERM releases what
it holds, prints the counts so far and exits 130. Asks for confirmation unless --yes.
"""

PURGE_HELP = """\
PurgeQueue on the selected DLQs: every message is deleted, within 60 s, for good. SQS allows one
purge per queue every 60 s. Asks for confirmation unless --yes.
"""


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed {low}–{high}")
        return value

    return parse


if TYPE_CHECKING:
    Subcommands = argparse._SubParsersAction[CliParser]  # what add_subparsers() returns; argparse names it privately


def _common_arguments() -> CliParser:
    """What every command takes: the stack and where its queues are."""
    common = CliParser(add_help=False)
    add_stack_arguments(common, default=None)
    common.add_argument("--region", help="AWS region (default: the stack's aws:region)")
    common.add_argument("--endpoint-url", help="SQS endpoint of an emulator (moto server, LocalStack)")
    common.add_argument("--profile", help="AWS profile (default: the default boto3 credential chain)")
    return common


def _command(
    sub: Subcommands, name: str, common: CliParser, help: str, description: str
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        parents=[common],
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_list(sub: Subcommands, common: CliParser) -> None:
    p = _command(sub, "list", common, "counts and a peek at the DLQs", LIST_HELP)
    p.add_argument("--pipeline")
    p.add_argument("--consumer")
    p.add_argument(
        "--peek",
        type=_int_range(0, 100),
        default=0,
        metavar="N",
        help="show up to N messages per DLQ (default 0; adds 1 to each peeked message's receive count)",
    )


def _add_redrive(sub: Subcommands, common: CliParser) -> None:
    p = _command(sub, "redrive", common, "move failed messages back to their queue", REDRIVE_HELP)
    p.add_argument("--pipeline", required=True)
    p.add_argument("--consumer")
    p.add_argument(
        "--rate",
        type=_int_range(1, rd.MAX_RATE),
        default=rd.DEFAULT_RATE,
        metavar="N",
        help=f"at most N messages per second, 1–{rd.MAX_RATE} (default {rd.DEFAULT_RATE})",
    )
    p.add_argument(
        "--method",
        choices=["auto", "task", "client"],
        default="auto",
        help="auto (default): StartMessageMoveTask for standard DLQs, client-side for FIFO and on endpoints "
        "without message move tasks; client: client-side for both; task: StartMessageMoveTask for both",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would move; change nothing")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _add_purge(sub: Subcommands, common: CliParser) -> None:
    p = _command(sub, "purge", common, "delete every message of the DLQs", PURGE_HELP)
    p.add_argument("--pipeline", required=True)
    p.add_argument("--consumer")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="python -m ops.dlq",
        description="List, redrive and purge the dead-letter queues of a deployed stack.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{list,redrive,purge}")
    common = _common_arguments()
    _add_list(sub, common)
    _add_redrive(sub, common)
    _add_purge(sub, common)
    return parser


# --- AWS -------------------------------------------------------------------------------------------


def make_sqs_client(
    region: str, endpoint_url: str | None, profile: str | None, attempts: int | None = None
) -> SQSClient:
    """The default credential chain; an emulator gets dummy credentials when there are none.

    `attempts` overrides how many times a call is tried in all (2 for an emulator, 6 for AWS)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(profile_name=profile, region_name=region)
    if session.get_credentials() is None:
        if endpoint_url is None:
            raise UsageError(
                "no AWS credentials found (set AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID/..., or use a role)"
            )
        session = boto3.session.Session(
            region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
    # `total_max_attempts` counts the first try; botocore's `max_attempts` counts only the retries.
    if endpoint_url:  # a local emulator: fail fast when it is down
        config = Config(retries={"total_max_attempts": attempts or 2, "mode": "standard"}, connect_timeout=3,
                        read_timeout=30)
    else:
        config = Config(retries={"total_max_attempts": attempts or 6, "mode": "standard"})
    return session.client("sqs", endpoint_url=endpoint_url, config=config)


@dataclass(frozen=True)
class Resolved:
    target: DlqTarget
    dlq: q.Queue
    destination: q.Queue
    counts: q.Counts


def _setup(args: argparse.Namespace, check: Callable[[], None] = lambda: None) -> tuple[StackTargets, SQSClient]:
    """Targets first (bad names fail before any AWS call), then `check`, then the client."""
    targets = load_targets(args.stack, args.pipeline, args.consumer, args.project_dir)
    if not targets.targets:
        raise TargetError(f"stack {args.stack!r} has no DLQs")
    check()
    sqs = make_sqs_client(args.region or targets.region, args.endpoint_url, args.profile)
    return targets, sqs


def _resolve(sqs: SQSClient, targets: StackTargets) -> list[Resolved]:
    out: list[Resolved] = []
    for t in targets.targets:
        dlq = q.resolve(sqs, t.dlq_name)
        out.append(Resolved(t, dlq, q.resolve(sqs, t.source_name), q.counts(sqs, dlq)))
    return out


def _can_confirm(assume_yes: bool, action: str) -> None:
    """Checked before any AWS call: piped input is never taken as a confirmation."""
    if assume_yes:
        return
    stdin = sys.stdin
    if stdin is None or stdin.closed or not stdin.isatty():
        raise UsageError(f"refusing to {action} without confirmation: stdin is not a terminal (pass --yes)")


def _confirm(question: str, assume_yes: bool, action: str) -> bool:
    _can_confirm(assume_yes, action)
    if assume_yes:
        return True
    print(f"{question} [y/N] ", end="", flush=True)
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- list ------------------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    targets, sqs = _setup(args)
    resolved = _resolve(sqs, targets)
    region = sqs.meta.region_name
    print(f"stack {targets.stack} ({region}): {_plural(len(resolved), 'DLQ')}")
    rows = [("DLQ", "QUEUE", "TYPE", "VISIBLE", "IN FLIGHT", "REDRIVES TO")]
    for r in resolved:
        rows.append(
            (
                r.target.label,
                r.dlq.name,
                "fifo" if r.dlq.fifo else "standard",
                str(r.counts.visible),
                str(r.counts.in_flight),
                r.destination.name,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    total = sum(r.counts.visible for r in resolved)
    print(
        f"total: ~{_plural(total, 'message')} in {sum(1 for r in resolved if r.counts.visible)} of {len(resolved)} DLQs"
    )
    if args.peek:
        for r in resolved:
            if r.counts.visible == 0:
                continue
            peeked = q.peek(sqs, r.dlq, args.peek, wait_seconds=rd.RECEIVE_WAIT_SECONDS)
            print(f"\n{r.target.label} ({r.dlq.name}): {len(peeked)} of ~{r.counts.visible} (receive counts now +1)")
            for m in peeked:
                group = f"  group {m.group_id}" if m.group_id else ""
                print(f"  {q.shown_id(m)}  receives {m.receive_count}  kind {m.error_kind or '-'}{group}")
                reason = q.preview(m.error_reason) if m.error_reason else NO_REASON
                print(f"    reason: {reason}")
                print(f"    body:   {m.body_preview}")
    return EXIT_OK


# --- redrive ---------------------------------------------------------------------------------------


def cmd_redrive(args: argparse.Namespace) -> int:
    targets, sqs = _setup(args, lambda: _can_confirm(args.yes or args.dry_run, "redrive"))
    work, refused = _plan_redrive(sqs, _resolve(sqs, targets), args)
    if not work:
        print("nothing to redrive")
        return EXIT_INCOMPLETE if refused else EXIT_OK
    if args.dry_run:
        return _dry_run(sqs, work, args, refused)
    total = sum(r.counts.visible for r, _ in work)
    if not _confirm(f"Redrive ~{_plural(total, 'message')} from {_plural(len(work), 'DLQ')}?", args.yes, "redrive"):
        print("aborted: nothing changed")
        return EXIT_INCOMPLETE
    incomplete = refused > 0
    with StopOnSignal() as stop:
        for r, method in work:
            if method == "task":
                incomplete |= not _start_task(sqs, r, args)
                continue
            incomplete |= not _client_move(sqs, r, args, stop)
            if stop.requested:
                print("interrupted: everything held was released (visible again at once); re-running is safe",
                      file=sys.stderr)
                return EXIT_INTERRUPTED
    return EXIT_INCOMPLETE if incomplete else EXIT_OK


def _plan_redrive(
    sqs: SQSClient, resolved: list[Resolved], args: argparse.Namespace
) -> tuple[list[tuple[Resolved, rd.Method]], int]:
    """Which DLQs to redrive and how; how many were refused (a move task already RUNNING).

    Whether the endpoint has message move tasks is asked once, from its answer to ListMessageMoveTasks:
    without them `auto` moves client-side and an explicit `--method task` is an error (MoveTasksUnsupported).
    """
    refused = 0
    tasks_supported: bool | None = None
    probe: SQSClient | None = None
    work: list[tuple[Resolved, rd.Method]] = []
    for r in resolved:
        line = f"{r.target.label}: {r.dlq.name} → {r.destination.name}"
        if r.counts.visible == 0:
            print(f"{line}: empty (approximate count 0), skipped")
            continue
        method = rd.method_for(r.dlq, args.method, tasks_supported is not False)
        if method == "task":
            if probe is None:
                # An emulator without move tasks answers an HTML 500, an answer worth no retry after a random
                # back-off of up to 2 s: asked once. AWS is asked with the usual retries.
                endpoint = args.endpoint_url
                probe = make_sqs_client(sqs.meta.region_name, endpoint, args.profile, attempts=1) if endpoint else sqs
            try:
                running = rd.running_task(probe, r.dlq.arn)
                tasks_supported = True
            except rd.MoveTasksUnsupported:
                if args.method == "task":
                    raise
                tasks_supported, method, running = False, "client", None
                print(f"{line}: this endpoint does not support message move tasks: moving client-side")
            if running is not None:
                refused += 1
                print(f"{line}: refused: {_running_text(running)}")
                continue
        how = (
            f"StartMessageMoveTask at ≤ {args.rate} msg/s"
            if method == "task"
            else f"client-side move at ≤ {args.rate} msg/s of what is in it now"
            + (", keeping MessageGroupId and order" if r.dlq.fifo else "")
        )
        print(f"{line}: ~{_plural(r.counts.visible, 'message')}, {how}")
        work.append((r, method))
    return work, refused


def _running_text(task: rd.MoveTask) -> str:
    progress = f"{task.moved} of ~{task.to_move}" if task.to_move is not None else str(task.moved)
    return (
        f"a move task is already RUNNING (handle {task.handle}, {progress} moved); SQS runs one per queue — "
        f"wait for it or cancel it: aws sqs cancel-message-move-task --task-handle {task.handle}"
    )


def _start_task(sqs: SQSClient, r: Resolved, args: argparse.Namespace) -> bool:
    try:
        handle = rd.start_move_task(sqs, r.dlq.arn, r.destination.arn, args.rate)
    except rd.MoveTaskRunning as exc:
        print(f"{r.target.label}: refused: {_running_text(exc.task)}")
        return False
    print(f"{r.target.label}: started move task {handle}")
    print(f"  follow it: aws sqs list-message-move-tasks --source-arn {r.dlq.arn} --region {sqs.meta.region_name}")
    return True


def _client_move(sqs: SQSClient, r: Resolved, args: argparse.Namespace, stop: StopOnSignal) -> bool:
    report = rd.MoveReport()
    try:
        rd.move_messages(sqs, r.dlq, r.destination, rate=args.rate, sleep=stop.event.wait, stop=stop, report=report)
    except rd.MoveInterrupted as exc:
        _print_move(r, exc.report, "before an error; re-running is safe")
        raise exc.cause from None
    except KeyboardInterrupt:  # a second Ctrl-C: stopped mid-call, what was held is released all the same
        stop.event.set()
        report.interrupted = True
    _print_move(r, report, "so far (interrupted)" if report.interrupted else f"to {r.destination.name}")
    return report.complete


def _print_move(r: Resolved, report: rd.MoveReport, when: str) -> None:
    """What moved, per FIFO group (a standard DLQ has none), and what stays in the DLQ and why."""
    print(f"{r.target.label}: moved {_plural(len(report.moved), 'message')} {when}")
    for group, c in report.by_group().items():
        name = f"group {group}: " if group != rd.ALL_MESSAGES else ""
        print(f"  {name}moved {c.moved}, failed {c.failed}, held {c.held}")
    for message_id, reason in report.failed.items():
        print(f"  not sent, left in the DLQ: {message_id}: {reason}")
    if report.held:
        groups = ", ".join(report.stopped_groups)
        print(
            f"  left in the DLQ behind a failed message of their group ({groups}): "
            f"{_plural(len(report.held), 'message')}; re-run to move them in order"
        )
    if report.arrived_later:
        print(
            f"  left in the DLQ: {_plural(len(report.arrived_later), 'message')} sent to it after the move "
            "started (failed again, or new): a redrive moves only what was there when it started"
        )
    for message_id, reason in report.not_deleted.items():
        print(f"  sent but not deleted from the DLQ: {message_id}: {reason} (a re-run within 5 min is deduplicated)")


def _dry_run(sqs: SQSClient, work: list[tuple[Resolved, rd.Method]], args: argparse.Namespace, refused: int) -> int:
    print("dry run: nothing is changed")
    for r, method in work:
        if method == "task":
            print(
                f"{r.target.label}: would call StartMessageMoveTask(SourceArn={r.dlq.arn}, "
                f"DestinationArn={r.destination.arn}, MaxNumberOfMessagesPerSecond={args.rate})"
            )
            continue
        report = rd.move_messages(sqs, r.dlq, r.destination, dry_run=True, rate=None)
        note = " (a FIFO group shows only the messages SQS hands out at once)" if r.dlq.fifo else ""
        print(f"{r.target.label}: would move {_plural(len(report.planned), 'message')}{note}")
        for plan in report.planned:
            m = plan.message
            group = f"  group {m.group_id}" if m.group_id else ""
            dedup = f"  dedup {plan.deduplication_id[:16]}…" if plan.deduplication_id else ""
            print(f"  {q.shown_id(m)}{group}  kind {m.error_kind or '-'}{dedup}  body {m.body_preview}")
    return EXIT_INCOMPLETE if refused else EXIT_OK


# --- purge -----------------------------------------------------------------------------------------


def cmd_purge(args: argparse.Namespace) -> int:
    targets, sqs = _setup(args, lambda: _can_confirm(args.yes, "purge"))
    resolved = _resolve(sqs, targets)
    for r in resolved:
        print(f"{r.target.label}: {r.dlq.name}: ~{_plural(r.counts.visible + r.counts.in_flight, 'message')}")
    total = sum(r.counts.visible + r.counts.in_flight for r in resolved)
    question = f"Purge {_plural(len(resolved), 'DLQ')} (~{_plural(total, 'message')}, deleted for good)?"
    if not _confirm(question, args.yes, "purge"):
        print("aborted: nothing changed")
        return EXIT_INCOMPLETE
    outcome = q.purge(sqs, [r.dlq for r in resolved])
    for r in resolved:
        why = outcome[r.dlq.name]
        print(f"{r.target.label}: {r.dlq.name}: " + ("purged" if why is None else f"not purged: {why}"))
    return EXIT_OK if all(v is None for v in outcome.values()) else EXIT_INCOMPLETE


# --- main ------------------------------------------------------------------------------------------


def _describe_client_error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    message = error.get("Message", "")
    if message.lstrip().startswith("<"):  # an emulator's HTML error page
        message = "the endpoint answered with an error page"
    return f"{exc.operation_name} failed: {error.get('Code', '?')}: {message}".rstrip(": ")


def _error(message: str) -> int:
    print("error: " + " ".join(message.split()), file=sys.stderr)
    return EXIT_ERROR


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": cmd_list,
    "redrive": cmd_redrive,
    "purge": cmd_purge,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, TargetError, rd.RedriveError, rd.MoveTasksUnsupported, q.QueueNotFound, ProfileNotFound,
            NoRegionError) as exc:
        return _error(str(exc))
    except NoCredentialsError:
        return _error("no AWS credentials found (set AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID/..., or use a role)")
    except (EndpointConnectionError, ConnectTimeoutError) as exc:
        return _error(f"endpoint unreachable: {exc}")
    except ClientError as exc:
        return _error(_describe_client_error(exc))
    except BotoCoreError as exc:
        return _error(f"AWS call failed: {exc}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ValueError as exc:  # a stack that cannot be read: stack_capture's lines (imported late: Pulumi is slow)
        from stack_capture.stack_errors import StackUnreadable, report

        if isinstance(exc, StackUnreadable):
            return report(exc)
        raise


if __name__ == "__main__":
    sys.exit(main())
