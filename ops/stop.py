"""Ctrl-C and SIGTERM as a request to stop at a safe point, for the client-side DLQ move."""

from __future__ import annotations

import signal
import threading

__all__ = ["StopOnSignal"]


class StopOnSignal:
    """While open, SIGINT/SIGTERM ask the client-side move to stop at its next safe point (never between
    a send and its delete); a second signal interrupts at once (what is held is still released)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.event = threading.Event()
        self.previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def __call__(self) -> bool:
        return self.event.is_set()

    def _handle(self, signum: int, frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
