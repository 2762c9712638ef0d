"""The resource tree: built from captured parent URNs, one line per resource with its key settings."""

from __future__ import annotations

import re

from tests.sandbox_plan.conftest import Plan

LINE_RE = re.compile(r"^((?:│  |   )*)(?:├─ |└─ )(\S+) (\S+)(?:  (.*))?$")


def parse_tree(tree: str) -> dict[tuple[str, str], tuple[int, tuple[str, str] | None, str]]:
    """(type, name) → (depth, parent (type, name), settings)."""
    lines = tree.splitlines()
    assert lines[0].startswith("stack "), lines[0]
    nodes: dict[tuple[str, str], tuple[int, tuple[str, str] | None, str]] = {}
    stack: list[tuple[str, str]] = []
    for line in lines[1:]:
        m = LINE_RE.match(line)
        assert m, f"unparsed tree line: {line!r}"
        depth = len(m.group(1)) // 3
        key = (m.group(2), m.group(3))
        del stack[depth:]
        assert key not in nodes, f"{key} listed twice"
        nodes[key] = (depth, stack[-1] if stack else None, m.group(4) or "")
        stack.append(key)
    return nodes


def test_every_captured_resource_appears_once_under_its_parent(dev: Plan) -> None:
    nodes = parse_tree(dev.tree)
    assert len(nodes) == len(dev.capture.resources)
    by_urn = {r.urn: r for r in dev.capture.resources}

    def key_of(urn: str) -> tuple[str, str]:
        r = by_urn[urn]
        [key] = [k for k in nodes if k[1] == r.name and k[0].split(":")[-1] == r.type.split(":")[-1]]
        return key

    for r in dev.capture.resources:
        expected_parent = key_of(r.parent) if r.parent in by_urn else None
        assert nodes[key_of(r.urn)][1] == expected_parent, r.urn


def test_nesting_follows_components(dev: Plan) -> None:
    nodes = parse_tree(dev.tree)
    assert nodes[("FanOut", "orders")][:2] == (0, None)
    assert nodes[("DeadLetteredQueue", "orders-billing")][:2] == (1, ("FanOut", "orders"))
    assert nodes[("sqs:Queue", "orders-billing-dlq")][:2] == (2, ("DeadLetteredQueue", "orders-billing"))
    assert nodes[("lambda:Function", "email-function")][:2] == (2, ("Consumer", "email"))
    assert nodes[("s3:BucketPolicy", "results-policy")][:2] == (1, ("s3:Bucket", "results"))


def test_chain_stages_are_listed_in_flow_order(dev: Plan) -> None:
    order = [line.split()[-1] for line in dev.tree.splitlines() if re.search(r"─ Consumer media-", line)]
    assert order == ["media-download", "media-thumbnail", "media-publish"]


def test_key_settings(dev: Plan, prod: Plan) -> None:
    nodes = parse_tree(dev.tree)

    def settings(type_: str, name: str) -> str:
        return nodes[(type_, name)][2]

    assert settings("sqs:Queue", "orders-billing") == (
        "ap-dev-orders-billing · standard · visibility 180 s · retention 4 d · delay 0 s · "
        "maxReceiveCount 5 → DLQ orders-billing-dlq"
    )
    assert "visibility 190 s" in settings("sqs:Queue", "orders-analytics")  # 6 × 30 + window 10
    assert "visibility 720 s" in settings("sqs:Queue", "media-download")  # 6 × 120
    assert "retention 14 d" in settings("sqs:Queue", "orders-billing-dlq")
    assert settings("sqs:Queue", "email-dlq").endswith("DLQ of email, email-retry-1, email-retry-2")
    assert "delay 300 s" in settings("sqs:Queue", "email-retry-2")
    assert settings("lambda:Function", "orders-billing-function").startswith(
        "ap-dev-orders-billing · handler handlers.orders:bill · timeout 30 s · memory 256 MB"
    )
    assert "timeout 120 s" in settings("lambda:Function", "media-download-function")
    assert "next → media-thumbnail" in settings("lambda:Function", "media-download-function")
    assert "retry → email-retry-1 (delay 30 s), email-retry-2 (delay 300 s)" in settings(
        "lambda:Function", "email-function"
    )
    assert settings("lambda:EventSourceMapping", "orders-analytics-main-mapping") == (
        "orders-analytics → orders-analytics-function · batch 100 · window 10 s · partial batch failures"
    )
    assert settings("sns:TopicSubscription", "orders-billing-subscription") == (
        "sqs → orders-billing · filter (MessageAttributes) type: [order_created] · raw delivery"
    )
    assert settings("sns:TopicSubscription", "orders-email-subscription").startswith("sqs → orders-email · no filter")
    assert settings("cloudwatch:MetricAlarm", "orders-billing-dlq-visible").startswith(
        "AWS/SQS ApproximateNumberOfMessagesVisible(ap-dev-orders-billing-dlq) Maximum > 0"
    )
    assert settings("cloudwatch:MetricAlarm", "email-age").startswith(
        "AWS/SQS ApproximateAgeOfOldestMessage(ap-dev-email) Maximum > 300 · 3 × 60 s"
    )
    prod_nodes = parse_tree(prod.tree)
    assert "max concurrency 50" in prod_nodes[("lambda:EventSourceMapping", "orders-billing-main-mapping")][2]
    assert "FIFO" in prod_nodes[("sqs:Queue", "ledger-dlq")][2]


def test_email_endpoints_are_masked(prod: Plan) -> None:
    nodes = parse_tree(prod.tree)
    assert nodes[("sns:TopicSubscription", "alarms-email")][2].startswith("email → …@example.com")
    assert "oncall@" not in prod.tree
