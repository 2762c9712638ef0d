"""async-pipelines: read the stack config, build each enabled pipeline, export its queues and topics."""

import json
import os

import pulumi
from pulumi.runtime.config import CONFIG

from components.config import ConfigError, parse_stack_config
from components.defaults import PROJECT
from components.program import build


def _namespace_config() -> dict:
    """Every `async-pipelines:*` key, so that unknown keys are reported rather than ignored."""
    raw = {}
    for key, value in CONFIG.get().items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            try:
                raw[name] = json.loads(value)
            except (TypeError, ValueError):
                raw[name] = value
    return raw


# `stack_config` is read back by `stack_capture` (docs/contracts.md §3): keep the name.
_namespace = _namespace_config()
try:
    stack_config = parse_stack_config(
        _namespace,
        stack=pulumi.get_stack(),
        region=pulumi.Config("aws").get("region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION"),
    )
except ConfigError as error:
    # Every error, each at its line of Pulumi.<stack>.yaml, before any resource is registered.
    from stack_capture.stack_files import locate_for_program

    raise pulumi.RunError(str(ConfigError(locate_for_program(error.errors, pulumi.get_stack(), _namespace)))) from None

for name, value in build(stack_config).items():
    pulumi.export(name, value)
