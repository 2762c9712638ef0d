"""API Gateway rules (issue 9): stage throttling and access logs, anonymous routes, integration roles."""

from __future__ import annotations

import pytest
from pulumi_policy import EnforcementLevel

from policy.guardrails.apigateway import PUBLIC_TAG
from policy.guardrails.model import (
    APIGATEWAY_ACCOUNT,
    HTTP_API,
    HTTP_INTEGRATION,
    HTTP_ROUTE,
    HTTP_STAGE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    REST_API,
    REST_INTEGRATION,
    REST_METHOD,
    REST_METHOD_SETTINGS,
    REST_STAGE,
)

from .conftest import document

THROTTLED = "apigateway-stage-throttled"
LOGGED = "apigateway-stage-access-logs"
ANONYMOUS = "apigateway-anonymous-route-requires-public-flag"
SINGLE = "apigateway-integration-role-single-action"
LOGS = {"destinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:api", "format": '{"id":"$context.requestId"}'}
ROLE_ARN = "arn:aws:iam::123456789012:role/api-role"
PUSH_LOGS = "AmazonAPIGatewayPushToCloudWatchLogs"


def _trust(service: str) -> str:
    return document({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def _rest(stack, *, settings=None, method_path="*/*", logs=LOGS, auth="AWS_IAM", tags=None):
    stack.add(REST_API, "api", {"name": "orders", "id": "a1b2c3", **({"tags": tags} if tags else {})})
    stack.add(
        REST_STAGE,
        "api-stage",
        {"restApi": "a1b2c3", "stageName": "v1", **({"accessLogSettings": logs} if logs else {})},
        {"restApi": ["api"]},
    )
    if settings is not False:
        stack.add(
            REST_METHOD_SETTINGS,
            "api-throttle",
            {
                "restApi": "a1b2c3",
                "stageName": "v1",
                "methodPath": method_path,
                "settings": settings or {"throttlingRateLimit": 50, "throttlingBurstLimit": 100},
            },
            {"restApi": ["api"], "stageName": ["api-stage"]},
        )
    stack.add(
        REST_METHOD,
        "api-post",
        {"restApi": "a1b2c3", "resourceId": "r1", "httpMethod": "POST", "authorization": auth},
        {"restApi": ["api"]},
    )


def _role(stack, *statements, name="api-role", service="apigateway.amazonaws.com"):
    arn = f"arn:aws:iam::123456789012:role/{name}"
    stack.add(IAM_ROLE, name, {"name": name, "arn": arn, "assumeRolePolicy": _trust(service)})
    stack.add(IAM_ROLE_POLICY, f"{name}-policy", {"role": name, "policy": document(*statements)}, {"role": [name]})


def test_compliant_rest_api_passes(stack, crossguard):
    _rest(stack)
    assert crossguard.run(stack.resources) == []


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        (False, 'a MethodSettings with methodPath "*/*"'),
        ({"throttlingRateLimit": 50}, "settings.throttlingBurstLimit"),
        ({"throttlingRateLimit": -1, "throttlingBurstLimit": -1}, "settings.throttlingRateLimit"),
    ],
)
def test_rest_stage_without_throttling(stack, crossguard, settings, missing):
    _rest(stack, settings=settings)
    [message] = crossguard.messages(THROTTLED, stack)
    assert message.startswith(f'API Gateway stage "api-stage" has no stage-wide throttling (missing {missing}')


def test_rest_throttling_on_one_method_only_is_not_stage_wide(stack, crossguard):
    _rest(stack, method_path="orders/POST")
    assert len(crossguard.messages(THROTTLED, stack)) == 1


def test_rest_method_settings_found_by_stage_name_without_dependency(stack, crossguard):
    _rest(stack)
    stack["api-throttle"]["property_dependencies"] = {"restApi": [stack.urn("api")]}
    assert crossguard.messages(THROTTLED, stack) == []
    stack.props("api-throttle")["stageName"] = "v2"  # another stage of the same API
    assert len(crossguard.messages(THROTTLED, stack)) == 1


def test_rest_throttling_in_preview_is_found_through_dependencies(stack, crossguard):
    _rest(stack)
    for name in ("api-stage", "api-throttle", "api-post"):
        stack.props(name)["restApi"] = stack.unknown
    stack.props("api-throttle")["stageName"] = stack.unknown
    assert crossguard.run(stack.resources) == []
    stack.remove("api-throttle")
    assert len(crossguard.messages(THROTTLED, stack)) == 1


