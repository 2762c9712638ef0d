"""The Mermaid diagram: every enabled pipeline's nodes and edges, derived from the captured resources."""

from __future__ import annotations

import copy
import itertools
import json

from sandbox.plan import FUNCTION, build_flow_graph, render_mermaid
from stack_capture import capture_stack
from tests.sandbox_plan.conftest import Plan, make_plan, parse_mermaid

SOLID, DOTTED = "-->", "-.->"


def test_dev_has_one_subgraph_per_pipeline_with_its_pattern(dev: Plan) -> None:
    assert {name: d.title for name, d in dev.diagrams.items()} == {
        "email": "email · delayed retry",
        "media": "media · chain",
        "orders": "orders · fan-out",
    }


def test_orders_topic_has_three_subscription_edges_and_billing_filter(dev: Plan) -> None:
    orders = dev.diagrams["orders"]
    subscriptions = orders.out("topic:ap-dev-orders")
    assert sorted((target, label) for _, _, label, target in subscriptions) == [
        ("queue:ap-dev-orders-analytics", ""),
        ("queue:ap-dev-orders-billing", "attributes type: [order_created]"),
        ("queue:ap-dev-orders-email", ""),
    ]
    assert all(arrow == SOLID for _, arrow, _, _ in subscriptions)


def test_every_fanout_queue_feeds_its_consumer_and_dead_letters(dev: Plan) -> None:
    orders = dev.diagrams["orders"]
    expected = {"analytics": ("batch 100 · window 10 s", 2), "billing": ("batch 10", 5), "email": ("batch 10", 5)}
    for sub, (batch, receives) in expected.items():
        queue = f"queue:ap-dev-orders-{sub}"
        assert orders.out(queue, SOLID) == [(queue, SOLID, batch, f"function:ap-dev-orders-{sub}")]
        assert orders.out(queue, DOTTED) == [
            (queue, DOTTED, f"after {receives} receives", f"dlq:ap-dev-orders-{sub}-dlq")
        ]
        function = f"function:ap-dev-orders-{sub}"
        assert orders.out(function) == [(function, DOTTED, "permanent", f"dlq:ap-dev-orders-{sub}-dlq")]


def test_media_chain_is_download_thumbnail_publish(dev: Plan) -> None:
    media = dev.diagrams["media"]
    stages = ["download", "thumbnail", "publish"]
    assert [n for n in media.nodes if n.startswith("queue:")] == [f"queue:ap-dev-media-{s}" for s in stages]
    for stage, successor in itertools.pairwise(stages):
        assert media.out(f"function:ap-dev-media-{stage}", SOLID) == [
            (f"function:ap-dev-media-{stage}", SOLID, "returns", f"queue:ap-dev-media-{successor}")
        ]
    assert media.out("function:ap-dev-media-publish", SOLID) == []
    for stage in stages:
        assert (f"queue:ap-dev-media-{stage}", SOLID, "batch 10", f"function:ap-dev-media-{stage}") in media.edges
        assert (f"queue:ap-dev-media-{stage}", DOTTED, "after 5 receives", f"dlq:ap-dev-media-{stage}-dlq") in (
            media.edges
        )


def test_email_retry_goes_through_30_s_then_300_s_tiers(dev: Plan) -> None:
    email = dev.diagrams["email"]
    function = "function:ap-dev-email"
    assert email.out(function, SOLID) == [
        (function, SOLID, "retry 1 · delay 30 s", "queue:ap-dev-email-retry-1"),
        (function, SOLID, "retry 2 · delay 300 s", "queue:ap-dev-email-retry-2"),
    ]
    assert email.labels["queue:ap-dev-email-retry-1"].endswith("delay 30 s")
    assert email.labels["queue:ap-dev-email-retry-2"].endswith("delay 300 s")
    for queue in ("queue:ap-dev-email", "queue:ap-dev-email-retry-1", "queue:ap-dev-email-retry-2"):
        assert email.out(queue) == [
            (queue, SOLID, "batch 10", function),
            (queue, DOTTED, "after 5 receives", "dlq:ap-dev-email-dlq"),
        ]
    assert email.out(function, DOTTED) == [(function, DOTTED, "permanent, retries exhausted", "dlq:ap-dev-email-dlq")]
    # The tier queues appear in the diagram in tier order, after the main queue and the function.
    assert email.nodes.index("queue:ap-dev-email") < email.nodes.index("function:ap-dev-email")
    assert email.nodes.index("queue:ap-dev-email-retry-1") < email.nodes.index("queue:ap-dev-email-retry-2")


