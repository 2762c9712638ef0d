"""Payment webhooks with a classic retry queue, as an application team wrote it: the main queue redrives
failed messages to a delayed retry queue that the same worker consumes again; the retry queue redrives
to the DLQ. The DLQ is named by a literal ARN built from the account id (the team keeps queue names in
config), not by a reference to the queue resource.

Config switches:
  explicitSse   set sqsManagedSseEnabled on every queue (default true)
  dlqName       the DLQ's queue name (default payments-dlq)
  dlqTarget     the queue name written into the retry queue's literal deadLetterTargetArn (default dlqName)
"""

import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
explicit_sse = config.get_bool("explicitSse")
sse = True if explicit_sse is None or explicit_sse else None  # None: left to the AWS default
dlq_name = config.get("dlqName") or "payments-dlq"
dlq_target = config.get("dlqTarget") or dlq_name

account = aws.get_caller_identity().account_id
region = aws.get_region().region

dlq = aws.sqs.Queue(
    "payments-dlq", name=dlq_name, message_retention_seconds=1_209_600, sqs_managed_sse_enabled=sse
)
retry = aws.sqs.Queue(
    "payments-retry",
    name="payments-retry",
    delay_seconds=300,
    visibility_timeout_seconds=360,
    message_retention_seconds=1_209_600,
    redrive_policy=json.dumps(
        {"deadLetterTargetArn": f"arn:aws:sqs:{region}:{account}:{dlq_target}", "maxReceiveCount": 5}
    ),
    sqs_managed_sse_enabled=sse,
)
main = aws.sqs.Queue(
    "payments",
    name="payments",
    visibility_timeout_seconds=360,
    redrive_policy=retry.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})),
    sqs_managed_sse_enabled=sse,
)

for logical, queue in (("payments-dlq", dlq), ("payments-retry", retry), ("payments", main)):
    aws.sqs.QueuePolicy(
        f"{logical}-tls",
        queue_url=queue.url,
        policy=queue.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sqs:*",
                            "Resource": arn,
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            )
        ),
    )

aws.cloudwatch.MetricAlarm(
    "payments-dlq-alarm",
    namespace="AWS/SQS",
    metric_name="ApproximateNumberOfMessagesVisible",
    dimensions={"QueueName": dlq_name},
    statistic="Sum",
    period=300,
    evaluation_periods=1,
    threshold=0,
    comparison_operator="GreaterThanThreshold",
    treat_missing_data="notBreaching",
)

role = aws.iam.Role(
    "payments-worker",
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
    "payments-worker-queues",
    role=role.name,
    policy=pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    "Resource": [main.arn, retry.arn],
                }
            ],
        }
    ),
)
worker = aws.lambda_.Function(
    "payments-worker",
    role=role.arn,
    runtime="python3.13",
    handler="worker.handle",
    timeout=60,
    code=pulumi.AssetArchive({"worker.py": pulumi.StringAsset("def handle(event, context):\n    return {}\n")}),
)
for logical, queue in (("payments", main), ("payments-retry", retry)):
    aws.lambda_.EventSourceMapping(
        f"{logical}-worker",
        event_source_arn=queue.arn,
        function_name=worker.name,
        batch_size=5,
        function_response_types=["ReportBatchItemFailures"],
    )
