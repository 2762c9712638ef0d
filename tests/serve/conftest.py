"""A running `sandbox serve` (in this process, on a real socket) and a small HTTP client for it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
API_KEY = "test-key"
PIPELINES: dict[str, Any] = {
    "orders": {
        "pattern": "fanout",
        "http": {"auth": "apiKey"},
        "subscribers": {
            "billing": {"handler": "handlers.orders:bill", "filter": {"type": ["order_created"]}},
            "email": {"handler": "handlers.notify:send"},
        },
    },
    "email": {
        "pattern": "retry",
        "handler": "handlers.notify:send",
        "retries": [{"delay": 30}, {"delay": 300}],
        "http": {"auth": "none", "public": True, "maxBodyBytes": 512},
    },
    "ledger": {
        "pattern": "retry",
        "fifo": True,
        "handler": "handlers.compute:transform",
        "results": True,
        "retries": [{"delay": 60}],
        "http": {"auth": "iam"},
    },
    "accounts": {
        "pattern": "chain",
        "fifo": True,
        "stages": [{"name": "compute", "handler": "handlers.compute:transform", "results": True}],
        "http": {"auth": "none", "public": True, "groupFrom": "$.account.id"},
    },
    "limited": {
        "pattern": "retry",
        "handler": "handlers.notify:send",
        "retries": [{"delay": 30}],
        "http": {"auth": "none", "public": True, "throttle": {"rate": 0.001, "burst": 2}},
    },
    "media": {
        "pattern": "chain",
        "stages": [{"name": "download", "handler": "handlers.media:download"},
                   {"name": "thumbnail", "handler": "handlers.media:thumbnail"}],
    },
}
SETTLED = ("processed", "dlq", "filtered", "not_reached")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Client:
    url: str

    def request(self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
                ) -> Answer:
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Answer(resp.status, json.loads(resp.read() or b"{}"))
        except urllib.error.HTTPError as err:
            return Answer(err.code, json.loads(err.read() or b"{}"))

    def post(self, pipeline: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.request("POST", f"/pipelines/{pipeline}", data, {"Content-Type": "application/json",
                                                                     **(headers or {})})

    def page(self) -> str:
        with urllib.request.urlopen(self.url + "/", timeout=30) as resp:
            return str(resp.read().decode("utf-8"))

    def settled(self, message_id: str, wait: float = 30.0) -> dict[str, Any]:
        """GET /messages/{id} until every consumer is processed, in a DLQ or filtered (or `wait` runs out)."""
        deadline = time.monotonic() + wait
        while True:
            found = self.request("GET", f"/messages/{message_id}")
            if found.status == 404 and time.monotonic() < deadline:  # sent around the server: not seen yet
                time.sleep(0.05)
                continue
            assert found.status == 200, found
            if all(c["state"] in SETTLED for c in found.body["consumers"]) or time.monotonic() > deadline:
                return found.body
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def served() -> Iterator[dict[str, str]]:
    """One server per test worker for the whole session: {"url", "aws"}."""
    settings = {"stack": "srv", "apiKey": API_KEY, "awsPort": free_port(),
                "config": {"aws:region": REGION, "async-pipelines:pipelines": PIPELINES}}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "functions")])}
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("server_process.py")), json.dumps(settings)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=30)
        pytest.fail(f"sandbox serve did not start: {proc.stderr.read() if proc.stderr else ''}")
    yield json.loads(line)
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def server(served: dict[str, str]) -> Client:
    return Client(served["url"])
