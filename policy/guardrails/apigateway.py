"""API Gateway in front of the pipelines: throttled, access-logged stages; no anonymous routes unless the
API says it is public; integration roles that can do exactly one thing.

Both API flavours are covered: REST APIs (``aws.apigateway``: Stage + MethodSettings + Method +
Integration) and HTTP/WebSocket APIs (``aws.apigatewayv2``: Stage + Route + Integration).

The public flag is a tag on the API resource: ``async-pipelines:public = "true"`` (:data:`PUBLIC_TAG`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from .iam import api_gateway_logging_roles, role_grants, trusted_services
from .model import (
    HTTP_API,
    HTTP_INTEGRATION,
    HTTP_ROUTE,
    HTTP_STAGE,
    IAM_ROLE,
    REST_API,
    REST_INTEGRATION,
    REST_METHOD,
    REST_METHOD_SETTINGS,
    REST_STAGE,
    UNKNOWN,
    Finding,
    Resource,
    Stack,
    _Unknown,
    boolean,
    number,
    text,
)

PUBLIC_TAG: Final = "async-pipelines:public"
APIGATEWAY_PRINCIPAL: Final = "apigateway.amazonaws.com"
_API_ATTRS: Final = ("id",)
_ROLE_ATTRS: Final = ("arn", "name", "id")


def _block(value: Any) -> Mapping[str, Any] | _Unknown | None:
    """A nested settings object (tolerating the Terraform list-of-one-block shape)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is UNKNOWN:
        return UNKNOWN
    return value if isinstance(value, Mapping) else None


def _throttle_missing(settings: Mapping[str, Any] | _Unknown | None) -> list[str] | None:
    """The throttling limits a settings block lacks ([] = throttled, None = cannot tell)."""
    if isinstance(settings, _Unknown):
        return None
    if settings is None:
        return ["throttlingRateLimit", "throttlingBurstLimit"]
    missing = []
    for key in ("throttlingRateLimit", "throttlingBurstLimit"):
        value = number(settings.get(key))
        if value is UNKNOWN:
            return None
        if value is None or (isinstance(value, float) and value < 0):  # -1 is the provider's "not set"
            missing.append(key)
    return missing


def _access_log_missing(stage: Resource) -> list[str] | None:
    settings = _block(stage.get("accessLogSettings"))
    if isinstance(settings, _Unknown):
        return None
    if settings is None:
        return ["accessLogSettings"]
    missing = []
    for key in ("destinationArn", "format"):
        value = text(settings.get(key))
        if value is UNKNOWN:
            return None
        if value is None:
            missing.append(f"accessLogSettings.{key}")
    return missing


# --- stages ---------------------------------------------------------------------------------------


def _rest_stage_throttle(stack: Stack, stage: Resource) -> list[str] | None:
    """Missing limits of the ``*/*`` MethodSettings of a REST stage (None = cannot tell yet)."""
    apis = stack.resolve(stage, "restApi", (REST_API,), attrs=_API_ATTRS)
    stage_name = stage.get("stageName")
    unresolved = False
    best: list[str] | None = ['a MethodSettings with methodPath "*/*"']
    for settings in stack.of_type(REST_METHOD_SETTINGS):
        if stage.urn in settings.property_dependencies.get("stageName", ()):
            same_stage = True
        else:
            other_apis = stack.resolve(settings, "restApi", (REST_API,), attrs=_API_ATTRS)
            name = settings.get("stageName")
            if not other_apis or name is UNKNOWN or stage_name is UNKNOWN:
                unresolved = unresolved or not other_apis or name is UNKNOWN or stage_name is UNKNOWN
                continue
            same_stage = bool(set(a.urn for a in apis) & set(a.urn for a in other_apis)) and name == stage_name
        if not same_stage:
            continue
        path = settings.get("methodPath")
        if path is UNKNOWN:
            unresolved = True
            continue
        if path != "*/*":
            continue
        missing = _throttle_missing(_block(settings.get("settings")))
        if missing is None:
            unresolved = True
        elif not missing:
            return []
        else:
            best = [f"settings.{m} on its */* MethodSettings" for m in missing]
    return None if unresolved else best


