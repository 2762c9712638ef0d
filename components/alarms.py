"""The stack's alarm topic and the CloudWatch alarms every queue and consumer gets.

One topic per stack receives every alarm (cdk-monitoring-constructs' alarm set: queue age, queue
depth, DLQ size, Lambda errors and throttles). The topic is encrypted with a customer-managed KMS
key because CloudWatch cannot publish to topics encrypted with the AWS-managed `aws/sns` key.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import defaults as d
from components import policy_documents as docs
from contract.aws import partition_of


@dataclass(frozen=True)
class AlarmTopicArgs:
    name: str
    """Physical topic name, e.g. `ap-dev-alarms`."""
    region: str
    """The stack's region: only CloudWatch alarms of this account and region may publish."""
    email: str | None = None
    """Subscribed by email when set (the recipient must confirm the subscription)."""


class AlarmTopic(pulumi.ComponentResource):
    """SNS topic that every alarm of the stack notifies."""

    topic: aws.sns.Topic

    def __init__(self, name: str, args: AlarmTopicArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:AlarmTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts {args.name}: CloudWatch alarms may use it",
            enable_key_rotation=True,
            policy=account_id.apply(lambda account: docs.alarm_key_policy(account, partition_of(args.region))),
            opts=child,
        )
        self.topic = aws.sns.Topic(f"{name}-topic", name=args.name, kms_master_key_id=key.arn, opts=child)
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, account_id).apply(
                lambda a: docs.topic_policy(a[0], [cloudwatch_alarms(args.region, a[1])])
            ),
            opts=child,
        )
        if args.email:
            aws.sns.TopicSubscription(
                f"{name}-email", topic=self.topic.arn, protocol="email", endpoint=args.email, opts=child
            )
        self.register_outputs({"topic_arn": self.topic.arn})


def cloudwatch_alarms(region: str, account_id: str) -> docs.AwsServicePublisher:
    """CloudWatch alarms of one account and region, as a topic publisher (confused-deputy safe).

    AWS's cross-service confused-deputy guidance: scope a service principal's grant by `aws:SourceAccount`
    and `aws:SourceArn`; an alarm's ARN is `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`.
    """
    return docs.AwsServicePublisher(
        service="cloudwatch.amazonaws.com",
        account_id=account_id,
        source_arn=f"arn:{partition_of(region)}:cloudwatch:{region}:{account_id}:alarm:*",
    )


def metric_alarm(
    name: str,
    *,
    parent: pulumi.Resource,
    description: str,
    namespace: str,
    metric_name: str,
    dimensions: dict[str, pulumi.Input[str]],
    threshold: float,
    alarm_topic_arn: pulumi.Input[str],
    statistic: str = "Maximum",
    evaluation_periods: int = 1,
) -> aws.cloudwatch.MetricAlarm:
    """An alarm that fires above `threshold`, notifies on ALARM and OK, and stays quiet without data."""
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic=statistic,
        period=d.ALARM_PERIOD,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=evaluation_periods,
        threshold=threshold,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[alarm_topic_arn],
        ok_actions=[alarm_topic_arn],
        opts=pulumi.ResourceOptions(parent=parent),
    )
