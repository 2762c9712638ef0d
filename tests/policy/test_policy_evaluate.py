"""evaluate(): the whole pack over captured resources (docs/contracts.md §3), without the engine."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.guardrails import RULES, Violation, build_policies, evaluate, format_violations
from policy.guardrails.model import IAM_ROLE, IAM_ROLE_POLICY_ATTACHMENT, REST_API, REST_METHOD, REST_STAGE, S3_BUCKET

COMPUTED = ("arn", "url", "id")

MANDATORY = {
    "sqs-queue-has-redrive-policy",
    "sqs-redrive-max-receive-count",
    "sqs-dlq-retention-covers-source",
    "sqs-queue-encrypted",
    "sqs-queue-policy-denies-insecure-transport",
    "sqs-queue-has-resource-policy",
    "sqs-queue-policy-sns-source-arn",
    "sns-topic-encrypted",
    "sns-topic-policy-denies-insecure-transport",
    "sns-topic-has-resource-policy",
    "lambda-sqs-esm-reports-batch-item-failures",
    "lambda-sqs-esm-visibility-covers-timeout",
    "lambda-sqs-esm-batching-limits",
    "sqs-dlq-has-alarm",
    "iam-no-wildcards",
    "sqs-queue-policy-not-public",
    "sns-topic-policy-valid-actions",
    "sns-topic-policy-not-public",
    "iam-lambda-s3-get-object-scoped-to-prefix",
    "apigateway-stage-throttled",
    "apigateway-stage-access-logs",
    "apigateway-anonymous-route-requires-public-flag",
    "apigateway-integration-role-single-action",
}
ADVISORY = {
    "lambda-sqs-esm-visibility-six-times-timeout",
    "lambda-sqs-esm-max-receive-count-at-least-5",
    "sse-key-usable-by-aws-publishers",
    "s3-bucket-name-not-fixed",
    "iam-attached-policy-not-checked",
    "preview-unresolved-reference",
}


def to_capture(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our test dicts in the capture shape: inputs without the computed attributes, outputs with them."""
    captured = []
    for r in resources:
        deps = r["property_dependencies"]
        captured.append(
            {
                "urn": r["urn"],
                "type": r["type"],
                "name": r["name"],
                "inputs": {k: v for k, v in r["props"].items() if k not in COMPUTED},
                "outputs": copy.deepcopy(r["props"]),
                "parent": None,
                "dependencies": sorted({u for urns in deps.values() for u in urns}),
                "property_dependencies": copy.deepcopy(deps),
            }
        )
    return captured


@dataclass
class CapturedResource:  # mirrors stack_capture.CapturedResource (contracts.md §3)
    urn: str
    type: str
    name: str
    inputs: dict
    outputs: dict
    parent: str | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Capture:
    stack: str
    resources: list[CapturedResource]
    outputs: dict


def test_rule_table_names_and_levels():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert {r.name for r in RULES if r.level is EnforcementLevel.MANDATORY} == MANDATORY
    assert {r.name for r in RULES if r.level is EnforcementLevel.ADVISORY} == ADVISORY
    policies = build_policies()
    assert [(p.name, p.enforcement_level) for p in policies] == [(r.name, r.level) for r in RULES]
    assert all(p.description and p.remediation_steps for p in policies)


def test_compliant_capture_has_no_violations(stack):
    assert evaluate(to_capture(stack.resources)) == []


def test_accepts_captured_resource_objects_and_a_capture(stack):
    stack.remove("orders-billing-dlq-alarm")
    objects = [CapturedResource(**item) for item in to_capture(stack.resources)]
    capture = Capture("dev", objects, {})
    by_list, by_capture = evaluate(objects), evaluate(capture)
    assert by_list == by_capture
    [violation] = by_list
    assert isinstance(violation, Violation)
    assert violation.policy == "sqs-dlq-has-alarm"
    assert violation.level is EnforcementLevel.MANDATORY and violation.mandatory
    assert violation.urn == stack.urn("orders-billing-dlq")
    assert violation.resource_name == "orders-billing-dlq"
    assert violation.resource_type == "aws:sqs/queue:Queue"
    assert str(violation).startswith('[mandatory] sqs-dlq-has-alarm: SQS queue "orders-billing-dlq" (dead-letter')


def test_outputs_supply_the_arns_for_fallback_matching(stack):
    """With no property dependencies at all, the computed ARNs/URLs in outputs resolve every reference."""
    captured = to_capture(stack.resources)
    for item in captured:
        item["property_dependencies"] = {}
    assert evaluate(captured) == []


def test_advisory_violations_are_reported_with_their_level(stack):
    stack.props("orders-billing-queue")["visibilityTimeoutSeconds"] = 60
    [violation] = evaluate(to_capture(stack.resources))
    assert violation.level is EnforcementLevel.ADVISORY and not violation.mandatory
    assert format_violations([violation]).startswith("[advisory] lambda-sqs-esm-visibility-six-times-timeout: ")
    assert format_violations([]) == "(no violations)"


