"""Fixtures for the cost tests: a single queue + consumer stack, measured once per variant."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.cost.measure import Measurement, measure
from sandbox.messages import MessageSpec, parse_line

REGION = "us-east-1"


def single_config(**consumer: Any) -> dict[str, Any]:
    """One chain of one stage: a queue, its DLQ and one consumer (the smallest pipeline)."""
    stage = {"name": "record", "handler": "handlers.analytics:record", **consumer}
    return {"aws:region": REGION, "async-pipelines:pipelines": {"jobs": {"pattern": "chain", "stages": [stage]}}}


def good_messages(count: int) -> list[MessageSpec]:
    return [
        parse_line(json.dumps({"pipeline": "jobs", "body": {"type": "job_done", "id": f"j-{n}"}}), f"test:{n}")
        for n in range(count)
    ]


def measure_single(count: int = 20, **consumer: Any) -> Measurement:
    return measure("single", config=single_config(**consumer), messages=good_messages(count))


@pytest.fixture(scope="module")
def single() -> Measurement:
    return measure_single()
