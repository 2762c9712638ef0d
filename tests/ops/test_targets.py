"""Stack outputs → DLQ / redrive-destination pairs, from the real program's outputs."""

from __future__ import annotations

import pytest

from ops.targets import TargetError, dlq_targets, load_targets, queue_name
from stack_capture import PipelineOutputs
from stack_capture.stack_errors import StackUnreadable

from .conftest import captured


def test_dev_has_one_dlq_per_consumer_and_one_per_retry_pipeline() -> None:
    targets = load_targets("dev")
    assert targets.region == "us-east-1"
    pairs = {(t.label, t.dlq_name, t.source_name) for t in targets.targets}
    assert pairs == {
        ("email/dlq", "ap-dev-email-dlq", "ap-dev-email"),
        ("media/download", "ap-dev-media-download-dlq", "ap-dev-media-download"),
        ("media/thumbnail", "ap-dev-media-thumbnail-dlq", "ap-dev-media-thumbnail"),
        ("media/publish", "ap-dev-media-publish-dlq", "ap-dev-media-publish"),
        ("orders/billing", "ap-dev-orders-billing-dlq", "ap-dev-orders-billing"),
        ("orders/email", "ap-dev-orders-email-dlq", "ap-dev-orders-email"),
        ("orders/analytics", "ap-dev-orders-analytics-dlq", "ap-dev-orders-analytics"),
    }
    assert not any(t.fifo for t in targets.targets)


def test_retry_pipeline_redrives_to_its_main_queue_not_a_tier() -> None:
    (target,) = load_targets("prod", "ledger").targets
    assert target.pattern == "retry"
    assert target.dlq_name == "ap-prod-ledger-dlq.fifo"
    assert target.source_name == "ap-prod-ledger.fifo"
    assert target.fifo
    # the DLQ really does have the tiers as sources too: the choice matters
    policies = [r.inputs.get("redrivePolicy") or "" for r in captured("prod").of_type("aws:sqs/queue:Queue")]
    assert sum("ap-prod-ledger-dlq.fifo" in p for p in policies) == 3


def test_pipeline_and_consumer_narrow_the_selection() -> None:
    assert [t.label for t in load_targets("dev", "media").targets] == [
        "media/download",
        "media/thumbnail",
        "media/publish",
    ]
    assert [t.label for t in load_targets("dev", "orders", "email").targets] == ["orders/email"]


@pytest.mark.parametrize(
    ("stack", "pipeline", "consumer", "message"),
    [
        ("dev", "payments", None, "unknown pipeline 'payments' in stack 'dev' (pipelines: email, media, orders)"),
        ("prod", "media", None, "pipeline 'media' is disabled in stack 'prod' (enabled: false): it has no queues"),
        (
            "dev",
            "orders",
            "shipping",
            "unknown consumer 'shipping' in pipeline 'orders' (DLQs: billing, email, analytics)",
        ),
        ("dev", "email", "consumer", "unknown consumer 'consumer' in pipeline 'email' (DLQs: dlq)"),
        ("dev", None, "billing", "--consumer needs --pipeline"),
    ],
)
def test_bad_names_say_what_exists(stack: str, pipeline: str | None, consumer: str | None, message: str) -> None:
    with pytest.raises(TargetError) as raised:
        load_targets(stack, pipeline, consumer)
    assert str(raised.value) == message


def test_an_unknown_stack_is_unreadable_with_the_stacks_there_are() -> None:
    with pytest.raises(StackUnreadable) as raised:
        load_targets("nope")
    assert raised.value.lines == ["error: unknown stack 'nope': no tests/stacks/Pulumi.nope.yaml (stacks: dev, prod)"]


def test_fanout_without_a_source_queue_is_an_error_not_a_guess() -> None:
    outputs = PipelineOutputs("p", "fanout", "arn:aws:sns:x:1:t", {}, {"a": "https://x/1/ap-p-a-dlq"})
    with pytest.raises(TargetError, match="no source queue for DLQ 'a'"):
        dlq_targets({"p": outputs}, stack="s")


def test_queue_name_is_the_last_url_segment() -> None:
    assert queue_name("https://sqs.eu-west-1.amazonaws.com/123456789012/ap-prod-ledger.fifo/") == "ap-prod-ledger.fifo"
