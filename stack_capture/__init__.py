"""Stack capture: the real program run under Pulumi mocks, as a typed model of the stack.

Shared by the sandbox, ops, the plan, the tests and the benchmarks; the one adapter over Pulumi's
private mock machinery (`stack_capture.pulumi_internals`).

    from stack_capture import capture_stack
    capture = capture_stack("dev")
    capture.config.enabled_pipelines     # components.config.StackConfig, as the program parsed it
    capture.pipelines["orders"].entry    # typed stack output `pipelines`
    capture.of_type("aws:sqs/queue:Queue")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stack_capture.capture import cached_capture, capture_stack, engine_value
    from stack_capture.mocks import ACCOUNT_ID, AwsMocks
    from stack_capture.model import Capture, CapturedResource, PipelineOutputs
    from stack_capture.pulumi_internals import PulumiInternalsChanged, install_mocks
    from stack_capture.stack_files import (
        PROJECT_DIR,
        StackFileError,
        UnknownStackError,
        load_stack_config,
        project_dir,
        read_stack,
        stack_names,
    )

_HOME = {
    "stack_capture.capture": ("cached_capture", "capture_stack", "engine_value"),
    "stack_capture.mocks": ("ACCOUNT_ID", "AwsMocks"),
    "stack_capture.model": ("Capture", "CapturedResource", "PipelineOutputs"),
    "stack_capture.pulumi_internals": ("PulumiInternalsChanged", "install_mocks"),
    "stack_capture.stack_files": (
        "PROJECT_DIR", "StackFileError", "UnknownStackError", "load_stack_config", "project_dir", "read_stack",
        "stack_names",
    ),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import on first use: Pulumi is slow to import, and `stack_capture.cli` (argument parsing) needs none of it."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'stack_capture' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ACCOUNT_ID",
    "PROJECT_DIR",
    "AwsMocks",
    "Capture",
    "CapturedResource",
    "PipelineOutputs",
    "PulumiInternalsChanged",
    "StackFileError",
    "UnknownStackError",
    "cached_capture",
    "capture_stack",
    "engine_value",
    "install_mocks",
    "load_stack_config",
    "project_dir",
    "read_stack",
    "stack_names",
]
