"""SNS topic policies (encryption, TLS-only topic policy) and the advisory SSE-key check."""

from __future__ import annotations

import pytest
from pulumi_policy import EnforcementLevel

from policy.guardrails.model import TOPIC_POLICY

SSE = "sns-topic-encrypted"
SSL = "sns-topic-policy-denies-insecure-transport"
HAS_POLICY = "sns-topic-has-resource-policy"
KEYS = "sse-key-usable-by-aws-publishers"


def test_topic_without_kms_key(stack, crossguard):
    del stack.props("orders-topic")["kmsMasterKeyId"]
    [message] = crossguard.messages(SSE, stack)
    assert message.startswith('SNS topic "orders-topic" is not encrypted at rest: kmsMasterKeyId is not set')
    assert "Fix: set kmsMasterKeyId to a customer managed KMS key" in message


def test_topic_policy_without_tls_deny(stack, crossguard):
    stack.set_policy(
        "alarm-topic-policy",
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish"},
    )
    [message] = crossguard.messages(SSL, stack)
    assert message.startswith('SNS topic policy "alarm-topic-policy" does not deny requests made without TLS')
    assert '"Action": "sns:Publish"' in message


def test_topic_policy_tls_deny_with_uppercase_service_prefix(stack, crossguard):
    arn = stack.topic_arn("orders")
    stack.set_policy("orders-topic-policy", stack.ssl_deny("sns", arn) | {"Action": "SNS:*"})
    assert crossguard.messages(SSL, stack) == []


def test_inline_topic_policy_is_checked(stack, crossguard):
    stack.props("orders-topic")["policy"] = stack.document({"Effect": "Allow", "Action": "sns:Publish"})
    [message] = crossguard.messages(SSL, stack)
    assert message.startswith('the inline policy of SNS topic "orders-topic" does not deny requests')


def test_topic_without_policy(stack, crossguard):
    stack.remove("orders-topic-policy")
    [message] = crossguard.messages(HAS_POLICY, stack)
    assert message.startswith('SNS topic "orders-topic" has no topic policy')
    assert "Fix: attach one aws.sns.TopicPolicy" in message


def test_topic_with_two_policies(stack, crossguard):
    arn = stack.topic_arn("orders")
    stack.add(
        TOPIC_POLICY,
        "orders-topic-policy-2",
        {"arn": arn, "policy": stack.document(stack.ssl_deny("sns", arn))},
        {"arn": ["orders-topic"]},
    )
    [message] = crossguard.messages(HAS_POLICY, stack)
    assert message.startswith(
        'SNS topic "orders-topic" has 2 topic policies ("orders-topic-policy", "orders-topic-policy-2")'
    )


def test_topic_policy_found_by_arn_without_dependencies(stack, crossguard):
    stack["orders-topic-policy"]["property_dependencies"] = {}
    assert crossguard.messages(HAS_POLICY, stack) == []


def test_sns_fed_queue_with_aws_managed_key(stack, crossguard):
    props = stack.props("orders-billing-queue")
    del props["sqsManagedSseEnabled"]
    props["kmsMasterKeyId"] = "alias/aws/sqs"
    reported = crossguard.run(stack.resources, only=KEYS)
    assert [r.level for r in reported] == [EnforcementLevel.ADVISORY]
    assert reported[0].message.startswith(
        'SQS queue "orders-billing-queue" is encrypted with the AWS managed key alias/aws/sqs but receives '
        'SNS deliveries (SNS subscription "orders-billing-subscription")'
    )
    assert "use sqsManagedSseEnabled=True instead" in reported[0].message


def test_alarm_topic_with_aws_managed_key(stack, crossguard):
    stack.props("alarm-topic")["kmsMasterKeyId"] = "alias/aws/sns"
    [message] = crossguard.messages(KEYS, stack)
    assert message.startswith(
        'SNS topic "alarm-topic" is encrypted with the AWS managed key alias/aws/sns but CloudWatch alarms '
        'publish to it (CloudWatch alarm "orders-billing-dlq-alarm")'
    )


def test_aws_managed_key_on_topic_without_alarms_is_fine(stack, crossguard):
    stack.props("orders-topic")["kmsMasterKeyId"] = "alias/aws/sns"
    assert crossguard.messages(KEYS, stack) == []


# --- sns-topic-policy-valid-actions (issue 8) ----------------------------------------------------------

ACTIONS = "sns-topic-policy-valid-actions"


@pytest.mark.parametrize("action", ["sns:*", "*", "sns:Get*", "sqs:SendMessage", "sns:CreateTopic"])
def test_topic_policy_with_an_action_sns_rejects(stack, crossguard, action):
    arn = stack.topic_arn("orders")
    stack.set_policy("orders-topic-policy", stack.ssl_deny("sns", arn) | {"Action": ["sns:Publish", action]})
    [message] = crossguard.messages(ACTIONS, stack)
    assert message.startswith(
        f'SNS topic policy "orders-topic-policy", statement 1 (Sid "DenyInsecureTransport"): "{action}" is not an '
        'action SNS accepts in a topic policy, so AWS rejects the whole policy ("Invalid parameter: Policy Error")'
    )


@pytest.mark.parametrize("action", ["SNS:Publish", "sns:Subscribe", "sns:Receive", "sns:GetTopicAttributes"])
def test_topic_policy_with_listed_actions_passes(stack, crossguard, action):
    arn = stack.topic_arn("orders")
    account = {"AWS": "arn:aws:iam::123456789012:root"}
    allow = {"Effect": "Allow", "Principal": account, "Action": action, "Resource": arn}
    stack.set_policy("orders-topic-policy", stack.ssl_deny("sns", arn), allow)
    assert crossguard.messages(ACTIONS, stack) == []


def test_topic_inline_policy_and_not_action_are_checked(stack, crossguard):
    stack.remove("orders-topic-policy")
    stack.props("orders-topic")["policy"] = stack.document(
        {"Effect": "Deny", "Principal": "*", "NotAction": "sns:*", "Resource": stack.topic_arn("orders")}
    )
    [message] = crossguard.messages(ACTIONS, stack)
    assert message.startswith('the inline policy of SNS topic "orders-topic", statement 1: "sns:*" is not an action')


# --- sns-topic-policy-not-public, and one policy per topic ------------------------------------------------


def test_public_topic_policy(stack, crossguard):
    arn = stack.topic_arn("orders")
    public = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sns:Publish", "sns:Subscribe"], "Resource": arn}
    stack.set_policy("orders-topic-policy", stack.ssl_deny("sns", arn), public)
    [message] = crossguard.messages("sns-topic-policy-not-public", stack)
    assert 'statement 2: allows everyone (Principal "*") sns:Publish, sns:Subscribe with no condition' in message
    # The default policy SNS writes (everyone, limited to the owner account) is not public.
    stack.set_policy(
        "orders-topic-policy",
        stack.ssl_deny("sns", arn),
        public | {"Condition": {"StringEquals": {"AWS:SourceOwner": "123456789012"}}},
    )
    assert crossguard.messages("sns-topic-policy-not-public", stack) == []


def test_topic_with_inline_policy_and_topic_policy(stack, crossguard):
    stack.props("orders-topic")["policy"] = stack.document(stack.ssl_deny("sns", stack.topic_arn("orders")))
    [message] = crossguard.messages(HAS_POLICY, stack)
    assert message.startswith(
        'SNS topic "orders-topic" has an inline policy and also the topic policy "orders-topic-policy"'
    )
