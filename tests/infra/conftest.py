"""Fixtures for the infrastructure tests."""

from tests.infra.builders import mocks

__all__ = ["mocks"]
