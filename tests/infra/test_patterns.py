"""The three patterns, run through the real program under mocks and checked on what they register."""

from __future__ import annotations

import json

import pulumi
import pytest

from stack_capture import Capture
from tests.infra.builders import capture_pipelines, statements

Q = "aws:sqs/queue:Queue"
QP = "aws:sqs/queuePolicy:QueuePolicy"
SUB = "aws:sns/topicSubscription:TopicSubscription"
FN = "aws:lambda/function:Function"
ESM = "aws:lambda/eventSourceMapping:EventSourceMapping"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

FANOUT = {
    "orders": {
        "pattern": "fanout",
        "subscribers": {
            "billing": {"handler": "handlers.orders:bill", "filter": {"type": ["order_created"]}},
            "email": {
                "handler": "handlers.notify:send",
                "filter": {"customer": {"tier": ["gold"]}},
                "filterScope": "MessageBody",
            },
            "analytics": {"handler": "handlers.analytics:record", "batchSize": 100, "batchWindow": 10},
        },
    }
}
CHAIN = {
    "media": {
        "pattern": "chain",
        "stages": [
            {"name": "download", "handler": "handlers.media:download", "timeout": 120},
            {"name": "thumbnail", "handler": "handlers.media:thumbnail"},
            {"name": "publish", "handler": "handlers.media:publish", "results": True},
        ],
    }
}
RETRY = {"email": {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}, {"delay": 300}]}}


def queue(c: Capture, name: str) -> dict:
    return next(r.outputs for r in c.of_type(Q) if r.outputs["name"] == name)


def env(c: Capture, function_name: str) -> dict:
    return next(r.inputs["environment"]["variables"] for r in c.of_type(FN) if r.inputs["name"] == function_name)


def role_policy_for(c: Capture, function_name: str) -> list[dict]:
    fn = next(r for r in c.of_type(FN) if r.inputs["name"] == function_name)
    return statements(
        next(
            r.inputs["policy"]
            for r in c.resources
            if r.type == "aws:iam/rolePolicy:RolePolicy" and r.parent == fn.parent
        )
    )


def policies_of(c: Capture, queue_url: str) -> list[dict]:
    return [json.loads(r.inputs["policy"]) for r in c.of_type(QP) if r.inputs["queueUrl"] == queue_url]


# --- fan-out ------------------------------------------------------------------------------


def test_fanout_topic_is_encrypted_and_tls_only():
    c = capture_pipelines(FANOUT)
    topic = next(r for r in c.of_type("aws:sns/topic:Topic") if r.inputs["name"] == "ap-test-orders")
    assert topic.inputs["kmsMasterKeyId"] == "alias/aws/sns"
    (policy,) = [r for r in c.of_type("aws:sns/topicPolicy:TopicPolicy") if r.inputs["arn"] == topic.outputs["arn"]]
    (deny,) = statements(policy.inputs["policy"])
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_fanout_subscribes_each_queue_raw_with_its_filter_and_dlq():
    c = capture_pipelines(FANOUT)
    topic_arn = c.outputs["pipelines"]["orders"]["entry"]
    subs = {r.inputs["endpoint"]: r.inputs for r in c.of_type(SUB)}
    assert len(subs) == 3
    billing = subs[queue(c, "ap-test-orders-billing")["arn"]]
    email = subs[queue(c, "ap-test-orders-email")["arn"]]
    analytics = subs[queue(c, "ap-test-orders-analytics")["arn"]]
    for s in (billing, email, analytics):
        assert s["topic"] == topic_arn and s["protocol"] == "sqs" and s["rawMessageDelivery"] is True
    assert json.loads(billing["filterPolicy"]) == {"type": ["order_created"]}
    assert billing["filterPolicyScope"] == "MessageAttributes"
    assert json.loads(email["filterPolicy"]) == {"customer": {"tier": ["gold"]}}
    assert email["filterPolicyScope"] == "MessageBody"
    assert "filterPolicy" not in analytics
    assert json.loads(billing["redrivePolicy"]) == {
        "deadLetterTargetArn": queue(c, "ap-test-orders-billing-dlq")["arn"]
    }


def test_fanout_every_queue_has_one_policy_merging_tls_deny_and_topic_grant():
    c = capture_pipelines(FANOUT)
    topic_arn = c.outputs["pipelines"]["orders"]["entry"]
    for name in ("billing", "email", "analytics"):
        for q in (f"ap-test-orders-{name}", f"ap-test-orders-{name}-dlq"):
            (policy,) = policies_of(c, queue(c, q)["url"])
            assert policy["Version"] == "2012-10-17"
            deny, allow = policy["Statement"]
            assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
            assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": [topic_arn]}}
            assert allow["Resource"] == queue(c, q)["arn"]


