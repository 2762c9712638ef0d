"""boto3 clients, created on first use and cached per (service, region, endpoint).

The cache key follows the environment (``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>``, which boto3 honours natively), so the sandbox can point a consumer at
an emulator by swapping ``os.environ``. boto3 itself is imported lazily: importing the runtime stays cheap.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient

__all__ = ["client", "dynamodb", "reset", "s3", "sqs"]

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, str | None], Any] = {}


def _key(service: str) -> tuple[str, str | None, str | None]:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL") or None
    return service, region, endpoint


def client(service: str) -> Any:
    """Return the cached client for ``service`` under the current environment."""
    key = _key(service)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            import boto3  # lazy: keeps `import pipeline_runtime.entry` cheap

            # A fresh session per client: credentials/region are read from the *current* environment.
            found = boto3.session.Session().client(cast(Any, service), region_name=key[1])
            _clients[key] = found
        return found


def sqs() -> SQSClient:
    return client("sqs")


def dynamodb() -> DynamoDBClient:
    return client("dynamodb")


def s3() -> S3Client:
    return client("s3")


def reset() -> None:
    """Forget every cached client (tests, or an emulator restarted under the same endpoint)."""
    with _lock:
        _clients.clear()
