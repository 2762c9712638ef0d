"""Run the real `__main__.py` for a stack under Pulumi mocks and capture every resource it registers.

The sandbox, the unit tests and the policy-pack checks all read the topology from here, so there is
one description of it: the program itself. The mocks answer like AWS would (account
`123456789012`, the stack's region), which is also how moto names things, so captured ARNs, URLs
and Lambda environment variables work unchanged against moto.
"""

from __future__ import annotations

import gc
import hashlib
import inspect
import json
import runpy
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "async-pipelines"
ACCOUNT_ID = "123456789012"


class UnknownStackError(LookupError):
    """No `Pulumi.<stack>.yaml` in the project."""


@dataclass
class CapturedResource:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Capture:
    stack: str
    region: str
    resources: list[CapturedResource]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> CapturedResource:
        for r in self.resources:
            if r.type == type_ and r.name == name:
                return r
        raise KeyError(f"no {type_} named {name!r}")

    def by_urn(self, urn: str) -> CapturedResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)


def _suffix(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:7]


class AwsMocks(pulumi.runtime.Mocks):
    """Computed attributes the way AWS (and moto) spell them, deterministic per logical name."""

    def __init__(self, region: str, account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account = account_id

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        r, a = self.region, self.account
        name = inputs.get("name") or f"{args.name}-{_suffix(args.name)}"
        t = args.typ
        out: dict[str, Any] = dict(inputs)
        if t == "aws:sqs/queue:Queue":
            url = f"https://sqs.{r}.amazonaws.com/{a}/{name}"
            out |= {"name": name, "arn": f"arn:aws:sqs:{r}:{a}:{name}", "url": url}
            return url, out
        if t == "aws:sns/topic:Topic":
            arn = f"arn:aws:sns:{r}:{a}:{name}"
            return arn, out | {"name": name, "arn": arn}
        if t == "aws:sns/topicSubscription:TopicSubscription":
            arn = f"{inputs.get('topic')}:{_suffix(args.name)}"
            return arn, out | {"arn": arn}
        if t == "aws:lambda/function:Function":
            arn = f"arn:aws:lambda:{r}:{a}:function:{name}"
            return name, out | {"name": name, "arn": arn, "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST"}
        if t == "aws:iam/role:Role":
            return name, out | {"name": name, "arn": f"arn:aws:iam::{a}:role/{name}"}
        if t == "aws:cloudwatch/logGroup:LogGroup":
            return name, out | {"name": name, "arn": f"arn:aws:logs:{r}:{a}:log-group:{name}"}
        if t == "aws:dynamodb/table:Table":
            return name, out | {"name": name, "arn": f"arn:aws:dynamodb:{r}:{a}:table/{name}"}
        if t == "aws:kms/key:Key":
            key_id = f"{_suffix(args.name)}-0000-4000-8000-{_suffix(args.name + 'k')}00000"
            return key_id, out | {"keyId": key_id, "arn": f"arn:aws:kms:{r}:{a}:key/{key_id}"}
        if t == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or name
            return bucket, out | {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}
        if t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            return name, out | {"name": name, "arn": f"arn:aws:cloudwatch:{r}:{a}:alarm:{name}"}
        if t == "aws:lambda/eventSourceMapping:EventSourceMapping":
            return _suffix(args.name), out | {"uuid": _suffix(args.name), "state": "Enabled"}
        return f"{args.name}-id", out

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account,
                "arn": f"arn:aws:iam::{self.account}:user/sandbox",
                "userId": "SANDBOX",
                "id": self.account,
            }, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        return {}, []


class _CapturingMonitor(pulumi_mocks.MockMonitor):
    """The stock mock monitor, also keeping each registration's parent and dependencies."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.captured: list[CapturedResource] = []

    def RegisterResource(self, request: Any) -> Any:
        if self._stack_transforms and request.type != "pulumi:pulumi:Stack":
            self._apply_stack_transforms(request)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            registration = self.resources.get(response.urn)
            self.captured.append(
                CapturedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    outputs=dict(registration.state) if registration else {},
                    parent=request.parent or None,
                    dependencies=list(request.dependencies),
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                )
            )
        return response

    def _apply_stack_transforms(self, request: Any) -> None:
        """Run `pulumi.runtime.register_resource_transform` hooks, which the stock mocks skip.

        The engine runs them before a resource is registered; so do we, so that a stack transform in
        `__main__.py` (or a test's) shapes the captured resources exactly as it shapes a deployment.
        """
        props = pulumi.runtime.rpc.deserialize_properties(request.object)
        for transform in self._stack_transforms:
            args = pulumi.ResourceTransformArgs(
                custom=request.custom,
                type_=request.type,
                name=request.name,
                props=props,
                opts=pulumi.ResourceOptions(),
            )
            result = transform(args)
            if inspect.isawaitable(result):
                result = _sync_await(result)
            if result is not None:
                props = dict(result.props)
        request.object.Clear()
        request.object.MergeFrom(_sync_await(pulumi.runtime.rpc.serialize_properties(props, {})))


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The `config:` block of `Pulumi.<stack>.yaml`, keys as written (`async-pipelines:pipelines`)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(stack_names(project_dir)) or "none"
        raise UnknownStackError(f"unknown stack {stack!r}: no {path.name} (stacks: {known})")
    document = yaml.safe_load(path.read_text()) or {}
    return dict(document.get("config") or {})


def _engine_value(value: Any) -> str:
    """Config values as the Pulumi engine hands them to a program: objects as JSON, scalars as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def capture_stack(
    stack: str,
    config_overrides: dict[str, Any] | None = None,
    *,
    config: dict[str, Any] | None = None,
    transforms: Sequence[pulumi.ResourceTransform] = (),
    project_dir: Path = PROJECT_DIR,
) -> Capture:
    """Run `__main__.py` for `stack` under mocks; `config` replaces the stack file, overrides patch it.

    `transforms` are registered as stack transforms before the program runs, as a user's would be.
    """
    values = dict(config) if config is not None else load_stack_config(stack, project_dir)
    values.update(config_overrides or {})
    region = str(values.get("aws:region", "us-east-1"))
    mocks = AwsMocks(region)
    monitor = _CapturingMonitor(mocks)
    pulumi.runtime.settings.ROOT.set(None)
    pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config({k: _engine_value(v) for k, v in values.items()})
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    program = str(project_dir / "__main__.py")

    def program_main() -> None:
        for transform in transforms:
            pulumi.runtime.register_resource_transform(transform)
        runpy.run_path(program, run_name="__main__")

    async def run() -> None:
        await run_pulumi_func(program_main)

    gc_was_enabled = gc.isenabled()
    gc.disable()  # the SDK's many short-lived cycles make GC ~half the cost of a large stack
    try:
        _sync_await(run())
    except Exception as error:
        error.captured_resources = monitor.captured  # type: ignore[attr-defined]  # what got registered first
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    return Capture(stack=stack, region=region, resources=monitor.captured, outputs=_stack_exports())


def _stack_exports() -> dict[str, Any]:
    """The program's `pulumi.export`s, fully resolved (all RPCs have completed by now)."""
    root = pulumi.runtime.settings.get_root_resource()
    exports = dict(getattr(root, "outputs", None) or {})
    return _sync_await(pulumi.Output.from_input(exports).future()) or {}
