"""The HTTP ingress under mocks (issue 9 item 2): one API per pipeline with `http:`, nothing without it.

The integration role's single action on the single entry ARN, the stage's throttling and JSON access
logs (retention from the stack), the alarms, auth per setting, FIFO group/deduplication in the mapping
template, the API Gateway account switch, and `pipelines.<name>.httpUrl`.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components import http_templates as t
from components.http_config import HttpSettings
from components.http_ingress import PUBLIC_TAG, HttpIngress, HttpIngressArgs
from stack_capture import Capture, CapturedResource
from tests.infra.builders import ALARM_TOPIC, REGION, capture_pipelines, statements

ACCOUNT = "123456789012"
RETRY = {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}]}
FANOUT = {"pattern": "fanout", "subscribers": {"billing": {"handler": "handlers.orders:bill"}}}
CHAIN: dict[str, Any] = {"pattern": "chain", "stages": [
    {"name": "download", "handler": "handlers.media:download"},
    {"name": "thumbnail", "handler": "handlers.media:thumbnail"},
]}


def of(capture: Capture, type_: str, prefix: str = "") -> list[CapturedResource]:
    return [r for r in capture.of_type(type_) if r.name.startswith(prefix)]


def one(capture: Capture, type_: str, prefix: str = "") -> CapturedResource:
    (found,) = of(capture, type_, prefix)
    return found


def api_id(capture: Capture, pipeline: str) -> str:
    """The REST API's id, as its child resources reference it."""
    return str(one(capture, "aws:apigateway/resource:Resource", f"{pipeline}-ingress-resource").inputs["restApi"])


def test_no_http_means_no_api_gateway_at_all() -> None:
    capture = capture_pipelines({"email": RETRY, "orders": FANOUT, "media": CHAIN}, apiGatewayCloudWatchRole=True)
    assert [r for r in capture.resources if r.type.startswith("aws:apigateway/")] == []
    assert [r for r in capture.resources if r.type == "async-pipelines:index:HttpIngress"] == []
    assert not [r for r in capture.of_type("aws:iam/role:Role") if str(r.inputs.get("name")).endswith("-http")]
    for outputs in capture.outputs["pipelines"].values():
        assert "httpUrl" not in outputs


@pytest.mark.parametrize(
    ("pipelines", "name", "action", "arn"),
    [
        ({"email": {**RETRY, "http": {}}}, "email", "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:ap-test-email"),
        ({"media": {**CHAIN, "http": {}}}, "media", "sqs:SendMessage",
         f"arn:aws:sqs:{REGION}:{ACCOUNT}:ap-test-media-download"),
        ({"orders": {**FANOUT, "http": {}}}, "orders", "sns:Publish", f"arn:aws:sns:{REGION}:{ACCOUNT}:ap-test-orders"),
    ],
    ids=["retry", "chain", "fanout"],
)
def test_integration_role_may_do_exactly_one_action_on_the_entry(
    pipelines: dict[str, Any], name: str, action: str, arn: str
) -> None:
    capture = capture_pipelines(pipelines)
    role = one(capture, "aws:iam/role:Role", f"{name}-ingress")
    assert role.inputs["name"] == f"ap-test-{name}-http"
    (trust,) = statements(role.inputs["assumeRolePolicy"])
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    policies = of(capture, "aws:iam/rolePolicy:RolePolicy", f"{name}-ingress")
    assert len(policies) == 1
    assert not [a for a in capture.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if a.name.startswith(f"{name}-ingress")]
    assert statements(policies[0].inputs["policy"]) == [{"Effect": "Allow", "Action": action, "Resource": arn}]
    integration = one(capture, "aws:apigateway/integration:Integration", f"{name}-ingress-integration")
    assert integration.inputs["credentials"] == role.outputs["arn"]
    assert integration.inputs["type"] == "AWS" and integration.inputs["integrationHttpMethod"] == "POST"
    service = "sns" if action == "sns:Publish" else "sqs"
    expected_uri = (f"arn:aws:apigateway:{REGION}:sns:path//" if service == "sns"
                    else f"arn:aws:apigateway:{REGION}:sqs:path/{ACCOUNT}/{arn.rsplit(':', 1)[1]}")
    assert integration.inputs["uri"] == expected_uri


