"""A 3 MiB message sent with the producer to each dev pipeline reaches its business functions intact."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.engine import RunOptions, run
from sandbox.invoke import ensure_functions_on_path
from tests.sandbox.conftest import ORDER, message

BLOB = "3MiB:" + "x" * (3 * 1024 * 1024)
HANDLERS = [
    ("handlers.orders", "bill"),
    ("handlers.notify", "send"),
    ("handlers.analytics", "record"),
    ("handlers.media", "download"),
]


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """What each business function was called with (the real function still runs)."""
    import importlib

    ensure_functions_on_path()
    calls: dict[str, list[dict[str, Any]]] = {}
    for module_name, attr in HANDLERS:
        module = importlib.import_module(module_name)
        original = getattr(module, attr)

        def recording(msg: dict[str, Any], _original: Any = original, _key: str = f"{module_name}:{attr}") -> Any:
            calls.setdefault(_key, []).append(msg)
            return _original(msg)

        monkeypatch.setattr(module, attr, recording)
    return calls


def test_3_mib_bodies_reach_every_dev_business_function_intact(received: dict[str, list[dict[str, Any]]]) -> None:
    order = {**ORDER, "id": "o-big", "blob": BLOB}
    media = {"url": "https://cdn.example.com/photos/big.jpg", "blob": BLOB}
    mail = {"to": "ana@example.com", "subject": "Big", "text": "see attachment", "blob": BLOB}
    messages = [
        message("orders", order, {"type": "order_created"}),
        message("media", media),
        message("email", mail),
    ]
    seen_s3: list[int] = []

    def inspect(aws: Any) -> None:
        buckets = [b["Name"] for b in aws.s3.list_buckets()["Buckets"]]
        seen_s3.extend(
            o["Size"] for b in buckets for o in aws.s3.list_objects_v2(Bucket=b).get("Contents", []) if "/" in o["Key"]
        )

    result = run(RunOptions(stack="dev", messages=messages, inspect=inspect))
    assert result.ok, json.dumps(result.report["totals"])
    assert received["handlers.orders:bill"] == [order]
    assert received["handlers.analytics:record"] == [order]
    # notify:send serves two consumers: the orders pipeline's email subscriber and the email pipeline
    assert sorted(received["handlers.notify:send"], key=json.dumps) == sorted([order, mail], key=json.dumps)
    assert received["handlers.media:download"] == [media]
    assert sum(1 for size in seen_s3 if size > 3 * 1024 * 1024) == 3  # one object per published message
