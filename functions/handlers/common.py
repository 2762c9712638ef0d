"""Helpers shared by the example handlers: validation and the ``simulate`` field.

``"simulate"`` makes a handler fail on purpose, deterministically:

* ``"timeout"``  -> ``TransientError`` (e.g. payment gateway timed out)
* ``"throttle"`` -> ``TransientError`` (e.g. email provider answered 429)
* ``"crash"``    -> plain ``RuntimeError`` (an unexpected bug; the runtime treats it as transient)

Any other value is a ``PermanentError`` (a typo should not be retried). The value may also be an object
naming the function it targets, e.g. ``{"thumbnail": "crash"}`` - chain stages carry ``simulate`` to
the next stage's message, so a failure can be aimed at any stage.

``"simulate_failures": N`` limits the failure to the first N tries of the message (counted across SQS
redeliveries and retry tiers via ``pipeline_runtime.current_delivery().tries``), so a demo can show a
message that fails, is retried, and then succeeds. Without it the failure repeats on every try.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline_runtime import PermanentError, TransientError, current_delivery

__all__ = ["SIMULATE_FIELDS", "carry_simulation", "require_str", "simulate"]

SIMULATE_FIELDS = ("simulate", "simulate_failures")

_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def simulate(message: dict[str, Any], function: str, *, timeout: str, throttle: str) -> None:
    """Raise the failure ``message["simulate"]`` asks for, if it targets ``function``."""
    wanted = message.get("simulate")
    if isinstance(wanted, dict):
        wanted = wanted.get(function)
    if wanted is None:
        return
    limit = message.get("simulate_failures")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise PermanentError(f"simulate_failures must be a non-negative integer, got {limit!r}")
        delivery = current_delivery()
        tries = delivery.tries if delivery is not None else 1
        if tries > limit:
            return
    if wanted == "timeout":
        raise TransientError(f"{timeout} (simulated)")
    if wanted == "throttle":
        raise TransientError(f"{throttle} (simulated)")
    if wanted == "crash":
        raise RuntimeError(f"simulated crash in {function}")
    raise PermanentError(f"unknown simulate value {wanted!r}; use timeout, throttle or crash")


def carry_simulation(message: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Copy the ``simulate*`` fields into a chain stage's result, so later stages can be targeted."""
    for name in SIMULATE_FIELDS:
        if name in message:
            result[name] = message[name]
    return result


def require_str(message: dict[str, Any], field: str, *, token: bool = False) -> str:
    """A required non-empty string field; ``token=True`` also restricts it to ``[A-Za-z0-9._-]``."""
    value = message.get(field)
    if not isinstance(value, str) or not value.strip():
        raise PermanentError(f"{field!r} is required and must be a non-empty string")
    if token and not _TOKEN.match(value):
        raise PermanentError(f"{field!r} must match [A-Za-z0-9._-] (1-128 chars), got {value!r}")
    return value
