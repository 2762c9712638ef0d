"""Reading IAM-style policy documents (identity policies and SQS/SNS resource policies).

A document may be JSON text or an object; ``Statement`` a dict or a list; ``Action``, ``Resource``,
``Principal`` values a string or a list. Condition operators are matched exactly (they are
case-sensitive in IAM), condition keys case-insensitively (as IAM does).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .model import QUEUE, TOPIC, UNKNOWN, InvalidJson, Resource, Stack, _Unknown, json_value


@dataclass(frozen=True)
class Statement:
    index: int  # 1-based position in the document
    raw: Mapping[str, Any]

    @property
    def sid(self) -> str | None:
        sid = self.raw.get("Sid")
        return sid if isinstance(sid, str) and sid else None

    @property
    def label(self) -> str:
        return f'statement {self.index} (Sid "{self.sid}")' if self.sid else f"statement {self.index}"

    @property
    def effect(self) -> str:
        effect = self.raw.get("Effect")
        # A statement without Effect is invalid in AWS; treat it as the dangerous case.
        return effect.capitalize() if isinstance(effect, str) else "Allow"

    @property
    def is_allow(self) -> bool:
        return self.effect == "Allow"

    @property
    def actions(self) -> list[str]:
        return strings(self.raw.get("Action"))

    @property
    def not_actions(self) -> list[str]:
        return strings(self.raw.get("NotAction"))

    @property
    def resources(self) -> list[str]:
        return strings(self.raw.get("Resource"))

    @property
    def has_not_resource(self) -> bool:
        return "NotResource" in self.raw

    def principals(self) -> tuple[set[str], bool]:
        """(service principals, whether the statement applies to everyone: ``"*"``/``{"AWS": "*"}``)."""
        principal = self.raw.get("Principal")
        if principal == "*":
            return set(), True
        services: set[str] = set()
        everyone = False
        if isinstance(principal, Mapping):
            for kind, values in principal.items():
                for value in strings(values):
                    if kind == "Service":
                        services.add(value.lower())
                    elif value == "*":
                        everyone = True
        return services, everyone

    def condition_values(self, operators: Iterable[str], key: str) -> list[Any] | None:
        """Values of condition ``key`` under any of ``operators``; None when there is no such entry."""
        condition = self.raw.get("Condition")
        if not isinstance(condition, Mapping):
            return None
        wanted = set(operators)
        found: list[Any] | None = None
        for operator, block in condition.items():
            if operator not in wanted or not isinstance(block, Mapping):
                continue
            for cond_key, values in block.items():
                if isinstance(cond_key, str) and cond_key.lower() == key.lower():
                    found = (found or []) + (list(values) if isinstance(values, list) else [values])
        return found


@dataclass(frozen=True)
class Document:
    statements: tuple[Statement, ...]


def parse_document(value: Any) -> Document | _Unknown | InvalidJson | None:
    """None when there is no document, UNKNOWN when it is not known yet (preview)."""
    parsed = json_value(value)
    if parsed is None or parsed is UNKNOWN or isinstance(parsed, InvalidJson):
        return parsed
    if not isinstance(parsed, Mapping):
        return InvalidJson(f"expected a JSON object, got {type(parsed).__name__}")
    if _contains_unknown(parsed):
        # An object-valued document with an unknown part (preview): cannot judge any statement.
        return UNKNOWN
    raw = parsed.get("Statement")
    items = [raw] if isinstance(raw, Mapping) else list(raw) if isinstance(raw, list) else []
    return Document(tuple(Statement(i, s) for i, s in enumerate(items, start=1) if isinstance(s, Mapping)))


def _contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


TLS_DENY_ACTION = {"sqs": "sqs:*", "sns": "sns:Publish", "s3": "s3:*"}
"""What a TLS-only deny must cover. SNS accepts only its listed topic actions in a topic policy (`sns:*`
fails with "Policy Error"); AWS's own TLS-only topic example denies `sns:Publish`."""


def _covers_all_actions(statement: Statement, service: str) -> bool:
    required = TLS_DENY_ACTION.get(service, f"{service}:*").lower()
    return any(a == "*" or a.lower() in (f"{service}:*", required) for a in statement.actions)


def denies_insecure_transport(statement: Statement, service: str) -> bool:
    """A ``Deny`` of every ``service`` action to everyone when ``aws:SecureTransport`` is false."""
    if statement.effect != "Deny" or not _covers_all_actions(statement, service):
        return False
    _, everyone = statement.principals()
    if not everyone:
        return False
    values = statement.condition_values(("Bool", "BoolIfExists"), "aws:SecureTransport")
    return bool(values) and all(_is_false(v) for v in values or ())


