"""Document intake, as a product team wrote it: an API Gateway front door that drops requests straight
into an SQS queue (service integration, no Lambda in the request path), and a worker that fetches large
documents from an S3 bucket by the key given in the message (claim check).

Config switches:
  flavor            rest (aws.apigateway, default) or http (aws.apigatewayv2)
  throttle          set stage-wide throttling (default true)
  accessLogs        set stage access logs (default true)
  authorization     REST: NONE / AWS_IAM (default AWS_IAM); HTTP: NONE / AWS_IAM (default AWS_IAM)
  public            tag the API async-pipelines:public = "true" (default false)
  integrationActions  actions of the integration role (default ["sqs:SendMessage"])
  bucketName        a fixed bucket name (default: auto-named)
  documentsResource the worker's s3:GetObject resource suffix after the bucket ARN (default /incoming/*)
"""

import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
flavor = config.get("flavor") or "rest"
throttle = config.get_bool("throttle")
access_logs = config.get_bool("accessLogs")
authorization = config.get("authorization") or "AWS_IAM"
public = config.get_bool("public") or False
integration_actions = config.get_object("integrationActions") or ["sqs:SendMessage"]
bucket_name = config.get("bucketName")
documents_resource = config.get("documentsResource") or "/incoming/*"

tags = {"team": "intake", **({"async-pipelines:public": "true"} if public else {})}

intake = aws.sqs.Queue("intake", sqs_managed_sse_enabled=True)
logs = aws.cloudwatch.LogGroup("intake-api-access", retention_in_days=30)
log_format = json.dumps(
    {"requestId": "$context.requestId", "status": "$context.status", "ip": "$context.identity.sourceIp"}
)

api_role = aws.iam.Role(
    "intake-api",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicy(
    "intake-api-send",
    role=api_role.id,
    policy=pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": integration_actions, "Resource": intake.arn}],
        }
    ),
)

if flavor == "rest":
    api = aws.apigateway.RestApi("intake", tags=tags)
    documents = aws.apigateway.Resource(
        "documents", rest_api=api.id, parent_id=api.root_resource_id, path_part="documents"
    )
    post = aws.apigateway.Method(
        "documents-post",
        rest_api=api.id,
        resource_id=documents.id,
        http_method="POST",
        authorization=authorization,
    )
    aws.apigateway.Method(
        "documents-options", rest_api=api.id, resource_id=documents.id, http_method="OPTIONS", authorization="NONE"
    )
    aws.apigateway.Integration(
        "documents-to-sqs",
        rest_api=api.id,
        resource_id=documents.id,
        http_method=post.http_method,
        type="AWS",
        integration_http_method="POST",
        uri=pulumi.Output.concat("arn:aws:apigateway:us-east-1:sqs:path/123456789012/", intake.name),
        credentials=api_role.arn,
        request_parameters={"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
        request_templates={"application/json": "Action=SendMessage&MessageBody=$input.body"},
    )
    deployment = aws.apigateway.Deployment("intake", rest_api=api.id, triggers={"v": "1"})
    stage = aws.apigateway.Stage(
        "intake-v1",
        rest_api=api.id,
        deployment=deployment.id,
        stage_name="v1",
        access_log_settings=(
            {"destination_arn": logs.arn, "format": log_format} if access_logs is None or access_logs else None
        ),
    )
    if throttle is None or throttle:
        aws.apigateway.MethodSettings(
            "intake-v1-all",
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings={"throttling_rate_limit": 50, "throttling_burst_limit": 100, "metrics_enabled": True},
        )
else:
    http_api = aws.apigatewayv2.Api("intake", protocol_type="HTTP", tags=tags)
    integration = aws.apigatewayv2.Integration(
        "documents-to-sqs",
        api_id=http_api.id,
        integration_type="AWS_PROXY",
        integration_subtype="SQS-SendMessage",
        credentials_arn=api_role.arn,
        request_parameters={"QueueUrl": intake.url, "MessageBody": "$request.body"},
    )
    aws.apigatewayv2.Route(
        "documents-post",
        api_id=http_api.id,
        route_key="POST /documents",
        authorization_type=authorization,
        target=integration.id.apply(lambda i: f"integrations/{i}"),
    )
    aws.apigatewayv2.Stage(
        "intake-default",
        api_id=http_api.id,
        name="$default",
        auto_deploy=True,
        default_route_settings=(
            {"throttling_rate_limit": 50, "throttling_burst_limit": 100} if throttle is None or throttle else None
        ),
        access_log_settings=(
            {"destination_arn": logs.arn, "format": log_format} if access_logs is None or access_logs else None
        ),
    )

documents_bucket = aws.s3.Bucket("intake-documents", bucket=bucket_name, force_destroy=False)
worker_role = aws.iam.Role(
    "intake-worker",
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
    "intake-worker-documents",
    role=worker_role.id,
    policy=pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": pulumi.Output.concat(documents_bucket.arn, documents_resource),
                },
                {
                    "Effect": "Allow",
                    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    "Resource": intake.arn,
                },
            ],
        }
    ),
)