def test_unresolvable_method_settings_in_preview_is_not_mandatory(stack, crossguard):
    _rest(stack)
    stack.props("api-throttle").update(restApi=stack.unknown, stageName=stack.unknown)
    stack["api-throttle"]["property_dependencies"] = {}
    assert crossguard.messages(THROTTLED, stack) == []


@pytest.mark.parametrize(("logs", "missing"), [(None, "accessLogSettings"), ({"destinationArn": "x"}, "format")])
def test_stage_without_access_logs(stack, crossguard, logs, missing):
    _rest(stack, logs=logs)
    [message] = crossguard.messages(LOGGED, stack)
    assert message.startswith('API Gateway stage "api-stage" writes no access logs (missing ')
    assert missing in message


def test_http_api_stage(stack, crossguard):
    stack.add(HTTP_API, "http", {"name": "orders", "protocolType": "HTTP", "id": "h1"})
    stack.add(HTTP_STAGE, "http-stage", {"apiId": "h1", "name": "$default"}, {"apiId": ["http"]})
    assert len(crossguard.messages(THROTTLED, stack)) == 1
    assert len(crossguard.messages(LOGGED, stack)) == 1
    stack.props("http-stage").update(
        defaultRouteSettings={"throttlingRateLimit": 10, "throttlingBurstLimit": 20}, accessLogSettings=LOGS
    )
    assert crossguard.run(stack.resources) == []


# --- anonymous routes -------------------------------------------------------------------------------


def test_rest_method_without_auth_needs_public_tag(stack, crossguard):
    _rest(stack, auth="NONE")
    reported = crossguard.run(stack.resources, only=ANONYMOUS)
    assert [r.level for r in reported] == [EnforcementLevel.MANDATORY]
    assert reported[0].message.startswith(
        'API Gateway method "api-post": POST method with authorization NONE and no API key on API Gateway REST '
        'API "api", which is not flagged public'
    )
    stack.props("api")["tags"] = {PUBLIC_TAG: "true"}
    assert crossguard.messages(ANONYMOUS, stack) == []


@pytest.mark.parametrize("value", ["false", "yes", ""])
def test_public_tag_must_say_true(stack, crossguard, value):
    _rest(stack, auth="NONE", tags={PUBLIC_TAG: value})
    assert len(crossguard.messages(ANONYMOUS, stack)) == 1


def test_api_key_and_cors_preflight_are_not_anonymous(stack, crossguard):
    _rest(stack, auth="NONE")
    stack.props("api-post")["apiKeyRequired"] = True
    stack.add(
        REST_METHOD,
        "api-options",
        {"restApi": "a1b2c3", "resourceId": "r1", "httpMethod": "OPTIONS", "authorization": "NONE"},
        {"restApi": ["api"]},
    )
    assert crossguard.messages(ANONYMOUS, stack) == []


def test_http_routes_default_to_no_authorization(stack, crossguard):
    stack.add(HTTP_API, "http", {"name": "orders", "protocolType": "HTTP", "id": "h1"})
    stack.add(HTTP_ROUTE, "route", {"apiId": "h1", "routeKey": "POST /pipelines/{name}"}, {"apiId": ["http"]})
    [message] = crossguard.messages(ANONYMOUS, stack)
    assert 'route "POST /pipelines/{name}" with authorizationType NONE' in message
    stack.props("route")["authorizationType"] = "AWS_IAM"
    assert crossguard.messages(ANONYMOUS, stack) == []


def test_http_api_quick_create_is_anonymous(stack, crossguard):
    stack.add(HTTP_API, "quick", {"name": "q", "protocolType": "HTTP", "target": "arn:aws:lambda:x", "id": "q1"})
    [message] = crossguard.messages(ANONYMOUS, stack)
    assert message.startswith('API Gateway HTTP API "quick": quick-create target')


def test_unknown_tags_in_preview_are_not_judged(stack, crossguard):
    _rest(stack, auth="NONE")
    stack.props("api")["tags"] = stack.unknown
    assert crossguard.messages(ANONYMOUS, stack) == []


# --- integration roles --------------------------------------------------------------------------------


