"""S3: fixed bucket names (issue 8, advisory) and s3:GetObject scoped to a prefix for Lambda roles (issue 10)."""

from __future__ import annotations

import pytest
from pulumi_policy import EnforcementLevel

from policy.guardrails.model import IAM_ROLE_POLICY_ATTACHMENT, S3_BUCKET, S3_BUCKET_V2

NAMES = "s3-bucket-name-not-fixed"
PREFIX = "iam-lambda-s3-get-object-scoped-to-prefix"
BUCKET = "arn:aws:s3:::ap-dev-large-messages"


@pytest.mark.parametrize("type_", [S3_BUCKET, S3_BUCKET_V2])
def test_fixed_bucket_name_is_advisory(stack, crossguard, type_):
    stack.add(type_, "results", {"bucket": "ap-dev-results"})
    reported = crossguard.run(stack.resources, only=NAMES)
    assert [r.level for r in reported] == [EnforcementLevel.ADVISORY]
    assert reported[0].message.startswith(
        'S3 bucket "results" has the fixed name "ap-dev-results": S3 bucket names are global across all AWS accounts'
    )


@pytest.mark.parametrize(
    "props",
    [
        {"bucket": "results-4f1c2e9"},  # Pulumi's auto-name for logical name "results"
        {"bucketPrefix": "ap-dev-results-"},
        {"bucket": "ap-dev-results-123456789012"},
        {"bucket": "ap-dev-results-123456789012-us-east-1-an", "bucketNamespace": "account-regional"},
        {},
    ],
)
def test_unique_bucket_names_pass(stack, crossguard, props):
    stack.add(S3_BUCKET, "results", props)
    assert crossguard.messages(NAMES, stack) == []


def test_unknown_bucket_name_in_preview_passes(stack, crossguard):
    stack.add(S3_BUCKET, "results", {"bucket": stack.unknown})
    assert crossguard.messages(NAMES, stack) == []


def _grant(stack, *statements):
    stack.set_policy("orders-billing-role-policy", *statements)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", f"{BUCKET}/*"),
        ("s3:Get*", f"{BUCKET}/*"),
        ("s3:*", "*"),
        ("*", f"{BUCKET}/*"),
        ("s3:GetObject", "arn:aws:s3:::*/orders/*"),
        ("s3:GetObject", f"{BUCKET}/*/billing/*"),
    ],
)
def test_bucket_wide_get_object_on_a_lambda_role(stack, crossguard, action, resource):
    _grant(stack, {"Sid": "Read", "Effect": "Allow", "Action": action, "Resource": resource})
    reported = crossguard.run(stack.resources, only=PREFIX)
    assert [r.level for r in reported] == [EnforcementLevel.MANDATORY]
    assert reported[0].message.startswith(
        f'IAM role policy "orders-billing-role-policy", statement 1 (Sid "Read"): lets Lambda role '
        f'"orders-billing-role" s3:GetObject on "{resource}"'
    )
    assert '"arn:aws:s3:::<bucket>/<pipeline>/<consumer>/*"' in reported[0].message


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", f"{BUCKET}/orders/billing/*"),
        ("s3:GetObject", f"{BUCKET}/orders/billing/large-*"),
        ("s3:PutObject", f"{BUCKET}/*"),  # writes are not reads of other consumers' payloads
        ("s3:ListBucket", BUCKET),
        ("s3:GetObject", BUCKET),  # a bucket ARN: GetObject does not apply
    ],
)
def test_prefix_scoped_or_unrelated_grants_pass(stack, crossguard, action, resource):
    _grant(stack, {"Effect": "Allow", "Action": action, "Resource": resource})
    assert crossguard.messages(PREFIX, stack) == []


def test_the_programs_prefix_limited_list_grant_passes(stack, crossguard):
    """The consumer role's ListBucket (so a missing key answers 404), limited by `s3:prefix` to its pipeline."""
    from components.policy_documents import list_prefix_statement

    _grant(
        stack,
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"{BUCKET}/orders/*"},
        list_prefix_statement(f"{BUCKET}/orders/*"),
    )
    assert crossguard.messages(PREFIX, stack) == []
    assert [v.message for v in crossguard.run(stack.resources) if v.level == EnforcementLevel.MANDATORY] == []


def test_not_resource_grant_is_reported(stack, crossguard):
    _grant(stack, {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/secret/*"})
    [message] = crossguard.messages(PREFIX, stack)
    assert "(NotResource)" in message


def test_only_roles_lambda_assumes_are_checked(stack, crossguard):
    _grant(stack, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    stack.props("orders-billing-role")["assumeRolePolicy"] = stack.document(
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    assert crossguard.messages(PREFIX, stack) == []


def test_managed_policy_attached_to_a_lambda_role_is_judged_too(stack, crossguard):
    stack.add(
        IAM_ROLE_POLICY_ATTACHMENT,
        "s3-full",
        {"role": "orders-billing-role", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
        {"role": ["orders-billing-role"]},
    )
    [message] = crossguard.messages(PREFIX, stack)
    assert message.startswith(
        'IAM role policy attachment "s3-full" (AWS managed policy AmazonS3FullAccess), statement 1: lets Lambda role'
    )


def test_unknown_grant_in_preview_is_not_judged(stack, crossguard):
    _grant(stack, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": stack.unknown})
    assert crossguard.messages(PREFIX, stack) == []
