"""SQS queue policies: redrive, maxReceiveCount, DLQ retention, SSE, queue policies."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import EnforcementLevel

from policy.guardrails import evaluate
from policy.guardrails.model import EVENT_SOURCE_MAPPING, QUEUE_POLICY, REDRIVE_ALLOW_POLICY, REDRIVE_POLICY


def test_compliant_stack_passes_every_policy(stack, crossguard):
    assert crossguard.run(stack.resources) == []
    assert evaluate(stack.resources) == []


# --- sqs-queue-has-redrive-policy -------------------------------------------------------------------

REDRIVE = "sqs-queue-has-redrive-policy"


def _redrive(stack, name="orders-billing-queue"):
    return json.loads(stack.props(name)["redrivePolicy"])


def test_queue_without_redrive_policy(stack, crossguard):
    del stack.props("orders-billing-queue")["redrivePolicy"]
    del stack["orders-billing-queue"]["property_dependencies"]["redrivePolicy"]

    messages = crossguard.messages(REDRIVE, stack)
    # Nothing redrives into the old DLQ any more either, so both queues are reported.
    assert len(messages) == 2
    queue_msg = next(m for m in messages if '"orders-billing-queue"' in m)
    assert queue_msg.startswith('SQS queue "orders-billing-queue" has no redrive policy')
    assert "not the dead-letter queue of any other queue" in queue_msg
    assert "dead-letter queue of the same type (standard)" in queue_msg
    assert '"maxReceiveCount": 5' in queue_msg


def test_dlq_itself_needs_no_redrive_policy(stack, crossguard):
    assert "redrivePolicy" not in stack.props("orders-billing-dlq")
    assert crossguard.messages(REDRIVE, stack) == []


def test_dlq_of_other_type_is_reported(stack, crossguard):
    stack.props("orders-billing-queue").update(fifoQueue=True, name="orders-billing.fifo")
    [message] = crossguard.messages(REDRIVE, stack)
    assert message.startswith(
        'SQS queue "orders-billing-queue" is a FIFO queue but its dead-letter queue '
        'SQS queue "orders-billing-dlq" is standard'
    )
    assert "AWS requires a DLQ of the same type" in message
    assert "Fix: make the DLQ FIFO (fifoQueue=True, name ending in .fifo)" in message


def test_fifo_pair_passes(stack, crossguard):
    stack.add_subscriber("audit", fifo=True)
    assert crossguard.messages(REDRIVE, stack) == []


def test_target_outside_the_stack(stack, crossguard):
    policy = _redrive(stack)
    policy["deadLetterTargetArn"] = stack.queue_arn("somebody-elses-dlq")
    stack.props("orders-billing-queue")["redrivePolicy"] = json.dumps(policy)
    del stack["orders-billing-queue"]["property_dependencies"]["redrivePolicy"]

    messages = crossguard.messages(REDRIVE, stack)
    assert any(
        "redrivePolicy targets arn:aws:sqs:us-east-1:123456789012:somebody-elses-dlq, "
        "which is not a queue of this stack" in m
        for m in messages
    )


def test_target_found_by_arn_without_property_dependencies(stack, crossguard):
    del stack["orders-billing-queue"]["property_dependencies"]["redrivePolicy"]
    assert crossguard.messages(REDRIVE, stack) == []


def test_redrive_policy_that_is_not_json(stack, crossguard):
    stack.props("orders-billing-queue")["redrivePolicy"] = "{deadLetterTargetArn: oops"
    [message] = crossguard.messages(REDRIVE, stack)
    assert message.startswith('SQS queue "orders-billing-queue": redrivePolicy is not valid JSON')


def test_redrive_policy_without_target(stack, crossguard):
    stack.props("orders-billing-queue")["redrivePolicy"] = json.dumps({"maxReceiveCount": 3})
    del stack["orders-billing-queue"]["property_dependencies"]["redrivePolicy"]
    messages = crossguard.messages(REDRIVE, stack)
    assert any(
        m.startswith('SQS queue "orders-billing-queue": redrivePolicy has no deadLetterTargetArn') for m in messages
    )


def test_separate_redrive_policy_resource_counts(stack, crossguard):
    queue = stack.props("orders-billing-queue")
    redrive = queue.pop("redrivePolicy")
    del stack["orders-billing-queue"]["property_dependencies"]["redrivePolicy"]
    stack.add(
        REDRIVE_POLICY,
        "orders-billing-redrive",
        {"queueUrl": queue["url"], "redrivePolicy": redrive},
        {"queueUrl": ["orders-billing-queue"], "redrivePolicy": ["orders-billing-dlq"]},
    )
    assert crossguard.messages(REDRIVE, stack) == []

    stack.props("orders-billing-dlq")["fifoQueue"] = True
    [message] = crossguard.messages(REDRIVE, stack)
    assert message.startswith(
        'SQS queue "orders-billing-queue" (redrive set by SQS redrive policy "orders-billing-redrive") '
        "is a standard queue but its dead-letter queue"
    )


# --- sqs-redrive-max-receive-count ------------------------------------------------------------------

MAX_RECEIVE = "sqs-redrive-max-receive-count"


@pytest.mark.parametrize("count", [1, 3, 1000, "5"])
def test_max_receive_count_in_range(stack, crossguard, count):
    policy = _redrive(stack) | {"maxReceiveCount": count}
    stack.props("orders-billing-queue")["redrivePolicy"] = json.dumps(policy)
    assert crossguard.messages(MAX_RECEIVE, stack) == []


@pytest.mark.parametrize(("count", "shown"), [(0, "0"), (1001, "1001"), (2.5, "2.5")])
def test_max_receive_count_out_of_range(stack, crossguard, count, shown):
    policy = _redrive(stack) | {"maxReceiveCount": count}
    stack.props("orders-billing-queue")["redrivePolicy"] = json.dumps(policy)
    [message] = crossguard.messages(MAX_RECEIVE, stack)
    assert message.startswith(
        f'SQS queue "orders-billing-queue": redrivePolicy maxReceiveCount is {shown}, outside 1-1000'
    )
    assert "Fix: use a whole number from 1 to 1000" in message


def test_max_receive_count_missing(stack, crossguard):
    policy = _redrive(stack)
    del policy["maxReceiveCount"]
    stack.props("orders-billing-queue")["redrivePolicy"] = json.dumps(policy)
    [message] = crossguard.messages(MAX_RECEIVE, stack)
    assert message.startswith('SQS queue "orders-billing-queue": redrivePolicy has no maxReceiveCount')


# --- sqs-dlq-retention-covers-source ----------------------------------------------------------------

RETENTION = "sqs-dlq-retention-covers-source"


def test_dlq_retention_shorter_than_source(stack, crossguard):
    stack.props("orders-billing-dlq")["messageRetentionSeconds"] = 60
    [message] = crossguard.messages(RETENTION, stack)
    assert message.startswith(
        'SQS queue "orders-billing-dlq" keeps messages 60 s, less than its source '
        'SQS queue "orders-billing-queue" (345600 s)'
    )
    assert "messageRetentionSeconds to at least 345600" in message


def test_dlq_retention_defaults_are_equal_and_pass(stack, crossguard):
    del stack.props("orders-billing-dlq")["messageRetentionSeconds"]
    del stack.props("orders-billing-queue")["messageRetentionSeconds"]
    assert crossguard.messages(RETENTION, stack) == []


def test_dlq_default_retention_below_longer_source(stack, crossguard):
    del stack.props("orders-billing-dlq")["messageRetentionSeconds"]
    stack.props("orders-billing-queue")["messageRetentionSeconds"] = 1_209_600
    [message] = crossguard.messages(RETENTION, stack)
    assert "keeps messages 345600 s, less than its source" in message


# --- sqs-queue-encrypted ----------------------------------------------------------------------------

SSE = "sqs-queue-encrypted"


def test_queue_without_explicit_sse(stack, crossguard):
    """Issue 13 case 8: AWS encrypts new queues by default since 2022; the message must not claim otherwise."""
    stack.props("orders-billing-queue").pop("sqsManagedSseEnabled")
    [message] = crossguard.messages(SSE, stack)
    assert message.startswith(
        'SQS queue "orders-billing-queue": SSE not set explicitly (AWS applies SSE-SQS by default since 2022'
    )
    assert "not encrypted at rest" not in message
    assert "Fix: set sqsManagedSseEnabled=True" in message


def test_queue_with_sse_disabled(stack, crossguard):
    stack.props("orders-billing-queue")["sqsManagedSseEnabled"] = False
    [message] = crossguard.messages(SSE, stack)
    assert message.startswith('SQS queue "orders-billing-queue" has SSE explicitly disabled')


def test_queue_with_kms_key_passes(stack, crossguard):
    props = stack.props("orders-billing-queue")
    props.pop("sqsManagedSseEnabled")
    props["kmsMasterKeyId"] = "alias/ap-dev"
    assert crossguard.messages(SSE, stack) == []


# --- sqs-queue-policy-denies-insecure-transport -----------------------------------------------------

SSL = "sqs-queue-policy-denies-insecure-transport"


def _statements(stack, name):
    return stack.policy_doc(name)["Statement"]


def test_queue_policy_without_tls_deny(stack, crossguard):
    statements = [s for s in _statements(stack, "orders-billing-queue-policy") if s["Effect"] == "Allow"]
    stack.set_policy("orders-billing-queue-policy", *statements)
    [message] = crossguard.messages(SSL, stack)
    assert message.startswith(
        'SQS queue policy "orders-billing-queue-policy" does not deny requests made without TLS'
    )
    assert '"Condition": {"Bool": {"aws:SecureTransport": "false"}}' in message


@pytest.mark.parametrize(
    "change",
    [
        {"Action": "sqs:SendMessage"},  # does not cover every action
        {"Principal": {"AWS": "arn:aws:iam::123456789012:root"}},  # not everyone
        {"Condition": {"Bool": {"aws:SecureTransport": "true"}}},  # wrong value
        {"Effect": "Allow"},
    ],
)
def test_incomplete_tls_deny_is_not_enough(stack, crossguard, change):
    arn = stack.queue_arn("orders-billing-dlq")
    stack.set_policy("orders-billing-dlq-policy", stack.ssl_deny("sqs", arn) | change)
    [message] = crossguard.messages(SSL, stack)
    assert 'SQS queue policy "orders-billing-dlq-policy" does not deny requests made without TLS' in message


@pytest.mark.parametrize(
    "change",
    [
        {"Action": "*"},
        {"Action": ["SQS:*"]},
        {"Principal": {"AWS": "*"}},
        {"Condition": {"BoolIfExists": {"aws:securetransport": False}}},
        {"Condition": {"Bool": {"aws:SecureTransport": ["false"]}}},
    ],
)
def test_tls_deny_variants_pass(stack, crossguard, change):
    arn = stack.queue_arn("orders-billing-dlq")
    stack.set_policy("orders-billing-dlq-policy", stack.ssl_deny("sqs", arn) | change)
    assert crossguard.messages(SSL, stack) == []


def test_policy_document_as_object_with_single_statement(stack, crossguard):
    arn = stack.queue_arn("orders-billing-dlq")
    stack.props("orders-billing-dlq-policy")["policy"] = {
        "Version": "2012-10-17",
        "Statement": stack.ssl_deny("sqs", arn),
    }
    assert crossguard.messages(SSL, stack) == []


def test_queue_policy_that_is_not_json(stack, crossguard):
    stack.props("orders-billing-dlq-policy")["policy"] = "not json"
    [message] = crossguard.messages(SSL, stack)
    assert message.startswith('SQS queue policy "orders-billing-dlq-policy" is not a valid JSON policy document')


def test_inline_queue_policy_is_checked_too(stack, crossguard):
    stack.props("orders-billing-dlq")["policy"] = stack.document({"Effect": "Allow", "Action": "sqs:*"})
    [message] = crossguard.messages(SSL, stack)
    assert message.startswith(
        'the inline policy of SQS queue "orders-billing-dlq" does not deny requests made without TLS'
    )


# --- sqs-queue-has-resource-policy ------------------------------------------------------------------

HAS_POLICY = "sqs-queue-has-resource-policy"


def test_queue_without_any_policy(stack, crossguard):
    stack.remove("orders-billing-dlq-policy")
    [message] = crossguard.messages(HAS_POLICY, stack)
    assert message.startswith('SQS queue "orders-billing-dlq" has no queue policy')
    assert "Fix: attach one aws.sqs.QueuePolicy" in message


def test_queue_with_two_policies(stack, crossguard):
    url = stack.queue_url("orders-billing")
    arn = stack.queue_arn("orders-billing")
    stack.add(
        QUEUE_POLICY,
        "orders-billing-second-policy",
        {"queueUrl": url, "policy": stack.document(stack.ssl_deny("sqs", arn))},
        {"queueUrl": ["orders-billing-queue"]},
    )
    [message] = crossguard.messages(HAS_POLICY, stack)
    assert message.startswith(
        'SQS queue "orders-billing-queue" has 2 queue policies '
        '("orders-billing-queue-policy", "orders-billing-second-policy")'
    )
    assert "merge all statements" in message


def test_inline_policy_counts_as_attached(stack, crossguard):
    doc = stack.props("orders-billing-dlq-policy")["policy"]
    stack.remove("orders-billing-dlq-policy")
    stack.props("orders-billing-dlq")["policy"] = doc
    assert crossguard.messages(HAS_POLICY, stack) == []


def test_policy_attached_by_url_without_dependencies(stack, crossguard):
    stack["orders-billing-dlq-policy"]["property_dependencies"] = {}
    assert crossguard.messages(HAS_POLICY, stack) == []


# --- sqs-queue-policy-sns-source-arn ---------------------------------------------------------------

SNS_SCOPED = "sqs-queue-policy-sns-source-arn"


def _sns_statement(stack):
    return next(s for s in _statements(stack, "orders-billing-queue-policy") if s.get("Sid") == "AllowTopic")


def _replace_sns_statement(stack, statement):
    arn = stack.queue_arn("orders-billing")
    stack.set_policy("orders-billing-queue-policy", stack.ssl_deny("sqs", arn), statement)


def test_sns_allow_without_source_arn(stack, crossguard):
    statement = _sns_statement(stack)
    del statement["Condition"]
    _replace_sns_statement(stack, statement)
    [message] = crossguard.messages(SNS_SCOPED, stack)
    assert message.startswith(
        'SQS queue policy "orders-billing-queue-policy", statement 2 (Sid "AllowTopic"): allows '
        "sns.amazonaws.com without an aws:SourceArn condition"
    )
    assert '"Condition": {"ArnEquals": {"aws:SourceArn": <topic arn>}}' in message


@pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike", "StringEquals", "StringLike"])
def test_sns_allow_with_any_source_arn_operator(stack, crossguard, operator):
    """Issue 13 case 2: StringEquals aws:SourceArn = <topic> is as valid as ArnEquals."""
    statement = _sns_statement(stack) | {"Condition": {operator: {"aws:SourceArn": stack.topic_arn("orders")}}}
    _replace_sns_statement(stack, statement)
    assert crossguard.messages(SNS_SCOPED, stack) == []


@pytest.mark.parametrize(
    "condition",
    [{"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:1:x"}}, {"ArnEquals": {"aws:SourceAccount": "1"}}],
)
def test_sns_allow_with_other_condition(stack, crossguard, condition):
    statement = _sns_statement(stack) | {"Condition": condition}
    _replace_sns_statement(stack, statement)
    [message] = crossguard.messages(SNS_SCOPED, stack)
    assert "without an aws:SourceArn condition" in message


@pytest.mark.parametrize("value", ["*", "arn:aws:sns:us-east-1:*:orders", "arn:aws:sns:us-east-1:123456789012:*"])
def test_sns_allow_with_wildcard_source_arn(stack, crossguard, value):
    statement = _sns_statement(stack) | {"Condition": {"ArnLike": {"aws:SourceArn": value}}}
    _replace_sns_statement(stack, statement)
    [message] = crossguard.messages(SNS_SCOPED, stack)
    assert f"the aws:SourceArn condition for sns.amazonaws.com is a wildcard ({value})" in message


def test_sns_allow_scoped_variants_pass(stack, crossguard):
    statement = _sns_statement(stack) | {
        "Principal": {"Service": ["sns.amazonaws.com"]},
        "Condition": {"ArnLike": {"aws:sourcearn": [stack.topic_arn("orders"), stack.topic_arn("refunds")]}},
    }
    _replace_sns_statement(stack, statement)
    assert crossguard.messages(SNS_SCOPED, stack) == []


# --- shapes other programs use (issue 13) -------------------------------------------------------------


def test_queue_with_inline_policy_and_queue_policy(stack, crossguard):
    """Case 3: both set the queue's one Policy attribute and overwrite each other."""
    queue = stack.queue_arn("orders-billing")
    stack.props("orders-billing-queue")["policy"] = stack.document(stack.ssl_deny("sqs", queue))
    [message] = crossguard.messages(HAS_POLICY, stack)
    assert message.startswith(
        'SQS queue "orders-billing-queue" has an inline policy and also the queue policy "orders-billing-queue-policy"'
    )


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:root", "*"]}])
def test_public_send_without_condition(stack, crossguard, principal):
    """Case 1: Principal "*" with sqs:SendMessage and no condition lets any account send."""
    queue = stack.queue_arn("orders-billing")
    public = {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": queue}
    stack.set_policy("orders-billing-queue-policy", stack.ssl_deny("sqs", queue), public)
    [message] = crossguard.messages("sqs-queue-policy-not-public", stack)
    assert message.startswith(
        'SQS queue policy "orders-billing-queue-policy", statement 2: allows everyone (Principal "*") '
        "sqs:SendMessage with no condition restricting the caller"
    )


@pytest.mark.parametrize(
    "condition",
    [
        {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:orders"}},
        {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    ],
)
def test_public_principal_with_restricting_condition_passes(stack, crossguard, condition):
    queue = stack.queue_arn("orders-billing")
    allow = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": queue}
    allow["Condition"] = condition
    stack.set_policy("orders-billing-queue-policy", stack.ssl_deny("sqs", queue), allow)
    assert crossguard.messages("sqs-queue-policy-not-public", stack) == []


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"aws:SourceArn": "*"}},
        {"StringNotEquals": {"aws:SourceAccount": "123456789012"}},
        {"Bool": {"aws:SecureTransport": "true"}},
    ],
)
def test_public_principal_with_non_restricting_condition_is_public(stack, crossguard, condition):
    queue = stack.queue_arn("orders-billing")
    allow = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": queue}
    allow["Condition"] = condition
    stack.set_policy("orders-billing-queue-policy", stack.ssl_deny("sqs", queue), allow)
    assert len(crossguard.messages("sqs-queue-policy-not-public", stack)) == 1


