"""The sandbox's queues have what AWS would give them: the captured value, else pulumi-aws's default, never moto's.

pulumi-aws creates a queue whose `max_message_size` is unset with 256 KiB; moto would give it 1 MiB, and a
sandbox run would accept messages AWS refuses. The program now sets 1 MiB on every queue (and that must
show in moto), and any attribute a capture leaves unset is materialised with `contract.aws.PROVIDER_DEFAULTS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from moto import mock_aws

from contract import aws as contract
from sandbox.clients import AwsClients
from sandbox.materialize import materialize
from sandbox.topology import QUEUE, Topology, topology_from_capture
from stack_capture import Capture
from tests.sandbox.conftest import stack

PIPELINES = {
    "media": {
        "pattern": "chain",
        "stages": [
            {"name": "download", "handler": "handlers.media:download"},
            {"name": "thumb", "handler": "handlers.media:thumbnail"},
        ],
    },
    "email": {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}], "fifo": True},
}
ATTRIBUTES = [
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "VisibilityTimeout",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
]


@pytest.fixture(scope="module")
def capture() -> Capture:
    return stack(PIPELINES).capture


def _without(capture: Capture, *inputs: str) -> Topology:
    """The capture with `inputs` left unset on every queue, as a program that forgot them would register."""
    resources = [
        dataclasses.replace(r, inputs={k: v for k, v in r.inputs.items() if k not in inputs}) if r.type == QUEUE else r
        for r in capture.resources
    ]
    return topology_from_capture(dataclasses.replace(capture, resources=resources))


def _attributes(topology: Topology) -> Iterator[dict[str, str]]:
    with mock_aws():
        clients = AwsClients.create(topology.region)
        materialize(topology, clients)
        for q in topology.queues.values():
            url = clients.sqs.get_queue_url(QueueName=q.name)["QueueUrl"]
            yield clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_every_queue_the_program_creates_is_1_mib_in_the_sandbox(capture: Capture) -> None:
    topology = topology_from_capture(capture)
    sizes = [a["MaximumMessageSize"] for a in _attributes(topology)]
    assert len(sizes) == len(topology.queues) >= 7  # 2 stages + 2 DLQs, main + tier + DLQ
    assert set(sizes) == {str(contract.QUEUE_MAX_MESSAGE_BYTES)}


def test_attributes_a_capture_leaves_unset_get_the_provider_default_not_moto_s(capture: Capture) -> None:
    unset = (
        "maxMessageSize",
        "messageRetentionSeconds",
        "visibilityTimeoutSeconds",
        "delaySeconds",
        "receiveWaitTimeSeconds",
    )
    expected = {
        "MaximumMessageSize": "262144",  # moto alone: 1048576
        "MessageRetentionPeriod": "345600",
        "VisibilityTimeout": "30",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
    }
    for attributes in _attributes(_without(capture, *unset)):
        assert {k: attributes[k] for k in ATTRIBUTES} == expected


def test_fifo_queues_get_the_provider_s_fifo_defaults(capture: Capture) -> None:
    topology = topology_from_capture(capture)
    fifo = [q for q in topology.queues.values() if q.fifo]
    assert fifo and all(
        (q.attributes["DeduplicationScope"], q.attributes["FifoThroughputLimit"]) == ("queue", "perQueue") for q in fifo
    )
    assert all("DeduplicationScope" not in q.attributes for q in topology.queues.values() if not q.fifo)


def test_moto_refuses_what_aws_would_refuse_at_the_provider_s_default_size(capture: Capture) -> None:
    topology = _without(capture, "maxMessageSize")
    queue = next(q for q in topology.queues.values() if not q.fifo)
    with mock_aws():
        clients = AwsClients.create(topology.region)
        materialize(topology, clients)
        url = clients.sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        with pytest.raises(clients.sqs.exceptions.ClientError, match="262144"):
            clients.sqs.send_message(QueueUrl=url, MessageBody="x" * 300_000)
