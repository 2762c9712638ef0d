"""Request latency of `python -m sandbox serve`: p50/p99 of 1,000 POSTs, with the mappings draining meanwhile.

    python bench/serve_latency.py [--count 1000] [--pipeline media] [--rate 40]

Starts `python -m sandbox serve --stack dev` on a free port, then POSTs `--count` JSON objects one after
another over one keep-alive connection (a client waiting for each 202, like a producer retrying on
failure would), measuring each request from send to the full 202 response. The event source mappings
run in the same process at the same time, so the numbers include contention with the consumers.
Requests start at most `--rate` per second: the server throttles a pipeline at the program's default
`http.throttle` (50 requests/s, burst 100), so a client that sends as fast as it is answered gets 429s.
Reported: p50, p90, p99, max, and requests/s. Default pipeline: media (auth none, a 3-stage chain).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--pipeline", default="media")
    parser.add_argument("--rate", type=float, default=40.0,
                        help="requests per second at most (default 40: under the default throttle of 50/s, "
                        "which a faster client meets as 429s)")
    args = parser.parse_args()

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "functions")])}
    server = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--stack", "dev", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        if not server.stdout.readline().startswith("serving"):
            print("sandbox serve did not start", file=sys.stderr)
            return 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies: list[float] = []
        started = time.perf_counter()
        for n in range(args.count):
            body = json.dumps({"id": f"bench-{n}", "url": f"https://cdn.example.com/bench/{n}.jpg"})
            time.sleep(max(0.0, started + n / args.rate - time.perf_counter()))
            t0 = time.perf_counter()
            conn.request("POST", f"/pipelines/{args.pipeline}", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - t0)
            if response.status != 202:
                print(f"request {n}: HTTP {response.status}", file=sys.stderr)
                return 1
        elapsed = time.perf_counter() - started
        ms = sorted(x * 1000 for x in latencies)
        print(f"{args.count} POSTs to /pipelines/{args.pipeline}: p50 {percentile(ms, 0.50):.1f} ms, "
              f"p90 {percentile(ms, 0.90):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, max {ms[-1]:.1f} ms, "
              f"mean {statistics.fmean(ms):.1f} ms; {args.count / elapsed:.0f} requests/s")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
