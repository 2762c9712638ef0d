"""Take the queue-depth cost out of moto's SQS sends and receives, without changing what moto does.

moto 5.2.5 answers a single attribute lookup by building `Queue.attributes`, the full attribute map,
whose three `ApproximateNumberOfMessages*` counts walk every message of the queue with two clock
reads each. It does that where it needs one value:

- `SQSBackend.send_message` (so also `send_message_batch` and SNS deliveries) and `Queue.add_message`
  read only `ContentBasedDeduplication`;
- `SQSBackend.is_message_valid_based_on_retention_period`, run for every message a receive hands
  out, reads only `MessageRetentionPeriod` (through `get_queue_attributes`, which builds the map
  three times);
- every attribute name (and every request's action name) goes through `camelcase_to_underscores`, a
  character-by-character loop;
- every request lists its response class's methods again (`method_names_from_class`, via
  `inspect.getmembers`), though a class's methods do not change while moto runs.

So sending to a queue of depth d costs O(d), a receive of n messages O(n·d), and a dead-letter queue
that fills during a long run makes every later send to it slower: the 10,000-message chaos run sends
thousands of messages to DLQs holding thousands (design.md §6: moto's cost grows with depth).

While `depth_free_attribute_reads()` is open (the in-process sandbox), those three callers see the
three counts as 0 (they never read them), and `camelcase_to_underscores` and
`method_names_from_class` are memoised (pure functions of a string, of a class). Every other
reader, `GetQueueAttributes` and the sandbox's own depth checks included, gets moto's counts as
before; messages, receive counts, redrive, deduplication and retention are moto's own code paths.
`tests/sandbox/test_moto_speed.py` checks that a send/receive/redrive/expiry sequence answers the
same with and without the patch, and that the counts are moto's outside those callers.

Every request also reaches moto's `BotocoreStubber.process_request`, which finds its handler by trying
each of ~2,400 service URL patterns against the URL, then building the matching backend's whole URL map
(`BaseBackend.urls`) and compiling each of its patterns again until one matches: ~80 regular-expression
matches and a dict of ~40 entries per call, for the same few URLs of a run. `remembered_routes()` keeps
each URL's handler once found (the handlers are classmethods and module-level instances, fixed while
moto runs), and hands every other case - passthrough, a service outside the whitelist, no match, a
changed `core` config - to moto's own `process_request`.

moto also draws its random identifiers a character at a time: a 185-letter receipt handle for every
message a receive hands out, a 52-character request id for every answer (`MotoRandom.choice` in a
Python loop, ~4 % of a sandbox run). `one_draw_identifiers()` draws each in one `choices` call from the
same seedable `mock_random`, with the same alphabet and length.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.patching import replaced

COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)
"""`Queue` properties that walk the whole queue (the `ApproximateNumberOfMessages*` attributes)."""

SINGLE_VALUE_READERS = (
    ("SQSBackend", "send_message"),
    ("SQSBackend", "is_message_valid_based_on_retention_period"),
    ("Queue", "add_message"),
)
"""moto methods that build the attribute map only to read one attribute other than the counts."""


class _Skip:
    """How many single-value readers are running (they nest: send_message -> add_message)."""

    depth = 0


def _count_unless_skipped(original: property) -> property:
    def count(queue: Any) -> int:
        return 0 if _Skip.depth else int(original.fget(queue))  # type: ignore[misc]

    return property(count)


def _skipping_counts(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def reader(*args: Any, **kwargs: Any) -> Any:
        _Skip.depth += 1
        try:
            return method(*args, **kwargs)
        finally:
            _Skip.depth -= 1

    return reader


@contextmanager
def depth_free_attribute_reads() -> Iterator[None]:
    """Patch moto's in-process SQS model as the module docstring says; restore it on exit."""
    from moto.core import responses
    from moto.sqs import models

    with replaced() as patches:
        for name in COUNTS:
            patches.set(models.Queue, name, _count_unless_skipped(models.Queue.__dict__[name]))
        for class_name, method in SINGLE_VALUE_READERS:
            owner = getattr(models, class_name)
            patches.set(owner, method, _skipping_counts(owner.__dict__[method]))
        patches.set(models, "camelcase_to_underscores", functools.cache(models.camelcase_to_underscores))
        patches.set(responses, "camelcase_to_underscores", models.camelcase_to_underscores)  # action names too
        patches.set(responses, "method_names_from_class", functools.cache(responses.method_names_from_class))
        yield


RECEIPT_HANDLE_LENGTH = 185
"""moto 5's receipt-handle length (`moto.sqs.utils.generate_receipt_handle`)."""


@contextmanager
def one_draw_identifiers() -> Iterator[None]:
    """Receipt handles and `get_random_string` drawn in one `choices` call each; restore on exit."""
    import string

    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom
    from moto.sqs import models

    def receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=RECEIPT_HANDLE_LENGTH))

    def random_string(self: MotoRandom, length: int = 20, include_digits: bool = True,
                      lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        drawn = "".join(self.choices(pool, k=length))
        return drawn.lower() if lower_case else drawn

    with replaced() as patches:
        patches.set(models, "generate_receipt_handle", receipt_handle)
        patches.set(MotoRandom, "get_random_string", random_string)
        yield


ROUTE_CACHE_SIZE = 4096
"""URLs whose handler is remembered: a run uses a queue URL per queue, a table endpoint, a few buckets' keys."""


def _find_handler(clean_url: str) -> Callable[..., Any] | None:
    """The handler moto's `process_request` would call for `clean_url` (its own search); None where it would
    not call one (passthrough, not whitelisted, no match)."""
    import re

    import moto.backend_index as backend_index
    import moto.backends as backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict
    from moto.core.config import passthrough_service, passthrough_url, service_whitelisted

    if passthrough_url(clean_url):
        return None
    for service, pattern in backend_index.backend_url_patterns:
        if pattern.match(clean_url):
            if passthrough_service(service) or not service_whitelisted(service):
                return None
            backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
            if isinstance(backend_dict, BackendDict):
                regions = backend_dict[DEFAULT_ACCOUNT_ID]
                backend = regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
            else:
                backend = backend_dict["global"]
            for url, handler in backend.urls.items():
                if re.compile(url).match(clean_url):
                    return handler
    return None


@contextmanager
def remembered_routes() -> Iterator[None]:
    """Remember each URL's moto handler as the module docstring says; restore `process_request` on exit."""
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.config import default_user_config
    from moto.core.exceptions import HTTPException
    from moto.core.request import normalize_request
    from moto.core.utils import get_equivalent_url_in_aws_domain
    from moto.moto_api import recorder

    original = BotocoreStubber.__dict__["process_request"]
    routes: dict[tuple[str, str], Callable[..., Any] | None] = {}

    def process_request(self: Any, request: Any) -> Any:
        parsed_url, _ = get_equivalent_url_in_aws_domain(request.url)
        clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
        key = (clean_url, repr(default_user_config.get("core")))
        if key in routes:
            handler = routes[key]
        else:
            handler = _find_handler(clean_url)
            if len(routes) < ROUTE_CACHE_SIZE:
                routes[key] = handler
        if handler is None:
            return original(self, request)
        normalized_request = normalize_request(request)  # from here on, moto's own lines
        try:
            recorder._record_request(normalized_request)
            return handler(normalized_request, normalized_request.raw_url, normalized_request.headers)
        except HTTPException as e:
            return e.code, e.get_headers(), e.get_body()

    with replaced() as patches:
        patches.set(BotocoreStubber, "process_request", process_request)
        yield
