"""Take the queue-depth cost out of moto's SQS sends and receives, without changing what moto does.

moto 5.2.5 answers a single attribute lookup by building `Queue.attributes`, the full attribute map,
whose three `ApproximateNumberOfMessages*` counts walk every message of the queue with two clock
reads each. It does that where it needs one value:

- `SQSBackend.send_message` (so also `send_message_batch` and SNS deliveries) and `Queue.add_message`
  read only `ContentBasedDeduplication`;
- `SQSBackend.is_message_valid_based_on_retention_period`, run for every message a receive hands
  out, reads only `MessageRetentionPeriod` (through `get_queue_attributes`, which builds the map
  three times);
- every attribute name goes through `camelcase_to_underscores`, a character-by-character loop;
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

    saved: list[tuple[Any, str, Any]] = []

    def replace(owner: Any, name: str, value: Any) -> None:
        saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, value)

    for name in COUNTS:
        replace(models.Queue, name, _count_unless_skipped(models.Queue.__dict__[name]))
    for class_name, method in SINGLE_VALUE_READERS:
        owner = getattr(models, class_name)
        replace(owner, method, _skipping_counts(owner.__dict__[method]))
    replace(models, "camelcase_to_underscores", functools.cache(models.camelcase_to_underscores))
    replace(responses, "method_names_from_class", functools.cache(responses.method_names_from_class))
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


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

    saved = models.generate_receipt_handle, MotoRandom.get_random_string
    models.generate_receipt_handle = receipt_handle
    MotoRandom.get_random_string = random_string  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.generate_receipt_handle, MotoRandom.get_random_string = saved  # type: ignore[method-assign]
