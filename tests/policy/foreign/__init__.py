"""Small Pulumi programs written the way other teams write them (plain ``pulumi_aws``, not our components).

Each directory is a program (``__main__.py``) with a few ``pulumi.Config`` switches for the variants the
tests need. :func:`capture` runs one under the project's Pulumi mocks (what a stack looks like after
``pulumi up``); :func:`simulated_preview` turns a capture into what CrossGuard sees on a first
``pulumi preview``: every value built from another resource's computed ARN/URL/id is unknown, while
literals, names and values computed from invokes (account id, region) stay known.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from stack_capture import AwsMocks, Capture, capture_stack

PROGRAMS = Path(__file__).resolve().parent
CONFIG_NAMESPACE = "async-pipelines"  # the project name the capture's mocks run every program under


def _extra_outputs(args: pulumi.runtime.MockResourceArgs, mocks: AwsMocks) -> dict[str, Any]:
    """Computed attributes the project's mocks do not model but these programs read (as AWS spells them)."""
    r, a, name = mocks.region, mocks.account, args.inputs.get("name") or f"{args.name}-x"
    if args.typ == "aws:iam/policy:Policy":
        return {"arn": f"arn:aws:iam::{a}:policy/{name}", "name": name}
    if args.typ == "aws:lambda/alias:Alias":
        return {"arn": f"arn:aws:lambda:{r}:{a}:function:{args.inputs.get('functionName')}:{name}"}
    if args.typ == "aws:apigateway/restApi:RestApi":
        return {"rootResourceId": f"{args.name}-root", "executionArn": f"arn:aws:execute-api:{r}:{a}:{args.name}"}
    if args.typ == "aws:apigatewayv2/api:Api":
        return {"executionArn": f"arn:aws:execute-api:{r}:{a}:{args.name}"}
    if args.typ in ("aws:iam/user:User", "aws:iam/group:Group"):
        kind = args.typ.rsplit(":", 1)[1].lower()
        return {"name": name, "arn": f"arn:aws:iam::{a}:{kind}/{name}"}
    return {}


def _one_or_list(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def policy_document_json(args: dict[str, Any]) -> str:
    """``aws.iam.get_policy_document`` rendered the way the provider renders it (single values unwrapped,
    ``type "*"`` principals as ``"Principal": "*"``)."""
    statements = []
    for raw in args.get("statements") or []:
        statement: dict[str, Any] = {}
        if raw.get("sid"):
            statement["Sid"] = raw["sid"]
        statement["Effect"] = raw.get("effect") or "Allow"
        for key, name in (("actions", "Action"), ("notActions", "NotAction")):
            if raw.get(key):
                statement[name] = _one_or_list(raw[key])
        for key, name in (("resources", "Resource"), ("notResources", "NotResource")):
            if raw.get(key):
                statement[name] = _one_or_list(raw[key])
        principals = raw.get("principals") or []
        if principals:
            if any(p.get("type") == "*" for p in principals):
                statement["Principal"] = "*"
            else:
                statement["Principal"] = {p["type"]: _one_or_list(p["identifiers"]) for p in principals}
        conditions: dict[str, dict[str, Any]] = {}
        for condition in raw.get("conditions") or []:
            conditions.setdefault(condition["test"], {})[condition["variable"]] = _one_or_list(condition["values"])
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    return json.dumps({"Version": args.get("version") or "2012-10-17", "Statement": statements})


@contextmanager
def _fuller_mocks() -> Iterator[None]:
    original_new, original_call = AwsMocks.new_resource, AwsMocks.call

    def new_resource(self: AwsMocks, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        resource_id, outputs = original_new(self, args)
        return resource_id, {**outputs, **_extra_outputs(args, self)}

    def call(self: AwsMocks, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if args.token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return {"json": policy_document_json(dict(args.args)), "id": "policy-document"}, []
        return original_call(self, args)

    AwsMocks.new_resource = new_resource  # type: ignore[method-assign]
    AwsMocks.call = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        AwsMocks.new_resource = original_new  # type: ignore[method-assign]
        AwsMocks.call = original_call  # type: ignore[method-assign]


def capture(program: str, **config: Any) -> Capture:
    """Run ``foreign/<program>/__main__.py`` under mocks with ``config`` (keys without namespace)."""
    values = {"aws:region": "us-east-1", **{f"{CONFIG_NAMESPACE}:{k}": v for k, v in config.items()}}
    with _fuller_mocks():
        return capture_stack("dev", config=values, project_dir=PROGRAMS / program)


# Outputs that are the provider's auto-names: known in a preview (Pulumi computes them before creating).
_KNOWN_IN_PREVIEW = ("name", "bucket")


def simulated_preview(resources: list[Any]) -> list[dict[str, Any]]:
    """What CrossGuard sees on a first preview: inputs as written (auto-names included), every other
    computed attribute unknown, and a property built from another resource (it has property dependencies)
    unknown when it embeds one of the stack's computed values (ARN, URL, provider id)."""
    computed = {
        value
        for r in resources
        for key, value in r.outputs.items()
        if key not in r.inputs and key not in _KNOWN_IN_PREVIEW and isinstance(value, str) and value
    } | {f"{r.name}-id" for r in resources}

    def embeds_computed(value: Any) -> bool:
        if isinstance(value, str):
            return any(c in value for c in computed)
        if isinstance(value, list):
            return any(embeds_computed(v) for v in value)
        if isinstance(value, dict):
            return any(embeds_computed(v) for v in value.values())
        return False

    def blank(value: Any) -> Any:
        if isinstance(value, str):
            return UNKNOWN_STRING_VALUE if embeds_computed(value) else value
        if isinstance(value, list):
            return [blank(v) for v in value]
        if isinstance(value, dict):
            return {k: blank(v) for k, v in value.items()}
        return value

    previews = []
    for r in resources:
        props = {key: blank(value) if r.property_dependencies.get(key) else value for key, value in r.inputs.items()}
        for key, value in r.outputs.items():
            if key not in props:
                props[key] = value if key in _KNOWN_IN_PREVIEW else UNKNOWN_STRING_VALUE
        previews.append(
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "props": props,
                "property_dependencies": r.property_dependencies,
            }
        )
    return previews