def test_no_lambda_in_the_request_path() -> None:
    with_http = capture_pipelines({"email": {**RETRY, "http": {}}})
    without = capture_pipelines({"email": RETRY})
    functions = "aws:lambda/function:Function"
    assert len(with_http.of_type(functions)) == len(without.of_type(functions))


def test_stage_throttling_and_json_access_logs_with_the_stack_retention() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {"throttle": {"rate": 25, "burst": 40}}}},
                                logRetentionDays=14)
    stage = one(capture, "aws:apigateway/stage:Stage")
    log_group = one(capture, "aws:cloudwatch/logGroup:LogGroup", "email-ingress")
    assert log_group.inputs["retentionInDays"] == 14
    access = stage.inputs["accessLogSettings"]
    assert access["destinationArn"] == log_group.outputs["arn"]
    fields = json.loads(access["format"])
    assert fields["requestId"] == "$context.requestId" and fields["status"] == "$context.status"
    settings = one(capture, "aws:apigateway/methodSettings:MethodSettings")
    assert settings.inputs["methodPath"] == "*/*" and settings.inputs["stageName"] == stage.inputs["stageName"]
    assert settings.inputs["settings"]["throttlingRateLimit"] == 25
    assert settings.inputs["settings"]["throttlingBurstLimit"] == 40


def test_default_throttle_is_applied() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {}}})
    settings = one(capture, "aws:apigateway/methodSettings:MethodSettings").inputs["settings"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (50, 100)


def test_alarms_on_5xx_and_4xx_rate_notify_the_alarm_topic() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {}}})
    alarms = {r.inputs["metricName"]: r.inputs for r in of(capture, "aws:cloudwatch/metricAlarm:MetricAlarm")
              if r.inputs["namespace"] == "AWS/ApiGateway"}
    assert set(alarms) == {"5XXError", "4XXError"}
    topic = capture.outputs["alarmTopicArn"]
    api = one(capture, "aws:apigateway/restApi:RestApi")
    for alarm in alarms.values():
        assert alarm["alarmActions"] == [topic]
        assert alarm["dimensions"] == {"ApiName": api.outputs["name"], "Stage": "v1"}
    assert (alarms["5XXError"]["statistic"], alarms["5XXError"]["threshold"]) == ("Sum", 0)
    assert alarms["4XXError"]["statistic"] == "Average" and 0 < alarms["4XXError"]["threshold"] < 1


def test_http_url_in_the_outputs() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {}}, "media": CHAIN})
    assert capture.outputs["pipelines"]["email"]["httpUrl"] == (
        f"https://{api_id(capture, 'email')}.execute-api.{REGION}.amazonaws.com/v1/pipelines/email"
    )
    assert "httpUrl" not in capture.outputs["pipelines"]["media"]


def test_iam_auth() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {"auth": "iam"}}})
    post = one(capture, "aws:apigateway/method:Method", "email-ingress-post")
    assert post.inputs["authorization"] == "AWS_IAM" and not post.inputs.get("apiKeyRequired")
    assert not capture.of_type("aws:apigateway/apiKey:ApiKey")


def test_api_key_auth_with_a_throttled_usage_plan() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {"auth": "apiKey", "throttle": {"rate": 5, "burst": 9}}}})
    post = one(capture, "aws:apigateway/method:Method", "email-ingress-post")
    assert post.inputs["authorization"] == "NONE" and post.inputs["apiKeyRequired"] is True
    key = one(capture, "aws:apigateway/apiKey:ApiKey")
    plan = one(capture, "aws:apigateway/usagePlan:UsagePlan")
    link = one(capture, "aws:apigateway/usagePlanKey:UsagePlanKey")
    assert plan.inputs["apiStages"] == [{"apiId": api_id(capture, "email"), "stage": "v1"}]
    assert plan.inputs["throttleSettings"] == {"rateLimit": 5, "burstLimit": 9}
    # the mocks give a resource without a computed id the id "<logical name>-id"
    assert (link.inputs["keyId"], link.inputs["keyType"], link.inputs["usagePlanId"]) == (
        f"{key.name}-id", "API_KEY", f"{plan.name}-id")
    assert key.inputs["enabled"] is True
    assert capture.outputs["pipelines"]["email"]["httpApiKeyId"] == f"{key.name}-id"


