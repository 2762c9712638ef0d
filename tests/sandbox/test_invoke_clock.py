"""The invoker (environment per invocation, timeouts, function output) and the virtual clock."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox.clock import VirtualClock
from sandbox.invoke import FUNCTION_OUTPUT, Invoker
from sandbox.topology import FunctionSpec
from tests.sandbox import fake_entry

ENTRY = "tests.sandbox.fake_entry.handler"


class FakeMonotonic:
    """A monotonic clock that moves only when the fake function says its work took time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    clock = FakeMonotonic()
    monkeypatch.setattr(fake_entry, "ELAPSE", clock.advance)
    return clock


def function(timeout: int = 30, **env: str) -> FunctionSpec:
    return FunctionSpec("ap-t-fn", "arn:aws:lambda:us-east-1:123456789012:function:ap-t-fn", timeout, 256, env, ENTRY)


@pytest.fixture
def process_env() -> Iterator[None]:
    os.environ["AP_PIPELINE"] = "left-over-from-the-shell"
    os.environ["SANDBOX_TEST_KEEP"] = "kept"
    try:
        yield
    finally:
        os.environ.pop("AP_PIPELINE", None)
        os.environ.pop("SANDBOX_TEST_KEEP", None)


def test_each_invocation_sees_exactly_its_function_environment_and_it_is_restored(
    process_env: None, monotonic: FakeMonotonic
) -> None:
    invoker = Invoker("eu-west-1", {"AWS_REGION": "eu-west-1"}, monotonic=monotonic)
    before = dict(os.environ)
    first = invoker.invoke(function(AP_HANDLER="a:b", AP_CONSUMER="one"), {}).response
    second = invoker.invoke(function(AP_HANDLER="c:d"), {}).response
    assert first["env"]["AP_HANDLER"] == "a:b" and first["env"]["AP_CONSUMER"] == "one"
    assert "AP_PIPELINE" not in first["env"]  # another process variable of the runtime's namespace is hidden
    assert first["env"]["SANDBOX_TEST_KEEP"] == "kept"
    assert first["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "ap-t-fn" and first["region"] == "eu-west-1"
    assert "AP_CONSUMER" not in second["env"]  # nothing leaks from the previous invocation
    assert dict(os.environ) == before
    assert first["remaining"] == 30_000 and first["function_name"] == "ap-t-fn"


def test_exceptions_and_timeouts_fail_the_invocation_as_a_whole(monotonic: FakeMonotonic) -> None:
    invoker = Invoker("eu-west-1", {}, monotonic=monotonic)
    crashed = invoker.invoke(function(), {"raise": "boom"})
    assert crashed.error == "RuntimeError: boom" and not crashed.timed_out
    on_time = invoker.invoke(function(timeout=1), {"elapse": 1.0})
    assert on_time.error is None and on_time.response["remaining"] == 0 and on_time.duration == 1.0
    late = invoker.invoke(function(timeout=1), {"elapse": 1.05})
    assert late.timed_out and late.response is None and late.error == "Task timed out after 1 s"
    discarded = invoker.invoke(function(), {}, discard_response="chaos")
    assert discarded.error == "chaos" and discarded.response is None


def test_function_output_goes_to_the_sink_not_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    sink = io.StringIO()
    FUNCTION_OUTPUT.target = sink
    try:
        Invoker("eu-west-1", {}).invoke(function(), {})
    finally:
        FUNCTION_OUTPUT.target = None
    assert "printed by the function" in sink.getvalue()
    assert "printed by the function" not in capsys.readouterr().out


def test_virtual_clock_drives_moto_visibility_and_delays_and_is_restored() -> None:
    import moto.sqs.models as sqs_models

    original = sqs_models.unix_time_millis
    clock = VirtualClock(start=1_700_000_000.0)
    with mock_aws(), clock.patch_moto():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"ReceiveMessageWaitTimeSeconds": "20"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=300)

        def receive() -> list[Any]:
            return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, VisibilityTimeout=30).get("Messages", [])

        assert receive() == []
        clock.advance(299)
        assert receive() == []
        clock.advance(1)
        (got,) = receive()
        assert got["Body"] == "later"
        clock.advance(30)
        assert receive() == []  # visible_at is exclusive in moto: exactly at the timeout it is still hidden
        clock.advance(0.01)
        assert len(receive()) == 1
    assert sqs_models.unix_time_millis is original
    with pytest.raises(ValueError):
        clock.advance(-1)
