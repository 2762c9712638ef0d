"""Least privilege for the services the pipelines use: no wildcard actions or resources.

Checked: ``aws.iam.RolePolicy`` / ``aws.iam.Policy`` documents, a role's ``inlinePolicies``, and the
AWS managed full-access policies attached through ``managedPolicyArns`` or a RolePolicyAttachment.
Only Allow statements matter; a Deny may use wildcards freely.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from .documents import Document, Statement, parse_document, strings
from .model import (
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    InvalidJson,
    Resource,
)

GUARDED_SERVICES: Final = frozenset({"sqs", "sns", "dynamodb", "s3", "logs"})
FULL_ACCESS_POLICIES: Final = frozenset(
    {
        "AdministratorAccess",
        "PowerUserAccess",
        "AmazonSQSFullAccess",
        "AmazonSNSFullAccess",
        "AmazonDynamoDBFullAccess",
        "AmazonS3FullAccess",
        "CloudWatchLogsFullAccess",
    }
)
_EXAMPLES: Final = {
    "sqs": "sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:SendMessage",
    "sns": "sns:Publish",
    "dynamodb": "dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem",
    "s3": "s3:GetObject, s3:PutObject",
    "logs": "logs:CreateLogStream, logs:PutLogEvents",
}
_AWS_MANAGED_ARN: Final = re.compile(r"^arn:[^:]+:iam::aws:policy/(?:.*/)?(?P<name>[^/]+)$")


def _service(action: str) -> str | None:
    return action.split(":", 1)[0].lower() if ":" in action else None


def _wildcard_action(action: str) -> bool:
    if action.strip() == "*":
        return True
    service = _service(action)
    return service in GUARDED_SERVICES and any(c in action.split(":", 1)[1] for c in "*?")


def _wildcard_resource(resource: str) -> bool:
    """``*``, or an ARN covering every resource of a guarded service (all queues, tables, buckets…)."""
    if resource.strip() == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or parts[2].lower() not in GUARDED_SERVICES:
        return False
    service, rest = parts[2].lower(), parts[5]
    if service == "s3":
        return rest.split("/", 1)[0] in ("*", "")
    if service == "dynamodb":
        return rest == "*" or re.fullmatch(r"table/\*(/.*)?", rest) is not None
    if service == "logs":
        return rest in ("*", "log-group:*") or rest.startswith("log-group:*:")
    return rest == "*"


def statement_problems(statement: Statement) -> Iterator[str]:
    if not statement.is_allow:
        return
    if statement.not_actions:
        yield (
            "Allow with NotAction grants every action except the listed ones. "
            "Fix: replace NotAction with the exact Action list."
        )
    actions = statement.actions
    for action in actions:
        if _wildcard_action(action):
            service = _service(action)
            example = _EXAMPLES.get(service or "", "the exact API actions the function calls")
            yield f'action "{action}" is a wildcard. Fix: list the exact actions needed (e.g. {example}).'
    touches_guarded = any(a.strip() == "*" or _service(a) in GUARDED_SERVICES for a in actions)
    touches_guarded = touches_guarded or bool(statement.not_actions)
    if not touches_guarded:
        return
    if statement.has_not_resource:
        yield "Allow with NotResource applies to every other resource. Fix: list the exact Resource ARNs."
    for resource in statement.resources:
        if _wildcard_resource(resource):
            yield (
                f'resource "{resource}" is a wildcard for {", ".join(sorted(_services(actions)))}. '
                "Fix: name the exact ARNs (the queue, topic, table, bucket or log group this role uses)."
            )


def _services(actions: list[str]) -> set[str]:
    found = {s for a in actions if (s := _service(a)) in GUARDED_SERVICES}
    return found or {"all services"}


def _documents(resource: Resource) -> Iterator[tuple[str, Any]]:
    if resource.type in (IAM_ROLE_POLICY, IAM_POLICY):
        yield resource.label, resource.get("policy")
    elif resource.type == IAM_ROLE:
        inline = resource.get("inlinePolicies")
        for index, item in enumerate(inline if isinstance(inline, list) else [], start=1):
            if isinstance(item, dict):
                name = item.get("name")
                shown = f'"{name}"' if isinstance(name, str) else f"#{index}"
                yield f"{resource.label}, inline policy {shown}", item.get("policy")


def _managed_arns(resource: Resource) -> list[str]:
    if resource.type == IAM_ROLE:
        return strings(resource.get("managedPolicyArns"))
    if resource.type == IAM_ROLE_POLICY_ATTACHMENT:
        return strings(resource.get("policyArn"))
    return []


def check_iam_least_privilege(resource: Resource) -> Iterator[str]:
    for what, raw in _documents(resource):
        document = parse_document(raw)
        if isinstance(document, InvalidJson):
            yield f"{what}: the policy is not a valid JSON policy document ({document.error})."
        elif isinstance(document, Document):
            for statement in document.statements:
                for problem in statement_problems(statement):
                    yield f"{what}, {statement.label}: {problem}"
    for arn in _managed_arns(resource):
        match = _AWS_MANAGED_ARN.match(arn)
        if match and match.group("name") in FULL_ACCESS_POLICIES:
            yield (
                f"{resource.label} attaches the AWS managed policy {match.group('name')}, which grants "
                "wildcard actions on every resource. Fix: replace it with an inline policy listing the exact "
                "actions and ARNs the role needs."
            )
