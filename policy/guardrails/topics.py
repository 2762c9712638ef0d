"""SNS topics: encryption and topic policies; plus whether the SSE keys let AWS services publish."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from .documents import (
    Document,
    attached_policies,
    parse_document,
    policy_documents,
    public_findings,
    ssl_deny_example,
    ssl_findings,
)
from .model import (
    METRIC_ALARM,
    QUEUE,
    TOPIC,
    TOPIC_POLICY,
    TOPIC_SUBSCRIPTION,
    UNKNOWN,
    Finding,
    Resource,
    Stack,
    quoted_names,
    text,
)

AWS_MANAGED_SQS_KEY: Final = "alias/aws/sqs"
AWS_MANAGED_SNS_KEY: Final = "alias/aws/sns"

# The actions SNS accepts in a topic policy; anything else (``sns:*`` and ``*`` included) makes
# SetTopicAttributes fail with "Invalid parameter: Policy Error" (cdk-nag #676, SAM #1591). Source: SNS
# developer guide, "Amazon SNS API permissions: Actions and resources reference", table "Valid Amazon SNS
# policy actions" (the first 11). ``sns:Receive`` is not in that table but is in the default topic policy
# SNS itself writes for every new topic, so SNS accepts it too.
TOPIC_POLICY_ACTIONS: Final = frozenset(
    action.lower()
    for action in (
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
        "sns:Receive",
    )
)


def check_topic_encrypted(topic: Resource) -> Iterator[str]:
    key = text(topic.get("kmsMasterKeyId"))
    if key is None:
        yield (
            f"{topic.label} is not encrypted at rest: kmsMasterKeyId is not set. Fix: set kmsMasterKeyId to "
            "a customer managed KMS key whose key policy lets the publishers (e.g. cloudwatch.amazonaws.com "
            f"for an alarm topic) use it; {AWS_MANAGED_SNS_KEY} works only for publishers in this account "
            "that are not AWS services."
        )


def check_topic_policy_ssl(resource: Resource) -> Iterator[str]:
    yield from ssl_findings(resource, "sns", "pass json.dumps(<policy dict>) with Version 2012-10-17.")


def check_topic_policy_not_public(resource: Resource) -> Iterator[str]:
    yield from public_findings(resource, "sns", "topic")


def check_topic_policy_actions(resource: Resource) -> Iterator[str]:
    """A topic policy names only actions SNS accepts there (no wildcards, no other services)."""
    for what, raw in policy_documents(resource):
        document = parse_document(raw)
        if not isinstance(document, Document):
            continue  # absent, unknown, or invalid (reported by the TLS check)
        for statement in document.statements:
            invalid = [a for a in statement.actions + statement.not_actions if a.lower() not in TOPIC_POLICY_ACTIONS]
            if invalid:
                shown = ", ".join(f'"{a}"' for a in invalid)
                yield (
                    f"{what}, {statement.label}: {shown} {'is' if len(invalid) == 1 else 'are'} not an action SNS "
                    'accepts in a topic policy, so AWS rejects the whole policy ("Invalid parameter: Policy '
                    'Error"). Fix: list only sns:Publish, sns:Subscribe, sns:GetTopicAttributes, '
                    "sns:SetTopicAttributes, sns:AddPermission, sns:RemovePermission, sns:DeleteTopic, "
                    "sns:ListSubscriptionsByTopic, sns:ListTagsForResource, sns:GetDataProtectionPolicy, "
                    "sns:PutDataProtectionPolicy or sns:Receive (a TLS-only deny covers sns:Publish)."
                )


def check_topic_has_policy(stack: Stack) -> Iterator[Finding]:
    """Every topic has exactly one resource policy: one TopicPolicy, or an inline policy, not both."""
    attached, unresolved = attached_policies(stack, TOPIC_POLICY, TOPIC, "arn", ("arn", "id"))
    for topic in stack.of_type(TOPIC):
        policies = attached.get(topic.urn, [])
        if policies and topic.get("policy") not in (None, ""):
            yield Finding.about(
                topic,
                f"{topic.label} has an inline policy and also the topic policy {quoted_names(policies)}: both "
                "set the topic's one Policy attribute, so each deployment overwrites the other. Fix: keep one "
                "— move the inline statements into the TopicPolicy (or drop the TopicPolicy).",
            )
        elif len(policies) > 1:
            yield Finding.about(
                topic,
                f"{topic.label} has {len(policies)} topic policies ({quoted_names(policies)}): "
                "a topic holds one policy, so each TopicPolicy overwrites the others. "
                "Fix: merge their statements into one TopicPolicy.",
            )
        elif not policies and topic.get("policy") in (None, "") and not unresolved:
            yield Finding.about(
                topic,
                f"{topic.label} has no topic policy, so nothing denies publishing or subscribing over plain "
                f"HTTP. Fix: attach one aws.sns.TopicPolicy containing {ssl_deny_example('sns')} "
                "(plus an Allow for cloudwatch.amazonaws.com on an alarm topic).",
            )


def _is_aws_managed(key: object, alias: str) -> bool:
    return isinstance(key, str) and (key == alias or key.endswith(f":{alias}"))


def check_sse_keys_usable(stack: Stack) -> Iterator[Finding]:
    """AWS services cannot use AWS managed keys: SNS -> alias/aws/sqs, CloudWatch -> alias/aws/sns."""
    for subscription in stack.of_type(TOPIC_SUBSCRIPTION):
        if subscription.get("protocol") not in ("sqs", UNKNOWN):
            continue
        for queue in stack.resolve(subscription, "endpoint", (QUEUE,), attrs=("arn",)):
            if _is_aws_managed(queue.get("kmsMasterKeyId"), AWS_MANAGED_SQS_KEY):
                yield Finding.about(
                    queue,
                    f"{queue.label} is encrypted with the AWS managed key {AWS_MANAGED_SQS_KEY} but "
                    f"receives SNS deliveries ({subscription.label}): SNS cannot use that key, so every "
                    "delivery fails with KMS.AccessDeniedException. Fix: use sqsManagedSseEnabled=True "
                    "instead, or a customer managed key that allows sns.amazonaws.com "
                    "kms:GenerateDataKey* and kms:Decrypt.",
                )
    flagged: set[str] = set()
    for alarm in stack.of_type(METRIC_ALARM):
        for prop in ("alarmActions", "okActions", "insufficientDataActions"):
            actions = alarm.get(prop)
            values = actions if isinstance(actions, list) else []
            topics = stack.resolve(alarm, prop, (TOPIC,), attrs=("arn", "id"))
            topics += [t for v in values for t in stack.matching(v, (TOPIC,), ("arn", "id"))]
            for topic in topics:
                key = topic.get("kmsMasterKeyId")
                if topic.urn in flagged or not _is_aws_managed(key, AWS_MANAGED_SNS_KEY):
                    continue
                flagged.add(topic.urn)
                yield Finding.about(
                    topic,
                    f"{topic.label} is encrypted with the AWS managed key {AWS_MANAGED_SNS_KEY} but "
                    f"CloudWatch alarms publish to it ({alarm.label}): CloudWatch cannot use that key, so "
                    "alarm notifications are silently dropped. Fix: encrypt the alarm topic with a customer "
                    "managed key whose policy allows cloudwatch.amazonaws.com kms:GenerateDataKey* and "
                    "kms:Decrypt.",
                )

