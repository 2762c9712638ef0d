"""Who may touch the jobs queue, as a security-minded ops team wrote it: a worker role for a Lambda, a CI
user and a publishers group, each given access in the style the team happened to use.

Config switches:
  attach         how the managed policies reach the worker role: rolePolicyAttachment (default),
                 policyAttachment, exclusive (RolePolicyAttachmentsExclusive), managedPolicyArns
  awsManaged     names of AWS managed policies to attach that way (default none)
  actions        actions of the team's own policy (default ["sqs:SendMessage"])
  resource       resource of the team's own policy (default: the jobs queue ARN)
  inlineFor      also give these actions inline to: "user" (UserPolicy) or "group" (GroupPolicy)
"""

import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
attach = config.get("attach") or "rolePolicyAttachment"
aws_managed = config.get_object("awsManaged") or []
actions = config.get_object("actions") or ["sqs:SendMessage"]
resource = config.get("resource")
inline_for = config.get("inlineFor")


def managed_arn(name: str) -> str:
    path = "service-role/" if "Execution" in name else ""
    return f"arn:aws:iam::aws:policy/{path}{name}"


jobs = aws.sqs.Queue("jobs", sqs_managed_sse_enabled=True)
target = pulumi.Output.from_input(resource) if resource else jobs.arn

worker_role = aws.iam.Role(
    "jobs-worker",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
    managed_policy_arns=[managed_arn(name) for name in aws_managed] if attach == "managedPolicyArns" else None,
)
own = aws.iam.Policy(
    "jobs-access",
    policy=pulumi.Output.json_dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": target}]}
    ),
)
ci = aws.iam.User("ci-publisher")
publishers = aws.iam.Group("publishers")


if attach == "rolePolicyAttachment":
    for index, name in enumerate(aws_managed):
        aws.iam.RolePolicyAttachment(f"worker-managed-{index}", role=worker_role.name, policy_arn=managed_arn(name))
    aws.iam.RolePolicyAttachment("worker-own", role=worker_role.name, policy_arn=own.arn)
elif attach == "policyAttachment":
    for index, name in enumerate(aws_managed):
        aws.iam.PolicyAttachment(
            f"managed-{index}", policy_arn=managed_arn(name), roles=[worker_role.name], users=[ci.name]
        )
    aws.iam.PolicyAttachment("own", policy_arn=own.arn, roles=[worker_role.name], groups=[publishers.name])
elif attach == "exclusive":
    aws.iam.RolePolicyAttachmentsExclusive(
        "worker-policies",
        role_name=worker_role.name,
        policy_arns=[own.arn, *[managed_arn(name) for name in aws_managed]],
    )

if inline_for == "user":
    aws.iam.UserPolicy(
        "ci-publish",
        user=ci.name,
        policy=pulumi.Output.json_dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": target}]}
        ),
    )
elif inline_for == "group":
    aws.iam.GroupPolicy(
        "publishers-publish",
        group=publishers.name,
        policy=pulumi.Output.json_dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": target}]}
        ),
    )
