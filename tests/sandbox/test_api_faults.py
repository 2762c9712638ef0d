"""`--api-fault-rate`: AWS calls of the producer and the runtime fail like AWS fails; nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from producer import Entry, Producer, RetryPolicy
from sandbox.engine import RunOptions, run
from sandbox.faults import ApiFaults

REGION = "us-east-1"


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


def test_batch_calls_get_partial_results_and_other_calls_aws_errors(moto: None) -> None:
    faults = ApiFaults(rate=0.5, seed=1)
    with faults.installed():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        entries: Any = [{"Id": str(n), "MessageBody": f"m{n}"} for n in range(10)]
        with faults.scope():
            response: Any = sqs.send_message_batch(QueueUrl=url, Entries=entries)
            errors = []
            for _ in range(40):
                try:
                    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
                except ClientError as exc:
                    errors.append((exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]))
        outside = [sqs.get_queue_attributes(QueueUrl=url) for _ in range(20)]  # no scope: no faults
    failed = {f["Id"] for f in response["Failed"]}
    succeeded = {s["Id"] for s in response["Successful"]}
    assert failed and succeeded and failed | succeeded == {str(n) for n in range(10)} and not failed & succeeded
    assert all(f["SenderFault"] is False and f["Code"] == "InternalError" for f in response["Failed"])
    stored = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(stored) == len(succeeded)  # a failed entry was really not sent
    assert errors and {code for code, _ in errors} <= {"ThrottlingException", "InternalError", "ServiceUnavailable"}
    assert all(status in (400, 500, 503) for _, status in errors)
    assert len(outside) == 20
    assert sum(faults.injected.values()) == len(failed) + len(errors)


def test_the_producer_loses_nothing_under_faults(moto: None) -> None:
    faults = ApiFaults(rate=0.3, seed=2)
    with faults.installed():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        retry = RetryPolicy(max_attempts=20, sleep=lambda s: None)
        producer = Producer([Entry("p", url)], clients={"sqs": sqs}, retry=retry)
        with faults.scope():
            ids = producer.send_many("p", [f"m{n}" for n in range(50)])
    assert len(set(ids)) == 50 and sum(faults.injected.values()) > 5
    bodies: list[str] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
        bodies += [m["Body"] for m in got]
    assert len(bodies) >= 50 and set(bodies) == {f"m{n}" for n in range(50)}  # a 5xx may have landed: at-least-once


def test_a_dev_run_under_api_faults_loses_nothing_and_explains_reruns() -> None:
    result = run(RunOptions(stack="dev", count=60, api_fault_rate=0.1, seed=5))
    report = result.report
    assert report["totals"]["lost"] == 0 and result.ok
    faults = report["api_faults"]
    assert faults["rate"] == 0.1 and faults["injected_total"] > 0
    assert any(k.startswith("sns.PublishBatch") or k.startswith("sqs.SendMessageBatch") for k in faults["injected"])
    assert any(k.startswith("dynamodb.") for k in faults["injected"])  # the runtime's own calls were faulted
    for listed in faults["reruns"] + faults["double_effects"]:
        assert listed["faults"] and "at-least-once" in listed["explanation"]
    assert report["totals"]["double_effects"] == len(faults["double_effects"])


def test_the_faults_are_seeded() -> None:
    a = run(RunOptions(stack="dev", count=20, api_fault_rate=0.1, seed=9))
    b = run(RunOptions(stack="dev", count=20, api_fault_rate=0.1, seed=9))
    assert a.report["api_faults"]["injected"] == b.report["api_faults"]["injected"]
