"""IAM lint: every policy document of both stacks passes `parliament` (duo-labs), community auditors on.

Identity policies (each consumer role's inline policy) must come out clean. Trust policies and resource
policies (queue, topic, bucket and KMS key policies) are judged too; parliament 1.6.4 has no separate mode
for them (duo-labs/parliament#14: "Include type of policy as part of the API, check IAM and resource
policies differently", open), so the findings that only an identity-policy reading produces are kept in
`IGNORED`, each with its reason. Any other finding fails the test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from parliament import analyze_policy_string

from stack_capture import Capture

IDENTITY = "identity"
TRUST = "trust"
RESOURCE = "resource"
KEY = "kms key"

DOCUMENTS = {
    "aws:iam/rolePolicy:RolePolicy": (IDENTITY, "policy"),
    "aws:iam/role:Role": (TRUST, "assumeRolePolicy"),
    "aws:sqs/queuePolicy:QueuePolicy": (RESOURCE, "policy"),
    "aws:sns/topicPolicy:TopicPolicy": (RESOURCE, "policy"),
    "aws:s3/bucketPolicy:BucketPolicy": (RESOURCE, "policy"),
    "aws:kms/key:Key": (KEY, "policy"),
}

IGNORED: dict[tuple[str, str], str] = {
    (TRUST, "MALFORMED"): (
        "only its detail 'Statement contains neither Resource nor NotResource': a trust policy has no Resource "
        "element (IAM JSON policy grammar), but parliament reads every document as an identity policy "
        "(duo-labs/parliament#229, open)"
    ),
    (KEY, "RESOURCE_STAR"): (
        'in a KMS key policy `"Resource": "*"` means "this key" (KMS developer guide, "Key policies in AWS '
        'KMS"); parliament reads it as every resource of an identity policy'
    ),
    (KEY, "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "the account root's kms:* statement is AWS's default key policy statement (it lets IAM policies of "
        "the account manage the key; without it the key becomes unmanageable)"
    ),
}
TRUST_DETAIL = "Statement contains neither Resource nor NotResource"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:q"


def findings(document: Any) -> list[tuple[str, str]]:
    text = document if isinstance(document, str) else json.dumps(document)
    policy = analyze_policy_string(text, include_community_auditors=True)
    return [(f.issue, str(f.detail)) for f in policy.findings]


def kept(kind: str, issue: str, detail: str) -> bool:
    """Whether a finding is one of the ignored ones (listed with its reason in IGNORED)."""
    if (kind, issue) not in IGNORED:
        return False
    return kind != TRUST or detail == TRUST_DETAIL


def test_every_policy_document_of_both_stacks_passes_parliament(project_stacks: dict[str, Capture]) -> None:
    problems: list[str] = []
    seen = dict.fromkeys((IDENTITY, TRUST, RESOURCE, KEY), 0)
    used: set[tuple[str, str]] = set()
    for stack, capture in project_stacks.items():
        for resource in capture.resources:
            if resource.type not in DOCUMENTS:
                continue
            kind, prop = DOCUMENTS[resource.type]
            seen[kind] += 1
            for issue, detail in findings(resource.inputs[prop]):
                if kept(kind, issue, detail):
                    used.add((kind, issue))
                else:
                    problems.append(f"{stack} {resource.type} {resource.name}: {issue} {detail}")
    assert problems == []
    assert seen[IDENTITY] >= 10 and seen[TRUST] >= seen[IDENTITY] and seen[RESOURCE] > 0 and seen[KEY] == 2
    assert used == set(IGNORED), "an ignore that no longer matches anything must go"


def test_every_role_has_an_identity_policy_that_was_linted_or_is_aws_managed(
    project_stacks: dict[str, Capture],
) -> None:
    """Roles without an inline policy only carry AWS-managed policies (AWS's, not ours to lint; parliament's
    own CLI skips `arn:aws:iam::aws:policy/...` too), e.g. API Gateway's prescribed CloudWatch logging role."""
    for capture in project_stacks.values():
        roles = {r.outputs["name"] for r in capture.of_type("aws:iam/role:Role")}
        inline = {r.inputs["role"] for r in capture.of_type("aws:iam/rolePolicy:RolePolicy")}
        attachments = capture.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        managed = {a.inputs["role"] for a in attachments}
        assert roles <= inline | managed
        assert all(a.inputs["policyArn"].startswith("arn:aws:iam::aws:policy/") for a in attachments)
        assert not [r for r in capture.resources if r.type == "aws:iam/policy:Policy"], "lint customer policies too"


@pytest.mark.parametrize(
    ("statement", "issue"),
    [
        ({"Effect": "Allow", "Action": "sqs:ReceiveMessages", "Resource": QUEUE_ARN}, "UNKNOWN_ACTION"),
        ({"Effect": "Allow", "Action": "s3:PutObject", "Resource": QUEUE_ARN}, "RESOURCE_MISMATCH"),
        ({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}, "RESOURCE_STAR"),
    ],
)
def test_the_lint_catches_what_it_should(statement: dict, issue: str) -> None:
    """A sanity check of the linter itself: typical identity-policy mistakes are findings."""
    document = {"Version": "2012-10-17", "Statement": [statement]}
    assert issue in {i for i, _ in findings(document)}
