"""Fixtures for the policy-pack tests.

Resources are plain dicts ``{type, name, urn, props, property_dependencies}``. ``stack`` starts from
a small stack that satisfies every policy (one fan-out subscriber with its DLQ, policies, alarm,
role, function and mapping); tests break one thing and check the message. ``crossguard`` runs the
pack's real pulumi-policy objects over such dicts, the way the engine would: resource policies once
per resource with ``ResourceValidationArgs``, stack policies once with ``StackValidationArgs``,
props behind pulumi-policy's unknown-checking proxy, dependencies as ``PolicyResource`` objects.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.guardrails import build_policies
from policy.guardrails.model import (
    EVENT_SOURCE_MAPPING,
    FUNCTION,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    METRIC_ALARM,
    QUEUE,
    QUEUE_POLICY,
    TOPIC,
    TOPIC_POLICY,
    TOPIC_SUBSCRIPTION,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"


def urn_of(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::async-pipelines::{type_}::{name}"


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def queue_url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def ssl_deny(service: str, arn: str) -> dict[str, Any]:
    """The TLS-only deny; on topics it names sns:Publish (SNS rejects sns:* in a topic policy)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish" if service == "sns" else f"{service}:*",
        "Resource": arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class StackBuilder:
    """A mutable list of resource dicts, addressed by Pulumi name (plus the naming helpers)."""

    queue_arn = staticmethod(queue_arn)
    queue_url = staticmethod(queue_url)
    topic_arn = staticmethod(topic_arn)
    ssl_deny = staticmethod(ssl_deny)
    document = staticmethod(document)
    unknown = UNKNOWN_STRING_VALUE

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.resources = resources

    def __getitem__(self, name: str) -> dict[str, Any]:
        for resource in self.resources:
            if resource["name"] == name:
                return resource
        raise KeyError(name)

    def props(self, name: str) -> dict[str, Any]:
        props: dict[str, Any] = self[name]["props"]
        return props

    def urn(self, name: str) -> str:
        return str(self[name]["urn"])

    def add(
        self, type_: str, name: str, props: dict[str, Any], deps: dict[str, list[str]] | None = None
    ) -> dict[str, Any]:
        """Add a resource; ``deps`` maps a property to the *names* of the resources it depends on."""
        resource = {
            "type": type_,
            "name": name,
            "urn": urn_of(type_, name),
            "props": props,
            "property_dependencies": {k: [self.urn(n) for n in v] for k, v in (deps or {}).items()},
        }
        self.resources.append(resource)
        return resource

    def remove(self, name: str) -> None:
        self.resources.remove(self[name])

    def set_deps(self, name: str, prop: str, *targets: str) -> None:
        self[name]["property_dependencies"][prop] = [self.urn(t) for t in targets]

    def policy_doc(self, name: str) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.props(name)["policy"])
        return parsed

    def set_policy(self, name: str, *statements: dict[str, Any]) -> None:
        self.props(name)["policy"] = document(*statements)

    def add_subscriber(self, name: str, *, fifo: bool = False, timeout: int = 30) -> None:
        """Another consumer with its own queue, DLQ, policies, alarm, function and mapping."""
        suffix = ".fifo" if fifo else ""
        _add_consumer(self, name, suffix=suffix, fifo=fifo, timeout=timeout)

    def preview(self) -> StackBuilder:
        """The same stack as a first ``pulumi preview`` shows it: every computed value unknown."""
        unknown = UNKNOWN_STRING_VALUE
        for resource in self.resources:
            props = resource["props"]
            for key in _PREVIEW_UNKNOWN.get(resource["type"], ()):
                if key in props:
                    props[key] = unknown
            if resource["type"] == METRIC_ALARM and "dimensions" in props:
                props["dimensions"] = {"QueueName": unknown}
            if resource["type"] == METRIC_ALARM and "alarmActions" in props:
                props["alarmActions"] = [unknown]
        return self


