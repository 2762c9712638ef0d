"""HttpIngress: an API Gateway REST API in front of one pipeline's entry, with no Lambda in the request path.

`POST {stage URL}/pipelines/{name}` → a direct AWS service integration: SNS `Publish` (fan-out) or SQS
`SendMessage` (chain, retry), signed with an integration role allowed exactly that one action on that
one ARN. The contract is docs/http.md; the mapping templates are in `components/http_templates.py`.

Why a REST API and not an HTTP API: the contract needs request validation against a JSON schema (400
for a non-object body or a missing FIFO group), mapping templates that build the SNS/SQS request and
the `{"messageId"}` answer and override the status (413), API keys with usage plans (`auth: apiKey`),
and per-stage throttling — HTTP APIs have none of validation, mapping templates or API keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import defaults as d
from components import http_templates as t
from components import policy_documents as docs
from components.alarms import metric_alarm
from components.http_config import HttpSettings
from contract import aws as aws_contract

PUBLIC_TAG = "async-pipelines:public"
"""On the API and stage of an `auth: none` + `public: true` ingress: the policy pack reads it."""
FOUR_XX_RATE_ALARM = 0.05
"""Alarm when more than 5 % of requests in a minute got a 4xx (API Gateway's 4XXError Average is that rate)."""
CLOUDWATCH_ROLE_POLICY = "arn:{partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


@dataclass(frozen=True)
class HttpIngressArgs:
    pipeline: str
    """Pipeline name: the path is `/pipelines/<pipeline>`."""
    name_prefix: str
    """`ap-<stack>`: prefixes every physical name."""
    settings: HttpSettings
    entry_arn: pulumi.Input[str]
    """The pipeline's entry: its topic ARN (fan-out) or its first queue's ARN (chain, retry)."""
    entry_is_topic: bool
    region: str
    alarm_topic_arn: pulumi.Input[str]
    log_retention_days: int = d.LOG_RETENTION_DAYS
    depends_on: tuple[pulumi.Resource, ...] = ()
    """E.g. the stack's `ApiGatewayAccount`: the stage's access logs need the account's CloudWatch role first."""


class HttpIngress(pulumi.ComponentResource):
    """REST API + validator + service integration + stage (throttled, JSON access logs) + alarms (+ key, plan)."""

    api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    role: aws.iam.Role
    url: pulumi.Output[str]
    """Where to POST: `https://{api}.execute-api.{region}.amazonaws.com/{stage}/pipelines/{name}`."""
    api_key: aws.apigateway.ApiKey | None
    deployment: aws.apigateway.Deployment

    def __init__(self, name: str, args: HttpIngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:HttpIngress", name, None, opts)
        s = args.settings
        base = f"{args.name_prefix}-{args.pipeline}"
        tags = {PUBLIC_TAG: "true"} if s.auth == "none" and s.public else None

        self.role = self._integration_role(name, base, args)
        self.api = aws.apigateway.RestApi(
            f"{name}-api",
            name=base,
            description=f"HTTP ingress of pipeline {args.pipeline}: POST /pipelines/{args.pipeline} (docs/http.md)",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        uri, request_template = _integration_target(args)
        routes = self._routes(name, args, uri, request_template)
        fingerprint = _fingerprint(args, uri, request_template, self.role.arn)
        self.stage = self._stage(name, base, args, routes, tags, fingerprint)
        self.api_key = self._api_key(name, base, s) if s.auth == "apiKey" else None
        self._alarms(name, base, args)
        self.url = pulumi.Output.concat(
            "https://", self.api.id, f".execute-api.{args.region}.{aws_contract.dns_suffix_of(args.region)}/",
            self.stage.stage_name,
            f"/pipelines/{args.pipeline}",
        )
        self.register_outputs({"url": self.url, "api_id": self.api.id})

    def _integration_role(self, name: str, base: str, args: HttpIngressArgs) -> aws.iam.Role:
        """The role API Gateway signs the integration with: exactly one action on exactly the entry's ARN."""
        child = pulumi.ResourceOptions(parent=self)
        action = "sns:Publish" if args.entry_is_topic else "sqs:SendMessage"
        role = aws.iam.Role(
            f"{name}-http-role",
            name=f"{base}-http",
            assume_role_policy=docs.assume_role_policy("apigateway.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-http-policy",
            role=role.id,
            policy=pulumi.Output.from_input(args.entry_arn).apply(lambda arn: docs.single_action_policy(action, arn)),
            opts=child,
        )
        return role

    def _routes(
        self, name: str, args: HttpIngressArgs, uri: pulumi.Output[str], request_template: pulumi.Output[str]
    ) -> list[pulumi.Resource]:
        """`POST /pipelines/<name>` with its integration and answers, the 404 routes and the gateway responses.

        Returns every resource the deployment must wait for (a deployment snapshots what exists when it is made).
        """
        s = args.settings
        api = self.api
        child = pulumi.ResourceOptions(parent=self)
        pipelines = aws.apigateway.Resource(
            f"{name}-pipelines", rest_api=api.id, parent_id=api.root_resource_id, path_part="pipelines", opts=child
        )
        resource = aws.apigateway.Resource(
            f"{name}-resource", rest_api=api.id, parent_id=pipelines.id, path_part=args.pipeline, opts=child
        )
        method = self._post_method(name, s, resource)
        integration = self._integration(name, resource, method, uri, request_template)
        responses: list[pulumi.Resource] = [method, integration]
        responses += self._integration_responses(name, s, resource, method, integration)
        responses += self._not_found(name, "root", api, api.root_resource_id, s)
        responses += self._not_found(name, "pipelines", api, pipelines.id, s)
        responses += self._gateway_responses(name, api)
        return responses

    def _post_method(
        self, name: str, s: HttpSettings, resource: aws.apigateway.Resource
    ) -> aws.apigateway.Method:
        """The POST, validated by API Gateway: the body against the JSON-schema model, the group header if any."""
        api = self.api
        child = pulumi.ResourceOptions(parent=self)
        model = aws.apigateway.Model(
            f"{name}-model",
            rest_api=api.id,
            name="MessageBody",
            content_type="application/json",
            schema=t.body_schema(s),
            opts=child,
        )
        validator = aws.apigateway.RequestValidator(
            f"{name}-validator",
            rest_api=api.id,
            name="body-and-group",
            validate_request_body=True,
            validate_request_parameters=True,
            opts=child,
        )
        group_header = {f"method.request.header.{s.group_header}": True} if s.group_header else None
        return aws.apigateway.Method(
            f"{name}-post",
            rest_api=api.id,
            resource_id=resource.id,
            http_method="POST",
            **_method_auth(s),
            request_models={"application/json": model.name},
            request_validator_id=validator.id,
            request_parameters=group_header,
            opts=child,
        )

    def _integration(
        self,
        name: str,
        resource: aws.apigateway.Resource,
        method: aws.apigateway.Method,
        uri: pulumi.Output[str],
        request_template: pulumi.Output[str],
    ) -> aws.apigateway.Integration:
        """The direct service integration: SNS `Publish` or SQS `SendMessage`, built by the request template."""
        return aws.apigateway.Integration(
            f"{name}-integration",
            rest_api=self.api.id,
            resource_id=resource.id,
            http_method=method.http_method,
            type="AWS",
            integration_http_method="POST",
            uri=uri,
            credentials=self.role.arn,
            passthrough_behavior="NEVER",
            request_parameters={"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
            request_templates={"application/json": request_template},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _integration_responses(
        self,
        name: str,
        s: HttpSettings,
        resource: aws.apigateway.Resource,
        method: aws.apigateway.Method,
        integration: aws.apigateway.Integration,
    ) -> list[pulumi.Resource]:
        """The entry's answer mapped to the contract's: 2xx -> 202 `{"messageId"}`, 4xx -> 400/413, 5xx -> 500."""
        out: list[pulumi.Resource] = []
        for status, pattern, body in _answers(s):
            method_response = aws.apigateway.MethodResponse(
                f"{name}-response-{status}",
                rest_api=self.api.id,
                resource_id=resource.id,
                http_method=method.http_method,
                status_code=status,
                opts=pulumi.ResourceOptions(parent=self),
            )
            out.append(method_response)
            out.append(
                aws.apigateway.IntegrationResponse(
                    f"{name}-integration-response-{status}",
                    rest_api=self.api.id,
                    resource_id=resource.id,
                    http_method=method.http_method,
                    status_code=status,
                    selection_pattern=pattern,
                    response_templates={"application/json": body},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[integration, method_response]),
                )
            )
        return out

    def _stage(
        self,
        name: str,
        base: str,
        args: HttpIngressArgs,
        routes: list[pulumi.Resource],
        tags: dict[str, str] | None,
        fingerprint: pulumi.Output[str],
    ) -> aws.apigateway.Stage:
        """A deployment of the routes, and the stage `v1` serving it: JSON access logs, throttled, with metrics."""
        s = args.settings
        api = self.api
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{base}/access",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=api.id,
            description=f"ingress of {args.pipeline}",
            triggers={"redeployment": fingerprint},
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes),
        )
        stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=api.id,
            deployment=self.deployment.id,
            stage_name=d.API_STAGE,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=log_group.arn, format=t.ACCESS_LOG_FORMAT
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        aws.apigateway.MethodSettings(
            f"{name}-throttle",
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(**_method_settings(s)),
            opts=child,
        )
        return stage

    def _api_key(self, name: str, base: str, s: HttpSettings) -> aws.apigateway.ApiKey:
        """`auth: apiKey`: a key, and a usage plan on the stage (throttled like it) that the key belongs to."""
        child = pulumi.ResourceOptions(parent=self)
        key = aws.apigateway.ApiKey(f"{name}-key", name=f"{base}-key", enabled=True, opts=child)
        plan = aws.apigateway.UsagePlan(
            f"{name}-usage-plan",
            name=f"{base}-plan",
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=self.api.id, stage=self.stage.stage_name)],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=s.throttle_rate, burst_limit=s.throttle_burst
            ),
            opts=child,
        )
        aws.apigateway.UsagePlanKey(
            f"{name}-usage-plan-key", key_id=key.id, key_type="API_KEY", usage_plan_id=plan.id, opts=child
        )
        return key

    def _alarms(self, name: str, base: str, args: HttpIngressArgs) -> None:
        """5XXError (the entry failed or refused the role) and the 4XXError rate, to the stack's alarm topic."""
        dimensions: dict[str, pulumi.Input[str]] = {"ApiName": self.api.name, "Stage": self.stage.stage_name}
        metric_alarm(
            f"{name}-http-5xx",
            parent=self,
            description=f"{base}: the HTTP ingress answered 5xx (the entry failed or refused the integration role)",
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions=dimensions,
            statistic="Sum",
            threshold=0,
            alarm_topic_arn=args.alarm_topic_arn,
        )
        metric_alarm(
            f"{name}-http-4xx-rate",
            parent=self,
            description=f"{base}: more than {FOUR_XX_RATE_ALARM:.0%} of requests got a 4xx (bad clients, auth, "
            "throttling) for 5 minutes",
            namespace="AWS/ApiGateway",
            metric_name="4XXError",
            dimensions=dimensions,
            statistic="Average",
            threshold=FOUR_XX_RATE_ALARM,
            alarm_topic_arn=args.alarm_topic_arn,
            evaluation_periods=5,
        )

    def _not_found(
        self, name: str, where: str, api: aws.apigateway.RestApi, parent_id: pulumi.Input[str], s: HttpSettings
    ) -> list[pulumi.Resource]:
        """`{proxy+}` under `parent_id` answering 404 (a MOCK integration): unknown pipelines and paths.

        It asks for the same authentication as the pipeline's POST, so an unauthenticated caller learns
        nothing about which paths exist (401/403 everywhere) and no method is anonymous unless the API is public.
        """
        child = pulumi.ResourceOptions(parent=self)
        proxy = aws.apigateway.Resource(
            f"{name}-{where}-proxy", rest_api=api.id, parent_id=parent_id, path_part="{proxy+}", opts=child
        )
        method = aws.apigateway.Method(
            f"{name}-{where}-any",
            rest_api=api.id,
            resource_id=proxy.id,
            http_method="ANY",
            **_method_auth(s),
            opts=child,
        )
        integration = aws.apigateway.Integration(
            f"{name}-{where}-mock",
            rest_api=api.id,
            resource_id=proxy.id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={"application/json": t.NOT_FOUND_REQUEST_TEMPLATE},
            opts=child,
        )
        response = aws.apigateway.MethodResponse(
            f"{name}-{where}-404", rest_api=api.id, resource_id=proxy.id, http_method=method.http_method,
            status_code="404", opts=child,
        )
        mock_response = aws.apigateway.IntegrationResponse(
            f"{name}-{where}-mock-404",
            rest_api=api.id,
            resource_id=proxy.id,
            http_method=method.http_method,
            status_code="404",
            response_templates={"application/json": t.NOT_FOUND_TEMPLATE},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration, response]),
        )
        return [method, integration, response, mock_response]

    def _gateway_responses(self, name: str, api: aws.apigateway.RestApi) -> list[pulumi.Resource]:
        """API Gateway's own answers as `{"message": ...}`, with the validation error (which names the group)."""
        child = pulumi.ResourceOptions(parent=self)
        out: list[pulumi.Resource] = []
        for response_type, status, body in t.gateway_responses():
            out.append(
                aws.apigateway.Response(
                    f"{name}-{response_type.lower().replace('_', '-')}",
                    rest_api_id=api.id,
                    response_type=response_type,
                    status_code=status,
                    response_templates={"application/json": body},
                    opts=child,
                )
            )
        return out


