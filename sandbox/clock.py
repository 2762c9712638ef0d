"""Time for the sandbox: a virtual clock that moto's SQS model reads, or the real clock for emulators.

Why virtual: the dev stack's retry tiers wait 30 s and 300 s, visibility timeouts are minutes and the
analytics mapping batches for 10 s; a demo must still finish in seconds *and* see events in the order
AWS would produce them. moto's SQS model reads time only through two names it imports at module level
(``moto.sqs.models.unix_time`` and ``unix_time_millis``): visibility, DelaySeconds, SentTimestamp,
ApproximateFirstReceiveTimestamp, retention and the FIFO deduplication window all follow them. We
patch those two names; the engine advances the clock only when every event-source-mapping loop is
idle, straight to the next thing that can happen (a message becoming visible or undelayed, or a
batching window closing), so nothing is ever skipped and nothing waits in real time.

What stays on real time, deliberately:

* SNS and DynamoDB models (``moto.sns.models.unix_time`` only stamps config items; DynamoDB TTL is
  not enforced by moto), so they need no patching.

Powertools idempotency, on the other hand, computes and checks record expiry and in-progress expiry
with ``datetime.now()``, which the engine points at the virtual clock too (``patch_powertools``), so an
in-progress record left by a failed save expires when AWS would let it (the function's timeout).
"""

from __future__ import annotations

import datetime as dt
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

_MOTO_SQS_MODULE = "moto.sqs.models"
_PATCHED = ("unix_time", "unix_time_millis")
_POWERTOOLS_MODULES = (
    "aws_lambda_powertools.utilities.idempotency.base",
    "aws_lambda_powertools.utilities.idempotency.persistence.base",
    "aws_lambda_powertools.utilities.idempotency.persistence.dynamodb",
)
"""Where Powertools idempotency reads `dt.datetime.now()` (aws-lambda-powertools 3.x)."""


class Clock(Protocol):
    """What the engine and the mappings need from time."""

    virtual: bool
    start: float
    """`now()` when the run began."""

    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def sleep_until(self, when: float) -> None:
        """Let time pass until `when` (virtual: jump; real: sleep)."""
        ...


class VirtualClock:
    """A clock that only ever moves forward: it stands still until told to move or, once
    `follow_real_time()` is called (`sandbox serve`), runs at real speed between jumps."""

    virtual = True

    def __init__(self, start: float | None = None) -> None:
        self._base: tuple[float, float | None] = (time.time() if start is None else float(start), None)
        """(virtual seconds, the monotonic reading they were set at, or None while standing still): one
        tuple, replaced whole, so a thread reading the clock never sees half an update."""
        self.start = self._base[0]

    def now(self) -> float:
        at, anchor = self._base
        return at if anchor is None else at + (time.monotonic() - anchor)

    def now_millis(self) -> float:
        return self.now() * 1000.0

    def follow_real_time(self) -> None:
        """From now on the clock runs with real time (jumps still move it ahead), never behind the wall
        clock. A reader sees a moment as AWS would: a 1 s long poll ends after 1 s, not when some loop last
        caught the clock up; and a message sent after a tool read the wall clock (`ops.dlq redrive`'s start)
        is stamped later than it, not by the time setup took, which the clock stood still for."""
        self._base = (max(self.now(), time.time()), time.monotonic())

    def _set(self, when: float) -> None:
        self._base = (when, None if self._base[1] is None else time.monotonic())

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a virtual clock only moves forward (asked {seconds} s)")
        self._set(self.now() + seconds)

    def sleep_until(self, when: float) -> None:
        """Jump to `when`; earlier times are ignored (the clock never goes back)."""
        self._set(max(self.now(), when))

    # moto calls these with an optional datetime; with one, it wants that datetime converted.
    def _unix_time(self, value: dt.datetime | None = None) -> float:
        if value is not None:
            return (value - dt.datetime(1970, 1, 1)).total_seconds()
        return self.now()

    def _unix_time_millis(self, value: dt.datetime | None = None) -> float:
        return self._unix_time(value) * 1000.0

    @contextmanager
    def patch_moto(self) -> Iterator[VirtualClock]:
        """Make moto's SQS model read this clock for as long as the context is open."""
        import importlib

        module = importlib.import_module(_MOTO_SQS_MODULE)
        saved: dict[str, Callable[..., float]] = {name: getattr(module, name) for name in _PATCHED}
        setattr(module, "unix_time", self._unix_time)  # noqa: B010 - a module attribute moto imported by name
        setattr(module, "unix_time_millis", self._unix_time_millis)  # noqa: B010
        try:
            yield self
        finally:
            for name, original in saved.items():
                setattr(module, name, original)


    @contextmanager
    def patch_powertools(self) -> Iterator[VirtualClock]:
        """Make Powertools idempotency read this clock (record expiry, in-progress expiry) while open.

        Without it an in-progress record (the function did its work, then failed to save the outcome)
        would never expire during a run: redeliveries come minutes later in virtual time but
        milliseconds later in real time. With it, as in AWS, the redelivery after the visibility timeout
        finds the in-progress record expired and runs again (at-least-once).
        """
        import importlib

        clock = self

        class VirtualDatetime(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> VirtualDatetime:
                return cls.fromtimestamp(clock.now(), tz)

        shim = types.ModuleType("datetime")
        shim.__dict__.update(dt.__dict__)
        setattr(shim, "datetime", VirtualDatetime)  # noqa: B010 - the shim module's `datetime` class
        modules = [importlib.import_module(name) for name in _POWERTOOLS_MODULES]
        saved = [module.dt for module in modules]
        for module in modules:
            module.dt = shim  # type: ignore[attr-defined]
        try:
            yield self
        finally:
            for module, original in zip(modules, saved, strict=True):
                module.dt = original  # type: ignore[attr-defined]


class RealClock:
    """Wall-clock time, for `--endpoint-url` runs: the emulator keeps its own (real) time."""

    virtual = False

    def __init__(self) -> None:
        self.start = time.time()

    def now(self) -> float:
        return time.time()

    def sleep_until(self, when: float) -> None:
        delay = when - time.time()
        if delay > 0:
            time.sleep(delay)
