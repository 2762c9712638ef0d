"""One class per name across the project's packages: a name says what a thing is, in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("components", "functions", "ops", "policy", "producer", "sandbox", "stack_capture", "contract")


def class_definitions() -> dict[str, list[str]]:
    """Class name -> the files that define a class of that name (top level or nested)."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    found.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("name", ["RetryTier", "RetryTierQueue"])
def test_retry_tier_classes_have_one_definition_each(name: str) -> None:
    assert len(class_definitions().get(name, [])) == 1, class_definitions().get(name)
