"""JSON policy documents (queue, topic, IAM) built from resolved ARNs.

Plain functions over strings so that the same documents are unit-tested without Pulumi and reused by
every component; callers wrap them in `Output.all(...).apply(...)`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

VERSION = "2012-10-17"


def deny_insecure_transport(resource_arn: str, action: str) -> dict[str, Any]:
    """Deny any request not sent over TLS (AWS Foundational Security Best Practices SQS.x / SNS.x)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": resource_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def queue_policy(queue_arn: str, sns_topic_arns: Sequence[str] = ()) -> str:
    """ONE policy per queue: the TLS deny plus, when topics feed it, SendMessage for SNS scoped by topic."""
    statements = [deny_insecure_transport(queue_arn, "sqs:*")]
    if sns_topic_arns:
        statements.append(
            {
                "Sid": "AllowSnsTopics",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(set(sns_topic_arns))}},
            }
        )
    return json.dumps({"Version": VERSION, "Statement": statements})


SNS_TOPIC_POLICY_ACTIONS = frozenset(
    {
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
)
"""The only actions SNS accepts in a topic policy; anything else (`sns:*` included) fails with "Invalid
parameter: Policy Error". Source: SNS developer guide, "Amazon SNS API permissions: Actions and resources
reference" (sns-access-policy-language-api-permissions-reference), table "Valid Amazon SNS policy actions"."""


@dataclass(frozen=True)
class AwsServicePublisher:
    """An AWS service allowed to publish to a topic, limited to one account's resources matching `source_arn`."""

    service: str
    """Service principal, e.g. `cloudwatch.amazonaws.com`."""
    account_id: str
    source_arn: str
    """ARN pattern of the publishing resources, e.g. `arn:<partition>:cloudwatch:eu-west-1:123456789012:alarm:*`."""


def topic_policy(topic_arn: str, publishers: Sequence[AwsServicePublisher] = ()) -> str:
    """The TLS deny on `sns:Publish`, plus Publish for AWS services scoped to this account and source.

    AWS's own TLS-only topic example denies `sns:Publish` (SNS developer guide, "Enforce encryption of data
    in transit"): a topic policy may name only SNS's listed topic actions (`SNS_TOPIC_POLICY_ACTIONS`).
    SNS also asks for a policy `Id` and a unique `Sid` per statement (same reference page).
    """
    statements = [deny_insecure_transport(topic_arn, "sns:Publish")]
    for publisher in publishers:
        statements.append(
            {
                "Sid": "Allow" + publisher.service.split(".")[0].capitalize(),
                "Effect": "Allow",
                "Principal": {"Service": publisher.service},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                # Confused-deputy protection: only this account's resources of that service may publish.
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": publisher.account_id},
                    "ArnLike": {"aws:SourceArn": publisher.source_arn},
                },
            }
        )
    return json.dumps({"Version": VERSION, "Id": "TopicPolicy", "Statement": statements})


def bucket_policy(bucket_arn: str) -> str:
    """TLS-only access to the results bucket."""
    statement = deny_insecure_transport(bucket_arn, "s3:*")
    statement["Resource"] = [bucket_arn, f"{bucket_arn}/*"]
    return json.dumps({"Version": VERSION, "Statement": [statement]})


def assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": VERSION,
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def alarm_key_policy(account_id: str, partition: str = "aws") -> str:
    """A KMS key CloudWatch can use: alarms cannot publish to topics encrypted with the AWS-managed aws/sns key.

    `partition`: of the stack's region (`contract.aws.partition_of`), for the account root's ARN.
    """
    return json.dumps(
        {
            "Version": VERSION,
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchAlarmsEncrypt",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ],
        }
    )


def consumer_role_policy(
    *,
    source_queue_arns: Sequence[str],
    send_queue_arns: Sequence[str],
    log_group_arn: str,
    table_arn: str | None,
    results_object_arn: str | None,
    large_message_object_arn: str | None = None,
    large_message_write: bool = False,
) -> str:
    """Least privilege for one consumer: named actions on named resources only, no wildcards.

    `large_message_object_arn` is `arn:<partition>:s3:::<bucket>/<prefix>*`: GetObject (and PutObject for a
    chain stage) on it, plus ListBucket on the bucket limited by `s3:prefix` to the same prefix. Without
    ListBucket, S3 answers GetObject of a missing (expired) key with 403 AccessDenied instead of 404
    NoSuchKey, and the runtime could not tell an expired pointer from a permission problem.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ConsumeOwnQueues",
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
            ],
            "Resource": sorted(set(source_queue_arns)),
        },
        {
            "Sid": "SendToDlqAndNextQueues",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": sorted(set(send_queue_arns)),
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
        },
    ]
    if table_arn:
        statements.append(
            {
                "Sid": "IdempotencyTable",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                "Resource": table_arn,
            }
        )
    if results_object_arn:
        statements.append(
            {"Sid": "WriteResults", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": results_object_arn}
        )
    if large_message_object_arn:
        # Only this pipeline's prefix; a chain stage also writes large results for the next stage.
        actions = ["s3:GetObject", *(["s3:PutObject"] if large_message_write else [])]
        statements.append(
            {"Sid": "LargeMessages", "Effect": "Allow", "Action": actions, "Resource": large_message_object_arn}
        )
        statements.append(list_prefix_statement(large_message_object_arn))
    return json.dumps({"Version": VERSION, "Statement": statements})


def list_prefix_statement(object_arn: str) -> dict[str, Any]:
    """`s3:ListBucket` on the bucket of `arn:…:s3:::<bucket>/<prefix>*`, only for keys under `<prefix>`.

    The condition is AWS's pattern for "list one folder" (IAM user guide, "Allows access to a specific
    prefix": `StringLike` on `s3:prefix`); it lets S3 answer 404 for a missing key under the prefix.
    """
    bucket_arn, _, key_pattern = object_arn.partition("/")
    if not key_pattern.endswith("*") or not key_pattern.rstrip("*"):
        raise ValueError(f"{object_arn}: expected an object ARN of the form arn:...:s3:::<bucket>/<prefix>*")
    return {
        "Sid": "LargeMessagesListPrefix",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": bucket_arn,
        "Condition": {"StringLike": {"s3:prefix": [key_pattern]}},
    }


def single_action_policy(action: str, resource_arn: str) -> str:
    """An identity policy allowing exactly one action on exactly one resource (the HTTP ingress's role)."""
    return json.dumps(
        {"Version": VERSION, "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource_arn}]}
    )