_PREVIEW_UNKNOWN: dict[str, tuple[str, ...]] = {
    QUEUE: ("arn", "url", "id", "redrivePolicy"),
    TOPIC: ("arn", "id"),
    QUEUE_POLICY: ("queueUrl", "policy", "id"),
    TOPIC_POLICY: ("arn", "policy", "id"),
    TOPIC_SUBSCRIPTION: ("topic", "endpoint", "arn", "id"),
    FUNCTION: ("arn", "id", "role", "qualifiedArn"),
    IAM_ROLE: ("arn", "id"),
    IAM_ROLE_POLICY: ("policy", "role", "id"),
    EVENT_SOURCE_MAPPING: ("eventSourceArn", "functionName", "id", "uuid"),
}


def _add_topic(b: StackBuilder, name: str, physical: str, extra: list[dict[str, Any]]) -> None:
    arn = topic_arn(physical)
    b.add(TOPIC, name, {"name": physical, "kmsMasterKeyId": "alias/ap-dev", "arn": arn, "id": arn})
    b.add(
        TOPIC_POLICY,
        f"{name}-policy",
        {"arn": arn, "policy": document(ssl_deny("sns", arn), *extra)},
        {"arn": [name], "policy": [name]},
    )


def _add_consumer(b: StackBuilder, name: str, *, suffix: str = "", fifo: bool = False, timeout: int = 30) -> None:
    queue, dlq = f"{name}-queue", f"{name}-dlq"
    q_name, d_name = f"{name}{suffix}", f"{name}-dlq{suffix}"
    fifo_props = {"fifoQueue": True} if fifo else {}
    b.add(
        QUEUE,
        dlq,
        {
            "name": d_name,
            "sqsManagedSseEnabled": True,
            "messageRetentionSeconds": 1_209_600,
            "arn": queue_arn(d_name),
            "url": queue_url(d_name),
            "id": queue_url(d_name),
            **fifo_props,
        },
    )
    b.add(
        QUEUE,
        queue,
        {
            "name": q_name,
            "sqsManagedSseEnabled": True,
            "messageRetentionSeconds": 345_600,
            "visibilityTimeoutSeconds": 6 * timeout,
            "redrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(d_name), "maxReceiveCount": 5}),
            "arn": queue_arn(q_name),
            "url": queue_url(q_name),
            "id": queue_url(q_name),
            **fifo_props,
        },
        {"redrivePolicy": [dlq]},
    )
    b.add(
        QUEUE_POLICY,
        f"{dlq}-policy",
        {"queueUrl": queue_url(d_name), "policy": document(ssl_deny("sqs", queue_arn(d_name)))},
        {"queueUrl": [dlq], "policy": [dlq]},
    )
    allow_sns = {
        "Sid": "AllowTopic",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn(q_name),
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn("orders")}},
    }
    b.add(
        QUEUE_POLICY,
        f"{queue}-policy",
        {"queueUrl": queue_url(q_name), "policy": document(ssl_deny("sqs", queue_arn(q_name)), allow_sns)},
        {"queueUrl": [queue], "policy": [queue, "orders-topic"]},
    )
    b.add(
        TOPIC_SUBSCRIPTION,
        f"{name}-subscription",
        {
            "topic": topic_arn("orders"),
            "protocol": "sqs",
            "endpoint": queue_arn(q_name),
            "rawMessageDelivery": True,
        },
        {"topic": ["orders-topic"], "endpoint": [queue]},
    )
    b.add(
        METRIC_ALARM,
        f"{dlq}-alarm",
        {
            "metricName": "ApproximateNumberOfMessagesVisible",
            "namespace": "AWS/SQS",
            "dimensions": {"QueueName": d_name},
            "statistic": "Maximum",
            "comparisonOperator": "GreaterThanThreshold",
            "threshold": 0,
            "evaluationPeriods": 1,
            "period": 60,
            "treatMissingData": "notBreaching",
            "alarmActions": [topic_arn("ap-dev-alarms")],
        },
        {"dimensions": [dlq], "alarmActions": ["alarm-topic"]},
    )
    role = f"{name}-role"
    b.add(
        IAM_ROLE,
        role,
        {
            "name": f"{name}-role",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}-role",
            "assumeRolePolicy": document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
        },
    )
    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}"
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ap-dev-idempotency"
    b.add(
        IAM_ROLE_POLICY,
        f"{role}-policy",
        {
            "role": f"{name}-role",
            "policy": document(
                {
                    "Sid": "Consume",
                    "Effect": "Allow",
                    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    "Resource": queue_arn(q_name),
                },
                {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": [queue_arn(d_name)]},
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group}:*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                    "Resource": table,
                },
                {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
            ),
        },
        {"role": [role]},
    )
    function = f"{name}-function"
    b.add(
        FUNCTION,
        function,
        {
            "name": name,
            "arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "timeout": timeout,
            "memorySize": 256,
            "role": f"arn:aws:iam::{ACCOUNT}:role/{name}-role",
        },
        {"role": [role]},
    )
    b.add(
        EVENT_SOURCE_MAPPING,
        f"{name}-esm",
        {
            "eventSourceArn": queue_arn(q_name),
            "functionName": name,
            "batchSize": 10,
            "functionResponseTypes": ["ReportBatchItemFailures"],
        },
        {"eventSourceArn": [queue], "functionName": [function]},
    )


