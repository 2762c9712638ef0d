"""Resolve ``AP_HANDLER`` (``module:function``) to the business function, cached per string."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from pipeline_runtime.errors import ConfigurationError

__all__ = ["BusinessFunction", "resolve"]

BusinessFunction = Callable[[dict[str, Any]], Any]

_cache: dict[str, BusinessFunction] = {}


def resolve(spec: str) -> BusinessFunction:
    found = _cache.get(spec)
    if found is not None:
        return found
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigurationError(f"AP_HANDLER must be 'module:function', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"AP_HANDLER {spec!r}: cannot import {module_name!r}: {exc}") from exc
    function = getattr(module, attr, None)
    if not callable(function):
        raise ConfigurationError(f"AP_HANDLER {spec!r}: {module_name!r} has no function {attr!r}")
    _cache[spec] = function
    return function


def reset() -> None:
    _cache.clear()
