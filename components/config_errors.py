"""How the stack-config parsers report problems: collected with their key path, raised together.

Shared by `components.config` and `components.http_config` (both depend on this module, never on each
other's internals), so one `ConfigError` lists every problem of a stack file at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


class ConfigError(ValueError):
    """Every problem found in the stack config, reported at once.

    Each error is `<key.path>: <message>`; `stack_capture.stack_files` prefixes the file position
    (`Pulumi.dev.yaml:LINE:COL: `) when the config came from a stack file.
    """

    def __init__(self, errors: list[str], *, located: bool = False) -> None:
        self.errors = errors
        self.located = located
        """Each error already starts with its `file:LINE:COL` (or file name)."""
        plural = "s" if len(errors) != 1 else ""
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"invalid stack config ({len(errors)} error{plural}):\n{lines}")


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `word` (difflib, as Python's own NameError hints), or None."""
    options = list(candidates)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:  # a case slip (`Handler`) scores low on similarity but is an obvious match
        close = [o for o in options if o.lower() == word.lower()][:1]
    return close[0] if close else None


class Errors:
    """Collects errors with their key path so that one run reports them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")

    def unknown_keys(self, path: str, value: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for key in value:
            if key not in allowed:
                self.add(f"{path}.{key}", unknown_key_message(key, allowed))

    def integer(
        self, path: str, raw: Mapping[str, Any], key: str, default: int, lo: int, hi: int, unit: str = ""
    ) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{path}.{key}", f"{value!r} is not an integer; allowed {lo}–{hi}{unit}")
            return default
        if not lo <= value <= hi:
            self.add(f"{path}.{key}", f"{value} is out of range; allowed {lo}–{hi}{unit}")
            return default
        return value

    def boolean(self, path: str, raw: Mapping[str, Any], key: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.add(f"{path}.{key}", f"{value!r} is not a boolean; allowed true, false")
            return default
        return value

    def mapping(self, path: str, value: Any) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(path, f"expected a mapping of settings, got {type(value).__name__} {value!r}")
            return None
        return value

    def name(self, path: str, value: str) -> None:
        if not NAME_RE.match(value):
            self.add(path, f"name {value!r} is invalid; use 1–31 of a-z, 0-9 and '-', starting with a letter")


def unknown_key_message(key: Any, allowed: tuple[str, ...]) -> str:
    """`unknown key 'patern'; did you mean 'pattern'? allowed keys: ...` (the hint only when one is close)."""
    hint = did_you_mean(key, allowed) if isinstance(key, str) else None
    suggestion = f"; did you mean {hint!r}?" if hint else ";"
    return f"unknown key {key!r}{suggestion} allowed keys: {', '.join(allowed)}"
