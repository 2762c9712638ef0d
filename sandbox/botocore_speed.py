"""Take botocore's per-client and per-request costs out of in-process sandbox runs (and the tests).

**Per client.** Every `boto3.session.Session()` gets its own botocore `Loader`, so every client built
from a fresh session (the runtime builds one per service and environment: `pipeline_runtime.clients`)
parses the service's JSON model, endpoint rules and partitions again: ~60 ms for SQS, of which ~7 ms
are left once parsed. The files are read-only data shipped with botocore, and one session already
shares its loader among all its clients, so `shared_service_data()` makes every session opened
meanwhile share one `Loader` per data path: the same models, parsed once per process. Each session also
translates every event name it registers a handler for through botocore's ~70 service aliases
(`EventAliaser._alias_event_name`, cached per session only); with the default aliases the answer
depends on the name alone, so it is shared too.

**Per request.**
botocore 1.40 builds the User-Agent string twice per API call, and each build passes every component
(``prefix/name#value``, about twenty of them) through `sanitize_user_agent_string_component`, a
character-by-character generator that replaces characters outside an allowed set with "-". In a
sandbox run, where every "AWS" call is an in-process moto call, that was the largest botocore cost
after moto itself. The function is pure (its result depends on its two arguments and a module
constant), and the same few component strings come back on every call, so
`memoised_user_agent_sanitising()` memoises it while a run is open: the header is the same string,
built faster. `tests/sandbox/test_botocore_speed.py` compares the headers sent with and without it.

SigV4 derives a signing key from the secret key, the date, the region and the service with four HMACs
before the fifth signs the request; AWS's SDKs for other languages cache that key per (date, region,
service). `cached_signing_keys()` does so for botocore's `SigV4Auth` while a run is open: the same key,
so the same signature (compared in the test).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.patching import replaced

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


ALIAS_METHOD = "_alias_event_name"
"""botocore's private `EventAliaser` method that translates an event name (botocore 1.43)."""


DEFAULT_ALIASES_FLAG = "_ap_default_aliases"
"""Set on each `EventAliaser`: whether its alias map is botocore's default one."""


def _shared_aliases(original: Callable[[Any, str], str]) -> Callable[[Any, str], str]:
    from botocore.hooks import EVENT_ALIASES

    aliases: dict[str, str] = {}

    @functools.wraps(original)
    def alias_event_name(self: Any, event_name: str) -> str:
        default = self.__dict__.get(DEFAULT_ALIASES_FLAG)
        if default is None:  # once per aliaser: each client's is a copy of its session's, with a copied map
            default = self.__dict__[DEFAULT_ALIASES_FLAG] = self._event_aliases == EVENT_ALIASES
        if not default:  # an aliaser built with its own map: its own answer
            return original(self, event_name)
        found = aliases.get(event_name)
        if found is None:
            found = aliases[event_name] = original(self, event_name)
        return found

    return alias_event_name


@contextmanager
def shared_service_data() -> Iterator[None]:
    """Let every botocore session opened meanwhile share one `Loader` per data path and the event-name
    aliases; restore on exit."""
    from botocore import session
    from botocore.hooks import EventAliaser

    with replaced() as patches:
        patches.set(session, "create_loader", functools.lru_cache(maxsize=8)(session.create_loader))  # per path
        patches.set(EventAliaser, ALIAS_METHOD, _shared_aliases(getattr(EventAliaser, ALIAS_METHOD)))
        yield


@contextmanager
def memoised_user_agent_sanitising() -> Iterator[None]:
    """Memoise botocore's User-Agent component sanitising as the module docstring says; restore on exit."""
    from botocore import useragent

    with replaced() as patches:
        patches.set(useragent, "sanitize_user_agent_string_component",
                    _memoised(useragent.sanitize_user_agent_string_component))
        yield


@contextmanager
def cached_signing_keys() -> Iterator[None]:
    """Cache SigV4 signing keys as the module docstring says; restore `SigV4Auth.signature` on exit."""
    from botocore.auth import SigV4Auth

    original, sign = SigV4Auth.__dict__.get("signature"), SigV4Auth.__dict__.get("_sign")
    if original is None or sign is None:  # a botocore that signs otherwise: its own signing, unchanged
        yield
        return

    @functools.lru_cache(maxsize=64)
    def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
        k_date = sign(None, f"AWS4{secret_key}".encode(), date)
        return sign(None, sign(None, sign(None, k_date, region), service), "aws4_request")

    @functools.wraps(original)
    def signature(self: Any, string_to_sign: str, request: Any) -> str:
        if type(self)._sign is not sign:  # a subclass that signs otherwise: its own answer
            return original(self, string_to_sign, request)
        key = signing_key(self.credentials.secret_key, request.context["timestamp"][0:8],
                          self._region_name, self._service_name)
        return sign(self, key, string_to_sign, hex=True)

    with replaced() as patches:
        patches.set(SigV4Auth, "signature", signature)
        yield
