"""The pack on programs we did not write (tests/policy/foreign/): right about shapes other than ours.

Each program is captured under the project's mocks (the stack as ``pulumi up`` sees it) and, where the
case is about previews, turned into a simulated first ``pulumi preview`` and run through the pack's real
CrossGuard objects. Issue 13's eight cases each have a test here that fails without its fix; the rules
added for issues 8, 9 and 10 are shown on the same programs.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.guardrails import Violation, evaluate, format_violations

from .foreign import capture, simulated_preview

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
PROGRAMS = ["fanout_team", "retry_team", "access_team", "intake_team"]
# access_team and intake_team are about IAM and HTTP: their queues are deliberately bare.
QUEUE_PLUMBING = {"sqs-queue-has-resource-policy", "sqs-queue-has-redrive-policy"}


def up(program: str, **config: Any) -> list[Violation]:
    return evaluate(capture(program, **config))


def preview(crossguard: Any, program: str, *, computed_absent: bool = False, **config: Any) -> list[Any]:
    return crossguard.run(simulated_preview(capture(program, **config).resources, computed_absent=computed_absent))


def of(found: list[Any], policy: str) -> list[Any]:
    return [v for v in found if v.policy == policy]


def mandatory(found: list[Any], ignore: frozenset[str] | set[str] = frozenset()) -> list[Any]:
    return [v for v in found if v.level is MANDATORY and v.policy not in ignore]


# --- the unchanged programs pass -------------------------------------------------------------------


@pytest.mark.parametrize("program", ["fanout_team", "retry_team"])
def test_compliant_foreign_pipelines_pass_after_up_and_in_preview(crossguard, program):
    assert up(program) == [], format_violations(up(program))
    assert preview(crossguard, program) == []


@pytest.mark.parametrize("program", ["access_team", "intake_team"])
def test_compliant_foreign_access_and_ingress_pass(crossguard, program):
    assert mandatory(up(program), QUEUE_PLUMBING) == []
    assert mandatory(preview(crossguard, program), QUEUE_PLUMBING) == []


@pytest.mark.parametrize("program", PROGRAMS)
def test_nothing_crashes_when_every_value_is_unknown(crossguard, program):
    resources = simulated_preview(capture(program).resources)
    for resource in resources:
        resource["props"] = {k: UNKNOWN_STRING_VALUE if k != "name" else v for k, v in resource["props"].items()}
    reported = crossguard.run(resources)
    assert not [r for r in reported if "internal error" in r.message]
    assert mandatory(reported, QUEUE_PLUMBING) == []


# --- issue 13, case by case ----------------------------------------------------------------------


def test_case1_everyone_may_send_without_condition(crossguard):
    found = of(up("fanout_team", allowEveryone=True), "sqs-queue-policy-not-public")
    assert sorted(v.resource_name for v in found) == ["orders-billing-policy", "orders-shipping-policy"]
    assert all(v.level is MANDATORY for v in found)
    assert 'statement 3 (Sid "Producers"): allows everyone (Principal "*") sqs:SendMessage' in found[0].message
    # Principal "*" tied to the topic by aws:SourceArn (AWS's own older example) is not public.
    assert of(up("fanout_team"), "sqs-queue-policy-not-public") == []
    assert of(preview(crossguard, "fanout_team", allowEveryone=True), "sqs-queue-policy-not-public") == []  # unknown


@pytest.mark.parametrize("operator", ["StringEquals", "StringLike", "ArnEquals", "ArnLike"])
def test_case2_any_source_arn_operator_scopes_sns(operator):
    assert of(up("fanout_team", sourceArnTest=operator), "sqs-queue-policy-sns-source-arn") == []


def test_case2_a_non_source_condition_still_does_not(crossguard):
    found = of(up("fanout_team", sourceArnTest="ArnNotEquals"), "sqs-queue-policy-sns-source-arn")
    assert len(found) == 2
    assert all("allows sns.amazonaws.com without an aws:SourceArn condition" in v.message for v in found)


def test_case3_inline_policy_and_queue_policy_on_one_queue():
    [violation] = of(up("fanout_team", inlineQueuePolicy=True), "sqs-queue-has-resource-policy")
    assert violation.level is MANDATORY and violation.resource_name == "orders-billing"
    assert violation.message.startswith(
        'SQS queue "orders-billing" has an inline policy and also the queue policy "orders-billing-policy"'
    )


@pytest.mark.parametrize(
    ("config", "holder"),
    [
        ({"attach": "policyAttachment", "awsManaged": ["AmazonSQSFullAccess"]}, "managed-0"),
        ({"attach": "exclusive", "awsManaged": ["AmazonSQSFullAccess"]}, "worker-policies"),
        ({"attach": "rolePolicyAttachment", "awsManaged": ["AWSLambdaSQSQueueExecutionRole"]}, "worker-managed-0"),
        ({"attach": "managedPolicyArns", "awsManaged": ["AmazonDynamoDBFullAccess"]}, "jobs-worker"),
        ({"attach": "policyAttachment", "awsManaged": ["AWSLambda_FullAccess"]}, "managed-0"),
        ({"inlineFor": "user", "actions": ["sqs:*"]}, "ci-publish"),
        ({"inlineFor": "group", "resource": "*"}, "publishers-publish"),
    ],
)
def test_case4_iam_attached_any_way_is_judged_by_its_statements(config, holder):
    found = of(up("access_team", **config), "iam-no-wildcards")
    assert holder in {v.resource_name for v in found}, format_violations(found)
    assert all(v.level is MANDATORY for v in found)


def test_case4_managed_policy_judged_by_statements_not_name():
    [violation] = [
        v
        for v in up("access_team", awsManaged=["AWSLambdaSQSQueueExecutionRole"])
        if v.resource_name == "worker-managed-0"
    ]
    assert "attaches the AWS managed policy AWSLambdaSQSQueueExecutionRole" in violation.message
    assert 'resource "*" is a wildcard for logs, sqs' in violation.message
    # A customer managed policy attached the same ways is judged once, where it is defined.
    found = up("access_team", attach="policyAttachment", actions=["sqs:*"])
    assert {v.resource_name for v in of(found, "iam-no-wildcards")} == {"jobs-access"}


def test_case5_literal_dlq_arn_is_resolved_by_name_in_preview(crossguard):
    assert preview(crossguard, "retry_team") == []


def test_literal_dlq_arn_matches_the_named_queue_when_preview_shows_no_arn_at_all(crossguard):
    """A first preview may show a queue it has not created by its inputs only (no ``arn`` key): the literal
    ``arn:aws:sqs:<region>:<account>:payments-dlq`` still names the queue called payments-dlq, so neither the
    retry queue ("not a queue of this stack") nor the DLQ ("no redrive policy") is reported."""
    found = preview(crossguard, "retry_team", computed_absent=True)
    assert mandatory(found) == [], [v.message for v in found]
    assert of(found, "preview-unresolved-reference") == []  # resolved, not merely excused


def test_literal_dlq_arn_naming_no_queue_is_advisory_when_preview_shows_no_arn(crossguard):
    reported = preview(crossguard, "retry_team", computed_absent=True, dlqTarget="payments-dead")
    assert mandatory(reported) == []
    [advisory] = of(reported, "preview-unresolved-reference")
    assert "cannot tell during this preview which queue the redrive policy targets" in advisory.message


def test_case5_unresolvable_literal_dlq_is_advisory_in_preview_mandatory_after_up(crossguard):
    reported = preview(crossguard, "retry_team", dlqTarget="payments-dead")
    assert mandatory(reported) == []
    [advisory] = of(reported, "preview-unresolved-reference")
    assert advisory.level is ADVISORY
    assert "cannot tell during this preview which queue the redrive policy targets" in advisory.message
    # After `pulumi up` every ARN is known: the DLQ really is not in this stack.
    found = of(up("retry_team", dlqTarget="payments-dead"), "sqs-queue-has-redrive-policy")
    assert any("which is not a queue of this stack" in v.message for v in found)


def test_case6_retry_queue_consumed_by_a_function_is_not_a_dlq():
    """payments -> payments-retry (read by the worker) -> payments-dlq: only the last one is a DLQ."""
    assert of(up("retry_team"), "sqs-dlq-has-alarm") == []
    # The real DLQ still needs its alarm: with the alarm pointed elsewhere, only the DLQ is reported.
    stack = capture("retry_team")
    for resource in stack.resources:
        if resource.type == "aws:cloudwatch/metricAlarm:MetricAlarm":
            resource.inputs["dimensions"] = resource.outputs["dimensions"] = {"QueueName": "payments"}
    [violation] = of(evaluate(stack), "sqs-dlq-has-alarm")
    assert violation.resource_name == "payments-dlq"
    assert violation.message.startswith('SQS queue "payments-dlq" (dead-letter queue of "payments-retry")')


def test_case7_batch_size_one_needs_no_partial_batch_response():
    assert of(up("fanout_team", batchSize=1, reportFailures=False), "lambda-sqs-esm-reports-batch-item-failures") == []
    [violation] = of(up("fanout_team", batchSize=2, reportFailures=False), "lambda-sqs-esm-reports-batch-item-failures")
    assert violation.resource_name == "orders-billing-trigger"
    assert 'function "orders-billing-fn"' in violation.message  # followed through the "live" alias


def test_case8_sse_message_says_what_aws_does():
    [violation] = of(up("retry_team", explicitSse=False), "sqs-queue-encrypted")[:1]
    assert "SSE not set explicitly (AWS applies SSE-SQS by default since 2022" in violation.message
    assert "is not encrypted at rest" not in violation.message


# --- issue 8: topic actions, bucket names, maxReceiveCount ------------------------------------------


def test_topic_policy_action_sns_wildcard_is_rejected():
    found = up("fanout_team", topicDenyAction="sns:*")
    [violation] = of(found, "sns-topic-policy-valid-actions")
    assert violation.level is MANDATORY and violation.resource_name == "order-events-policy"
    assert '"sns:*" is not an action SNS accepts in a topic policy' in violation.message
    # The TLS-only deny on sns:Publish (AWS's own example) satisfies the TLS rule.
    assert of(up("fanout_team"), "sns-topic-policy-denies-insecure-transport") == []


@pytest.mark.parametrize(
    ("name", "fixed"),
    [("intake-documents", True), ("acme-intake-123456789012", False), ("intake-documents-4f1c2e9", False)],
)
def test_fixed_bucket_names_are_advised_against(name, fixed):
    found = of(up("intake_team", bucketName=name), "s3-bucket-name-not-fixed")
    assert bool(found) is fixed
    assert all(v.level is ADVISORY for v in found)
    assert of(up("intake_team"), "s3-bucket-name-not-fixed") == []  # auto-named


def test_low_max_receive_count_on_a_lambda_read_queue_is_advisory():
    [violation] = of(up("fanout_team", maxReceiveCount=3), "lambda-sqs-esm-max-receive-count-at-least-5")
    assert violation.level is ADVISORY and "maxReceiveCount 3" in violation.message


# --- issue 9: API Gateway ---------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", ["rest", "http"])
def test_stage_without_throttling_or_access_logs(flavor):
    found = up("intake_team", flavor=flavor, throttle=False, accessLogs=False)
    stage = "intake-v1" if flavor == "rest" else "intake-default"
    assert [v.resource_name for v in of(found, "apigateway-stage-throttled")] == [stage]
    assert [v.resource_name for v in of(found, "apigateway-stage-access-logs")] == [stage]
    assert of(up("intake_team", flavor=flavor), "apigateway-stage-throttled") == []


@pytest.mark.parametrize("flavor", ["rest", "http"])
def test_unauthenticated_route_needs_the_public_tag(crossguard, flavor):
    found = up("intake_team", flavor=flavor, authorization="NONE")
    [violation] = of(found, "apigateway-anonymous-route-requires-public-flag")
    assert violation.resource_name == "documents-post"  # the CORS OPTIONS method is not counted
    assert 'tags={"async-pipelines:public": "true"}' in violation.message
    assert of(up("intake_team", flavor=flavor, authorization="NONE", public=True), violation.policy) == []
    assert len(of(preview(crossguard, "intake_team", flavor=flavor, authorization="NONE"), violation.policy)) == 1


@pytest.mark.parametrize("flavor", ["rest", "http"])
def test_integration_role_with_two_actions(crossguard, flavor):
    config = {"flavor": flavor, "integrationActions": ["sqs:SendMessage", "sqs:GetQueueUrl"]}
    [violation] = of(up("intake_team", **config), "apigateway-integration-role-single-action")
    assert violation.resource_name == "intake-api"
    assert "allowed sqs:getqueueurl, sqs:sendmessage" in violation.message
    assert mandatory(preview(crossguard, "intake_team", **config), QUEUE_PLUMBING) == []  # document unknown


# --- issue 10: s3:GetObject on a prefix ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/*", "/*/incoming.json"])
def test_bucket_wide_get_object_for_a_lambda_role(suffix):
    [violation] = of(up("intake_team", documentsResource=suffix), "iam-lambda-s3-get-object-scoped-to-prefix")
    assert violation.level is MANDATORY and violation.resource_name == "intake-worker-documents"
    assert 'lets Lambda role "intake-worker" s3:GetObject' in violation.message
    assert of(up("intake_team"), violation.policy) == []  # /incoming/*
