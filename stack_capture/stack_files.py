"""The project's `Pulumi.<stack>.yaml` files: which stacks exist and their `config:` blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent


class UnknownStackError(LookupError):
    """No `Pulumi.<stack>.yaml` in the project; the message lists the stacks there are."""


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