def test_disabled_pipeline_is_absent_and_enabled_ones_present(prod: Plan) -> None:
    assert set(prod.diagrams) == {"email", "ledger", "orders"}
    assert "media" not in prod.mermaid
    assert "media" not in prod.tree
    ledger = prod.diagrams["ledger"]
    assert ledger.labels["queue:ap-prod-ledger.fifo"] == "ap-prod-ledger.fifo<br/>SQS queue · FIFO"
    assert [e[2] for e in ledger.out("function:ap-prod-ledger", SOLID)] == [
        "retry 1 · delay 60 s",
        "retry 2 · delay 600 s",
    ]


def test_dlqs_are_styled(dev: Plan) -> None:
    class_line = next(line for line in dev.mermaid.splitlines() if line.strip().startswith("class "))
    assert class_line.split()[1].split(",") == sorted(
        ["q_email_dlq", "q_media_download_dlq", "q_media_publish_dlq", "q_media_thumbnail_dlq",
         "q_orders_analytics_dlq", "q_orders_billing_dlq", "q_orders_email_dlq"]
    )


def test_a_longer_chain_from_config_is_followed_stage_by_stage() -> None:
    stages = [{"name": f"s{i}", "handler": "handlers.media:thumbnail"} for i in range(1, 6)]
    capture = capture_stack(
        "dev", {"async-pipelines:pipelines": {"long": {"pattern": "chain", "stages": stages}}}
    )
    long = make_plan(capture).diagrams
    assert list(long) == ["long"]
    hops = [(src, dst) for src, arrow, label, dst in long["long"].edges if label == "returns"]
    assert hops == [(f"function:ap-dev-long-s{i}", f"queue:ap-dev-long-s{i + 1}") for i in range(1, 5)]


def test_edges_come_from_the_function_environment(dev: Plan) -> None:
    """Re-point the download stage at the publish queue in the captured env: the diagram follows."""
    capture = copy.deepcopy(dev.capture)
    download = capture.named(FUNCTION, "media-download-function")
    publish_url = capture.named("aws:sqs/queue:Queue", "media-publish").outputs["url"]
    download.inputs["environment"]["variables"]["AP_NEXT_QUEUE_URL"] = publish_url
    email = capture.named(FUNCTION, "email-function")
    tiers = json.loads(email.inputs["environment"]["variables"]["AP_RETRY_TIERS"])
    email.inputs["environment"]["variables"]["AP_RETRY_TIERS"] = json.dumps(tiers[::-1])
    diagrams = parse_mermaid(render_mermaid(build_flow_graph(capture)))
    assert diagrams["media"].out("function:ap-dev-media-download", SOLID) == [
        ("function:ap-dev-media-download", SOLID, "returns", "queue:ap-dev-media-publish")
    ]
    assert [e[3] for e in diagrams["email"].out("function:ap-dev-email", SOLID)] == [
        "queue:ap-dev-email-retry-2",
        "queue:ap-dev-email-retry-1",
    ]


def test_redrive_falls_back_to_the_dead_letter_target_arn(dev: Plan) -> None:
    """Without property dependencies (e.g. a plain-string policy), the ARN in redrivePolicy still resolves."""
    capture = copy.deepcopy(dev.capture)
    for r in capture.resources:
        r.property_dependencies = {}
    assert parse_mermaid(render_mermaid(build_flow_graph(capture))) == dev.diagrams


def test_plan_is_deterministic_across_captures(dev: Plan) -> None:
    again = make_plan(capture_stack("dev"))
    assert again.mermaid == dev.mermaid
    assert again.tree == dev.tree