def check_stage_throttled(stack: Stack) -> Iterator[Finding]:
    """Every API stage sets a rate and a burst limit for all its routes/methods."""
    for stage in stack.of_type(REST_STAGE):
        missing = _rest_stage_throttle(stack, stage)
        if missing:
            yield Finding.about(
                stage,
                f"{stage.label} has no stage-wide throttling (missing {', '.join(missing)}), so one client can "
                "use the account's whole API Gateway quota (10,000 requests/s shared by every API in the "
                "Region) and flood the queue behind it. Fix: add aws.apigateway.MethodSettings(rest_api=..., "
                'stage_name=stage.stage_name, method_path="*/*", settings={"throttling_rate_limit": <rps>, '
                '"throttling_burst_limit": <burst>}).',
            )
    for stage in stack.of_type(HTTP_STAGE):
        missing = _throttle_missing(_block(stage.get("defaultRouteSettings")))
        if missing:
            yield Finding.about(
                stage,
                f"{stage.label} has no default route throttling (missing "
                f"{', '.join('defaultRouteSettings.' + m for m in missing)}), so one client can use the "
                "account's whole API Gateway quota and flood the queue behind it. Fix: set "
                'default_route_settings={"throttling_rate_limit": <rps>, "throttling_burst_limit": <burst>}.',
            )


def check_stage_access_logs(stack: Stack) -> Iterator[Finding]:
    """Every API stage writes access logs (destination and format)."""
    for stage in stack.of_type(REST_STAGE, HTTP_STAGE):
        missing = _access_log_missing(stage)
        if missing:
            yield Finding.about(
                stage,
                f"{stage.label} writes no access logs (missing {', '.join(missing)}), so who called the "
                "pipeline, when and with what result cannot be traced. Fix: set access_log_settings="
                '{"destination_arn": <log group arn>, "format": <JSON format with $context.requestId, '
                "$context.status, ...>} (a log group with the stack's retention).",
            )


# --- anonymous routes ---------------------------------------------------------------------------


def is_public(api: Resource) -> bool | _Unknown:
    """The API carries the explicit public flag (``tags["async-pipelines:public"] == "true"``)."""
    for prop in ("tags", "tagsAll"):
        tags = api.get(prop)
        if tags is UNKNOWN:
            return UNKNOWN
        if isinstance(tags, Mapping):
            value = tags.get(PUBLIC_TAG)
            if value is UNKNOWN:
                return UNKNOWN
            if isinstance(value, str) and value.strip().lower() == "true":
                return True
    return False


def _mock_backed_methods(stack: Stack) -> set[str]:
    """REST methods whose integration is a MOCK: API Gateway answers them itself, nothing is reached."""
    found: set[str] = set()
    methods = stack.of_type(REST_METHOD)
    for integration in stack.of_type(REST_INTEGRATION):
        if integration.get("type") != "MOCK":
            continue
        linked = stack.resolve(integration, "httpMethod", (REST_METHOD,), attrs=())
        if not linked:
            resource_deps = set(integration.property_dependencies.get("resourceId", ()))
            linked = [
                m
                for m in methods
                if m.get("httpMethod") == integration.get("httpMethod")
                and (
                    (resource_deps and resource_deps == set(m.property_dependencies.get("resourceId", ())))
                    or (isinstance(m.get("resourceId"), str) and m.get("resourceId") == integration.get("resourceId"))
                )
            ]
        found |= {m.urn for m in linked}
    return found


