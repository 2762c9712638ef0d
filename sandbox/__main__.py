"""`python -m sandbox run|plan`: the sandbox command line.

Bad input (unknown stack, invalid stack config, a bad messages file, a message for a missing or
disabled pipeline, an unreachable endpoint, out-of-range options) is one line on stderr and exit
status 2, never a traceback. `run` exits 1 when a message was lost or the run did not drain.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

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


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="dev", help="stack name: Pulumi.<stack>.yaml (default: dev)")
    source = parser.add_argument_group("messages")
    source.add_argument("--messages", type=Path, metavar="FILE.jsonl",
                        help='one JSON object per line: {"pipeline", "body", "attributes", "group"} '
                        "(default: the built-in samples in sandbox/samples/)")
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
    out.add_argument("--quiet", action="store_true", help="no progress bar")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`error: ...`) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sandbox", description="Run the stack's pipelines locally.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,plan}")
    run = commands.add_parser(
        "run",
        help="deploy the captured stack into moto and drive messages through it",
        description="Deploy the stack's captured resources into an emulator, publish messages through each "
        "pipeline's entry, drain them with AWS's event-source-mapping semantics, report.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(run)
    plan = commands.add_parser("plan", help="print the stack's resource tree and pipeline diagram (no cloud)")
    try:
        from sandbox.plan import add_arguments
    except ImportError:  # plan.py is someone else's; keep `run` usable without it
        plan.add_argument("--stack", required=True)
    else:
        add_arguments(plan)
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
    from pulumi.errors import RunError
    from rich.console import Console

    from components.config import ConfigError
    from sandbox.clients import EndpointUnreachable
    from sandbox.engine import Progress, RunOptions, SandboxError, run
    from sandbox.messages import MessageError
    from sandbox.report import render
    from stack_capture import UnknownStackError

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
    except (UnknownStackError, MessageError, SandboxError, EndpointUnreachable) as exc:
        return _error(str(exc))
    except (ConfigError, RunError) as exc:
        return _error(f"stack {args.stack!r}: {exc}")
    except BotoCoreError as exc:
        where = f" at {args.endpoint_url}" if args.endpoint_url else ""
        return _error(f"AWS emulator{where} failed: {exc}")
    except OSError as exc:
        return _error(f"{exc.filename or ''}: {exc.strerror or exc}")

    console = Console(width=None if sys.stdout.isatty() else 140)
    render(result.report, console)
    if args.json is not None:
        args.json.write_text(json.dumps(result.report, indent=2) + "\n", encoding="utf-8")
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "plan":
        from sandbox.plan import main as plan_main

        return plan_main(args)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