def _method_auth(s: HttpSettings) -> dict[str, Any]:
    """The `Method` arguments for the pipeline's `auth`: one place, so every route asks for the same."""
    return {"authorization": "AWS_IAM" if s.auth == "iam" else "NONE", "api_key_required": s.auth == "apiKey"}


def _integration_target(args: HttpIngressArgs) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """The integration's URI and request template: SNS `Publish` on the topic, or SQS on the queue's path."""
    s = args.settings
    entry = pulumi.Output.from_input(args.entry_arn)
    partition = aws_contract.partition_of(args.region)
    if args.entry_is_topic:
        uri = pulumi.Output.from_input(f"arn:{partition}:apigateway:{args.region}:sns:path//")
        return uri, entry.apply(lambda arn: t.request_template(s, topic_arn=arn))
    # arn:aws:sqs:<region>:<account>:<queue> -> the queue's path in the SQS endpoint
    uri = entry.apply(
        lambda arn: f"arn:{partition}:apigateway:{args.region}:sqs:path/{arn.split(':')[4]}/{arn.split(':')[5]}"
    )
    return uri, pulumi.Output.from_input(t.request_template(s, topic_arn=None))


def _answers(s: HttpSettings) -> list[tuple[str, str | None, str]]:
    """Integration responses (status, selection pattern, template): 2xx -> 202, 4xx -> 400/413, 5xx -> 500."""
    return [
        ("202", None, t.ACCEPTED_TEMPLATE),
        ("400", r"4\d{2}", t.rejected_template(s)),
        ("500", r"5\d{2}", t.FAILED_TEMPLATE),
    ]


