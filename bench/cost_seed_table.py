"""The seed's cost table (100k / 5M / 50M messages a month) recomputed with `sandbox cost`.

Run by hand from the project root:

    python bench/cost_seed_table.py [--duration-ms MS]

Two stacks, both measured in the sandbox like `python -m sandbox cost` does:

* **dev**: `Pulumi.dev.yaml` with its built-in samples (their mix of successes, retries and failures),
  that many messages into *each* of its three pipelines;
* **single queue + consumer**: a one-stage chain (a queue, its DLQ, one consumer on the stack's
  defaults: 256 MB, batch size 10, idempotency on, alarms, dashboard, alarm-topic key), 20 messages
  that all succeed (the seed's case).

Prints a markdown table (without and with the always-free tier), the fixed part, the per-service split
at 5M, and the wall time of `python -m sandbox cost --stack dev --messages-per-month 5000000` run as a
subprocess (the command's own speed target is < 30 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.cost.measure import Measurement, measure
from sandbox.cost.model import Estimate, estimate
from sandbox.cost.report import usd
from sandbox.messages import MessageSpec, parse_line

VOLUMES = (100_000, 5_000_000, 50_000_000)
SEED = {100_000: "≈ $0", 5_000_000: "≈ $3", 50_000_000: "≈ $30"}


def single_consumer() -> Measurement:
    config = {
        "aws:region": "us-east-1",
        "async-pipelines:pipelines": {
            "jobs": {"pattern": "chain", "stages": [{"name": "record", "handler": "handlers.analytics:record"}]}
        },
    }
    messages: list[MessageSpec] = [
        parse_line(json.dumps({"pipeline": "jobs", "body": {"type": "job_done", "id": f"j-{n}"}}), f"bench:{n}")
        for n in range(20)
    ]
    return measure("single", config=config, messages=messages)


def priced(m: Measurement, volume: float, duration_ms: float | None, free_tier: bool) -> Estimate:
    return estimate(m, dict.fromkeys(m.published, volume), duration_ms=duration_ms, free_tier=free_tier)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-ms", type=float)
    args = parser.parse_args()
    stacks = {"dev (3 pipelines, samples)": measure("dev"), "single queue + consumer": single_consumer()}
    print("| messages / month (per pipeline) | seed | " + " | ".join(stacks) + " |")
    print("|---|---|" + "---|" * len(stacks))
    for volume in VOLUMES:
        cells = []
        for m in stacks.values():
            full = priced(m, volume, args.duration_ms, free_tier=False)
            free = priced(m, volume, args.duration_ms, free_tier=True)
            cells.append(f"{usd(full.monthly_usd)} ({usd(free.monthly_usd)} with free tier)")
        print(f"| {volume:,} | {SEED[volume]} | " + " | ".join(cells) + " |")
    for name, m in stacks.items():
        at_5m = priced(m, 5_000_000, args.duration_ms, free_tier=False)
        split = ", ".join(f"{s} {usd(v)}" for s, v in at_5m.by_service().items())
        print(f"\n{name}: fixed {usd(at_5m.fixed_usd)}/month; at 5M: {split}")
        for (p, c), r in at_5m.rates.items():
            print(f"  {p}.{c}: {r.records_per_month / 5e6:.2f} records per message, "
                  f"{r.records_per_invocation:.2f} per invocation, {r.ms_per_record:.1f} ms per record "
                  f"({r.duration_source})")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "sandbox", "cost", "--stack", "dev", "--messages-per-month", "5000000"],
        check=True, stdout=subprocess.DEVNULL,
    )
    took = time.monotonic() - started
    print(f"\n`python -m sandbox cost --stack dev --messages-per-month 5000000`: {took:.1f} s wall")


if __name__ == "__main__":
    main()