def test_literal_dlq_arn_in_preview_resolves_by_name(stack, crossguard):
    """Case 5: a literal deadLetterTargetArn links to the queue of that name while ARNs are unknown."""
    stack.preview()
    stack["orders-billing-queue"]["property_dependencies"] = {}
    stack.props("orders-billing-queue")["redrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": stack.queue_arn("orders-billing-dlq"), "maxReceiveCount": 5}
    )
    assert stack.props("orders-billing-dlq")["arn"] == stack.unknown
    assert crossguard.run(stack.resources) == []


def test_literal_dlq_arn_in_preview_resolves_by_name_when_arns_are_absent(stack, crossguard):
    """A preview may show a queue it has not created without any ``arn`` key (inputs only): still matched."""
    stack.preview()
    for resource in stack.resources:
        if resource["type"] == "aws:sqs/queue:Queue":
            for key in ("arn", "url", "id"):
                resource["props"].pop(key, None)
    stack["orders-billing-queue"]["property_dependencies"] = {}
    stack.props("orders-billing-queue")["redrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": stack.queue_arn("orders-billing-dlq"), "maxReceiveCount": 5}
    )
    reported = crossguard.run(stack.resources, only="sqs-queue-has-redrive-policy")
    assert reported == [], [r.message for r in reported]