def _anonymous_routes(stack: Stack) -> Iterator[tuple[Resource, Resource, str]]:
    """(route/method, its API, what it is) for every route that accepts unauthenticated calls and reaches
    a backend (a MOCK integration, e.g. a catch-all 404, reaches nothing)."""
    mocked = _mock_backed_methods(stack)
    for method in stack.of_type(REST_METHOD):
        if method.urn in mocked:
            continue
        auth, http_method = method.get("authorization"), method.get("httpMethod")
        api_key = boolean(method.get("apiKeyRequired"), default=False)
        if auth is UNKNOWN or api_key is UNKNOWN or http_method is UNKNOWN:
            continue
        if not isinstance(auth, str) or auth.upper() != "NONE" or api_key is True or http_method == "OPTIONS":
            continue  # authenticated, API-key protected, or a CORS preflight (browsers send no auth)
        for api in stack.resolve(method, "restApi", (REST_API,), attrs=_API_ATTRS):
            yield method, api, f"{http_method} method with authorization NONE and no API key"
    for route in stack.of_type(HTTP_ROUTE):
        auth, key = route.get("authorizationType"), route.get("routeKey")
        if auth is UNKNOWN or key is UNKNOWN:
            continue
        if (isinstance(auth, str) and auth.upper() != "NONE") or (isinstance(key, str) and key.startswith("OPTIONS ")):
            continue
        for api in stack.resolve(route, "apiId", (HTTP_API,), attrs=_API_ATTRS):
            yield route, api, f'route "{key}" with authorizationType NONE'
    for api in stack.of_type(HTTP_API):
        if isinstance(api.get("target"), str) or api.get("target") is UNKNOWN:
            # Quick create: API Gateway adds a $default route without authorization.
            yield api, api, "quick-create target (a $default route without authorization)"


def check_anonymous_routes_flagged(stack: Stack) -> Iterator[Finding]:
    """An API that accepts unauthenticated requests says so with the public tag."""
    for route, api, what in _anonymous_routes(stack):
        if is_public(api) is not False:
            continue
        subject = route if route is not api else api
        yield Finding.about(
            subject,
            f"{subject.label}: {what} on {api.label if subject is not api else 'this API'}, which is not flagged "
            f"public: anyone who finds the URL can send messages into the pipeline. Fix: require IAM "
            "(SigV4), an authorizer or an API key; or, if the API is meant to be public, say so with the tag "
            f'tags={{"{PUBLIC_TAG}": "true"}} on the API.',
        )


# --- integration roles ----------------------------------------------------------------------------


def integration_roles(stack: Stack) -> list[Resource]:
    """Roles an API Gateway integration assumes: referenced as integration credentials, or trusted by
    apigateway.amazonaws.com and not the account's logging role."""
    found = {
        role.urn: role
        for integration, prop in [(i, "credentials") for i in stack.of_type(REST_INTEGRATION)]
        + [(i, "credentialsArn") for i in stack.of_type(HTTP_INTEGRATION)]
        for role in stack.resolve(integration, prop, (IAM_ROLE,), attrs=_ROLE_ATTRS)
    }
    logging = api_gateway_logging_roles(stack)
    for role in stack.of_type(IAM_ROLE):
        services = trusted_services(role)
        if isinstance(services, set) and APIGATEWAY_PRINCIPAL in services and role.urn not in logging:
            found.setdefault(role.urn, role)
    return list(found.values())


def check_integration_role_single_action(stack: Stack) -> Iterator[Finding]:
    """An API Gateway integration role is allowed exactly one action (e.g. sqs:SendMessage)."""
    for role in integration_roles(stack):
        grants, unresolved = role_grants(stack, role)
        if unresolved:
            continue  # some policy cannot be read yet: cannot count its actions
        actions: set[str] = set()
        wide: list[str] = []
        for grant in grants:
            if not grant.statement.is_allow:
                continue
            if grant.statement.not_actions:
                wide.append("NotAction")
            for action in grant.statement.actions:
                if "*" in action or "?" in action:
                    wide.append(action)
                actions.add(action.lower())
        if len(actions) <= 1 and not wide:
            continue
        shown = ", ".join(sorted(actions)) + (f" (wildcards: {', '.join(wide)})" if wide else "")
        yield Finding.about(
            role,
            f"{role.label} is an API Gateway integration role allowed {shown}: it needs exactly one action "
            "(sns:Publish on the pipeline's topic, or sqs:SendMessage on its first queue), so a mistake in a "
            "mapping template cannot do anything else. Fix: leave that one action on that one ARN (a KMS key "
            "for an encrypted topic grants the role in its key policy instead).",
        )
