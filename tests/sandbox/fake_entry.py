"""A stand-in Lambda entry point for the invoker tests (`tests.sandbox.fake_entry.handler`)."""

from __future__ import annotations

import os
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("sleep"):
        time.sleep(float(event["sleep"]))
    if event.get("raise"):
        raise RuntimeError(event["raise"])
    print("printed by the function")
    return {
        "env": {k: v for k, v in os.environ.items() if k.startswith(("AP_", "AWS_LAMBDA_", "SANDBOX_TEST_"))},
        "region": os.environ.get("AWS_REGION"),
        "remaining": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
    }