def has_ssl_deny(document: Document, service: str) -> bool:
    return any(denies_insecure_transport(s, service) for s in document.statements)


def ssl_deny_example(service: str) -> str:
    return (
        '{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", '
        f'"Action": "{TLS_DENY_ACTION.get(service, service + ":*")}", "Resource": <{service} arn>, '
        '"Condition": {"Bool": {"aws:SecureTransport": "false"}}}'
    )


# Condition keys that tie an Allow for Principal "*" to known callers or sources (the keys IAM Access
# Analyzer treats as restricting a public grant). Matched case-insensitively, as IAM matches keys.
RESTRICTING_CONDITION_KEYS: Final = frozenset(
    key.lower()
    for key in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:userid",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceIp",
    )
)
SOURCE_ARN_OPERATORS: Final = ("ArnEquals", "ArnLike", "StringEquals", "StringLike")
"""Operators that tie a service principal to one source ARN (StringEquals is as valid as ArnEquals)."""


def _restricting_condition(statement: Statement) -> bool:
    """A positive condition on a restricting key whose values are not wildcards."""
    condition = statement.raw.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    for operator, block in condition.items():
        if not isinstance(operator, str) or "Not" in operator or operator == "Null" or not isinstance(block, Mapping):
            continue
        for key, values in block.items():
            if not (isinstance(key, str) and key.lower() in RESTRICTING_CONDITION_KEYS):
                continue
            items = values if isinstance(values, list) else [values]
            if items and all(isinstance(v, str) and v.strip() not in ("", "*") for v in items):
                return True
    return False


def public_grants(document: Document) -> Iterator[Statement]:
    """Allow statements for everyone (``"*"`` / ``{"AWS": "*"}``) not narrowed by a restricting condition."""
    for statement in document.statements:
        _, everyone = statement.principals()
        if statement.is_allow and everyone and not _restricting_condition(statement):
            yield statement


def public_findings(resource: Resource, service: str, noun: str) -> Iterator[str]:
    """Shared by queue and topic policies: no Allow to everyone without a restricting condition."""
    for what, raw in policy_documents(resource):
        document = parse_document(raw)
        if not isinstance(document, Document):
            continue  # absent, unknown, or invalid (reported by the TLS check)
        for statement in public_grants(document):
            actions = ", ".join(statement.actions) or "every action but " + ", ".join(statement.not_actions)
            yield (
                f"{what}, {statement.label}: allows everyone (Principal \"*\") {actions} with no condition "
                f"restricting the caller, so any AWS account can use this {noun}. Fix: name the principal "
                f'(e.g. {{"Service": "sns.amazonaws.com"}} or an account/role ARN), or add a condition such as '
                '"Condition": {"ArnEquals": {"aws:SourceArn": <topic arn>}} or '
                '{"StringEquals": {"aws:SourceAccount": <account id>}}.'
            )


def policy_documents(resource: Resource) -> list[tuple[str, Any]]:
    """(how to name it, raw document) for a QueuePolicy/TopicPolicy, or a queue/topic's inline policy."""
    raw = resource.get("policy")
    if raw is None or raw == "":
        return []
    if resource.type in (QUEUE, TOPIC):
        return [(f"the inline policy of {resource.label}", raw)]
    return [(resource.label, raw)]


def ssl_findings(resource: Resource, service: str, attach_hint: str) -> Iterator[str]:
    """Shared by queue and topic policies: the document denies every non-TLS request."""
    for what, raw in policy_documents(resource):
        document = parse_document(raw)
        if document is None or document is UNKNOWN:
            continue
        if isinstance(document, InvalidJson):
            yield f"{what} is not a valid JSON policy document ({document.error}). Fix: {attach_hint}"
            continue
        if isinstance(document, Document) and not has_ssl_deny(document, service):
            yield (
                f"{what} does not deny requests made without TLS "
                f"(no Deny of {TLS_DENY_ACTION.get(service, service + ':*')} to Principal * "
                "with Bool aws:SecureTransport = false). "
                f"Fix: add the statement {ssl_deny_example(service)}."
            )


def attached_policies(
    stack: Stack, policy_type: str, target_type: str, prop: str, attrs: tuple[str, ...]
) -> tuple[dict[str, list[Resource]], bool]:
    """target URN -> policy resources attached to it; plus whether some attachment is unresolvable."""
    attached: dict[str, list[Resource]] = {r.urn: [] for r in stack.of_type(target_type)}
    unresolved = False
    for policy in stack.of_type(policy_type):
        targets = stack.resolve(policy, prop, (target_type,), attrs=attrs)
        if not targets and stack.unresolvable(policy.get(prop), (target_type,), attrs):
            unresolved = True
        for target in targets:
            attached.setdefault(target.urn, []).append(policy)
    return attached, unresolved
