"""Topic policies name only the actions SNS accepts in a topic policy (mocks accept anything; AWS does not).

Source: SNS developer guide, "Amazon SNS API permissions: Actions and resources reference", table "Valid
Amazon SNS policy actions". Any other action (`sns:*` included) makes SetTopicAttributes fail with
"Invalid parameter: Policy Error", so the alarm topic would never accept an alarm.
"""

from __future__ import annotations

import json

from stack_capture import Capture
from tests.infra.builders import statements

VALID_TOPIC_POLICY_ACTIONS = {
    "sns:AddPermission",
    "sns:DeleteTopic",
    "sns:GetDataProtectionPolicy",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "sns:Publish",
    "sns:PutDataProtectionPolicy",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
}
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_every_topic_policy_names_only_listed_sns_actions(project_stacks: dict[str, Capture]) -> None:
    checked = 0
    for stack, capture in project_stacks.items():
        topics = {t.outputs["arn"] for t in capture.of_type("aws:sns/topic:Topic")}
        policies = capture.of_type(TOPIC_POLICY)
        assert {p.inputs["arn"] for p in policies} == topics, f"{stack}: every topic has its policy"
        for policy in policies:
            document = json.loads(policy.inputs["policy"])
            assert document["Version"] == "2012-10-17"
            sids = [s["Sid"] for s in statements(document)]
            assert len(sids) == len(set(sids)), f"{stack} {policy.name}: SNS wants a unique Sid per statement"
            for statement in statements(document):
                unlisted = set(_actions(statement)) - VALID_TOPIC_POLICY_ACTIONS
                assert not unlisted, f"{stack} {policy.name}: {sorted(unlisted)} is not a topic-policy action"
                assert statement["Resource"] == policy.inputs["arn"], "a topic policy covers its own topic only"
            checked += 1
    assert checked >= 4  # dev: alarms + orders; prod: alarms + orders


def test_topics_deny_publishing_without_tls_like_awss_own_example(project_stacks: dict[str, Capture]) -> None:
    for capture in project_stacks.values():
        for policy in capture.of_type(TOPIC_POLICY):
            denies = [s for s in statements(policy.inputs["policy"]) if s["Effect"] == "Deny"]
            assert denies == [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": policy.inputs["arn"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ]


def test_only_this_accounts_alarms_may_publish_to_the_alarm_topic(project_stacks: dict[str, Capture]) -> None:
    for capture in project_stacks.values():
        policy = capture.named(TOPIC_POLICY, "alarms-policy")
        (grant,) = [s for s in statements(policy.inputs["policy"]) if s["Effect"] == "Allow"]
        account = "123456789012"
        assert grant["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert grant["Action"] == "sns:Publish"
        assert grant["Condition"] == {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{capture.region}:{account}:alarm:*"},
        }
        fanout = [p for p in capture.of_type(TOPIC_POLICY) if p.name != "alarms-policy"]
        assert fanout and all(
            [s["Effect"] for s in statements(p.inputs["policy"])] == ["Deny"] for p in fanout
        ), "nothing but the stack's own publishers (IAM identities of the account) publish to a fan-out topic"