def _method_settings(s: HttpSettings) -> dict[str, Any]:
    """The stage's `*/*` method settings: throttling from `throttle`, CloudWatch metrics on."""
    return {"throttling_rate_limit": s.throttle_rate, "throttling_burst_limit": s.throttle_burst,
            "metrics_enabled": True}


def _fingerprint(
    args: HttpIngressArgs, uri: pulumi.Output[str], request_template: pulumi.Output[str], credentials: pulumi.Input[str]
) -> pulumi.Output[str]:
    """A hash of everything a deployment snapshots, so that any change to it makes a new deployment.

    A stage serves the deployment's snapshot, not the API's current definition (API Gateway developer
    guide, "Updating a REST API"): without a new deployment a replaced entry queue (a chain's first stage
    renamed) or a changed template would not be served. The entry ARN, the integration URI and the request
    template are Outputs, resolved first: a new queue's ARN is a new fingerprint.
    """
    s = args.settings
    definition: dict[str, pulumi.Input[Any]] = {
        "pipeline": args.pipeline,
        "entry": args.entry_arn,
        "uri": uri,
        "credentials": credentials,
        "settings": dataclasses.asdict(s),
        "auth": _method_auth(s),
        "schema": t.body_schema(s),
        "request_template": request_template,
        "integration_responses": _answers(s),
        "not_found": [t.NOT_FOUND_REQUEST_TEMPLATE, t.NOT_FOUND_TEMPLATE],
        "gateway_responses": t.gateway_responses(),
        "method_settings": _method_settings(s),
    }
    return pulumi.Output.all(**definition).apply(
        lambda resolved: hashlib.sha256(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()
    )


class ApiGatewayAccount(pulumi.ComponentResource):
    """The region's API Gateway account setting: the CloudWatch Logs role that stage access logs need.

    One per account and region (`aws.apigateway.Account` is a singleton: two stacks managing it fight), so
    it is created only when `apiGatewayCloudWatchRole: true`; otherwise it is a prerequisite (docs/http.md).
    Kept on delete, with its role: since pulumi-aws 7, deleting an `Account` resets the region's settings
    (the v6 provider's `reset_on_delete` became the only behaviour), so destroying this stack or switching
    the setting off would break access logging for every REST API stage in the region.
    """

    account: aws.apigateway.Account

    def __init__(self, name: str, role_name: str, region: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:ApiGatewayAccount", name, None, opts)
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            assume_role_policy=docs.assume_role_policy("apigateway.amazonaws.com"),
            opts=kept,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-logs", role=role.name,
            policy_arn=CLOUDWATCH_ROLE_POLICY.format(partition=aws_contract.partition_of(region)),
            opts=kept,
        )
        self.account = aws.apigateway.Account(
            name,
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment], retain_on_delete=True),
        )
        self.register_outputs({"cloudwatch_role_arn": role.arn})
