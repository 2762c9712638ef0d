"""Least privilege for the services the pipelines use: no wildcard actions or resources.

Checked: the documents of ``aws.iam.RolePolicy`` / ``Policy`` / ``UserPolicy`` / ``GroupPolicy`` and a
role's ``inlinePolicies``; and every AWS managed policy attached through ``managedPolicyArns``,
``RolePolicyAttachment``, ``RolePolicyAttachmentsExclusive``, ``PolicyAttachment``,
``UserPolicyAttachment`` or ``GroupPolicyAttachment``, judged by its documented statements
(``managed_policies.py``) with the same rule as an inline statement. A customer managed policy is judged
where it is defined (its ``aws.iam.Policy``). Only Allow statements matter; a Deny may use wildcards.

The stack-level helpers (:func:`role_grants`, :func:`trusted_services`) collect everything a role is
allowed, wherever it is attached; the API Gateway and S3 prefix rules build on them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from .documents import Document, Statement, parse_document
from .managed_policies import MANAGED_POLICIES, ManagedPolicy, aws_managed_name
from .model import (
    APIGATEWAY_ACCOUNT,
    IAM_GROUP_POLICY,
    IAM_GROUP_POLICY_ATTACHMENT,
    IAM_POLICY,
    IAM_POLICY_ATTACHMENT,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    IAM_USER_POLICY,
    IAM_USER_POLICY_ATTACHMENT,
    UNKNOWN,
    Finding,
    InvalidJson,
    Resource,
    Stack,
    _Unknown,
)

DOCUMENT_TYPES: Final = (IAM_ROLE_POLICY, IAM_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY)
# Where AWS managed (or customer managed) policy ARNs are attached, and the property holding them.
ATTACHMENT_ARN_PROPS: Final = {
    IAM_ROLE: "managedPolicyArns",
    IAM_ROLE_POLICY_ATTACHMENT: "policyArn",
    IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: "policyArns",
    IAM_POLICY_ATTACHMENT: "policyArn",
    IAM_USER_POLICY_ATTACHMENT: "policyArn",
    IAM_GROUP_POLICY_ATTACHMENT: "policyArn",
}
CHECKED_TYPES: Final = frozenset(DOCUMENT_TYPES) | frozenset(ATTACHMENT_ARN_PROPS)
# How each resource names the role(s) it applies to.
_ROLE_PROPS: Final = {
    IAM_ROLE_POLICY: "role",
    IAM_ROLE_POLICY_ATTACHMENT: "role",
    IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: "roleName",
    IAM_POLICY_ATTACHMENT: "roles",
}
_ROLE_ATTRS: Final = ("name", "id", "arn")
# Actions that only work on Resource "*" (no resource-level permissions), so "*" is not a wildcard for
# them. SQS developer guide: "With the exception of ListQueues, all Amazon SQS actions support
# resource-level permissions"; the Service Authorization Reference lists no resource type for the others.
STAR_ONLY_ACTIONS: Final = frozenset({"sqs:listqueues", "sns:listtopics", "s3:listallmybuckets", "dynamodb:listtables"})

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


def statement_problems(statement: Statement, *, logs_anywhere: bool = False) -> Iterator[str]:
    """What is too wide in an Allow statement. ``logs_anywhere``: the statement belongs to API Gateway's
    account logging role, which may write to any log group (see :func:`api_gateway_logging_roles`)."""
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
    touches_guarded = any(
        a.strip() == "*" or (_service(a) in GUARDED_SERVICES and a.lower() not in STAR_ONLY_ACTIONS) for a in actions
    )
    touches_guarded = touches_guarded or bool(statement.not_actions)
    if not touches_guarded or (logs_anywhere and _services(actions) == {"logs"} and not statement.not_actions):
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
    if resource.type in DOCUMENT_TYPES:
        yield resource.label, resource.get("policy")
    elif resource.type == IAM_ROLE:
        inline = resource.get("inlinePolicies")
        for index, item in enumerate(inline if isinstance(inline, list) else [], start=1):
            if isinstance(item, dict):
                name = item.get("name")
                shown = f'"{name}"' if isinstance(name, str) else f"#{index}"
                yield f"{resource.label}, inline policy {shown}", item.get("policy")


def attached_arns(resource: Resource) -> list[Any]:
    """The policy ARNs ``resource`` attaches (strings, or UNKNOWN during a preview)."""
    prop = ATTACHMENT_ARN_PROPS.get(resource.type)
    if prop is None:
        return []
    value = resource.get(prop)
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) or v is UNKNOWN]
    return [value] if isinstance(value, str) or value is UNKNOWN else []


def _managed_statements(policy: ManagedPolicy) -> list[Statement]:
    document = parse_document(policy.document)
    assert isinstance(document, Document)
    return list(document.statements)


def check_iam_least_privilege(resource: Resource, *, logs_anywhere: bool = False) -> Iterator[str]:
    for what, raw in _documents(resource):
        document = parse_document(raw)
        if isinstance(document, InvalidJson):
            yield f"{what}: the policy is not a valid JSON policy document ({document.error})."
        elif isinstance(document, Document):
            for statement in document.statements:
                for problem in statement_problems(statement, logs_anywhere=logs_anywhere):
                    yield f"{what}, {statement.label}: {problem}"
    for arn in attached_arns(resource):
        policy = MANAGED_POLICIES.get(aws_managed_name(arn) or "")
        if policy is None:
            continue  # customer managed (judged where defined), unknown, or not in the table (advisory)
        for statement in _managed_statements(policy):
            for problem in statement_problems(statement, logs_anywhere=logs_anywhere):
                yield (
                    f"{resource.label} attaches the AWS managed policy {policy.name} ({policy.source}), "
                    f"{statement.label}: {problem} Fix: replace it with an inline policy listing the exact "
                    "actions and ARNs the role needs."
                )


def api_gateway_logging_roles(stack: Stack) -> set[str]:
    """Roles API Gateway assumes to write its own execution and access logs (``aws.apigateway.Account``).

    API Gateway names those log groups at run time for every API of the account and Region
    (``API-Gateway-Execution-Logs_{api-id}/{stage}`` and each stage's access log group), which is why AWS
    documents the managed policy AmazonAPIGatewayPushToCloudWatchLogs (logs actions on ``*``) for this one
    role (API Gateway developer guide, "Permissions for CloudWatch logging"). Such a role may use Logs
    actions on any log group; everything else is judged as usual.
    """
    return {
        role.urn
        for account in stack.of_type(APIGATEWAY_ACCOUNT)
        for role in stack.resolve(account, "cloudwatchRoleArn", (IAM_ROLE,), attrs=_ROLE_ATTRS)
    }


def _applies_only_to(stack: Stack, holder: Resource, roles: set[str]) -> bool:
    """``holder`` (a role, or a policy/attachment naming roles) grants only to roles in ``roles``."""
    if holder.type == IAM_ROLE:
        return holder.urn in roles
    prop = _ROLE_PROPS.get(holder.type)
    if prop is None or (holder.type == IAM_POLICY_ATTACHMENT and (holder.get("users") or holder.get("groups"))):
        return False
    targets = stack.resolve(holder, prop, (IAM_ROLE,), attrs=_ROLE_ATTRS)
    return bool(targets) and all(t.urn in roles for t in targets)


def check_least_privilege(stack: Stack) -> Iterator[Finding]:
    """``check_iam_least_privilege`` over every IAM resource, knowing which role is API Gateway's logger."""
    logging_roles = api_gateway_logging_roles(stack)
    for resource in stack.resources:
        if resource.type not in CHECKED_TYPES:
            continue
        logs_anywhere = bool(logging_roles) and _applies_only_to(stack, resource, logging_roles)
        for message in check_iam_least_privilege(resource, logs_anywhere=logs_anywhere):
            yield Finding.about(resource, message)


# --- what a role is allowed, wherever it is attached ----------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One statement that applies to a role, and the resource that carries it."""

    holder: Resource
    where: str
    statement: Statement


def _document_grants(holder: Resource, what: str, raw: Any) -> tuple[list[Grant], bool]:
    document = parse_document(raw)
    if isinstance(document, Document):
        return [Grant(holder, what, st) for st in document.statements], False
    return [], document is UNKNOWN


def _arn_grants(stack: Stack, holder: Resource) -> tuple[list[Grant], bool]:
    """Statements of the policies ``holder`` attaches: the managed-policy table, or the stack's Policy."""
    grants: list[Grant] = []
    unresolved = False
    prop = ATTACHMENT_ARN_PROPS[holder.type]
    for policy in stack.resolve(holder, prop, (IAM_POLICY,), attrs=("arn", "id", "name")):
        found, unknown = _document_grants(policy, policy.label, policy.get("policy"))
        grants += found
        unresolved |= unknown
    if holder.property_dependencies.get(prop):
        return grants, unresolved
    for arn in attached_arns(holder):
        name = aws_managed_name(arn)
        managed = MANAGED_POLICIES.get(name or "")
        if managed is not None:
            where = f"{holder.label} (AWS managed policy {managed.name})"
            grants += [Grant(holder, where, st) for st in _managed_statements(managed)]
        elif not grants:
            unresolved = True  # unknown, customer managed outside this stack, or not in the table
    return grants, unresolved


def role_grants(stack: Stack, role: Resource) -> tuple[list[Grant], bool]:
    """Every statement applying to ``role``; plus whether some of its policies cannot be read (yet)."""
    grants: list[Grant] = []
    unresolved = False
    for what, raw in _documents(role):
        found, unknown = _document_grants(role, what, raw)
        grants += found
        unresolved |= unknown
    found, unknown = _arn_grants(stack, role)
    grants += found
    unresolved |= unknown
    for holder_type, prop in _ROLE_PROPS.items():
        for holder in stack.of_type(holder_type):
            if role not in stack.resolve(holder, prop, (IAM_ROLE,), attrs=_ROLE_ATTRS):
                dangling = not holder.property_dependencies.get(prop)
                if dangling and stack.unresolvable(holder.get(prop), (IAM_ROLE,), _ROLE_ATTRS):
                    unresolved = True  # it may apply to this role: cannot tell yet
                continue
            if holder.type == IAM_ROLE_POLICY:
                found, unknown = _document_grants(holder, holder.label, holder.get("policy"))
            else:
                found, unknown = _arn_grants(stack, holder)
            grants += found
            unresolved |= unknown
    return grants, unresolved


def trusted_services(role: Resource) -> set[str] | _Unknown:
    """Service principals the role's trust policy lets assume it (UNKNOWN when it cannot be read)."""
    document = parse_document(role.get("assumeRolePolicy"))
    if not isinstance(document, Document):
        return UNKNOWN
    services: set[str] = set()
    for statement in document.statements:
        if statement.is_allow and any(fnmatch.fnmatch("sts:assumerole", a.lower()) for a in statement.actions):
            found, _ = statement.principals()
            services |= found
    return services


def allows_action(statement: Statement, action: str) -> bool:
    """The Allow statement grants ``action`` (IAM wildcards in its Action list honoured)."""
    if not statement.is_allow:
        return False
    wanted = action.lower()
    if statement.not_actions:
        return not any(fnmatch.fnmatchcase(wanted, a.lower()) for a in statement.not_actions)
    return any(fnmatch.fnmatchcase(wanted, a.lower()) for a in statement.actions)


# --- s3:GetObject scoped to an object prefix (Lambda roles) ---------------------------------------

LAMBDA_PRINCIPAL: Final = "lambda.amazonaws.com"
_S3_OBJECT_ARN: Final = re.compile(r"^arn:aws[a-z-]*:s3:::(?P<bucket>[^/]*)(?:/(?P<key>.*))?$")


def _bucket_wide(resource: str) -> str | None:
    """Why ``resource`` covers every object of a bucket (or of every bucket); None when it is a prefix."""
    if resource.strip() == "*":
        return "every object of every bucket"
    match = _S3_OBJECT_ARN.match(resource)
    if not match:
        return None
    bucket, key = match.group("bucket"), match.group("key")
    if key is None:
        return None  # a bucket ARN: s3:GetObject does not apply to it
    if bucket in ("", "*") or "*" in bucket:
        return "objects of every matching bucket"
    if key.startswith(("*", "?")):
        return f'every object of bucket "{bucket}"'
    return None


def check_lambda_s3_get_object_prefix(stack: Stack) -> Iterator[Finding]:
    """A role Lambda assumes reads S3 objects only under a key prefix, never a whole bucket."""
    for role in stack.of_type(IAM_ROLE):
        services = trusted_services(role)
        if isinstance(services, _Unknown) or LAMBDA_PRINCIPAL not in services:
            continue
        grants, _ = role_grants(stack, role)
        for grant in grants:
            if grant.statement.has_not_resource and allows_action(grant.statement, "s3:GetObject"):
                yield Finding.about(
                    grant.holder,
                    f"{grant.where}, {grant.statement.label}: lets Lambda role \"{role.name}\" s3:GetObject on "
                    "everything but the listed resources (NotResource). Fix: name the object prefix, e.g. "
                    '"arn:aws:s3:::<bucket>/<pipeline>/<consumer>/*".',
                )
                continue
            if not allows_action(grant.statement, "s3:GetObject"):
                continue
            for resource in grant.statement.resources:
                scope = _bucket_wide(resource)
                if scope is None:
                    continue
                yield Finding.about(
                    grant.holder,
                    f'{grant.where}, {grant.statement.label}: lets Lambda role "{role.name}" s3:GetObject on '
                    f'"{resource}" ({scope}). A function that follows object pointers from messages can then '
                    "be made to read any payload stored there, not just its own. Fix: grant s3:GetObject on "
                    'the function\'s key prefix only, e.g. "arn:aws:s3:::<bucket>/<pipeline>/<consumer>/*".',
                )


# --- attached policies the pack cannot read (advisory) --------------------------------------------


def check_attached_policies_readable(stack: Stack) -> Iterator[Finding]:
    """Attached policies whose statements the pack cannot judge: said once, so nobody assumes they were."""
    for holder in stack.resources:
        if holder.type not in ATTACHMENT_ARN_PROPS:
            continue
        prop = ATTACHMENT_ARN_PROPS[holder.type]
        in_stack = stack.resolve(holder, prop, (IAM_POLICY,), attrs=("arn", "id", "name"))
        if holder.property_dependencies.get(prop):
            continue  # built from a policy of this stack, which is judged where it is defined
        for arn in attached_arns(holder):
            name = aws_managed_name(arn)
            if name is not None and name in MANAGED_POLICIES:
                continue
            if arn is UNKNOWN:
                why = "its ARN is not known during this preview"
            elif name is not None:
                why = (
                    f"the AWS managed policy {name} is not in the pack's table of documented managed policies "
                    "(policy/guardrails/managed_policies.py)"
                )
            elif any(p.get("arn") == arn for p in in_stack):
                continue
            else:
                why = "it is a customer managed policy defined outside this stack"
            yield Finding.about(
                holder,
                f'{holder.label} attaches "{arn if isinstance(arn, str) else "<unknown>"}", whose statements '
                f"were not checked: {why}. Fix: review it by hand, or define the policy in this program.",
            )
