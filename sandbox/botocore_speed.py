"""Take the per-request cost of botocore's User-Agent header out of in-process sandbox runs.

botocore 1.40 builds the User-Agent string twice per API call, and each build passes every component
(``prefix/name#value``, about twenty of them) through `sanitize_user_agent_string_component`, a
character-by-character generator that replaces characters outside an allowed set with "-". In a
sandbox run, where every "AWS" call is an in-process moto call, that was the largest botocore cost
after moto itself. The function is pure (its result depends on its two arguments and a module
constant), and the same few component strings come back on every call, so
`memoised_user_agent_sanitising()` memoises it while a run is open: the header is the same string,
built faster. `tests/sandbox/test_botocore_speed.py` compares the headers sent with and without it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

CACHE_SIZE = 4096
"""Distinct (component, allow_hash) pairs kept: a run uses a few dozen."""


def _memoised(original: Callable[..., str]) -> Callable[..., str]:
    cached = functools.lru_cache(maxsize=CACHE_SIZE)(original)

    @functools.wraps(original)
    def sanitise(raw_str: Any, allow_hash: Any) -> str:
        try:
            return cached(raw_str, allow_hash)
        except TypeError:  # an unhashable argument: no cache, botocore's own answer
            return original(raw_str, allow_hash)

    return sanitise


@contextmanager
def memoised_user_agent_sanitising() -> Iterator[None]:
    """Memoise botocore's User-Agent component sanitising as the module docstring says; restore on exit."""
    from botocore import useragent

    original = useragent.sanitize_user_agent_string_component
    useragent.sanitize_user_agent_string_component = _memoised(original)
    try:
        yield
    finally:
        useragent.sanitize_user_agent_string_component = original