def test_public_api_is_tagged_for_the_policy_pack() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {"auth": "none", "public": True}}})
    post = one(capture, "aws:apigateway/method:Method", "email-ingress-post")
    assert post.inputs["authorization"] == "NONE" and not post.inputs.get("apiKeyRequired")
    assert one(capture, "aws:apigateway/restApi:RestApi").inputs["tags"] == {PUBLIC_TAG: "true"}
    assert one(capture, "aws:apigateway/stage:Stage").inputs["tags"] == {PUBLIC_TAG: "true"}
    private = capture_pipelines({"email": {**RETRY, "http": {}}})
    assert not one(private, "aws:apigateway/restApi:RestApi").inputs.get("tags")


def test_request_template_sets_the_message_id_and_sends_to_the_queue() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {"maxBodyBytes": 4096}}})
    integration = one(capture, "aws:apigateway/integration:Integration", "email-ingress-integration")
    template = integration.inputs["requestTemplates"]["application/json"]
    assert "#set($key = $input.params('Idempotency-Key'))" in template
    assert '#if("$!key" == "")#set($key = $context.requestId)#end' in template
    assert "Action=SendMessage&MessageBody=$util.urlEncode($input.body)" in template
    assert "MessageAttribute.1.Name=ap-message-id" in template
    assert "MessageAttribute.1.Value.StringValue=$util.urlEncode($key)" in template
    assert "#if($input.body.length() > 4096)" in template and "MessageGroupId" not in template
    assert integration.inputs["requestParameters"] == {
        "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"}
    assert integration.inputs["passthroughBehavior"] == "NEVER"
    accepted = one(capture, "aws:apigateway/integrationResponse:IntegrationResponse",
                   "email-ingress-integration-response-202")
    assert accepted.inputs["statusCode"] == "202" and not accepted.inputs.get("selectionPattern")
    assert accepted.inputs["responseTemplates"]["application/json"] == t.ACCEPTED_TEMPLATE
    assert '{"messageId": "$util.escapeJavaScript($key).replaceAll("\\\\\'","\'")"}' in t.ACCEPTED_TEMPLATE


def test_fan_out_template_publishes_to_the_topic() -> None:
    capture = capture_pipelines({"orders": {**FANOUT, "http": {}}})
    template = one(capture, "aws:apigateway/integration:Integration", "orders-ingress-integration").inputs[
        "requestTemplates"]["application/json"]
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:ap-test-orders"
    assert f"Action=Publish&TopicArn=$util.urlEncode('{topic}')&Message=$util.urlEncode($input.body)" in template
    assert "MessageAttributes.entry.1.Name=ap-message-id" in template
    assert "#if($input.body.length() > 262144)" in template


def test_fifo_group_from_a_header_is_required_and_dedup_is_the_message_id() -> None:
    capture = capture_pipelines({"ledger": {**RETRY, "fifo": True, "http": {}}})
    post = one(capture, "aws:apigateway/method:Method", "ledger-ingress-post")
    assert post.inputs["requestParameters"] == {"method.request.header.X-Message-Group-Id": True}
    validator = one(capture, "aws:apigateway/requestValidator:RequestValidator")
    assert validator.inputs["validateRequestParameters"] is True and validator.inputs["validateRequestBody"] is True
    template = one(capture, "aws:apigateway/integration:Integration", "ledger-ingress-integration").inputs[
        "requestTemplates"]["application/json"]
    assert "#set($group = $input.params('X-Message-Group-Id'))" in template
    assert "&MessageGroupId=$util.urlEncode($group)" in template
    assert "&MessageDeduplicationId=$util.urlEncode($key)" in template


