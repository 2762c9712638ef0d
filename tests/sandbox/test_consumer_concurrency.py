"""`maxConcurrency` caps a consumer as a whole: its mappings share it, and the sandbox never runs more.

AWS applies `ScalingConfig.MaximumConcurrency` per event source mapping, not per function (Lambda
developer guide, "Configuring maximum concurrency for Amazon SQS event sources"), so the program splits a
consumer's `maxConcurrency` over the queues it reads. The sandbox runs each captured mapping with its
own share, so a consumer's batches in flight at once never exceed its configured total.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from sandbox.clients import AwsClients
from sandbox.clock import VirtualClock
from sandbox.esm import EventSourceMapping
from sandbox.materialize import materialize
from sandbox.topology import Topology, topology_from_capture
from tests.sandbox.conftest import stack
from tests.sandbox.test_esm import FakeInvoker, Observer

TOTAL = 6
RETRY = {
    "email": {
        "pattern": "retry",
        "handler": "handlers.notify:send",
        "batchSize": 1,
        "maxConcurrency": TOTAL,
        "retries": [{"delay": 30}, {"delay": 300}],
    }
}


@pytest.fixture(scope="module")
def topology() -> Topology:
    return topology_from_capture(stack(RETRY).capture)


def test_the_consumers_mappings_share_its_max_concurrency(topology: Topology) -> None:
    shares = [m.max_concurrency for m in topology.mappings]
    assert len(shares) == 3, "main queue + two retry tiers"
    assert sum(s or 0 for s in shares) == TOTAL
    assert all(s is not None and s >= 2 for s in shares)


@pytest.fixture
def aws(topology: Topology) -> Iterator[tuple[AwsClients, VirtualClock]]:
    clock = VirtualClock()
    with mock_aws(), clock.patch_moto():
        clients = AwsClients.create(topology.region)
        materialize(topology, clients)
        yield clients, clock


def test_one_round_of_every_mapping_runs_at_most_the_consumers_total(
    topology: Topology, aws: tuple[AwsClients, VirtualClock]
) -> None:
    clients, clock = aws
    for spec in topology.mappings:  # every queue deep enough to keep all of its pollers busy
        for i in range(3 * TOTAL):
            clients.sqs.send_message(QueueUrl=spec.queue.url, MessageBody=f'{{"n": {i}}}', DelaySeconds=0)
    observer = Observer()
    invoker: Any = FakeInvoker({"batchItemFailures": []})
    pollers = [
        EventSourceMapping(spec, clients, clock, invoker, observer, rng=random.Random(1)) for spec in topology.mappings
    ]
    for poller in pollers:  # what the engine does in one round, at one instant of virtual time
        poller.tick()
    per_function = Counter(i.mapping.function.name for i in observer.invocations)
    assert per_function == {"ap-sbx-email": TOTAL}
