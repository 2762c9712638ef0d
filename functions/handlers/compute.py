"""Compute: summary statistics over a list of numbers, written to S3 with ``put_json``.

Message: ``{"id": "job-7", "values": [3, 1, 4, 1, 5], "precision": 4}`` (``precision`` optional, 0-12,
default 6). Writes ``<pipeline>/<consumer>/job-7.json`` and returns ``{"job_id", "result", "count"}``.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from handlers.common import require_str, simulate
from pipeline_runtime import PermanentError, put_json

__all__ = ["MAX_VALUES", "SAMPLE_JOB", "summarize", "transform"]

MAX_VALUES = 100_000

SAMPLE_JOB: dict[str, Any] = {"id": "job-7", "values": [3, 1, 4, 1, 5, 9, 2, 6]}


def summarize(values: list[float], precision: int = 6) -> dict[str, Any]:
    """count, sum, mean, median, min, max, population stdev, p90 (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(0.9 * len(ordered)))

    def rounded(x: float) -> float:
        return round(float(x), precision)

    return {
        "count": len(ordered),
        "sum": rounded(math.fsum(ordered)),
        "mean": rounded(statistics.fmean(ordered)),
        "median": rounded(statistics.median(ordered)),
        "min": rounded(ordered[0]),
        "max": rounded(ordered[-1]),
        "stdev": rounded(statistics.pstdev(ordered)),
        "p90": rounded(ordered[rank - 1]),
    }


def transform(message: dict[str, Any]) -> dict[str, Any]:
    job_id = require_str(message, "id", token=True)
    values = message.get("values")
    if not isinstance(values, list) or not values:
        raise PermanentError("'values' must be a non-empty list of numbers")
    if len(values) > MAX_VALUES:
        raise PermanentError(f"at most {MAX_VALUES} values, got {len(values)}")
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PermanentError(f"values[{index}] must be a finite number, got {value!r}")
    precision = message.get("precision", 6)
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 12:
        raise PermanentError("'precision' must be an integer 0-12")
    simulate(message, "transform", timeout="compute backend timed out", throttle="compute backend throttled")

    stats = summarize(values, precision)
    uri = put_json(job_id, {"job_id": job_id, "statistics": stats})
    return {"job_id": job_id, "result": uri, "count": stats["count"]}
