"""iam-no-wildcards: no wildcard actions/resources for SQS, SNS, DynamoDB, S3 and Logs."""

from __future__ import annotations

import pytest
from pulumi_policy import EnforcementLevel

from policy.guardrails.model import IAM_POLICY, IAM_ROLE, IAM_ROLE_POLICY_ATTACHMENT

IAM = "iam-no-wildcards"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders-billing"
PREFIX = 'IAM role policy "orders-billing-role-policy", statement 1'


def _set_statement(stack, statement):
    stack.set_policy("orders-billing-role-policy", statement)


@pytest.mark.parametrize("action", ["*", "sqs:*", "sqs:Send*", "SNS:*", "dynamodb:*", "s3:Get*", "logs:*", "sqs:?"])
def test_wildcard_actions(stack, crossguard, action):
    _set_statement(stack, {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", action], "Resource": QUEUE})
    [message] = crossguard.messages(IAM, stack)
    assert message.startswith(f'{PREFIX}: action "{action}" is a wildcard. Fix: list the exact actions needed')


def test_wildcard_action_suggests_service_actions(stack, crossguard):
    _set_statement(stack, {"Effect": "Allow", "Action": "sqs:*", "Resource": QUEUE})
    [message] = crossguard.messages(IAM, stack)
    assert "(e.g. sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:SendMessage)" in message


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("sqs:SendMessage", "*"),
        ("sqs:SendMessage", "arn:aws:sqs:*:*:*"),
        ("sns:Publish", "arn:aws:sns:us-east-1:123456789012:*"),
        ("s3:GetObject", "arn:aws:s3:::*"),
        ("s3:GetObject", "arn:aws:s3:::*/*"),
        ("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/*"),
        ("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:*"),
        ("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:*"),
    ],
)
def test_wildcard_resources(stack, crossguard, action, resource):
    _set_statement(stack, {"Sid": "Wide", "Effect": "Allow", "Action": action, "Resource": [QUEUE, resource]})
    [message] = crossguard.messages(IAM, stack)
    service = action.split(":")[0]
    assert message.startswith(
        f'IAM role policy "orders-billing-role-policy", statement 1 (Sid "Wide"): resource "{resource}" '
        f"is a wildcard for {service}"
    )
    assert "Fix: name the exact ARNs" in message


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("cloudwatch:PutMetricData", "*"),  # not a guarded service
        ("xray:PutTraceSegments", "*"),
        ("s3:GetObject", "arn:aws:s3:::ap-dev-results/*"),  # every object of one bucket
        ("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*"),
        ("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/ap-dev-idempotency/index/*"),
    ],
)
def test_scoped_or_unguarded_resources_pass(stack, crossguard, action, resource):
    _set_statement(stack, {"Effect": "Allow", "Action": action, "Resource": resource})
    assert crossguard.messages(IAM, stack) == []


