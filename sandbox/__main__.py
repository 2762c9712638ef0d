"""`python -m sandbox run|serve|invoke|plan|cost`: the sandbox command line.

Bad input (unknown stack, a bad messages file, a message for a missing or disabled pipeline, an
unreachable endpoint, out-of-range options) is one line on stderr and exit status 2, never a traceback;
a stack file that cannot be read is one line per problem at its `file:LINE:COL`
(`stack_capture.stack_errors`). `run` exits 1 when a message was lost or the run did not drain.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from contract.cli import CliParser

RUN_EPILOG = """\
time: in-process (the default) the sandbox runs on a virtual clock that jumps to the next event
(visibility timeout, delay, batching window) whenever nothing can run, so retry tiers of minutes take
milliseconds and events keep AWS's order. With --endpoint-url the emulator keeps real time, so delays
and visibility timeouts take as long as configured (a dev run with 300 s retry tiers takes minutes).

chaos (reproducible with --seed): --duplicate-rate delivers a record once more (same batch or the
next), --transient-rate fails a whole invocation (before the handler ran, or after it ran and did its
work), --poison-rate replaces a message body with malformed JSON, --api-fault-rate makes AWS calls of
the producer and the runtime fail like AWS does (throttling, 5xx, partial batch results). The report
proves nothing was lost; a business effect applied twice is counted and explained (at-least-once).

exit status: 0 all messages accounted for, 1 something lost or the run did not drain, 2 bad input.
"""


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed 0–1")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be positive")
    return value


SERVE_EPILOG = """\
time: virtual, fast-forwarding when idle. The sandbox clock moves with real time, and whenever every event
source mapping is idle it jumps straight to the next event (a delay or visibility timeout ending, a batching
window closing): a message on a 300 s retry tier is retried as soon as nothing else can run. Throttling
(429) uses real time.

auth, locally: pipelines with `http:` keep their auth - iam needs a SigV4 Authorization header (its shape is
checked, not its signature: e.g. curl --aws-sigv4 "aws:amz:REGION:execute-api" -u testing:testing), apiKey
needs x-api-key = --api-key; pipelines without `http:` (no API in AWS) are served with auth none.