def test_fifo_group_from_the_body_is_required_by_the_schema() -> None:
    capture = capture_pipelines({"ledger": {**FANOUT, "fifo": True, "http": {"groupFrom": "$.account.id"}}})
    model = one(capture, "aws:apigateway/model:Model")
    schema = json.loads(model.inputs["schema"])
    assert schema["type"] == "object" and schema["required"] == ["account"]
    assert schema["properties"]["account"]["required"] == ["id"]
    post = one(capture, "aws:apigateway/method:Method", "ledger-ingress-post")
    assert post.inputs["requestModels"] == {"application/json": model.outputs["name"]}
    assert not post.inputs.get("requestParameters")
    template = one(capture, "aws:apigateway/integration:Integration", "ledger-ingress-integration").inputs[
        "requestTemplates"]["application/json"]
    assert "#set($group = \"$input.path('$.account.id')\")" in template
    assert "&MessageGroupId=$util.urlEncode($group)" in template


def test_unknown_paths_answer_404_and_api_gateway_errors_are_json() -> None:
    capture = capture_pipelines({"email": {**RETRY, "http": {}}})
    proxies = of(capture, "aws:apigateway/resource:Resource", "email-ingress")
    assert sorted(r.inputs["pathPart"] for r in proxies) == ["email", "pipelines", "{proxy+}", "{proxy+}"]
    mocks = [r for r in capture.of_type("aws:apigateway/integration:Integration") if r.inputs["type"] == "MOCK"]
    assert len(mocks) == 2 and all(m.inputs["requestTemplates"] == {"application/json": '{"statusCode": 404}'}
                                   for m in mocks)
    responses = {r.inputs["responseType"]: r.inputs["statusCode"]
                 for r in capture.of_type("aws:apigateway/response:Response")}
    assert responses == {"BAD_REQUEST_BODY": "400", "BAD_REQUEST_PARAMETERS": "400", "REQUEST_TOO_LARGE": "413",
                         "THROTTLED": "429", "MISSING_AUTHENTICATION_TOKEN": "403"}
    rejected = one(capture, "aws:apigateway/integrationResponse:IntegrationResponse",
                   "email-ingress-integration-response-400")
    assert rejected.inputs["selectionPattern"] == r"4\d{2}"
    assert "#set($context.responseOverride.status = 413)" in rejected.inputs["responseTemplates"]["application/json"]