def test_deny_statements_may_use_wildcards(stack, crossguard):
    _set_statement(stack, {"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert crossguard.messages(IAM, stack) == []


def test_not_action_and_not_resource(stack, crossguard):
    _set_statement(stack, {"Effect": "Allow", "NotAction": "iam:*", "NotResource": QUEUE})
    messages = crossguard.messages(IAM, stack)
    assert len(messages) == 2
    assert messages[0].startswith(f"{PREFIX}: Allow with NotAction grants every action except the listed ones")
    assert messages[1].startswith(f"{PREFIX}: Allow with NotResource applies to every other resource")


def test_document_as_object_with_single_statement_and_string_action(stack, crossguard):
    stack.props("orders-billing-role-policy")["policy"] = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": QUEUE},
    }
    [message] = crossguard.messages(IAM, stack)
    assert message.startswith(f'{PREFIX}: action "sqs:*" is a wildcard')


def test_managed_policy_resource(stack, crossguard):
    stack.add(
        IAM_POLICY,
        "wide-policy",
        {"policy": stack.document({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"})},
    )
    messages = crossguard.messages(IAM, stack)
    assert messages == [
        'IAM policy "wide-policy", statement 1: action "dynamodb:*" is a wildcard. Fix: list the exact actions '
        "needed (e.g. dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem).",
        'IAM policy "wide-policy", statement 1: resource "*" is a wildcard for dynamodb. Fix: name the exact '
        "ARNs (the queue, topic, table, bucket or log group this role uses).",
    ]


def test_role_inline_policies(stack, crossguard):
    stack.props("orders-billing-role")["inlinePolicies"] = [
        {"name": "ok", "policy": stack.document({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE})},
        {"name": "wide", "policy": stack.document({"Effect": "Allow", "Action": "s3:*", "Resource": QUEUE})},
    ]
    [message] = crossguard.messages(IAM, stack)
    assert message.startswith('IAM role "orders-billing-role", inline policy "wide", statement 1: action "s3:*"')


def test_managed_policies_are_judged_by_their_statements(stack, crossguard):
    """Issue 13 case 4: AWS managed policies are judged by their documented statements, not their names."""
    stack.props("orders-billing-role")["managedPolicyArns"] = [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
    ]
    stack.add(
        IAM_ROLE_POLICY_ATTACHMENT,
        "admin",
        {"role": "orders-billing-role", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )
    messages = crossguard.messages(IAM, stack)
    reference = "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"
    assert messages == [
        f'IAM role "orders-billing-role" attaches the AWS managed policy AWSLambdaBasicExecutionRole '
        f'({reference}AWSLambdaBasicExecutionRole.html), statement 1: resource "*" is a wildcard for logs. '
        "Fix: name the exact ARNs (the queue, topic, table, bucket or log group this role uses). Fix: replace "
        "it with an inline policy listing the exact actions and ARNs the role needs.",
        f'IAM role "orders-billing-role" attaches the AWS managed policy AmazonSQSFullAccess '
        f'({reference}AmazonSQSFullAccess.html), statement 1: action "sqs:*" is a wildcard. Fix: list the exact '
        "actions needed (e.g. sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:SendMessage). "
        "Fix: replace it with an inline policy listing the exact actions and ARNs the role needs.",
        f'IAM role "orders-billing-role" attaches the AWS managed policy AmazonSQSFullAccess '
        f'({reference}AmazonSQSFullAccess.html), statement 1: resource "*" is a wildcard for sqs. Fix: name the '
        "exact ARNs (the queue, topic, table, bucket or log group this role uses). Fix: replace it with an "
        "inline policy listing the exact actions and ARNs the role needs.",
        f'IAM role policy attachment "admin" attaches the AWS managed policy AdministratorAccess '
        f'({reference}AdministratorAccess.html), statement 1: action "*" is a wildcard. Fix: list the exact '
        "actions needed (e.g. the exact API actions the function calls). Fix: replace it with an inline policy "
        "listing the exact actions and ARNs the role needs.",
        f'IAM role policy attachment "admin" attaches the AWS managed policy AdministratorAccess '
        f'({reference}AdministratorAccess.html), statement 1: resource "*" is a wildcard for all services. Fix: '
        "name the exact ARNs (the queue, topic, table, bucket or log group this role uses). Fix: replace it with "
        "an inline policy listing the exact actions and ARNs the role needs.",
    ]


def test_managed_policy_and_same_inline_statement_get_the_same_verdict(stack, crossguard):
    """AWSLambdaSQSQueueExecutionRole grants sqs actions on "*": attached or inline, it is flagged alike."""
    stack.add(
        IAM_ROLE_POLICY_ATTACHMENT,
        "sqs-exec",
        {
            "role": "orders-billing-role",
            "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        },
    )
    attached = [m.split(": ", 1)[1] for m in crossguard.messages(IAM, stack)]
    stack.remove("sqs-exec")
    stack.set_policy(
        "orders-billing-role-policy",
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        },
    )
    inline = [m.split(": ", 1)[1] for m in crossguard.messages(IAM, stack)]
    assert attached and [a.split(" Fix: replace it")[0] for a in attached] == inline


@pytest.mark.parametrize("action", ["sqs:ListQueues", "sns:ListTopics", "s3:ListAllMyBuckets", "dynamodb:ListTables"])
def test_actions_without_resource_level_permissions_may_use_star(stack, crossguard, action):
    _set_statement(stack, {"Effect": "Allow", "Action": action, "Resource": "*"})
    assert crossguard.messages(IAM, stack) == []


def test_unknown_managed_policy_is_named_not_passed_silently(stack, crossguard):
    stack.add(
        IAM_ROLE_POLICY_ATTACHMENT,
        "xray",
        {"role": "orders-billing-role", "policyArn": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"},
    )
    stack.add(
        IAM_ROLE_POLICY_ATTACHMENT,
        "shared",
        {"role": "orders-billing-role", "policyArn": "arn:aws:iam::123456789012:policy/platform-shared"},
    )
    assert crossguard.messages(IAM, stack) == []
    reported = crossguard.run(stack.resources, only="iam-attached-policy-not-checked")
    assert {r.level for r in reported} == {EnforcementLevel.ADVISORY}
    messages = sorted(r.message for r in reported)
    assert messages[0].startswith('IAM role policy attachment "shared" attaches "arn:aws:iam::123456789012:policy/')
    assert "customer managed policy defined outside this stack" in messages[0]
    assert "AWSXRayDaemonWriteAccess is not in the pack's table" in messages[1]


def test_trust_policy_is_not_checked(stack, crossguard):
    assert stack["orders-billing-role"]["type"] == IAM_ROLE
    stack.props("orders-billing-role")["assumeRolePolicy"] = stack.document(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:*"}
    )
    assert crossguard.messages(IAM, stack) == []
