"""Fixtures for the infrastructure tests."""

from __future__ import annotations

import pytest

from stack_capture import Capture, capture_stack, stack_names
from tests.infra.builders import mocks

__all__ = ["mocks", "project_stacks"]


@pytest.fixture(scope="session")
def project_stacks() -> dict[str, Capture]:
    """Every `Pulumi.<stack>.yaml` of the project (dev and prod), captured once under mocks."""
    return {name: capture_stack(name) for name in stack_names()}
