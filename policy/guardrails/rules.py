"""The rule table: name, enforcement level and check of every policy, and their CrossGuard wrappers.

A rule's check is a plain function — over one :class:`Resource` (resource rules, run by the engine on
each resource's inputs) or over the whole :class:`Stack` (stack rules, needed whenever a rule has to
follow a reference such as queue -> DLQ or mapping -> function). :meth:`Rule.findings` runs a rule
over a stack without Pulumi (``evaluate.py``); :meth:`Rule.to_policy` wraps it for CrossGuard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from . import alarms, apigateway, buckets, iam, lambda_esm, queues, references, topics
from .model import (
    QUEUE,
    QUEUE_POLICY,
    REDRIVE_POLICY,
    S3_BUCKET,
    S3_BUCKET_V2,
    TOPIC,
    TOPIC_POLICY,
    Finding,
    Resource,
    Stack,
    from_policy_resource,
    from_validation_args,
)

ResourceCheck = Callable[[Resource], Iterable[str]]
StackCheck = Callable[[Stack], Iterable[Finding]]

MANDATORY: Final = EnforcementLevel.MANDATORY
ADVISORY: Final = EnforcementLevel.ADVISORY


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    level: EnforcementLevel
    severity: Severity
    remediation: str
    resource_types: frozenset[str] = frozenset()
    check_resource: ResourceCheck | None = None
    check_stack: StackCheck | None = None

    def __post_init__(self) -> None:
        if (self.check_resource is None) == (self.check_stack is None):
            raise ValueError(f"rule {self.name}: give exactly one of check_resource / check_stack")
        if self.check_resource is not None and not self.resource_types:
            raise ValueError(f"rule {self.name}: a resource rule needs resource_types")

    @property
    def kind(self) -> str:
        return "resource" if self.check_resource is not None else "stack"

    def findings(self, stack: Stack) -> list[Finding]:
        """Run the rule over a whole stack (resource rules: over each resource of their types)."""
        if self.check_stack is not None:
            return list(self.check_stack(stack))
        assert self.check_resource is not None
        return [
            Finding.about(resource, message)
            for resource in stack.resources
            if resource.type in self.resource_types
            for message in self.check_resource(resource)
        ]

    def to_policy(self) -> Policy:
        """The CrossGuard policy object for this rule."""
        if self.check_resource is not None:
            return ResourceValidationPolicy(
                name=self.name,
                description=self.description,
                validate=self._validate_resource,
                enforcement_level=self.level,
                severity=self.severity,
                remediation_steps=self.remediation,
            )
        return StackValidationPolicy(
            name=self.name,
            description=self.description,
            validate=self._validate_stack,
            enforcement_level=self.level,
            severity=self.severity,
            remediation_steps=self.remediation,
        )

    def _validate_resource(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in self.resource_types or self.check_resource is None:
            return
        try:
            messages = list(self.check_resource(from_validation_args(args)))
        except Exception as exc:  # a bug here must not abort the whole preview; fail visibly instead
            messages = [_internal_error(self, exc)]
        for message in messages:
            report_violation(message, args.urn)

    def _validate_stack(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        try:
            findings = self.findings(Stack(from_policy_resource(r) for r in args.resources))
        except Exception as exc:
            findings = [Finding(None, None, None, _internal_error(self, exc))]
        for finding in findings:
            report_violation(finding.message, finding.urn)


def _internal_error(rule: Rule, exc: Exception) -> str:
    return f"policy {rule.name} could not evaluate this (internal error: {exc!r}); please report it."


def _mandatory(name: str, description: str, remediation: str, **check: Any) -> Rule:
    return Rule(name, description, MANDATORY, Severity.HIGH, remediation, **check)


def _advisory(name: str, description: str, remediation: str, **check: Any) -> Rule:
    return Rule(name, description, ADVISORY, Severity.MEDIUM, remediation, **check)


RULES: Final[tuple[Rule, ...]] = (
    # --- queues -------------------------------------------------------------------------------
    _mandatory(
        "sqs-queue-has-redrive-policy",
        "Every SQS queue that is not itself a DLQ (a redrive target no function consumes) redrives to an "
        "existing queue of the same type.",
        "Give the queue a DLQ of the same type (FIFO/standard) with redrivePolicy "
        '{"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 5}.',
        check_stack=queues.check_redrive,
    ),
    _mandatory(
        "sqs-redrive-max-receive-count",
        "A redrive policy's maxReceiveCount is a whole number from 1 to 1000.",
        "Set maxReceiveCount between 1 and 1000 (design default 5).",
        resource_types=frozenset({QUEUE, REDRIVE_POLICY}),
        check_resource=queues.check_max_receive_count,
    ),
    _mandatory(
        "sqs-dlq-retention-covers-source",
        "A DLQ keeps messages at least as long as each queue that redrives into it.",
        "Set the DLQ's messageRetentionSeconds >= the source's (design: 1209600, 14 days).",
        check_stack=queues.check_dlq_retention,
    ),
    _mandatory(
        "sqs-queue-encrypted",
        "Every SQS queue sets its encryption at rest explicitly (sqsManagedSseEnabled or kmsMasterKeyId).",
        "Set sqsManagedSseEnabled=True, or kmsMasterKeyId to a customer managed key.",
        resource_types=frozenset({QUEUE}),
        check_resource=queues.check_queue_encrypted,
    ),
    _mandatory(
        "sqs-queue-policy-denies-insecure-transport",
        "Every SQS queue policy denies all requests made without TLS (aws:SecureTransport = false).",
        'Add a Deny of sqs:* to Principal "*" with Condition Bool aws:SecureTransport "false".',
        resource_types=frozenset({QUEUE_POLICY, QUEUE}),
        check_resource=queues.check_queue_policy_ssl,
    ),
    _mandatory(
        "sqs-queue-has-resource-policy",
        "Every SQS queue has exactly one queue policy (which must deny non-TLS access): one QueuePolicy or "
        "an inline policy, never both.",
        "Attach one aws.sqs.QueuePolicy per queue, merging the statements of every topic feeding it.",
        check_stack=queues.check_queue_has_policy,
    ),
    _mandatory(
        "sqs-queue-policy-sns-source-arn",
        "Queue policy statements allowing sns.amazonaws.com are scoped to a topic by aws:SourceArn "
        "(ArnEquals, ArnLike, StringEquals or StringLike).",
        'Add "Condition": {"ArnEquals": {"aws:SourceArn": topic.arn}} to each SNS allow statement.',
        resource_types=frozenset({QUEUE_POLICY, QUEUE}),
        check_resource=queues.check_queue_policy_sns_scoped,
    ),
    _mandatory(
        "sqs-queue-policy-not-public",
        'Queue policies allow nothing to everyone (Principal "*") without a condition restricting the caller '
        "(aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, ...).",
        "Name the principal, or add a condition on aws:SourceArn / aws:SourceAccount.",
        resource_types=frozenset({QUEUE_POLICY, QUEUE}),
        check_resource=queues.check_queue_policy_not_public,
    ),
    # --- topics -------------------------------------------------------------------------------
    _mandatory(
        "sns-topic-encrypted",
        "Every SNS topic is encrypted at rest (kmsMasterKeyId).",
        "Set kmsMasterKeyId to a customer managed key usable by the topic's publishers.",
        resource_types=frozenset({TOPIC}),
        check_resource=topics.check_topic_encrypted,
    ),
    _mandatory(
        "sns-topic-policy-denies-insecure-transport",
        "Every SNS topic policy denies publishing without TLS (aws:SecureTransport = false).",
        'Add a Deny of sns:Publish to Principal "*" with Condition Bool aws:SecureTransport "false".',
        resource_types=frozenset({TOPIC_POLICY, TOPIC}),
        check_resource=topics.check_topic_policy_ssl,
    ),
    _mandatory(
        "sns-topic-has-resource-policy",
        "Every SNS topic has exactly one topic policy (which must deny non-TLS access): one TopicPolicy or "
        "an inline policy, never both.",
        "Attach one aws.sns.TopicPolicy per topic.",
        check_stack=topics.check_topic_has_policy,
    ),
    _mandatory(
        "sns-topic-policy-valid-actions",
        "Topic policies name only actions SNS accepts there (sns:Publish, sns:Subscribe, ...); anything else, "
        'sns:* included, makes AWS reject the policy ("Invalid parameter: Policy Error").',
        "Replace sns:* / other actions with the listed SNS topic actions (TLS deny: sns:Publish).",
        resource_types=frozenset({TOPIC_POLICY, TOPIC}),
        check_resource=topics.check_topic_policy_actions,
    ),
    _mandatory(
        "sns-topic-policy-not-public",
        'Topic policies allow nothing to everyone (Principal "*") without a condition restricting the caller.',
        "Name the principal, or add a condition on aws:SourceArn / aws:SourceAccount.",
        resource_types=frozenset({TOPIC_POLICY, TOPIC}),
        check_resource=topics.check_topic_policy_not_public,
    ),
    # --- event source mappings ------------------------------------------------------------------
    _mandatory(
        "lambda-sqs-esm-reports-batch-item-failures",
        "Every SQS event source mapping with batches above 1 enables partial batch responses "
        "(ReportBatchItemFailures).",
        'Set functionResponseTypes=["ReportBatchItemFailures"].',
        check_stack=lambda_esm.check_reports_batch_item_failures,
    ),
    _mandatory(
        "lambda-sqs-esm-visibility-covers-timeout",
        "The queue of an SQS event source mapping has a visibility timeout >= the function's timeout.",
        "Raise the queue's visibilityTimeoutSeconds (advised: 6 x function timeout + batching window).",
        check_stack=lambda_esm.check_visibility_covers_timeout,
    ),
    _mandatory(
        "lambda-sqs-esm-batching-limits",
        "SQS event source mapping batching is valid: batch > 10 needs a batching window >= 1 s; "
        "FIFO allows no batching window and batches of at most 10.",
        "Fix batchSize / maximumBatchingWindowInSeconds / scalingConfig as the message says.",
        check_stack=lambda_esm.check_batching,
    ),
    # --- alarms ---------------------------------------------------------------------------------
    _mandatory(
        "sqs-dlq-has-alarm",
        "Every DLQ (a redrive target no function consumes) has a CloudWatch alarm on AWS/SQS "
        "ApproximateNumberOfMessagesVisible.",
        "Add an aws.cloudwatch.MetricAlarm (QueueName = the DLQ's name, threshold > 0, "
        "treatMissingData notBreaching).",
        check_stack=alarms.check_dlq_alarm,
    ),
    # --- IAM ------------------------------------------------------------------------------------
    _mandatory(
        "iam-no-wildcards",
        "IAM Allow statements (inline, customer managed, and attached AWS managed policies judged by their "
        "documented statements) use no wildcard actions, and no wildcard resources for "
        "SQS/SNS/DynamoDB/S3/Logs actions.",
        "List the exact actions and resource ARNs the role needs.",
        check_stack=iam.check_least_privilege,
    ),
    _mandatory(
        "iam-lambda-s3-get-object-scoped-to-prefix",
        "A role Lambda assumes gets s3:GetObject only on an object key prefix, never on a whole bucket "
        "(arn:aws:s3:::bucket/*) or *.",
        'Grant s3:GetObject on "arn:aws:s3:::<bucket>/<pipeline>/<consumer>/*" (the large-message prefix).',
        check_stack=iam.check_lambda_s3_get_object_prefix,
    ),
    # --- API Gateway ----------------------------------------------------------------------------
    _mandatory(
        "apigateway-stage-throttled",
        "Every API Gateway stage sets rate and burst limits for all routes (REST: MethodSettings */*; "
        "HTTP API: defaultRouteSettings).",
        "Set throttling_rate_limit and throttling_burst_limit on the stage.",
        check_stack=apigateway.check_stage_throttled,
    ),
    _mandatory(
        "apigateway-stage-access-logs",
        "Every API Gateway stage writes access logs (accessLogSettings destinationArn and format).",
        "Set access_log_settings with a log group ARN and a JSON format.",
        check_stack=apigateway.check_stage_access_logs,
    ),
    _mandatory(
        "apigateway-anonymous-route-requires-public-flag",
        "An API Gateway route/method without authorization (NONE, no API key) is only allowed on an API "
        f'tagged {apigateway.PUBLIC_TAG} = "true".',
        f'Require IAM, an authorizer or an API key, or tag the API {apigateway.PUBLIC_TAG} = "true".',
        check_stack=apigateway.check_anonymous_routes_flagged,
    ),
    _mandatory(
        "apigateway-integration-role-single-action",
        "A role API Gateway assumes for an integration is allowed exactly one action.",
        "Allow only sns:Publish (fan-out) or sqs:SendMessage (chain, retry) on the entry's ARN.",
        check_stack=apigateway.check_integration_role_single_action,
    ),
    # --- advisory -------------------------------------------------------------------------------
    _advisory(
        "lambda-sqs-esm-visibility-six-times-timeout",
        "The queue of an SQS event source mapping has a visibility timeout >= 6 x function timeout "
        "+ batching window (AWS advice).",
        "Set visibilityTimeoutSeconds = 6 x timeout + batching window (the design default).",
        check_stack=lambda_esm.check_visibility_six_times_timeout,
    ),
    _advisory(
        "lambda-sqs-esm-max-receive-count-at-least-5",
        "A queue read by a Lambda event source mapping has maxReceiveCount >= 5 (AWS Lambda guide: "
        "throttled receives count too).",
        "Raise the queue's maxReceiveCount to 5 or more.",
        check_stack=lambda_esm.check_max_receive_count,
    ),
    _advisory(
        "sse-key-usable-by-aws-publishers",
        "Queues fed by SNS and topics fed by CloudWatch alarms are not encrypted with the AWS managed "
        "keys (alias/aws/sqs, alias/aws/sns), which those services cannot use.",
        "Use sqsManagedSseEnabled for queues, a customer managed key for the alarm topic.",
        check_stack=topics.check_sse_keys_usable,
    ),
    _advisory(
        "s3-bucket-name-not-fixed",
        "S3 buckets are auto-named, prefixed, or carry the account id (bucket names are global across accounts).",
        "Drop the fixed `bucket` name (Pulumi auto-naming) or use bucket_prefix / the account id.",
        resource_types=frozenset({S3_BUCKET, S3_BUCKET_V2}),
        check_resource=buckets.check_bucket_name_unique,
    ),
    _advisory(
        "iam-attached-policy-not-checked",
        "Policies attached by ARN whose statements the pack cannot read (AWS managed policies outside its "
        "table, customer managed policies defined elsewhere) are named, not silently passed.",
        "Review the policy by hand, or define it in this program.",
        check_stack=iam.check_attached_policies_readable,
    ),
    _advisory(
        "preview-unresolved-reference",
        "References the pack cannot follow during a preview (literal or unknown ARNs) are named; the checks "
        "that need them run on `pulumi up`.",
        "Nothing to fix: informational during a preview.",
        check_stack=references.check_unresolved_references,
    ),
)


def build_policies(rules: Iterable[Rule] = RULES) -> list[Policy]:
    """Fresh CrossGuard policy objects for ``rules`` (all of them by default)."""
    return [rule.to_policy() for rule in rules]