def test_account_cloudwatch_role_only_when_switched_on() -> None:
    pipelines = {"email": {**RETRY, "http": {}}}
    assert not capture_pipelines(pipelines).of_type("aws:apigateway/account:Account")
    capture = capture_pipelines(pipelines, apiGatewayCloudWatchRole=True)
    account = one(capture, "aws:apigateway/account:Account")
    roles = capture.of_type("aws:iam/role:Role")
    role = next(r for r in roles if r.outputs["arn"] == account.inputs["cloudwatchRoleArn"])
    assert role.inputs["name"] == "ap-test-apigateway-logs"
    attachment = one(capture, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "api-gateway-account")
    assert attachment.inputs["policyArn"].endswith(":policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    stage = one(capture, "aws:apigateway/stage:Stage")
    assert account.urn in stage.dependencies


@pulumi.runtime.test
def test_component_outputs_its_url(mocks):
    settings = HttpSettings(entry_limit=1_048_576, max_body_bytes=1_048_576)
    ingress = HttpIngress(
        "jobs-ingress",
        HttpIngressArgs(pipeline="jobs", name_prefix="ap-test", settings=settings,
                        entry_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:ap-test-jobs", entry_is_topic=False,
                        region=REGION, alarm_topic_arn=ALARM_TOPIC),
    )

    def check(a: list[Any]) -> None:
        url, api_id, stage = a
        assert url == f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{stage}/pipelines/jobs"
        assert stage == "v1"

    return pulumi.Output.all(ingress.url, ingress.api.id, ingress.stage.stage_name).apply(check)


def redeployment(capture: Capture) -> str:
    return str(one(capture, "aws:apigateway/deployment:Deployment").inputs["triggers"]["redeployment"])


def test_renaming_a_chains_first_stage_redeploys_the_api() -> None:
    """A new first queue is a new entry ARN: the stage must get a deployment that points at it (issue 16 item 3)."""
    def chain(first: str) -> dict[str, Any]:
        return {**CHAIN, "stages": [{**CHAIN["stages"][0], "name": first}, CHAIN["stages"][1]], "http": {}}

    before = capture_pipelines({"media": chain("download")})
    after = capture_pipelines({"media": chain("fetch")})
    assert one(after, "aws:apigateway/integration:Integration", "media-ingress-integration").inputs["uri"].endswith(
        "/ap-test-media-fetch")
    assert redeployment(before) != redeployment(after)
    assert redeployment(before) == redeployment(capture_pipelines({"media": chain("download")}))


def _ingress(name: str, settings: HttpSettings | None = None, entry: str = "ap-test-jobs") -> HttpIngress:
    settings = settings or HttpSettings(entry_limit=1_048_576, max_body_bytes=1_048_576)
    return HttpIngress(
        name,
        HttpIngressArgs(pipeline="jobs", name_prefix="ap-test", settings=settings,
                        entry_arn=pulumi.Output.from_input(f"arn:aws:sqs:{REGION}:{ACCOUNT}:{entry}"),
                        entry_is_topic=False, region=REGION, alarm_topic_arn=ALARM_TOPIC),
    )


TEMPLATES = ("ACCEPTED_TEMPLATE", "FAILED_TEMPLATE", "NOT_FOUND_TEMPLATE", "NOT_FOUND_REQUEST_TEMPLATE",
             "ERROR_TEMPLATE", "VALIDATION_TEMPLATE", "rejected_template", "request_template")


@pytest.mark.parametrize("changed", [*TEMPLATES, "throttle", "entry"])
@pulumi.runtime.test
def test_any_change_to_what_a_deployment_snapshots_redeploys(mocks, monkeypatch, changed):
    """Every template (request, integration responses, gateway responses, the 404 MOCK), the method settings
    and the entry ARN (an Output) are in the Deployment's triggers; the same definition keeps them."""
    same = _ingress("same")
    base = _ingress("base")
    settings, entry = None, "ap-test-jobs"
    if changed == "throttle":
        settings = HttpSettings(entry_limit=1_048_576, max_body_bytes=1_048_576, throttle_rate=7)
    elif changed == "entry":
        entry = "ap-test-jobs-renamed"
    elif changed.endswith("_TEMPLATE"):
        monkeypatch.setattr(t, changed, getattr(t, changed) + " ")
    else:
        original = getattr(t, changed)
        monkeypatch.setattr(t, changed, lambda *a, **k: original(*a, **k) + " ")
    other = _ingress("other", settings, entry)

    def check(triggers: list[dict[str, str]]) -> None:
        same_t, base_t, other_t = (x["redeployment"] for x in triggers)
        assert same_t == base_t
        assert other_t != base_t, f"changing {changed} does not redeploy"

    return pulumi.Output.all(same.deployment.triggers, base.deployment.triggers, other.deployment.triggers).apply(check)


def test_account_settings_and_their_role_are_kept_when_the_stack_lets_go() -> None:
    """Deleting an `aws.apigateway.Account` resets the region's settings in pulumi-aws 7: destroying the stack
    (or switching `apiGatewayCloudWatchRole` off) must leave the setting and the role it names in place."""
    capture = capture_pipelines({"email": {**RETRY, "http": {}}}, apiGatewayCloudWatchRole=True)
    kept = {(r.type, r.name) for r in capture.resources if r.retain_on_delete}
    assert kept == {("aws:apigateway/account:Account", "api-gateway-account"),
                    ("aws:iam/role:Role", "api-gateway-account-role"),
                    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "api-gateway-account-logs")}
