"""sandbox.clock.VirtualClock: stands still for `sandbox run`, runs with real time for `sandbox serve`."""

from __future__ import annotations

import pytest

from sandbox import clock as clock_module
from sandbox.clock import VirtualClock


class Monotonic:
    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    reading = Monotonic()
    monkeypatch.setattr(clock_module.time, "monotonic", reading)
    return reading


def test_a_run_s_clock_stands_still_until_told(monotonic: Monotonic) -> None:
    clock = VirtualClock(start=1000.0)
    monotonic.value += 5
    assert clock.now() == 1000.0
    clock.advance(30)
    clock.sleep_until(1010.0)  # earlier: ignored
    assert clock.now() == 1030.0 and clock.now_millis() == 1_030_000.0
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)


def test_a_served_clock_runs_with_real_time_between_jumps(
    monotonic: Monotonic, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = VirtualClock(start=1000.0)
    monkeypatch.setattr(clock_module.time, "time", lambda: 990.0)  # the wall clock, behind: kept
    clock.follow_real_time()
    monotonic.value += 1.0  # a 1 s long poll: moto's deadline check sees 1 s gone, not what a loop caught up
    assert clock.now() == 1001.0
    assert clock._unix_time() == 1001.0  # what moto's SQS model reads
    clock.sleep_until(1300.0)  # idle: jump to the next event, then go on at real speed
    monotonic.value += 0.5
    assert clock.now() == 1300.5
    clock.sleep_until(1200.0)  # never back
    clock.advance(2)
    monotonic.value += 1
    assert clock.now() == 1303.5


def test_a_served_clock_is_never_behind_the_wall_clock(monotonic: Monotonic, monkeypatch: pytest.MonkeyPatch) -> None:
    """It stood still while serve set up: a tool that read the wall clock meanwhile (ops.dlq redrive's start)
    must see every later message stamped after it."""
    clock = VirtualClock(start=1000.0)
    monkeypatch.setattr(clock_module.time, "time", lambda: 1002.5)  # setup took 2.5 s
    clock.follow_real_time()
    assert clock.now() == 1002.5
    monotonic.value += 0.25
    assert clock.now() == 1002.75
