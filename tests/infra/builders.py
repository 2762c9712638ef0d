"""Small builders and helpers shared by the infrastructure tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.config import AlarmThresholds, ConsumerSettings
from components.consumer import StackContext
from stack_capture import AwsMocks, Capture, capture_stack, install_mocks

REGION = "eu-west-1"
ALARM_TOPIC = f"arn:aws:sns:{REGION}:123456789012:ap-test-alarms"


@pytest.fixture
def mocks() -> AwsMocks:
    """Fresh mocks and a fresh root stack for each `@pulumi.runtime.test`."""
    m = AwsMocks(REGION)
    install_mocks(m, project="async-pipelines", stack="test")
    return m


def consumer(name: str = "worker", **overrides: Any) -> ConsumerSettings:
    settings: dict[str, Any] = {"name": name, "handler": "handlers.orders:bill"} | overrides
    if "visibility_timeout" not in overrides:
        settings["visibility_timeout"] = 6 * settings.get("timeout", 30) + settings.get("batch_window", 0)
    return ConsumerSettings(**settings)


POWERTOOLS_LAYER = f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:1"


def stack_context(**overrides: Any) -> StackContext:
    defaults = {"region": REGION, "alarm_topic_arn": ALARM_TOPIC, "powertools_layer_arn": POWERTOOLS_LAYER}
    return StackContext(**(defaults | overrides))


THRESHOLDS = AlarmThresholds(oldest_message_age=300, queue_depth=50)


def statements(policy: str | dict) -> list[dict]:
    doc = json.loads(policy) if isinstance(policy, str) else policy
    stmts = doc["Statement"]
    return stmts if isinstance(stmts, list) else [stmts]


def capture_pipelines(pipelines: dict[str, Any], **extra: Any) -> Capture:
    """Run the real program for a stack whose only config is `pipelines` (+ extra namespace keys)."""
    config: dict[str, Any] = {"aws:region": REGION, "async-pipelines:pipelines": pipelines}
    config |= {f"async-pipelines:{k}": v for k, v in extra.items()}
    return capture_stack("test", config=config)


def children_of(capture: Capture, component_type: str, name: str) -> Callable[[str], list]:
    """Resources of a type under the named component (any depth)."""
    parent = next(r for r in capture.resources if r.type == component_type and r.name == name)

    def under(type_: str) -> list:
        out = []
        for r in capture.resources:
            p = r.parent
            while p:
                if p == parent.urn:
                    if r.type == type_:
                        out.append(r)
                    break
                p = capture.by_urn(p).parent if any(x.urn == p for x in capture.resources) else None
        return out

    return under
