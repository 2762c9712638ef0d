"""Replace attributes of library classes and modules for the length of a block, and put every one back.

Each of the sandbox's speed-ups (moto_speed, moto_expression_cache, botocore_speed, request_environ) swaps a
few library attributes while an in-process run is open. `replaced()` records what each name held on its
owner - or that the owner only inherited it - and restores them in reverse order on exit, after an error too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_INHERITED = object()
"""Saved for a name the owner did not hold itself: restoring it removes the replacement again."""


class Replacements:
    """The attributes replaced so far, with what each owner held before."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, vars(owner).get(name, _INHERITED)))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._saved:
            owner, name, before = self._saved.pop()
            if before is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, before)


@contextmanager
def replaced() -> Iterator[Replacements]:
    """Replacements made through the yielded object are undone when the block ends."""
    replacements = Replacements()
    try:
        yield replacements
    finally:
        replacements.restore()
