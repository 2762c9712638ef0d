"""`python -m ops.smoke` against the sandbox: healthy stacks pass, a broken stage is named."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

import ops.targets
from ops import smoke
from ops.probe_filters import matching_probe
from stack_capture import Capture, capture_stack
from tests.ops.conftest import captured
from tests.ops.live_sandbox import live_sandbox

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def lines(out: str) -> dict[tuple[str, str], str]:
    """(pipeline, consumer) -> "STATUS DETAIL", read by the header's column positions."""
    header, *rows = out.strip().splitlines()
    at = [header.index(name) for name in ("CONSUMER", "STATUS", "DETAIL")]
    return {
        (r[: at[0]].strip(), r[at[0] : at[1]].strip()): f"{r[at[1] : at[2]].strip()} {r[at[2] :].strip()}".strip()
        for r in rows
    }


def test_dev_stack_every_consumer_answers(capsys: pytest.CaptureFixture[str]) -> None:
    with live_sandbox(captured("dev")):
        status = smoke.main(["--stack", "dev", "--timeout", "60"])
    out = capsys.readouterr().out
    rows = lines(out)
    assert status == 0, out
    assert set(rows) == {
        ("orders", "billing"), ("orders", "email"), ("orders", "analytics"),
        ("media", "download"), ("media", "thumbnail"), ("media", "publish"), ("email", "consumer"),
    }
    assert all(r.startswith("OK") for r in rows.values()), out


def break_handler(function: str) -> Any:
    """A stack transform: the function's AP_HANDLER names a module that does not exist (a bad deploy)."""

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != "aws:lambda/function:Function" or args.name != f"{function}-function":
            return None
        props: dict[str, Any] = dict(args.props)
        env: dict[str, Any] = dict(props["environment"])
        env["variables"] = {**env["variables"], "AP_HANDLER": "handlers.gone:thumbnail"}
        props["environment"] = env
        return pulumi.ResourceTransformResult(props, args.opts)

    return transform


@pytest.fixture
def broken_stage() -> Iterator[Capture]:
    yield capture_stack("dev", transforms=[break_handler("media-thumbnail")])


def test_a_stage_that_cannot_load_is_named_and_exits_1(
    broken_stage: Capture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ops.targets, "capture_of", lambda stack, project_dir=None: broken_stage)
    with live_sandbox(broken_stage):
        status = smoke.main(["--stack", "dev", "--timeout", "60"])
    out = capsys.readouterr().out
    rows = lines(out)
    assert status == 1, out
    assert rows[("media", "download")].startswith("OK")
    assert rows[("media", "thumbnail")].startswith("FAILED handler: ConfigurationError")
    assert "handlers.gone" in rows[("media", "thumbnail")]
    assert rows[("media", "publish")] == "not reached stopped at thumbnail"
    assert rows[("orders", "billing")].startswith("OK") and rows[("email", "consumer")].startswith("OK")


def test_a_consumer_that_cannot_write_is_found_in_its_queue_or_dlq(monkeypatch: pytest.MonkeyPatch) -> None:
    capture = captured("dev")
    with live_sandbox(capture) as aws:
        aws.dynamodb.delete_table(TableName="ap-dev-email-idempotency")  # e.g. a missing permission
        outputs = {"pipelines": {"email": capture.outputs["pipelines"]["email"]}}
        check = smoke.plan_probes(outputs, lambda topic: {})
        from producer import Producer

        producer = Producer.from_outputs(outputs, clients={"sqs": aws.sqs, "sns": aws.sns, "s3": aws.s3})

        def send(pipeline: str, probe: str, attributes: dict[str, Any], body: dict[str, Any], s3: bool) -> None:
            producer.send_probe(pipeline, probe, body=body, attributes=attributes, through_s3=s3)

        [target] = smoke.run_smoke(check, send, aws.dynamodb, aws.sqs, timeout=15)
    assert (target.status, target.detail) in {
        ("in DLQ", "maxReceiveCount exceeded"),
    } or target.status == "still queued", (target.status, target.detail)


@pytest.mark.parametrize(
    ("policy", "scope", "attributes", "body"),
    [
        ({"type": ["order_created"]}, None, {"type": "order_created"}, {}),
        ({"amount": [{"numeric": [">", 100, "<=", 200]}]}, None, {"amount": 101}, {}),
        ({"region": [{"prefix": "eu-"}], "tier": [{"anything-but": ["free"]}]}, None,
         {"region": "eu-ap-probe", "tier": "ap-probe-0"}, {}),
        ({"customer": {"tier": ["gold"]}}, "MessageBody", {}, {"customer": {"tier": "gold"}}),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, None, {"a": "x"}, {}),
        ({"flag": [{"exists": False}], "k": ["v"]}, None, {"k": "v"}, {}),
    ],
)
def test_probes_are_built_to_pass_filter_policies(
    policy: dict[str, Any], scope: str | None, attributes: dict[str, Any], body: dict[str, Any]
) -> None:
    from moto.sns.utils import FilterPolicyMatcher

    built = matching_probe(policy, scope)
    assert built == (attributes, body)
    matcher = FilterPolicyMatcher(policy, scope or "MessageAttributes")
    wire = {k: {"Type": "Number" if isinstance(v, int) else "String", "Value": str(v)} for k, v in attributes.items()}
    import json

    assert matcher.matches(wire, json.dumps({"ap-probe": "p", **body}))


def test_an_unbuildable_filter_is_reported_as_filtered() -> None:
    assert matching_probe({"ip": [{"cidr": "10.0.0.0/24"}]}, None) is None
    outputs = captured("dev").outputs
    check = smoke.plan_probes(outputs, lambda topic: {
        "ap-dev-orders-billing": ('{"ip": [{"cidr": "10.0.0.0/24"}]}', "MessageAttributes"),
        "ap-dev-orders-email": (None, None),
    })
    status = {(t.pipeline, t.consumer): t.status for t in check.targets}
    assert status[("orders", "billing")] == "filtered"
    assert status[("orders", "analytics")] == "not subscribed"
    assert status[("orders", "email")] == "pending"


def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--stack", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exited:
        smoke.main(["--stack", "dev", "--timeout", "0"])
    assert exited.value.code == 2
    assert "--timeout: 0 is out of range" in capsys.readouterr().err
