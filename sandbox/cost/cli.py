"""`python -m sandbox cost`: what the stack costs per month and how far each consumer scales.

Bad input (negative or malformed volume, unknown or disabled pipeline, unknown stack, bad config,
unreadable diff file) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_MESSAGES_PER_MONTH = 5_000_000
ACCOUNT_CONCURRENCY = 1000
"""contract.aws.LAMBDA_ACCOUNT_CONCURRENCY_DEFAULT (not imported: `--help` stays fast)."""


class CostInputError(ValueError):
    """Bad command-line input: one line, exit 2."""


def _count(text: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a non-negative, finite number")
    return value


def _volume(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not PIPELINE=MESSAGES")
    return name.strip(), _count(value.strip())


def _positive(text: str) -> float:
    value = _count(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def _duration(text: str) -> tuple[str | None, float]:
    """`MS` (every consumer) or `PIPELINE.CONSUMER=MS` (one consumer)."""
    name, sep, value = text.rpartition("=")
    if sep and (not name or "." not in name):
        raise argparse.ArgumentTypeError(f"{text!r} is not MS or PIPELINE.CONSUMER=MS")
    return (name.strip() or None), _positive(value.strip())


def _groups(text: str) -> int:
    value = _count(text)
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"{text} must be a whole number ≥ 1")
    return int(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from stack_capture.cli import add_stack_arguments

    add_stack_arguments(parser)
    volume = parser.add_argument_group("volume")
    volume.add_argument("--messages-per-month", type=_count, metavar="N",
                        help=f"messages published into each enabled pipeline (default {DEFAULT_MESSAGES_PER_MONTH:,}"
                        " unless --volume is given)")
    volume.add_argument("--volume", type=_volume, action="append", default=[], metavar="PIPELINE=N",
                        help="messages per month into one pipeline (repeatable); pipelines not named get "
                        "--messages-per-month, or 0 when only --volume is given")
    volume.add_argument("--messages", type=Path, metavar="FILE.jsonl",
                        help="measure with these messages too, added to the built-in samples (your traffic mix); "
                        "pipelines with neither are measured with smoke probes")
    model = parser.add_argument_group("model")
    model.add_argument("--duration-ms", type=_duration, action="append", default=[],
                       metavar="[PIPELINE.CONSUMER=]MS",
                       help="duration of an invocation, for every consumer or one (repeatable: "
                       "--duration-ms media.download=800 --duration-ms 100; default: measured per record)")
    model.add_argument("--account-concurrency", type=_groups, default=ACCOUNT_CONCURRENCY, metavar="N",
                       help="capacity: the account's Lambda concurrency in the region, shared by every consumer "
                       f"(default {ACCOUNT_CONCURRENCY:,}, AWS's default quota)")
    model.add_argument("--free-tier", action="store_true", help="subtract AWS's always-free monthly allowances")
    model.add_argument("--rate", type=_count, metavar="MSG/S",
                       help="capacity: messages per second published into each pipeline "
                       "(default: the monthly volume's average rate)")
    model.add_argument("--fifo-groups", type=_groups, metavar="N",
                       help="capacity: FIFO message groups in your traffic (default: those the samples used)")
    out = parser.add_argument_group("output")
    out.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON (sandbox/cost/report.py)")
    out.add_argument("--diff", nargs=2, type=Path, metavar=("BASE.json", "HEAD.json"),
                     help="print the markdown cost difference of two --json reports (no run); a missing BASE "
                     "file means the stack is new")


def volumes_for(
    stack: str,
    enabled: Sequence[str],
    disabled: Sequence[str],
    per_month: float | None,
    named: list[tuple[str, float]],
) -> dict[str, float]:
    """Messages per month per enabled pipeline; raises CostInputError naming a bad pipeline."""
    default = per_month if per_month is not None else (0.0 if named else float(DEFAULT_MESSAGES_PER_MONTH))
    volumes = {name: default for name in enabled}
    for name, value in named:
        if name in disabled:
            raise CostInputError(f"--volume {name}: pipeline {name!r} is disabled in stack {stack!r}")
        if name not in volumes:
            known = ", ".join(enabled) or "none"
            raise CostInputError(f"--volume {name}: no pipeline {name!r} in stack {stack!r} (pipelines: {known})")
        volumes[name] = value
    return volumes


def durations_for(stack: str, consumers: Sequence[tuple[str, str]], given: list[tuple[str | None, float]]) -> Any:
    """`--duration-ms` values as `model.Durations`; raises CostInputError naming an unknown consumer."""
    from .model import Durations

    default: float | None = None
    per_consumer: dict[tuple[str, str], float] = {}
    for name, ms in given:
        if name is None:
            default = ms
            continue
        scope = tuple(name.split(".", 1))
        if scope not in consumers:
            known = ", ".join(f"{p}.{c}" for p, c in consumers) or "none"
            raise CostInputError(f"--duration-ms {name}={ms:g}: no consumer {name!r} in stack {stack!r} "
                                 f"(consumers: {known})")
        per_consumer[(scope[0], scope[1])] = ms
    return Durations(default, per_consumer)


def _error(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def diff_command(base: Path, head: Path) -> int:
    from .report import DiffError, diff_markdown, load_report

    try:
        head_report = load_report(head)
        if head_report is None:
            return _error(f"--diff: {head} does not exist")
        print(diff_markdown(load_report(base), head_report), end="")
    except DiffError as exc:
        return _error(str(exc))
    return 0


def main(args: argparse.Namespace) -> int:
    """`sandbox cost`: 0 printed, 2 bad input."""
    if args.diff:
        return diff_command(*args.diff)
    from botocore.exceptions import BotoCoreError
    from rich.console import Console

    from sandbox.engine import SandboxError
    from sandbox.messages import MessageError
    from sandbox.topology import topology_from_capture
    from stack_capture import capture_stack
    from stack_capture.stack_errors import report_stack_error, stack_error_types

    from .capacity import account_concurrency, capacities
    from .drivers import top_drivers
    from .measure import measure
    from .model import estimate
    from .prices import SECONDS_PER_MONTH
    from .report import render, to_json
    from .workload import workload

    started = time.monotonic()
    try:
        capture = capture_stack(args.stack, project_dir=args.project_dir)
        volumes = volumes_for(capture.stack, capture.enabled_pipelines, capture.disabled_pipelines,
                              args.messages_per_month, args.volume)
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.touch()
        topology = topology_from_capture(capture)
        work = workload(topology, capture.disabled_pipelines, args.messages)
        measured = measure(capture.stack, capture=capture, messages=work.messages, probed=work.probed)
        durations = durations_for(capture.stack, list(measured.consumers), args.duration_ms)
        unmeasured = [p for p, v in volumes.items() if v > 0 and not measured.published.get(p)]
        if unmeasured:
            raise CostInputError(
                f"no messages were measured for pipeline(s) {', '.join(unmeasured)} of stack {capture.stack!r} "
                "(no sample, and no smoke probe passes their filters): pass --messages FILE.jsonl with messages "
                "for them (or --volume NAME=0)"
            )
    except stack_error_types() as exc:
        return report_stack_error(args.stack, exc)
    except (CostInputError, MessageError, SandboxError) as exc:
        return _error(str(exc))
    except BotoCoreError as exc:
        return _error(f"sandbox run failed: {exc}")
    except OSError as exc:
        return _error(f"{exc.filename or ''}: {exc.strerror or exc}")
    est = estimate(measured, volumes, duration_ms=durations, free_tier=args.free_tier)
    drivers = top_drivers(measured, est)
    rates = {p: (args.rate if args.rate is not None else v / SECONDS_PER_MONTH) for p, v in volumes.items()}
    capacity = capacities(measured, rates, durations, args.fifo_groups, args.account_concurrency)
    shared = account_concurrency(capacity, args.account_concurrency)
    console = Console(width=None if sys.stdout.isatty() else 160)
    render(est, drivers, capacity, console, shared, measured.probed)
    console.print(f"\n(measured and priced in {time.monotonic() - started:.1f} s)", style="dim")
    if args.json is not None:
        report = to_json(est, measured, drivers, capacity, rates, shared)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
