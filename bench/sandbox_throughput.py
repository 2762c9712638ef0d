"""Sandbox throughput vs a raw moto loop on the same machine, and the wall time of a 1,000-message chaos run.

    python bench/sandbox_throughput.py [--count 1000] [--chaos-count 1000]

1. The dev stack, `--count` messages, no chaos: SQS messages handled by consumers (a fan-out message
   is one per subscriber; chain stages count separately) per wall second of the run, excluding the
   Pulumi capture. The mean depth of the queues at each non-empty receive is recorded.
2. A raw moto loop at that same depth: SendMessageBatch / ReceiveMessage(10) / DeleteMessageBatch on one
   queue kept at that depth, the same number of messages, in-process, no function invoked.
3. Their ratio (target >= 0.5), and the wall time of the dev stack under chaos (target <= 60 s).

The sandbox does far more per message than the raw loop - each record runs the real runtime:
Powertools batch processing, an idempotency PutItem and UpdateItem in DynamoDB, DLQ and forwarding sends
- so the ratio measures the harness's overhead on top of moto's per-call cost, not pure polling speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.engine import RunOptions, run
from sandbox.esm import EventSourceMapping
from stack_capture import capture_stack, load_stack_config


def sandbox_throughput(count: int) -> tuple[float, float, float, dict[str, Any]]:
    """(messages handled per second, mean queue depth at receive, seconds of the run, report): dev stack."""
    from moto.sqs.models import sqs_backends

    capture = capture_stack("dev")
    config = load_stack_config("dev")
    depths: list[int] = []
    original = EventSourceMapping._receive

    def sampled(self: EventSourceMapping, n: int) -> list[dict[str, Any]]:
        depth = len(sqs_backends["123456789012"][self.aws.region].queues[self.spec.queue.name]._messages)
        got = original(self, n)
        if got:
            depths.append(depth)  # messages in the queue (visible or not) when the poll found some
        return got

    setattr(EventSourceMapping, "_receive", sampled)  # noqa: B010 - sampling, for this run only
    try:
        started = time.perf_counter()
        report = run(RunOptions(stack="dev", capture=capture, config=config, count=count)).report
        elapsed = time.perf_counter() - started
    finally:
        setattr(EventSourceMapping, "_receive", original)  # noqa: B010
    t = report["totals"]
    handled = t["processed"] + t["dlq"]
    return handled / elapsed, statistics.fmean(depths), elapsed, report


def raw_moto_throughput(depth: int, total: int) -> float:
    """Messages per second through send/receive/delete on one queue held at `depth`."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="raw")["QueueUrl"]
        sent = 0

        def send(n: int) -> None:
            nonlocal sent
            for start in range(0, n, 10):
                k = min(10, n - start)
                entries: list[Any] = [{"Id": str(i), "MessageBody": f'{{"n": {sent + i}}}'} for i in range(k)]
                sqs.send_message_batch(QueueUrl=url, Entries=entries)
                sent += k

        send(depth)
        done = 0
        started = time.perf_counter()
        while done < total:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not got:
                break
            receipts: list[Any] = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            sqs.delete_message_batch(QueueUrl=url, Entries=receipts)
            done += len(got)
            if sent < total:
                send(len(got))
        return done / (time.perf_counter() - started)


def chaos_wall_time(count: int) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    report = run(
        RunOptions(stack="dev", count=count, duplicate_rate=0.05, transient_rate=0.05, poison_rate=0.02, seed=7)
    ).report
    return time.perf_counter() - started, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="messages for the throughput run (default 1000)")
    parser.add_argument("--chaos-count", type=int, default=1000, help="messages for the chaos run (default 1000)")
    args = parser.parse_args()

    rate, depth, elapsed, report = sandbox_throughput(args.count)
    handled = report["totals"]["processed"] + report["totals"]["dlq"]
    in_functions = report["totals"]["function_seconds"]
    harness = handled / max(elapsed - in_functions, 1e-9)
    raw = raw_moto_throughput(max(1, round(depth)), handled)
    print(f"sandbox, dev stack:   {rate:7.1f} msg/s  ({handled} consumer messages from {args.count} published in "
          f"{elapsed:.1f} s, mean queue depth {depth:.1f})")
    print(f"raw moto loop:        {raw:7.1f} msg/s  (send/receive/delete at depth {round(depth)})")
    print(f"ratio sandbox / raw:  {rate / raw:7.2f}x  (target >= 0.5x)")
    print(f"  of the {elapsed:.1f} s, {in_functions:.1f} s ran inside the functions (runtime + its DynamoDB/SQS/S3 "
          f"calls); the harness alone (polling, deleting, publishing, accounting) ran at {harness:.1f} msg/s "
          f"= {harness / raw:.2f}x raw")
    wall, chaos = chaos_wall_time(args.chaos_count)
    t = chaos["totals"]
    print(f"chaos run, {args.chaos_count} msgs: {wall:6.1f} s wall  (target <= 60 s; lost {t['lost']}, "
          f"double effects {t['double_effects']}, {t['injected_duplicates']} duplicates, "
          f"{t['chaos_failures']} failed invocations, {chaos['virtual_seconds']:.0f} s virtual)")
    return 0 if t["lost"] == 0 and t["double_effects"] == 0 and chaos["drained"] else 1


if __name__ == "__main__":
    sys.exit(main())
