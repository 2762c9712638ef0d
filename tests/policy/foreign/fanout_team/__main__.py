"""Order events fan-out, as a platform team wrote it: one SNS topic, two SQS subscribers with DLQs, Lambda
consumers behind a "live" alias. Separate RedrivePolicy / RedriveAllowPolicy / QueuePolicy / TopicPolicy
resources, documents from ``aws.iam.get_policy_document_output``, ``json.dumps`` or ``Output.json_dumps``.

Config switches (variants used by the policy-pack tests):
  sourceArnTest      condition operator tying SNS to the topic (default StringEquals)
  allowEveryone      the queue policy lets Principal "*" send, with no condition
  inlineQueuePolicy  the billing queue also carries an inline policy (next to its QueuePolicy)
  topicDenyAction    the action of the topic's TLS deny (default sns:Publish)
  batchSize          batch size of the billing mapping (default 10)
  reportFailures     the billing mapping reports batch item failures (default true)
  maxReceiveCount    of the billing queue (default 5)
"""

import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
source_arn_test = config.get("sourceArnTest") or "StringEquals"
allow_everyone = config.get_bool("allowEveryone") or False
inline_queue_policy = config.get_bool("inlineQueuePolicy") or False
topic_deny_action = config.get("topicDenyAction") or "sns:Publish"
batch_size = config.get_int("batchSize") or 10
report_failures = config.get_bool("reportFailures")
max_receive_count = config.get_int("maxReceiveCount") or 5

kms_key = aws.kms.Key("events-key", description="order events", enable_key_rotation=True)

topic = aws.sns.Topic("order-events", kms_master_key_id=kms_key.id)

aws.sns.TopicPolicy(
    "order-events-policy",
    arn=topic.arn,
    policy=topic.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TLSOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": topic_deny_action,
                        "Resource": arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        )
    ),
)

alerts = aws.sns.Topic("ops-alerts", kms_master_key_id=kms_key.id)
aws.sns.TopicPolicy(
    "ops-alerts-policy",
    arn=alerts.arn,
    policy=alerts.arn.apply(
        lambda arn: aws.iam.get_policy_document(
            statements=[
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="TLSOnly",
                    effect="Deny",
                    principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="*", identifiers=["*"])],
                    actions=["sns:Publish"],
                    resources=[arn],
                    conditions=[
                        aws.iam.GetPolicyDocumentStatementConditionArgs(
                            test="Bool", variable="aws:SecureTransport", values=["false"]
                        )
                    ],
                ),
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="Alarms",
                    effect="Allow",
                    principals=[
                        aws.iam.GetPolicyDocumentStatementPrincipalArgs(
                            type="Service", identifiers=["cloudwatch.amazonaws.com"]
                        )
                    ],
                    actions=["sns:Publish"],
                    resources=[arn],
                ),
            ]
        ).json
    ),
)

logs_policy = aws.iam.Policy(
    "consumer-logs",
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-*:*",
                }
            ],
        }
    ),
)


def subscriber(name: str, *, batch: int, reports: bool, receives: int, inline_policy: bool) -> None:
    dlq = aws.sqs.Queue(f"{name}-dlq", sqs_managed_sse_enabled=True, message_retention_seconds=1_209_600)
    queue = aws.sqs.Queue(
        name,
        sqs_managed_sse_enabled=True,
        visibility_timeout_seconds=180,
        policy=(
            topic.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                       "Action": "sqs:SendMessage", "Resource": "*",
                                       "Condition": {"ArnEquals": {"aws:SourceArn": arn}}}],
                    }
                )
            )
            if inline_policy
            else None
        ),
    )
    aws.sqs.RedrivePolicy(
        f"{name}-redrive",
        queue_url=queue.id,
        redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": receives}),
    )
    aws.sqs.RedriveAllowPolicy(
        f"{name}-dlq-allow",
        queue_url=dlq.id,
        redrive_allow_policy=pulumi.Output.json_dumps(
            {"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}
        ),
    )

    def queue_policy(queue_arn: str, topic_arn: str) -> str:
        statements: list[aws.iam.GetPolicyDocumentStatementArgsDict] = [
            {
                "sid": "TLSOnly",
                "effect": "Deny",
                "principals": [{"type": "*", "identifiers": ["*"]}],
                "actions": ["sqs:*"],
                "resources": [queue_arn],
                "conditions": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
            },
            {
                "sid": "FromTopic",
                "effect": "Allow",
                "principals": [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}],
                "actions": ["sqs:SendMessage"],
                "resources": [queue_arn],
                "conditions": [{"test": source_arn_test, "variable": "aws:SourceArn", "values": [topic_arn]}],
            },
        ]
        if allow_everyone:
            statements.append(
                {
                    "sid": "Producers",
                    "effect": "Allow",
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                    "actions": ["sqs:SendMessage"],
                    "resources": [queue_arn],
                }
            )
        return aws.iam.get_policy_document(statements=statements).json

    aws.sqs.QueuePolicy(
        f"{name}-policy",
        queue_url=queue.id,
        policy=pulumi.Output.all(queue.arn, topic.arn).apply(lambda arns: queue_policy(*arns)),
    )
    aws.sqs.QueuePolicy(
        f"{name}-dlq-policy",
        queue_url=dlq.id,
        policy=dlq.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "sqs:*",
                            "Resource": arn,
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            )
        ),
    )
    aws.sns.TopicSubscription(
        f"{name}-sub", topic=topic.arn, protocol="sqs", endpoint=queue.arn, raw_message_delivery=True
    )
    aws.cloudwatch.MetricAlarm(
        f"{name}-dlq-not-empty",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": dlq.name},
        statistic="Maximum",
        period=60,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[alerts.arn],
    )

    role = aws.iam.Role(
        f"{name}-fn-role",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    aws.iam.RolePolicy(
        f"{name}-fn-sqs",
        role=role.id,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                        "Resource": queue.arn,
                    }
                ],
            }
        ),
    )
    aws.iam.RolePolicyAttachment(f"{name}-fn-logs", role=role.name, policy_arn=logs_policy.arn)
    function = aws.lambda_.Function(
        f"{name}-fn",
        role=role.arn,
        runtime="python3.13",
        handler="app.handler",
        timeout=30,
        code=pulumi.AssetArchive({"app.py": pulumi.StringAsset("def handler(event, context):\n    return {}\n")}),
    )
    live = aws.lambda_.Alias(f"{name}-live", function_name=function.name, function_version="$LATEST")
    aws.lambda_.EventSourceMapping(
        f"{name}-trigger",
        event_source_arn=queue.arn,
        function_name=live.arn,
        batch_size=batch,
        function_response_types=["ReportBatchItemFailures"] if reports else None,
    )


subscriber(
    "orders-billing",
    batch=batch_size,
    reports=True if report_failures is None else report_failures,
    receives=max_receive_count,
    inline_policy=inline_queue_policy,
)
subscriber("orders-shipping", batch=10, reports=True, receives=5, inline_policy=False)