def test_literal_dlq_arn_that_matches_nothing_in_preview_is_advisory(stack, crossguard):
    stack.preview()
    stack["orders-billing-queue"]["property_dependencies"] = {}
    stack.props("orders-billing-queue")["redrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": stack.queue_arn("elsewhere-dlq"), "maxReceiveCount": 5}
    )
    reported = crossguard.run(stack.resources)
    assert {(r.policy, r.level) for r in reported} == {("preview-unresolved-reference", EnforcementLevel.ADVISORY)}


def test_redrive_allow_policy_declares_a_dlq(stack, crossguard):
    """A queue admitted as DLQ by a RedriveAllowPolicy needs no redrive of its own, but an alarm."""
    stack.add_subscriber("audit")
    stack.remove("audit-queue")  # its source lives in another stack
    for name in ("audit-queue-policy", "audit-subscription", "audit-esm"):
        stack.remove(name)
    assert len(crossguard.messages(REDRIVE, stack)) == 1  # audit-dlq: nothing redrives into it any more
    stack.add(
        REDRIVE_ALLOW_POLICY,
        "audit-dlq-allow",
        {"queueUrl": stack.queue_url("audit-dlq"), "redriveAllowPolicy": '{"redrivePermission": "allowAll"}'},
        {"queueUrl": ["audit-dlq"]},
    )
    assert crossguard.messages(REDRIVE, stack) == []
    stack.remove("audit-dlq-alarm")
    [message] = crossguard.messages("sqs-dlq-has-alarm", stack)
    assert message.startswith(
        'SQS queue "audit-dlq" (dead-letter queue of the queues its redrive allow policy admits) has no CloudWatch'
    )


def test_consumed_redrive_target_is_a_retry_queue_needing_its_own_dlq(stack, crossguard):
    """Case 6: a redrive target read by a function is a retry queue: no DLQ alarm, but a redrive policy."""
    stack.add(
        EVENT_SOURCE_MAPPING,
        "dlq-consumer",
        {
            "eventSourceArn": stack.queue_arn("orders-billing-dlq"),
            "functionName": "orders-billing",
            "functionResponseTypes": ["ReportBatchItemFailures"],
        },
        {"eventSourceArn": ["orders-billing-dlq"], "functionName": ["orders-billing-function"]},
    )
    stack.remove("orders-billing-dlq-alarm")
    assert crossguard.messages("sqs-dlq-has-alarm", stack) == []
    [message] = crossguard.messages(REDRIVE, stack)
    assert message.startswith(
        'SQS queue "orders-billing-dlq" is a redrive target read by a Lambda function (a retry queue, not a DLQ), '
        "and has no redrive policy of its own"
    )