def test_fanout_consumer_per_subscriber_with_its_batching():
    c = capture_pipelines(FANOUT)
    assert sorted(r.inputs["name"] for r in c.of_type(FN)) == [
        "ap-test-orders-analytics",
        "ap-test-orders-billing",
        "ap-test-orders-email",
    ]
    analytics = next(r.inputs for r in c.of_type(ESM) if r.inputs["eventSourceArn"].endswith("analytics"))
    assert (analytics["batchSize"], analytics["maximumBatchingWindowInSeconds"]) == (100, 10)
    assert analytics["functionResponseTypes"] == ["ReportBatchItemFailures"]


def test_fifo_fanout_uses_fifo_topic_and_queues():
    c = capture_pipelines(
        {
            "orders": {
                **FANOUT["orders"],
                "fifo": True,
                "subscribers": {"billing": {"handler": "handlers.orders:bill", "filter": {"type": ["order_created"]}}},
            }
        }
    )
    topic = next(r.inputs for r in c.of_type("aws:sns/topic:Topic") if r.inputs["name"].startswith("ap-test-orders"))
    assert topic["name"] == "ap-test-orders.fifo" and topic["fifoTopic"] is True
    assert queue(c, "ap-test-orders-billing.fifo")["fifoQueue"] is True
    assert queue(c, "ap-test-orders-billing-dlq.fifo")["fifoQueue"] is True


# --- chain --------------------------------------------------------------------------------


def test_chain_stage_forwards_only_to_the_next_queue_and_its_own_dlq():
    c = capture_pipelines(CHAIN)
    names = ["download", "thumbnail", "publish"]
    for i, stage in enumerate(names):
        e = env(c, f"ap-test-media-{stage}")
        sends = next(s for s in role_policy_for(c, f"ap-test-media-{stage}") if s["Sid"] == "SendToDlqAndNextQueues")
        own_dlq = queue(c, f"ap-test-media-{stage}-dlq")
        assert e["AP_DLQ_URL"] == own_dlq["url"]
        if i + 1 < len(names):
            nxt = queue(c, f"ap-test-media-{names[i + 1]}")
            assert e["AP_NEXT_QUEUE_URL"] == nxt["url"]
            assert set(sends["Resource"]) == {own_dlq["arn"], nxt["arn"]}
        else:
            assert "AP_NEXT_QUEUE_URL" not in e
            assert sends["Resource"] == [own_dlq["arn"]]


def test_chain_every_stage_has_its_own_dlq_and_timeout_driven_visibility():
    c = capture_pipelines(CHAIN)
    download = queue(c, "ap-test-media-download")
    assert download["visibilityTimeoutSeconds"] == 720, "6 x 120 s"
    for stage in ("download", "thumbnail", "publish"):
        redrive = json.loads(queue(c, f"ap-test-media-{stage}")["redrivePolicy"])
        assert redrive == {"deadLetterTargetArn": queue(c, f"ap-test-media-{stage}-dlq")["arn"], "maxReceiveCount": 5}


def test_chain_results_stage_gets_the_bucket_prefix_only():
    c = capture_pipelines(CHAIN)
    publish = role_policy_for(c, "ap-test-media-publish")
    (write,) = [s for s in publish if s["Sid"] == "WriteResults"]
    assert write["Action"] == ["s3:PutObject"]
    bucket = c.outputs["resultsBucket"]
    assert write["Resource"] == f"arn:aws:s3:::{bucket}/media/publish/*"
    assert env(c, "ap-test-media-publish")["AP_RESULTS_BUCKET"] == bucket
    assert all(s["Sid"] != "WriteResults" for s in role_policy_for(c, "ap-test-media-download"))


# --- delayed retry ------------------------------------------------------------------------


def test_retry_tiers_have_their_delays_and_all_redrive_to_one_dlq():
    c = capture_pipelines(RETRY)
    dlq = queue(c, "ap-test-email-dlq")
    delays = [queue(c, n)["delaySeconds"] for n in ("ap-test-email", "ap-test-email-retry-1", "ap-test-email-retry-2")]
    assert delays == [0, 30, 300]
    for n in ("ap-test-email", "ap-test-email-retry-1", "ap-test-email-retry-2"):
        assert json.loads(queue(c, n)["redrivePolicy"])["deadLetterTargetArn"] == dlq["arn"]
    (allow,) = c.of_type("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy")
    assert json.loads(allow.inputs["redriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [
            queue(c, n)["arn"] for n in ("ap-test-email", "ap-test-email-retry-1", "ap-test-email-retry-2")
        ],
    }


def test_retry_consumer_reads_main_and_tiers_and_escalates_in_order():
    c = capture_pipelines(RETRY)
    assert len(c.of_type(FN)) == 1
    sources = sorted(r.inputs["eventSourceArn"] for r in c.of_type(ESM))
    assert sources == sorted(
        queue(c, n)["arn"] for n in ("ap-test-email", "ap-test-email-retry-1", "ap-test-email-retry-2")
    )
    tiers = json.loads(env(c, "ap-test-email")["AP_RETRY_TIERS"])
    assert tiers == [
        {"url": queue(c, "ap-test-email-retry-1")["url"], "delay": 30},
        {"url": queue(c, "ap-test-email-retry-2")["url"], "delay": 300},
    ]