def test_integration_role_with_one_action_passes(stack, crossguard):
    _role(stack, {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": stack.queue_arn("orders-billing")})
    assert crossguard.messages(SINGLE, stack) == []


@pytest.mark.parametrize(
    ("actions", "shown"),
    [
        (["sqs:SendMessage", "sqs:SendMessageBatch"], "sqs:sendmessage, sqs:sendmessagebatch"),
        (["sqs:Send*"], "sqs:send* (wildcards: sqs:Send*)"),
    ],
)
def test_integration_role_with_more_than_one_action(stack, crossguard, actions, shown):
    _role(stack, {"Effect": "Allow", "Action": actions, "Resource": stack.queue_arn("orders-billing")})
    [message] = crossguard.messages(SINGLE, stack)
    assert message.startswith(f'IAM role "api-role" is an API Gateway integration role allowed {shown}: it needs')


def test_integration_role_found_through_integration_credentials(stack, crossguard):
    statement = {"Effect": "Allow", "Action": ["sns:Publish", "kms:Decrypt"], "Resource": "*"}
    _role(stack, statement, service="x.amazonaws.com")
    assert crossguard.messages(SINGLE, stack) == []
    stack.add(REST_INTEGRATION, "integration", {"credentials": ROLE_ARN, "type": "AWS"})
    assert len(crossguard.messages(SINGLE, stack)) == 1
    stack.remove("integration")
    stack.add(HTTP_INTEGRATION, "v2-integration", {"credentialsArn": ROLE_ARN, "integrationType": "AWS_PROXY"})
    assert len(crossguard.messages(SINGLE, stack)) == 1


def test_api_gateway_logging_role_is_not_an_integration_role(stack, crossguard):
    _role(stack, {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "x"})
    assert len(crossguard.messages(SINGLE, stack)) == 1
    stack.add(APIGATEWAY_ACCOUNT, "account", {"cloudwatchRoleArn": ROLE_ARN})
    assert crossguard.messages(SINGLE, stack) == []


def test_integration_role_with_unknown_policy_is_not_judged(stack, crossguard):
    _role(stack, {"Effect": "Allow", "Action": ["a:B", "c:D"], "Resource": "*"})
    stack.props("api-role-policy")["policy"] = stack.unknown
    assert crossguard.messages(SINGLE, stack) == []


def test_method_answered_by_a_mock_integration_reaches_nothing(stack, crossguard):
    """A catch-all ``{proxy+}`` ANY method with a MOCK integration (a 404) is not an anonymous entry."""
    _rest(stack, auth="AWS_IAM")
    stack.add(
        REST_METHOD,
        "api-any",
        {"restApi": "a1b2c3", "resourceId": "proxy-id", "httpMethod": "ANY", "authorization": "NONE"},
        {"restApi": ["api"]},
    )
    assert len(crossguard.messages(ANONYMOUS, stack)) == 1
    stack.add(
        REST_INTEGRATION,
        "api-any-mock",
        {"restApi": "a1b2c3", "resourceId": "proxy-id", "httpMethod": "ANY", "type": "MOCK"},
        {"restApi": ["api"], "httpMethod": ["api-any"]},
    )
    assert crossguard.messages(ANONYMOUS, stack) == []
    stack["api-any-mock"]["property_dependencies"] = {}  # matched by resource id and method instead
    assert crossguard.messages(ANONYMOUS, stack) == []
    stack.props("api-any-mock")["type"] = "AWS"  # a real backend: anonymous again
    assert len(crossguard.messages(ANONYMOUS, stack)) == 1


def test_api_gateway_logging_role_may_write_any_log_group(stack, crossguard):
    """The account's API Gateway logging role uses AmazonAPIGatewayPushToCloudWatchLogs (logs on "*")."""
    _role(stack, {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": stack.queue_arn("orders-billing")})
    stack.remove("api-role-policy")
    stack.add(
        IAM_ROLE_POLICY_ATTACHMENT,
        "api-logs",
        {"role": "api-role", "policyArn": "arn:aws:iam::aws:policy/service-role/" + PUSH_LOGS},
        {"role": ["api-role"]},
    )
    [message] = crossguard.messages("iam-no-wildcards", stack)
    assert 'resource "*" is a wildcard for logs' in message
    stack.add(APIGATEWAY_ACCOUNT, "account", {"cloudwatchRoleArn": ROLE_ARN}, {"cloudwatchRoleArn": ["api-role"]})
    assert crossguard.messages("iam-no-wildcards", stack) == []
    # Only Logs: the same role may not send to every queue.
    stack.add(
        IAM_ROLE_POLICY,
        "api-role-extra",
        {"role": "api-role", "policy": document({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})},
        {"role": ["api-role"]},
    )
    [message] = crossguard.messages("iam-no-wildcards", stack)
    assert 'resource "*" is a wildcard for sqs' in message