def good_stack() -> StackBuilder:
    b = StackBuilder([])
    _add_topic(
        b,
        "alarm-topic",
        "ap-dev-alarms",
        [
            {
                "Sid": "AllowAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn("ap-dev-alarms"),
            }
        ],
    )
    _add_topic(b, "orders-topic", "orders", [])
    _add_consumer(b, "orders-billing")
    return b


@pytest.fixture
def stack() -> StackBuilder:
    return good_stack()


# --- running the pack's CrossGuard objects ---------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    policy: str
    level: EnforcementLevel
    message: str
    urn: str | None


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def to_stack_args(resources: Iterable[dict[str, Any]]) -> StackValidationArgs:
    """Build ``StackValidationArgs`` the way pulumi-policy's analyzer does from the engine's request."""
    from pulumi_policy.proxy import unknown_checking_proxy

    items = list(resources)
    objects = {
        r["urn"]: PolicyResource(
            r["type"],
            unknown_checking_proxy(copy.deepcopy(r["props"])),
            r["urn"],
            r["name"],
            _options(),
            None,
            None,
            [],
            {},
        )
        for r in items
    }
    for r in items:
        obj = objects[r["urn"]]
        for prop, urns in r.get("property_dependencies", {}).items():
            obj.property_dependencies[prop] = [objects[u] for u in urns if u in objects]
            obj.dependencies.extend(objects[u] for u in urns if u in objects and objects[u] not in obj.dependencies)
    return StackValidationArgs(list(objects.values()))


def to_resource_args(resource: dict[str, Any]) -> ResourceValidationArgs:
    from pulumi_policy.proxy import unknown_checking_proxy

    return ResourceValidationArgs(
        resource["type"],
        unknown_checking_proxy(copy.deepcopy(resource["props"])),
        resource["urn"],
        resource["name"],
        _options(),
        None,
    )


class CrossGuard:
    def __init__(self) -> None:
        self.policies = build_policies()
        self.names = [p.name for p in self.policies]

    def run(self, resources: Iterable[dict[str, Any]], only: str | None = None) -> list[Reported]:
        items = list(resources)
        reported: list[Reported] = []
        for policy in self.policies:
            if only is not None and policy.name != only:
                continue
            level = policy.enforcement_level
            assert level is not None

            def report(message: str, urn: str | None = None, *, _p: str = policy.name,
                       _l: EnforcementLevel = level) -> None:
                reported.append(Reported(_p, _l, message, urn))

            if isinstance(policy, ResourceValidationPolicy):
                for resource in items:
                    policy.validate(to_resource_args(resource), report)
            else:
                assert isinstance(policy, StackValidationPolicy)
                policy.validate(to_stack_args(items), report)
        return reported

    def messages(self, policy: str, stack: StackBuilder | Iterable[dict[str, Any]]) -> list[str]:
        if policy not in self.names:
            raise KeyError(policy)
        resources = stack.resources if isinstance(stack, StackBuilder) else stack
        return [r.message for r in self.run(resources, only=policy)]


@pytest.fixture(scope="session")
def crossguard() -> CrossGuard:
    return CrossGuard()
