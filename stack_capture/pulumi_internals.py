"""The one adapter over Pulumi's private mock machinery; nothing else in the project touches it.

Capturing a stack needs more than `pulumi.runtime.set_mocks` offers: running a whole program the way
`pulumi up` does (`run_pulumi_func`), waiting on the SDK's futures from synchronous code
(`_sync_await`), the mock monitor's registrations and its `_stack_transforms` (which the stock mocks
never apply), the root stack resource and its exports, and the SDK's property (de)serialisation.
None of that is public API, so an SDK upgrade may move it. Each private name is resolved here, once;
`missing_internals()` lists what an installed SDK no longer has, and `tests/stack_capture` fails
naming it, so an upgrade breaks one test with one place to look instead of every capture user.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pulumi
from pulumi.runtime import mocks as _mocks
from pulumi.runtime.proto import source_pb2

T = TypeVar("T")

PRIVATE_APIS: tuple[tuple[str, str], ...] = (
    ("pulumi.runtime.sync_await", "_sync_await"),
    ("pulumi.runtime.stack", "run_pulumi_func"),
    ("pulumi.runtime.mocks", "MockMonitor"),
    ("pulumi.runtime.mocks", "set_mocks"),
    ("pulumi.runtime.settings", "ROOT"),
    ("pulumi.runtime.settings", "get_root_resource"),
    ("pulumi.runtime.rpc", "serialize_properties"),
    ("pulumi.runtime.rpc", "deserialize_properties"),
    ("pulumi.runtime", "set_all_config"),
    ("pulumi.runtime.resource", "_get_stack_trace"),
)
"""(module, name) of every non-public SDK object used below."""

MONITOR_MEMBERS = ("_stack_transforms", "resources", "RegisterResource")
"""What `RecordingMonitor` relies on in a `MockMonitor` instance."""


class PulumiInternalsChanged(RuntimeError):
    """The installed Pulumi SDK lacks a private API that stack capture adapts; the message names it."""


def _sdk_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pulumi")
    except PackageNotFoundError:  # pragma: no cover - pulumi is installed as a package everywhere we run
        return "unknown"


def missing_internals() -> list[str]:
    """Every private API this module needs that the installed SDK does not have, as `module.name`."""
    missing = [f"{module}.{name}" for module, name in PRIVATE_APIS if _lookup(module, name) is None]
    if not missing:
        monitor = _mocks.MockMonitor(_NoMocks())
        missing += [f"pulumi.runtime.mocks.MockMonitor().{m}" for m in MONITOR_MEMBERS if not hasattr(monitor, m)]
    return missing


def _lookup(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def _private(module: str, name: str) -> Any:
    value = _lookup(module, name)
    if value is None:
        raise PulumiInternalsChanged(
            f"{module}.{name} is gone in pulumi {_sdk_version()}; adapt stack_capture/pulumi_internals.py"
        )
    return value


class _NoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        return None, {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        return {}, []


def sync_await(awaitable: Awaitable[T]) -> T:
    """Wait for an SDK future from synchronous code (the SDK's own event loop)."""
    result: T = _private("pulumi.runtime.sync_await", "_sync_await")(awaitable)
    return result


def install_mocks(mocks: pulumi.runtime.Mocks, *, project: str, stack: str, monitor: Any = None) -> None:
    """A fresh root stack and `mocks` answering every registration (what each program run needs)."""
    _private("pulumi.runtime.settings", "ROOT").set(None)
    _private("pulumi.runtime.mocks", "set_mocks")(mocks, project=project, stack=stack, preview=False, monitor=monitor)


def set_engine_config(values: dict[str, str]) -> None:
    """The stack config as the engine hands it to a program: `namespace:key` → text."""
    _private("pulumi.runtime", "set_all_config")(values)


def run_program(program: Callable[[], None]) -> None:
    """Run `program` as the engine runs `__main__.py`: inside a root stack, waiting for every RPC.

    Without the source positions the SDK attaches to each registration for the engine's diagnostics: it
    computes them from a full `traceback.extract_stack()` per resource (a third of a capture's time), and a
    mock monitor, ours included, never reads them.
    """
    run_pulumi_func = _private("pulumi.runtime.stack", "run_pulumi_func")
    resource_module = importlib.import_module("pulumi.runtime.resource")
    with_positions = _private("pulumi.runtime.resource", "_get_stack_trace")
    no_frames = source_pb2.StackTrace  # empty: no frames, so no source position either

    async def run() -> None:
        await run_pulumi_func(program)

    setattr(resource_module, "_get_stack_trace", no_frames)  # noqa: B010 - a private module attribute
    try:
        sync_await(run())
    finally:
        setattr(resource_module, "_get_stack_trace", with_positions)  # noqa: B010


def stack_exports() -> dict[str, Any]:
    """The program's `pulumi.export`s, fully resolved (call after `run_program`)."""
    root = _private("pulumi.runtime.settings", "get_root_resource")()
    if not isinstance(getattr(root, "outputs", None), dict):
        raise PulumiInternalsChanged(
            f"pulumi.runtime.stack.Stack.outputs is gone in pulumi {_sdk_version()}; "
            "adapt stack_capture/pulumi_internals.py"
        )
    exports = dict(root.outputs)
    return sync_await(pulumi.Output.from_input(exports).future()) or {}


def deserialize(struct: Any) -> dict[str, Any]:
    """A registration's property struct as plain Python values."""
    return dict(_private("pulumi.runtime.rpc", "deserialize_properties")(struct))


class RecordingMonitor(_mocks.MockMonitor):
    """The stock mock monitor, also applying stack transforms and reporting each registration.

    `on_register(request, urn, state)` gets the (transformed) request, its URN and the mocks' state.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks, on_register: Callable[[Any, str, dict[str, Any]], None]) -> None:
        super().__init__(mocks)
        self._on_register = on_register

    def RegisterResource(self, request: Any) -> Any:
        if self._stack_transforms and request.type != "pulumi:pulumi:Stack":
            self._apply_stack_transforms(request)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            registration = self.resources.get(response.urn)
            self._on_register(request, response.urn, dict(registration.state) if registration else {})
        return response

    def _apply_stack_transforms(self, request: Any) -> None:
        """Run `pulumi.runtime.register_resource_transform` hooks, which the stock mocks skip.

        The engine runs them before a resource is registered; so do we, so that a stack transform in
        `__main__.py` (or a test's) shapes the captured resources exactly as it shapes a deployment.
        """
        props = deserialize(request.object)
        for transform in self._stack_transforms:
            args = pulumi.ResourceTransformArgs(
                custom=request.custom, type_=request.type, name=request.name, props=props, opts=pulumi.ResourceOptions()
            )
            result = transform(args)
            if inspect.isawaitable(result):
                result = sync_await(result)
            if result is not None:
                props = dict(result.props)
        serialize = _private("pulumi.runtime.rpc", "serialize_properties")
        request.object.Clear()
        request.object.MergeFrom(sync_await(serialize(props, {})))
