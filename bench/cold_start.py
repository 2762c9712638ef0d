"""Cold-start import cost of the consumer runtime, compared with a bare ``import boto3``.

Each measurement runs in a fresh interpreter (``python -c``) and times only the import statement(s)
with ``time.perf_counter`` inside that process, so interpreter start-up is excluded. Samples of the
different cases are interleaved, one warm-up round (byte-code compilation) is discarded, and the
median is reported.

    python bench/cold_start.py [--runs 15]

Printed: the median import time of ``pipeline_runtime.entry`` and of ``boto3``, their ratio (target
<= 1.3), and - for context - what the first invocation additionally imports (boto3 + the Powertools
batch and idempotency utilities, which the entry module loads lazily).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"

CASES = {
    "boto3": "import boto3",
    "entry": "import pipeline_runtime.entry",
    "entry + first-invocation imports": (
        "import pipeline_runtime.entry, boto3, aws_lambda_powertools.logging, "
        "aws_lambda_powertools.utilities.batch, aws_lambda_powertools.utilities.idempotency"
    ),
}

_TIMER = (
    "import sys, time\n"
    "sys.path.insert(0, {functions!r})\n"
    "start = time.perf_counter()\n"
    "{statement}\n"
    "print(time.perf_counter() - start)\n"
)


def sample(statement: str) -> float:
    code = _TIMER.format(functions=str(FUNCTIONS), statement=statement)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1]) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="samples per case (default 15)")
    args = parser.parse_args(argv)

    for statement in CASES.values():  # warm-up: compile byte code, fill the OS page cache
        sample(statement)
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, statement in CASES.items():
            samples[name].append(sample(statement))

    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"python {sys.version.split()[0]}, {args.runs} fresh interpreters per case, median import time:")
    for name, value in medians.items():
        spread = f"{min(samples[name]):.1f}-{max(samples[name]):.1f}"
        print(f"  {name:<34} {value:8.1f} ms   (min-max {spread} ms)")
    ratio = medians["entry"] / medians["boto3"]
    verdict = "OK" if ratio <= 1.3 else "ABOVE TARGET"
    print(f"ratio entry / boto3: {ratio:.2f}x (target <= 1.30x) {verdict}")
    full = medians["entry + first-invocation imports"] / medians["boto3"]
    print(f"ratio entry + first-invocation imports / boto3: {full:.2f}x (informational)")
    return 0 if ratio <= 1.3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
