"""Run the real `__main__.py` for a stack under Pulumi mocks and capture every resource it registers.

The sandbox, ops, the plan, the tests and the benchmarks all read the stack from here, so there is
one description of it: the program itself. Pulumi's private machinery is reached only through
`stack_capture.pulumi_internals`.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import pickle
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pulumi

from components.config import ConfigError, StackConfig, parse_stack_config
from components.defaults import PROJECT
from stack_capture import pulumi_internals, stack_files
from stack_capture.mocks import AwsMocks
from stack_capture.model import Capture, CapturedResource
from stack_capture.stack_files import (
    StackFile,
    locate,
    namespace_config,
    namespace_problems,
    program_dir,
    read_stack,
)

PROGRAM_CONFIG_VARIABLE = "stack_config"
"""The module-level name under which `__main__.py` keeps the `StackConfig` it built from."""

memo: dict[tuple[str, ...], bytes] | None = None
"""Off (None) outside the test suite. The suite sets a dict (tests/conftest.py): a capture with the same
stack, config values, program and mocks, and no transforms, is then answered with a copy of the first
(unpickled, a deep copy at a quarter of `copy.deepcopy`'s cost) instead of running the program again (the
program is deterministic; test_repeatable_inputs proves it with the memo off). Each caller gets its own
copy, so none sees another's edits."""


def engine_value(value: Any) -> str:
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
    project_dir: Path | str | None = None,
) -> Capture:
    """Run `__main__.py` for `stack` under mocks; `config` replaces the stack file, overrides patch it.

    `stack` is a name in `project_dir` (default: `stack_files.project_dir()`) or a stack file's path.
    A stack file is read strictly and its config checked before the program runs, so its errors name
    their line (`stack_files.StackFileError`, `ConfigError`). `transforms` are registered as stack
    transforms before the program runs, as a user's would be. A program that fails raises its error
    with `.captured_resources`: what it registered first.
    """
    if config is None:
        stack_file = read_stack(stack, project_dir)
        stack, values = stack_file.name, dict(stack_file.config)
        values.update(config_overrides or {})
        if not config_overrides:
            check_stack_file(stack_file)
    else:
        values = dict(config)
        values.update(config_overrides or {})
    program = program_dir(project_dir)
    key = None
    if memo is not None and not transforms:
        key = (stack, json.dumps(values, sort_keys=True, default=str), str(program), repr(AwsMocks))
        if key in memo:
            return cast(Capture, pickle.loads(memo[key]))
    region = str(values.get("aws:region", "us-east-1"))
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
                retain_on_delete=bool(request.retainOnDelete),
            )
        )

    mocks = AwsMocks(region)
    monitor = pulumi_internals.RecordingMonitor(mocks, record)
    pulumi_internals.install_mocks(mocks, project=PROJECT, stack=stack, monitor=monitor)
    pulumi_internals.set_engine_config({k: engine_value(v) for k, v in values.items()})
    if str(program) not in sys.path:
        sys.path.insert(0, str(program))
    program_globals: dict[str, Any] = {}

    def program_main() -> None:
        for transform in transforms:
            pulumi.runtime.register_resource_transform(transform)
        program_globals.update(runpy.run_path(str(program / "__main__.py"), run_name="__main__"))

    gc_was_enabled = gc.isenabled()
    gc.disable()  # the SDK's many short-lived cycles make GC ~half the cost of a large stack
    try:
        pulumi_internals.run_program(program_main)
    except Exception as error:
        error.captured_resources = resources  # type: ignore[attr-defined]  # what got registered first
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    capture = Capture(
        stack=stack,
        region=region,
        resources=resources,
        outputs=pulumi_internals.stack_exports(),
        config=_program_config(program_globals),
    )
    if key is not None and memo is not None:
        memo[key] = pickle.dumps(capture, pickle.HIGHEST_PROTOCOL)
    return capture


def check_stack_file(stack_file: StackFile) -> None:
    """The config model's verdict on a stack file, each error at its line (raises ConfigError)."""
    values = stack_file.config
    region = values.get("aws:region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    errors = namespace_problems(values)
    try:
        parse_stack_config(namespace_config(values), stack=stack_file.name, region=region)
    except ConfigError as error:
        errors += error.errors
    if errors:
        raise ConfigError(locate(errors, stack_file), located=True)


def cached_capture(stack: str, project_dir: Path | str | None = None) -> Capture:
    """`capture_stack(stack)` once per process and project dir: for tests and benches that read a stack often.

    The same object is returned to every caller, so it must be treated as read-only.
    """
    return _cached_capture(stack, str(stack_files.project_dir(project_dir).resolve()))


@functools.cache
def _cached_capture(stack: str, directory: str) -> Capture:
    return capture_stack(stack, project_dir=directory)


def _program_config(program_globals: dict[str, Any]) -> StackConfig:
    config = program_globals.get(PROGRAM_CONFIG_VARIABLE)
    if not isinstance(config, StackConfig):
        raise TypeError(
            f"__main__.py must keep the StackConfig it builds from in `{PROGRAM_CONFIG_VARIABLE}` "
            f"(stack_capture reads it); found {type(config).__name__}"
        )
    return config
