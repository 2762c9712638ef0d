"""Small Pulumi programs written the way other teams write them (plain ``pulumi_aws``, not our components).

Each directory is a program (``__main__.py``) with a few ``pulumi.Config`` switches for the variants the
tests need. :func:`capture` runs one under the project's AWS mocks, through the same Pulumi adapter the
stack capture uses (``stack_capture.pulumi_internals``): the stack as ``pulumi up`` sees it.
:func:`simulated_preview` turns a capture into what CrossGuard sees on a first ``pulumi preview``: every
value built from another resource's computed ARN/URL/id is unknown, while literals, names and values
computed from invokes (account id, region) stay known.
"""

from __future__ import annotations

import copy
import functools
import json
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from stack_capture import AwsMocks, CapturedResource, engine_value, pulumi_internals

PROGRAMS = Path(__file__).resolve().parent
PROJECT = "team-program"  # the Pulumi project every foreign program runs as (its config namespace)


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
        for key, name in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
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


class ForeignProgramMocks(AwsMocks):
    """The project's AWS mocks, plus the computed attributes and invokes these programs read."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        resource_id, outputs = super().new_resource(args)
        r, a, name = self.region, self.account, args.inputs.get("name") or f"{args.name}-x"
        extra: dict[str, Any] = {}
        if args.typ == "aws:iam/policy:Policy":
            extra = {"arn": f"arn:aws:iam::{a}:policy/{name}", "name": name}
        elif args.typ == "aws:lambda/alias:Alias":
            extra = {"arn": f"arn:aws:lambda:{r}:{a}:function:{args.inputs.get('functionName')}:{name}"}
        elif args.typ == "aws:apigateway/restApi:RestApi":
            extra = {"rootResourceId": f"{args.name}-root", "executionArn": f"arn:aws:execute-api:{r}:{a}:{args.name}"}
        elif args.typ == "aws:apigatewayv2/api:Api":
            extra = {"executionArn": f"arn:aws:execute-api:{r}:{a}:{args.name}"}
        elif args.typ in ("aws:iam/user:User", "aws:iam/group:Group"):
            kind = args.typ.rsplit(":", 1)[1].lower()
            extra = {"name": name, "arn": f"arn:aws:iam::{a}:{kind}/{name}"}
        return resource_id, {**outputs, **extra}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if args.token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return {"json": policy_document_json(dict(args.args)), "id": "policy-document"}, []
        return super().call(args)


@dataclass
class ForeignCapture:
    resources: list[CapturedResource]


def capture(program: str, **config: Any) -> ForeignCapture:
    """Run ``foreign/<program>/__main__.py`` under mocks with ``config`` (keys without namespace).

    Programs are deterministic, so a run is cached per (program, config); callers get their own copy.
    """
    return ForeignCapture(copy.deepcopy(_run(program, json.dumps(config, sort_keys=True))))


@functools.lru_cache(maxsize=64)
def _run(program: str, config_json: str) -> list[CapturedResource]:
    config = json.loads(config_json)
    resources: list[CapturedResource] = []

    def record(request: Any, urn: str, state: dict[str, Any]) -> None:
        resources.append(
            CapturedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                inputs=pulumi_internals.deserialize(request.object),
                outputs=state,
                parent=request.parent or None,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            )
        )

    mocks = ForeignProgramMocks("us-east-1")
    pulumi_internals.install_mocks(
        mocks, project=PROJECT, stack="dev", monitor=pulumi_internals.RecordingMonitor(mocks, record)
    )
    values = {"aws:region": "us-east-1", **{f"{PROJECT}:{k}": v for k, v in config.items()}}
    pulumi_internals.set_engine_config({k: engine_value(v) for k, v in values.items()})
    path = str(PROGRAMS / program / "__main__.py")

    def main() -> None:
        runpy.run_path(path, run_name="__main__")

    pulumi_internals.run_program(main)
    return resources


# Outputs that are the provider's auto-names: known in a preview (Pulumi computes them before creating).
_KNOWN_IN_PREVIEW = ("name", "bucket")


def simulated_preview(resources: list[Any], *, computed_absent: bool = False) -> list[dict[str, Any]]:
    """What CrossGuard sees on a first preview: inputs as written (auto-names included), every other
    computed attribute unknown (or, with ``computed_absent``, not there at all: a resource the preview has
    not created, shown by its inputs only), and a property built from another resource (it has property
    dependencies) unknown when it embeds one of the stack's computed values (ARN, URL, provider id)."""
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
            if key in props or (computed_absent and key not in _KNOWN_IN_PREVIEW):
                continue
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
