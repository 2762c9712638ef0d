"""Producer throughput into moto vs raw boto3 loops on the same queue and topic.

    python bench/producer_throughput.py [--count 2000] [--repeat 3]

For an SQS queue entry and an SNS topic entry (a topic with one raw-delivery SQS subscription), in-process
moto, the same `--count` 200-byte JSON bodies each time:

* `producer`: `Producer.send_many` - batches of 10 within the byte limit, `ap-message-id` per message,
  failed-entry bookkeeping (no failures here);
* `raw batch`: a plain loop of `send_message_batch` / `publish_batch` with 10 entries, no ids, no checks
  (what a careful hand-written producer does);
* `raw single`: one `send_message` / `publish` per message (what a naive one does).

Reported: messages/s (median of `--repeat` runs, each into a fresh queue) and producer / raw batch. The
producer's own work per message (id, attribute, size) is small next to moto's per-call cost, so the
ratio shows the library's overhead; against single sends batching is the win.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from producer import Entry, Producer

REGION = "us-east-1"


def bodies(count: int) -> list[str]:
    return [json.dumps({"id": f"o-{n:06d}", "type": "order_created", "pad": "x" * 150}) for n in range(count)]


def timed(send: Callable[[list[str]], Any], messages: list[str]) -> float:
    started = time.perf_counter()
    send(messages)
    return len(messages) / (time.perf_counter() - started)


def targets(sqs: Any, sns: Any, n: int) -> tuple[str, str]:
    queue = sqs.create_queue(QueueName=f"bench-{n}")["QueueUrl"]
    sink = sqs.create_queue(QueueName=f"sink-{n}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=sink, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name=f"bench-{n}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return queue, topic


def sender(kind: str, way: str, producer: Producer, sqs: Any, sns: Any, queue: str, topic: str
           ) -> Callable[[list[str]], Any]:
    """The send loop `way` for the queue or the topic entry."""

    def with_producer(messages: list[str]) -> None:
        producer.send_many("q" if kind == "queue" else "t", messages)

    def raw_batch(messages: list[str]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            if kind == "queue":
                sqs.send_message_batch(QueueUrl=queue, Entries=[
                    {"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)])
            else:
                sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
                    {"Id": str(i), "Message": b} for i, b in enumerate(chunk)])

    def raw_single(messages: list[str]) -> None:
        for body in messages:
            if kind == "queue":
                sqs.send_message(QueueUrl=queue, MessageBody=body)
            else:
                sns.publish(TopicArn=topic, Message=body)

    return {"producer": with_producer, "raw batch": raw_batch, "raw single": raw_single}[way]


def measure(count: int, repeat: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, list[float]]] = {"queue": {}, "topic": {}}
    messages = bodies(count)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        n = 0
        for _ in range(repeat):
            for way in ("producer", "raw batch", "raw single"):
                n += 1
                queue, topic = targets(sqs, sns, n)
                producer = Producer([Entry("q", queue), Entry("t", topic)], clients={"sqs": sqs, "sns": sns})
                for kind in ("queue", "topic"):
                    send = sender(kind, way, producer, sqs, sns, queue, topic)
                    results[kind].setdefault(way, []).append(timed(send, messages))
    return {kind: {way: statistics.median(v) for way, v in ways.items()} for kind, ways in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for kind, rates in measure(args.count, args.repeat).items():
        ratio = rates["producer"] / rates["raw batch"]
        print(
            f"{kind:5}  producer {rates['producer']:7.0f} msg/s  raw batch {rates['raw batch']:7.0f} msg/s  "
            f"raw single {rates['raw single']:7.0f} msg/s  producer/raw batch = {ratio:.2f}x  "
            f"producer/raw single = {rates['producer'] / rates['raw single']:.2f}x"
        )


if __name__ == "__main__":
    main()