Ctrl-C or SIGTERM stops the server within a few seconds. exit status: 0 stopped, 2 bad input (unknown stack,
invalid config, port in use).
"""


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed 0–65535 (0 = any free port)")
    return value


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    from stack_capture.cli import add_stack_arguments

    add_stack_arguments(parser)
    parser.add_argument("--port", type=_port, default=8080, help="HTTP port on 127.0.0.1 (default 8080; 0 = any)")
    parser.add_argument("--aws-port", type=_port, metavar="N",
                        help="also serve the emulator's AWS API on http://127.0.0.1:N (boto3, aws --endpoint-url, "
                        "python -m ops.dlq --endpoint-url)")
    parser.add_argument("--api-key", default="local-api-key",
                        help="the x-api-key that pipelines with auth apiKey accept (default: local-api-key)")
    parser.add_argument("--function-logs", type=Path, metavar="FILE",
                        help="write the functions' logs here (default: discarded)")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    from stack_capture.cli import add_stack_arguments

    add_stack_arguments(parser)
    source = parser.add_argument_group("messages")
    source.add_argument("--messages", type=Path, metavar="FILE.jsonl",
                        help='the one message-file format: a JSON object per line with "pipeline", "body", '
                        '"attributes", "group", "idempotency_key", "note" (default: the built-in samples in '
                        "sandbox/samples/)")
    source.add_argument("--count", type=_positive_int, metavar="N",
                        help="send N messages, cycling the samples (or the file) with unique ids")
    chaos = parser.add_argument_group("chaos")
    chaos.add_argument("--duplicate-rate", type=_rate, default=0.0, metavar="R",
                       help="per record: deliver it once more, in the same or the next batch (0–1)")
    chaos.add_argument("--transient-rate", type=_rate, default=0.0, metavar="R",
                       help="per invocation: fail it as a whole, before or after the handler ran (0–1)")
    chaos.add_argument("--poison-rate", type=_rate, default=0.0, metavar="R",
                       help="per message: replace the body with malformed JSON (0–1)")
    chaos.add_argument("--api-fault-rate", type=_rate, default=0.0, metavar="R",
                       help="per AWS call of the producer and the runtime: fail it like AWS does (throttling, "
                       "5xx; on *Batch calls, single entries) (0–1)")
    chaos.add_argument("--seed", type=int, default=0, help="seed for the chaos and the generated ids (default 0)")
    where = parser.add_argument_group("emulator and limits")
    where.add_argument("--endpoint-url", metavar="URL",
                       help="use a running emulator (moto server, LocalStack) instead of in-process moto; "
                       "the clock is then real (no --time-scale: an emulator cannot be sped up)")
    where.add_argument("--wave", type=_positive_int, default=50, metavar="N",
                       help="publish at most N messages at a time, draining in between (default 50)")
    where.add_argument("--max-virtual-seconds", type=_positive_float, default=7 * 24 * 3600.0, metavar="S",
                       help="stop (not drained, exit 1) after S seconds of simulated time (default 1 week)")
    where.add_argument("--max-wall-seconds", type=_positive_float, default=600.0, metavar="S",
                       help="stop (not drained, exit 1) after S real seconds (default 600)")
    out = parser.add_argument_group("output")
    out.add_argument("--json", type=Path, metavar="FILE",
                     help="also write the report as JSON (schema: sandbox/README.md)")
    out.add_argument("--function-logs", type=Path, metavar="FILE",
                     help="write the functions' logs here (default: discarded)")
    out.add_argument("--list-messages", action="store_true",
                     help="also list every message by its ap-message-id: state, deliveries, last error and DLQ "
                     "reason per consumer, and the file line's note")
    out.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="python -m sandbox", description="Run the stack's pipelines locally.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,serve,invoke,plan,cost}")
    run = commands.add_parser(
        "run",
        help="deploy the captured stack into moto and drive messages through it",
        description="Deploy the stack's captured resources into an emulator, publish messages through each "
        "pipeline's entry, drain them with AWS's event-source-mapping semantics, report.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(run)
    serve = commands.add_parser(
        "serve",
        help="serve the HTTP ingress contract (POST /pipelines/{name}) and a status page on 127.0.0.1",
        description="Materialise the stack in in-process moto, run its event source mappings continuously and "
        "answer POST /pipelines/{name}, GET /messages/{id} and GET / (status page) as docs/http.md says.",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_serve_arguments(serve)
    from sandbox.invoke_once import add_arguments as add_invoke_arguments

    invoke = commands.add_parser(
        "invoke",
        help="run one consumer's real handler once on given messages (like `sam local invoke`)",
        description="Materialise the stack in in-process moto, send the messages to the consumer's queue, run its "
        "real entry point once on them through the runtime, print the batch response, each record's outcome, "
        "what it sent, the logs and any traceback. exit status: 0 success, 1 a failed record, 2 bad input.",
    )
    add_invoke_arguments(invoke)
    plan = commands.add_parser("plan", help="print the stack's resource tree and pipeline diagram (no cloud)")
    from sandbox.plan import add_arguments as add_plan_arguments

    add_plan_arguments(plan)
    from sandbox.cost.cli import add_arguments as add_cost_arguments

    cost = commands.add_parser(
        "cost",
        help="monthly cost and capacity of the stack at a volume (measured in the sandbox, no AWS account)",
        description="Run the stack's samples through the sandbox, meter every billed AWS request, scale it to the "
        "monthly volume, add the fixed monthly costs, and show the top cost drivers and each consumer's capacity.",
    )
    add_cost_arguments(cost)
    return parser


def _error(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return 2


@contextmanager
def _open_or_none(path: Path | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8") as handle:
        yield handle


def _progress_bar(enabled: bool) -> Any:
    """A rich progress bar on stderr, or None when not a terminal / --quiet."""
    if not enabled or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("draining"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "settled · {task.fields[queued]} queued · published {task.fields[published]} · t+{task.fields[vt]:.0f}s"
        ),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def run_command(args: argparse.Namespace) -> int:
    """`sandbox run`: 0 ok, 1 lost or not drained, 2 bad input."""
    from botocore.exceptions import BotoCoreError
    from rich.console import Console

    from sandbox.clients import EndpointUnreachable
    from sandbox.engine import Progress, RunOptions, SandboxError, run
    from sandbox.messages import MessageError
    from sandbox.report import render
    from stack_capture.stack_errors import report_stack_error, stack_error_types

    if args.json is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.touch()
        except OSError as exc:
            return _error(f"--json {args.json}: cannot write ({exc.strerror or exc})")
    bar = _progress_bar(not args.quiet)
    task = None

    def on_progress(p: Progress) -> None:
        if bar is not None and task is not None:
            bar.update(task, completed=p.settled, total=max(p.tracks, 1), queued=p.queued,
                       published=f"{p.published}/{p.to_publish}", vt=p.virtual_seconds)

    try:
        with _open_or_none(args.function_logs) as logs:
            options = RunOptions(
                stack=args.stack,
                project_dir=args.project_dir,
                endpoint_url=args.endpoint_url,
                messages_file=args.messages,
                count=args.count,
                duplicate_rate=args.duplicate_rate,
                transient_rate=args.transient_rate,
                poison_rate=args.poison_rate,
                api_fault_rate=args.api_fault_rate,
                seed=args.seed,
                wave=args.wave,
                max_virtual_seconds=args.max_virtual_seconds,
                max_wall_seconds=args.max_wall_seconds,
                function_logs=logs,
                progress=on_progress if bar is not None else None,
            )
            if bar is not None:
                with bar:
                    task = bar.add_task("drain", total=None, queued=0, published="0", vt=0.0)
                    result = run(options)
            else:
                result = run(options)
    except stack_error_types() as exc:
        return report_stack_error(args.stack, exc)
    except (MessageError, SandboxError, EndpointUnreachable) as exc:
        return _error(str(exc))
    except BotoCoreError as exc:
        where = f" at {args.endpoint_url}" if args.endpoint_url else ""
        return _error(f"AWS emulator{where} failed: {exc}")
    except OSError as exc:
        return _error(f"{exc.filename or ''}: {exc.strerror or exc}")

    console = Console(width=None if sys.stdout.isatty() else 140)
    render(result.report, console, list_messages=args.list_messages)
    if args.json is not None:
        args.json.write_text(json.dumps(result.report, indent=2) + "\n", encoding="utf-8")
    return 0 if result.ok else 1


def serve_command(args: argparse.Namespace) -> int:
    """`sandbox serve`: runs until Ctrl-C / SIGTERM; 0 stopped, 2 bad input."""
    import signal
    import threading

    from sandbox.serve import PortInUse, ServeOptions, serve
    from stack_capture.stack_errors import report_stack_error, stack_error_types

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    def ready(url: str, aws_url: str | None) -> None:
        print(f"serving stack {args.stack!r} on {url}  (status page {url}/ · POST {url}/pipelines/{{name}} · "
              f"GET {url}/messages/{{id}})", flush=True)
        if aws_url:
            print(f"AWS API of the emulator on {aws_url}  (--endpoint-url {aws_url})", flush=True)

    try:
        with _open_or_none(args.function_logs) as logs:
            options = ServeOptions(stack=args.stack, project_dir=args.project_dir, port=args.port,
                                   aws_port=args.aws_port, api_key=args.api_key,
                                   function_logs=logs)
            serve(options, stop, ready)
    except stack_error_types() as exc:
        return report_stack_error(args.stack, exc)
    except PortInUse as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"{exc.filename or ''}: {exc.strerror or exc}")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    with contextlib.suppress(BrokenPipeError):  # whoever read our output may be gone already
        print("stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        code = serve_command(args)
        # Everything is stopped and flushed; skip the interpreter's finalization, which can hang in a C
        # extension's teardown once the capture's Pulumi runtime ran and functions were invoked (seen here).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if args.command == "plan":
        from sandbox.plan import main as plan_main

        return plan_main(args)
    if args.command == "invoke":
        from sandbox.invoke_once import main as invoke_main

        return invoke_main(args)
    if args.command == "cost":
        from sandbox.cost.cli import main as cost_main

        return cost_main(args)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
