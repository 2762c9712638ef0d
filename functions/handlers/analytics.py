"""Analytics: turn any event into a metric data point.

Message: any object with a string ``type`` (``{"type": "order_created", "id": "o-1", ...}``). Returns a
data point ``{"metric": "events.order_created", "value": 1, "dimensions": {...}}`` with the event's
scalar top-level fields as dimensions (sorted, at most 10, nested values skipped).
"""

from __future__ import annotations

from typing import Any

from handlers.common import SIMULATE_FIELDS, simulate
from pipeline_runtime import PermanentError

__all__ = ["record"]

MAX_DIMENSIONS = 10


def record(message: dict[str, Any]) -> dict[str, Any]:
    kind = message.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise PermanentError("'type' is required and must be a non-empty string")
    simulate(message, "record", timeout="metrics store timed out", throttle="metrics store throttled")
    dimensions = {
        name: value
        for name, value in sorted(message.items())
        if name != "type" and name not in SIMULATE_FIELDS and isinstance(value, (str, int, float, bool))
    }
    return {
        "metric": f"events.{kind.strip()}",
        "value": 1,
        "dimensions": dict(list(dimensions.items())[:MAX_DIMENSIONS]),
    }
