"""Helpers for the sandbox end-to-end tests: small stacks, messages, and runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.engine import RunOptions, RunResult, run
from sandbox.ledger import Track
from sandbox.messages import MessageSpec, parse_line
from stack_capture import Capture, capture_stack

REGION = "us-east-1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chaos: the chaos run (deselect with -m 'not chaos')")


@dataclass(frozen=True)
class Stack:
    capture: Capture
    config: dict[str, Any]


def stack(pipelines: dict[str, Any], name: str = "sbx") -> Stack:
    """Capture the real program for a stack whose only config is `pipelines`."""
    config = {"aws:region": REGION, "async-pipelines:pipelines": pipelines}
    return Stack(capture_stack(name, config=config), config)


def message(
    pipeline: str, body: Any, attributes: dict[str, Any] | None = None, group: str | None = None
) -> MessageSpec:
    data: dict[str, Any] = {"pipeline": pipeline, "body": body}
    if attributes:
        data["attributes"] = attributes
    if group:
        data["group"] = group
    return parse_line(json.dumps(data), f"test:{pipeline}")


def run_stack(s: Stack, messages: list[MessageSpec], **options: Any) -> RunResult:
    return run(RunOptions(stack=s.capture.stack, capture=s.capture, config=s.config, messages=messages, **options))


def only_track(result: RunResult, consumer: str) -> Track:
    tracks = result.ledger.of(consumer)
    assert len(tracks) == 1, [t.logical_id for t in tracks]
    return tracks[0]


def receive_times(track: Track, queue: str | None = None) -> list[float]:
    return [t for t, q, e in track.timeline if e == "receive" and (queue is None or q == queue)]


ORDER = {
    "type": "order_created",
    "id": "o-1",
    "customer": {"id": "c-1", "email": "ana@example.com"},
    "currency": "EUR",
    "items": [{"sku": "book", "quantity": 2, "amount": 12.5}],
}
