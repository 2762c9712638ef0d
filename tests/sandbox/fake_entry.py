"""A stand-in Lambda entry point for the invoker tests (`tests.sandbox.fake_entry.handler`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

ELAPSE: Callable[[float], None] | None = None
"""Set by a test to its fake clock's `advance`: `{"elapse": s}` makes the invocation take s seconds."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("elapse"):
        assert ELAPSE is not None, "set tests.sandbox.fake_entry.ELAPSE first"
        ELAPSE(float(event["elapse"]))
    if event.get("raise"):
        raise RuntimeError(event["raise"])
    print("printed by the function")
    return {
        "env": {k: v for k, v in os.environ.items() if k.startswith(("AP_", "AWS_LAMBDA_", "SANDBOX_TEST_"))},
        "region": os.environ.get("AWS_REGION"),
        "remaining": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
    }
