"""Results that business functions write to S3 (``AP_RESULTS_BUCKET``, docs/contracts.md §1)."""

from __future__ import annotations

import json
import os
from typing import Any

from pipeline_runtime import clients
from pipeline_runtime.errors import ConfigurationError

__all__ = ["put_json", "result_key"]

JSON_SUFFIX = ".json"


def result_key(key: str, pipeline: str, consumer: str) -> str:
    """``<pipeline>/<consumer>/<key>.json``; ``key`` may contain ``/`` but no empty, ``.`` or ``..`` part.

    A key that already ends in ``.json`` keeps it (``report.json`` -> ``.../report.json``, not ``.json.json``).
    """
    if not isinstance(key, str) or not key:
        raise ValueError("result key must be a non-empty string")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"result key {key!r} has an empty, '.' or '..' path segment")
    stem = key.removesuffix(JSON_SUFFIX)
    if not stem or stem.endswith("/"):
        raise ValueError(f"result key {key!r} names no object before {JSON_SUFFIX!r}")
    return f"{pipeline}/{consumer}/{stem}{JSON_SUFFIX}"


def put_json(key: str, obj: Any) -> str:
    """Write ``obj`` as JSON to ``s3://$AP_RESULTS_BUCKET/<pipeline>/<consumer>/<key>.json``.

    ``key`` may end in ``.json`` already (it is not doubled) and may contain ``/`` (``2024/05/report``).

    Returns the ``s3://`` URI. Writing the same key again overwrites it, so a retried message stays
    harmless. Raises :class:`ConfigurationError` when the consumer has no results bucket, ValueError for
    a bad key, TypeError when ``obj`` is not JSON-serialisable.
    """
    bucket = os.environ.get("AP_RESULTS_BUCKET", "").strip()
    pipeline = os.environ.get("AP_PIPELINE", "").strip()
    consumer = os.environ.get("AP_CONSUMER", "").strip()
    if not bucket:
        raise ConfigurationError("put_json() needs AP_RESULTS_BUCKET (consumer setting `results: true`)")
    if not pipeline or not consumer:
        raise ConfigurationError("put_json() needs AP_PIPELINE and AP_CONSUMER")
    object_key = result_key(key, pipeline, consumer)
    data = json.dumps(obj, ensure_ascii=False, sort_keys=True, allow_nan=False).encode("utf-8")
    clients.s3().put_object(Bucket=bucket, Key=object_key, Body=data, ContentType="application/json")
    return f"s3://{bucket}/{object_key}"
