"""The AWS managed policies that matter for these pipelines, with their documented statements.

IAM checks judge an attached AWS managed policy by these statements, with the same rule as an inline
statement (not by its name). Each entry names its page in the AWS Managed Policy Reference
(https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html), where the JSON was read.
Entries marked *abridged* keep only the statements on the services the pack guards (SQS, SNS, DynamoDB,
S3, Logs) plus any ``*`` action; the statements left out cannot change the verdict. An AWS managed policy
not listed here is reported as "not checked" (advisory) rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

REFERENCE: Final = "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"
_AWS_MANAGED_ARN: Final = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:.*/)?(?P<name>[^/]+)$")


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    statements: tuple[Mapping[str, Any], ...]
    abridged: bool = False

    @property
    def source(self) -> str:
        return f"{REFERENCE}{self.name}.html"

    @property
    def document(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": [dict(s) for s in self.statements]}


def _allow(actions: list[str] | str, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


_LAMBDA_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]

MANAGED_POLICIES: Final[Mapping[str, ManagedPolicy]] = {
    p.name: p
    for p in (
        ManagedPolicy("AdministratorAccess", (_allow("*"),)),
        ManagedPolicy(
            "PowerUserAccess",
            ({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},),
            abridged=True,
        ),
        ManagedPolicy("AmazonSQSFullAccess", (_allow(["sqs:*"]),)),
        ManagedPolicy(
            "AmazonSQSReadOnlyAccess",
            (
                _allow(
                    [
                        "sqs:GetQueueAttributes",
                        "sqs:GetQueueUrl",
                        "sqs:ListDeadLetterSourceQueues",
                        "sqs:ListQueues",
                        "sqs:ListMessageMoveTasks",
                        "sqs:ListQueueTags",
                    ],
                    Sid="AmazonSQSReadOnlyAccess",
                ),
            ),
        ),
        ManagedPolicy("AmazonSNSFullAccess", (_allow("sns:*", Sid="SNSFullAccess"),), abridged=True),
        ManagedPolicy("AmazonS3FullAccess", (_allow(["s3:*", "s3-object-lambda:*"]),)),
        ManagedPolicy("AmazonDynamoDBFullAccess", (_allow(["dynamodb:*", "dax:*"]),), abridged=True),
        ManagedPolicy("CloudWatchLogsFullAccess", (_allow(["logs:*"]),), abridged=True),
        ManagedPolicy(
            "AWSLambda_FullAccess",
            (
                _allow(
                    [
                        "cloudformation:DescribeStacks",
                        "cloudformation:ListStackResources",
                        "cloudwatch:ListMetrics",
                        "cloudwatch:GetMetricData",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeVpcs",
                        "kms:ListAliases",
                        "iam:GetPolicy",
                        "iam:GetPolicyVersion",
                        "iam:GetRole",
                        "iam:GetRolePolicy",
                        "iam:ListAttachedRolePolicies",
                        "iam:ListRolePolicies",
                        "iam:ListRoles",
                        "lambda:*",
                        "logs:DescribeLogGroups",
                        "states:DescribeStateMachine",
                        "states:ListStateMachines",
                        "tag:GetResources",
                        "xray:GetTraceSummaries",
                        "xray:BatchGetTraces",
                    ]
                ),
                _allow(
                    "iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
                ),
                _allow(
                    [
                        "logs:DescribeLogStreams",
                        "logs:GetLogEvents",
                        "logs:FilterLogEvents",
                        "logs:StartLiveTail",
                        "logs:StopLiveTail",
                    ],
                    "arn:aws:logs:*:*:log-group:/aws/lambda/*",
                ),
            ),
        ),
        ManagedPolicy("AWSLambdaBasicExecutionRole", (_allow(_LAMBDA_LOGS),)),
        ManagedPolicy(
            "AWSLambdaSQSQueueExecutionRole",
            (_allow(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LAMBDA_LOGS]),),
        ),
        ManagedPolicy(
            "AWSLambdaDynamoDBExecutionRole",
            (
                _allow(
                    [
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams",
                        *_LAMBDA_LOGS,
                    ]
                ),
            ),
        ),
        ManagedPolicy(
            "AWSLambdaVPCAccessExecutionRole",
            (
                _allow(
                    [
                        *_LAMBDA_LOGS,
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ]
                ),
            ),
        ),
        ManagedPolicy(
            "AmazonAPIGatewayPushToCloudWatchLogs",
            (
                _allow(
                    [
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                        "logs:GetLogEvents",
                        "logs:FilterLogEvents",
                    ]
                ),
            ),
        ),
    )
}


def aws_managed_name(arn: object) -> str | None:
    """``AmazonSQSFullAccess`` for ``arn:aws:iam::aws:policy/AmazonSQSFullAccess`` (any path/partition)."""
    if not isinstance(arn, str):
        return None
    match = _AWS_MANAGED_ARN.match(arn)
    return match.group("name") if match else None
