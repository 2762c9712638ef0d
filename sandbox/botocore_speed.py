"""Take botocore's per-client and per-request costs out of in-process sandbox runs (and the tests).

**Per client.** Every `boto3.session.Session()` gets its own botocore `Loader`, so every client built
from a fresh session (the runtime builds one per service and environment: `pipeline_runtime.clients`)
parses the service's JSON model, endpoint rules and partitions again: ~60 ms for SQS, of which ~7 ms
are left once parsed. The files are read-only data shipped with botocore, and one session already
shares its loader among all its clients, so `shared_service_data()` makes every session opened
meanwhile share one `Loader` per data path: the same models, parsed once per process.

**Per request.**
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
def shared_service_data() -> Iterator[None]:
    """Let every botocore session opened meanwhile share one `Loader` per data path; restore on exit."""
    from botocore import session

    original = session.create_loader
    session.create_loader = functools.lru_cache(maxsize=8)(original)  # keyed by AWS_DATA_PATH
    try:
        yield
    finally:
        session.create_loader = original


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