def _break(stack, how: str) -> None:
    props = stack.props
    if how == "no-sse":
        del props("orders-billing-queue")["sqsManagedSseEnabled"]
        del props("orders-topic")["kmsMasterKeyId"]
    elif how == "no-redrive":
        del props("orders-billing-queue")["redrivePolicy"]
    elif how == "fifo-mismatch":
        props("orders-billing-queue")["fifoQueue"] = True
    elif how == "bad-count":
        redrive = json.loads(props("orders-billing-queue")["redrivePolicy"]) | {"maxReceiveCount": 0}
        props("orders-billing-queue")["redrivePolicy"] = json.dumps(redrive)
    elif how == "retention":
        props("orders-billing-dlq")["messageRetentionSeconds"] = 60
    elif how == "policies":
        stack.remove("orders-billing-dlq-policy")
        stack.remove("alarm-topic-policy")
        stack.set_policy("orders-topic-policy", {"Effect": "Allow", "Action": "sns:Publish"})
        stack.set_policy(
            "orders-billing-queue-policy",
            {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage"},
        )
    elif how == "esm":
        props("orders-billing-esm").update(batchSize=100, functionResponseTypes=[])
        props("orders-billing-function")["timeout"] = 900
        props("orders-billing-esm")["scalingConfig"] = {"maximumConcurrency": 2}
    elif how == "alarm":
        stack.remove("orders-billing-dlq-alarm")
    elif how == "advisories":
        props("alarm-topic")["kmsMasterKeyId"] = "alias/aws/sns"
        props("orders-billing-queue")["visibilityTimeoutSeconds"] = 60
    elif how == "iam":
        stack.set_policy("orders-billing-role-policy", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    elif how == "public":
        queue_arn, topic_arn = stack.queue_arn("orders-billing"), stack.topic_arn("orders")
        stack.set_policy(
            "orders-billing-queue-policy",
            stack.ssl_deny("sqs", queue_arn),
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": queue_arn},
        )
        stack.set_policy(
            "orders-topic-policy",
            stack.ssl_deny("sns", topic_arn) | {"Action": "sns:*"},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Subscribe", "Resource": topic_arn},
        )
    elif how == "receives":
        redrive = json.loads(props("orders-billing-queue")["redrivePolicy"]) | {"maxReceiveCount": 2}
        props("orders-billing-queue")["redrivePolicy"] = json.dumps(redrive)
        stack.add(S3_BUCKET, "results", {"bucket": "ap-dev-results"})
        stack.add(
            IAM_ROLE_POLICY_ATTACHMENT,
            "xray",
            {"role": "orders-billing-role", "policyArn": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"},
        )
    elif how == "s3":
        stack.set_policy(
            "orders-billing-role-policy",
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::ap-dev-large/*"},
        )
    elif how == "apigateway":
        stack.add(REST_API, "api", {"name": "orders-api", "id": "a1b2c3"})
        stack.add(REST_STAGE, "api-stage", {"restApi": "a1b2c3", "stageName": "v1"}, {"restApi": ["api"]})
        stack.add(
            REST_METHOD,
            "api-post",
            {"restApi": "a1b2c3", "resourceId": "r1", "httpMethod": "POST", "authorization": "NONE"},
            {"restApi": ["api"]},
        )
        stack.add(
            IAM_ROLE,
            "api-role",
            {
                "name": "api-role",
                "arn": "arn:aws:iam::123456789012:role/api-role",
                "assumeRolePolicy": stack.document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "apigateway.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ),
                "inlinePolicies": [
                    {
                        "name": "send",
                        "policy": stack.document(
                            {
                                "Effect": "Allow",
                                "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
                                "Resource": stack.queue_arn("orders-billing"),
                            }
                        ),
                    }
                ],
            },
        )
    elif how == "unresolved":
        dlq = props("orders-billing-dlq")
        dlq.update(arn=UNKNOWN_STRING_VALUE, name=UNKNOWN_STRING_VALUE)
        stack["orders-billing-queue"]["property_dependencies"] = {}


SCENARIOS = [
    "no-sse",
    "no-redrive",
    "fifo-mismatch",
    "bad-count",
    "retention",
    "policies",
    "esm",
    "alarm",
    "advisories",
    "iam",
    "public",
    "receives",
    "s3",
    "apigateway",
    "unresolved",
]


@pytest.mark.parametrize("how", SCENARIOS)
def test_evaluate_matches_the_crossguard_objects(stack, crossguard, how):
    _break(stack, how)
    through_crossguard = {(r.policy, r.level, r.message, r.urn) for r in crossguard.run(stack.resources)}
    through_evaluate = {(v.policy, v.level, v.message, v.urn) for v in evaluate(to_capture(stack.resources))}
    assert through_crossguard
    assert through_evaluate == through_crossguard


def test_every_policy_is_exercised_by_the_scenarios(stack, crossguard):
    seen: set[str] = set()
    for how in SCENARIOS:
        broken = type(stack)(copy.deepcopy(stack.resources))
        _break(broken, how)
        seen |= {v.policy for v in evaluate(broken.resources)}
    assert seen == MANDATORY | ADVISORY
