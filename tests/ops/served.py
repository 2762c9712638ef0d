"""`python -m sandbox serve --stack prod --aws-port` in a process of its own, for the ops tools' failure tests.

The tools reach it as they reach any emulator: `--endpoint-url`. Its moto has no message move tasks,
and its consumers really run: a redriven message that fails again comes back to the DLQ as AWS would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from tests.serve.conftest import ROOT, free_port

PROD_REGION = "eu-west-1"


@dataclass(frozen=True)
class Served:
    aws: str
    """--endpoint-url of the served AWS API."""

    def sqs(self) -> Any:
        return boto3.client("sqs", endpoint_url=self.aws, region_name=PROD_REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    def url(self, queue: str) -> str:
        return str(self.sqs().get_queue_url(QueueName=queue)["QueueUrl"])

    def counts(self, queue: str) -> tuple[int, int]:
        """(visible, in flight)."""
        attrs = self.sqs().get_queue_attributes(
            QueueUrl=self.url(queue),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def dead_letter(self, queue: str, body: dict[str, Any], logical_id: str, group: str | None = None) -> None:
        """A DLQ message as the runtime sends it (docs/contracts.md §2)."""
        attributes = {
            "ap-error-kind": {"DataType": "String", "StringValue": "permanent"},
            "ap-error-reason": {"DataType": "String", "StringValue": "first failure"},
            "ap-message-id": {"DataType": "String", "StringValue": logical_id},
            "ap-dead-letter-id": {"DataType": "String", "StringValue": f"dl-{logical_id}"},
        }
        params: dict[str, Any] = {"QueueUrl": self.url(queue), "MessageBody": json.dumps(body),
                                  "MessageAttributes": attributes}
        if group is not None:
            params |= {"MessageGroupId": group, "MessageDeduplicationId": f"seed-{logical_id}"}
        self.sqs().send_message(**params)

    def settle(self, queue: str, expected_visible: int, wait: float = 60.0) -> None:
        """Wait until `queue` shows `expected_visible` messages and none in flight."""
        deadline = time.monotonic() + wait
        while self.counts(queue) != (expected_visible, 0) and time.monotonic() < deadline:
            time.sleep(0.2)

    def drain(self, queue: str) -> list[dict[str, Any]]:
        """Receive and delete everything in a DLQ (no consumer reads it), in the order SQS hands it out."""
        sqs, url = self.sqs(), self.url(queue)
        out: list[dict[str, Any]] = []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                         MessageAttributeNames=["All"],
                                         MessageSystemAttributeNames=["All"]).get("Messages", []):
            for m in got:
                out.append(m)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out


def serve_prod() -> Iterator[Served]:
    settings = {"stack": "prod", "apiKey": "k", "config": None, "awsPort": free_port()}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "functions")])}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "serve" / "server_process.py"), json.dumps(settings)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=30)
        raise RuntimeError("sandbox serve did not start")
    try:
        yield Served(json.loads(line)["aws"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
