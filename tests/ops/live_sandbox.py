"""The sandbox running a stack's event source mappings in a background thread, in-process moto.

What `ops.smoke` meets in AWS or behind `python -m sandbox serve --aws-port`: queues drained by the real
runtime while the tool talks to the same AWS API (here moto's in-process mock, so the tool's own boto3
clients reach it without an endpoint). The virtual clock jumps to the next event whenever every mapping
is idle, so retries and visibility timeouts take no real time.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sandbox.clients import AwsClients
from sandbox.clock import VirtualClock
from sandbox.effects import observe_outcomes
from sandbox.engine import _reset_runtime
from sandbox.esm import Chaos, EventSourceMapping
from sandbox.fifo_order import fifo_oldest_first
from sandbox.invoke import Invoker
from sandbox.ledger import Ledger
from sandbox.materialize import materialize
from sandbox.state import MotoState
from sandbox.topology import topology_from_capture
from stack_capture import Capture


@contextmanager
def live_sandbox(capture: Capture) -> Iterator[AwsClients]:
    from moto import mock_aws

    topology = topology_from_capture(capture)
    with ExitStack() as stack:
        stack.enter_context(mock_aws())
        stack.enter_context(fifo_oldest_first())
        clock = VirtualClock()
        stack.enter_context(clock.patch_moto())
        stack.enter_context(clock.patch_powertools())
        aws = AwsClients.create(topology.region)
        state = MotoState(topology.region)
        _reset_runtime()
        stack.callback(_reset_runtime)
        materialize(topology, aws)
        ledger = Ledger(topology, clock.now)
        stack.enter_context(observe_outcomes(ledger))
        invoker = Invoker(topology.region, aws.function_environment())
        mappings = [
            EventSourceMapping(spec, aws, clock, invoker, ledger, Chaos(), random.Random(0), state.receivable)
            for spec in topology.mappings
        ]
        sources = sorted({m.spec.queue.name for m in mappings})
        stop = threading.Event()
        errors: list[BaseException] = []

        def loop() -> None:
            try:
                while not stop.is_set():
                    if sum(m.tick() for m in mappings):
                        continue
                    upcoming = [d for m in mappings if (d := m.window_deadline) is not None]
                    if (event := state.next_event(sources, clock.now())) is not None:
                        upcoming.append(event)
                    if upcoming:
                        clock.sleep_until(min(upcoming))
                    time.sleep(0.01)
            except BaseException as exc:  # surfaced by the test
                errors.append(exc)

        thread = threading.Thread(target=loop, name="mappings", daemon=True)
        thread.start()
        try:
            yield aws
        finally:
            stop.set()
            thread.join(timeout=10)
        assert not errors, errors
