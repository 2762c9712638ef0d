"""Each of the user's stacks registers identical inputs on every run: `pulumi preview` shows no change when nothing did.

Asset archives are compared by what they contain (name and content hash), which is what the engine
compares; everything else must be equal as registered.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pulumi
import pytest

from stack_capture import capture as capture_module
from stack_capture import capture_stack
from tests.conftest import USER_PROJECT_DIR, USER_STACKS


def _comparable(value: Any) -> Any:
    if isinstance(value, pulumi.AssetArchive):
        return {k: _comparable(v) for k, v in sorted(value.assets.items())}
    if isinstance(value, pulumi.FileAsset):
        return hashlib.sha256(Path(value.path).read_bytes()).hexdigest()
    if isinstance(value, pulumi.Archive | pulumi.Asset):
        raise AssertionError(f"an asset the engine would hash by its path or directory listing: {value!r}")
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


@pytest.mark.user_stacks
@pytest.mark.parametrize("stack", USER_STACKS)
def test_two_runs_register_the_same_resources_with_the_same_inputs(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capture_module, "memo", None)  # two real runs of the program
    first, second = (capture_stack(stack, project_dir=USER_PROJECT_DIR) for _ in range(2))
    registered = {(r.type, r.name): _comparable(r.inputs) for r in first.resources}
    assert registered == {(r.type, r.name): _comparable(r.inputs) for r in second.resources}
    assert len(registered) == len(first.resources), "logical names are unique"