def test_fifo_retry_uses_queue_level_delay_on_fifo_tiers():
    c = capture_pipelines({"email": {**RETRY["email"], "fifo": True}})
    tier = queue(c, "ap-test-email-retry-2.fifo")
    assert tier["fifoQueue"] is True and tier["delaySeconds"] == 300
    assert queue(c, "ap-test-email-dlq.fifo")["fifoQueue"] is True
    assert "maximumBatchingWindowInSeconds" not in c.of_type(ESM)[0].inputs


# --- across patterns ----------------------------------------------------------------------


def test_every_dlq_alarms_on_visible_messages_to_the_alarm_topic():
    c = capture_pipelines({**FANOUT, **CHAIN, **RETRY})
    alarm_topic = c.outputs["alarmTopicArn"]
    dlqs = [r.outputs["name"] for r in c.of_type(Q) if "-dlq" in r.outputs["name"]]
    assert len(dlqs) == 7
    for dlq in dlqs:
        (alarm,) = [
            a.inputs
            for a in c.of_type(ALARM)
            if a.inputs["dimensions"] == {"QueueName": dlq}
            and a.inputs["metricName"] == "ApproximateNumberOfMessagesVisible"
        ]
        assert alarm["namespace"] == "AWS/SQS" and alarm["threshold"] == 0
        assert alarm["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm["treatMissingData"] == "notBreaching"
    assert all(a.inputs["alarmActions"] == [alarm_topic] for a in c.of_type(ALARM))
    functions = [r.inputs["name"] for r in c.of_type(FN)]
    for metric in ("Errors", "Throttles"):
        assert sorted(
            a.inputs["dimensions"]["FunctionName"] for a in c.of_type(ALARM) if a.inputs["metricName"] == metric
        ) == sorted(functions)


def test_alarm_topic_is_kms_encrypted_for_cloudwatch_and_emails_when_configured():
    c = capture_pipelines(RETRY, alarmEmail="ops@example.com")
    key = c.of_type("aws:kms/key:Key")[0]
    topic = next(r for r in c.of_type("aws:sns/topic:Topic") if r.inputs["name"] == "ap-test-alarms")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements(key.inputs["policy"]))
    (email,) = [r.inputs for r in c.of_type(SUB) if r.inputs["protocol"] == "email"]
    assert email["endpoint"] == "ops@example.com"
    assert not [r for r in capture_pipelines(RETRY).of_type(SUB) if r.inputs["protocol"] == "email"]


def test_disabled_pipeline_registers_nothing():
    enabled = capture_pipelines({**RETRY, **CHAIN})
    disabled = capture_pipelines({**RETRY, "media": {**CHAIN["media"], "enabled": False}})
    assert any("media" in r.name for r in enabled.resources)
    assert not [r for r in disabled.resources if "media" in r.name]
    assert "media" not in disabled.outputs["pipelines"]
    assert not disabled.of_type("aws:s3/bucket:Bucket"), "no consumer writes results any more"


def test_bad_config_fails_before_any_resource_is_registered():
    with pytest.raises(pulumi.RunError) as info:
        capture_pipelines(
            {
                **RETRY,
                "broken": {"pattern": "fanout", "subscribers": {"x": {"handler": "nope"}}},
                "other": {"pattern": "queue"},
            }
        )
    message = str(info.value)
    assert "pipelines.broken.subscribers.x.handler" in message
    assert "pipelines.other.pattern: 'queue' is not a pattern; allowed fanout, chain, retry" in message
    assert info.value.captured_resources == []  # type: ignore[attr-defined]


def test_stack_dashboard_has_a_row_per_pipeline_with_every_queue_dlq_and_function():
    c = capture_pipelines({**FANOUT, **RETRY})
    (dashboard,) = c.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["dashboardName"] == "ap-test" == c.outputs["dashboard"]
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    assert [w["properties"]["title"] for w in widgets] == [
        f"{p}: {t}"
        for p in ("orders", "email")
        for t in (
            "visible messages",
            "age of oldest message (s)",
            "dead-lettered messages",
            "function errors and throttles",
        )
    ]
    dlq_widget = widgets[6]["properties"]["metrics"]
    assert dlq_widget == [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "ap-test-email-dlq"]]
    email_queues = {m[3] for m in widgets[4]["properties"]["metrics"]}
    assert email_queues == {"ap-test-email", "ap-test-email-retry-1", "ap-test-email-retry-2"}
    functions = {m[3] for m in widgets[3]["properties"]["metrics"]}
    assert functions == {"ap-test-orders-billing", "ap-test-orders-email", "ap-test-orders-analytics"}
