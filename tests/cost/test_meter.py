"""Request counting: a scripted run with known calls, and SQS/SNS 64 KiB chunking."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from sandbox.api_calls import ApiCall, observe_api_calls
from sandbox.cost.meter import (
    CHUNK_BYTES,
    ENTRY,
    Attribution,
    Meter,
    chunks,
    dynamodb_item_bytes,
    message_bytes,
    read_units,
    write_units,
)
from sandbox.topology import FunctionSpec, MappingSpec, QueueSpec, Topology
from stack_capture import PipelineOutputs

REGION = "us-east-1"
ACCOUNT = "123456789012"


def url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"


def arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:p-topic"


def topology() -> Topology:
    dlq = QueueSpec("q-dlq", url("q-dlq"), arn("q-dlq"), {})
    main = QueueSpec("q-main", url("q-main"), arn("q-main"), {}, dlq_arn=dlq.arn, max_receive_count=5)
    env = {"AP_PIPELINE": "p", "AP_CONSUMER": "c", "AP_DLQ_URL": dlq.url, "AP_IDEMPOTENCY_TABLE": "t"}
    fn = FunctionSpec("fn", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn", 30, 256, env, "h")
    t = Topology(stack="scripted", region=REGION)
    t.queues = {dlq.arn: dlq, main.arn: main}
    t.functions = {fn.arn: fn}
    t.mappings = [MappingSpec("m", main, fn, 10, 0, None, True)]
    t.pipelines = {"p": PipelineOutputs("p", "fanout", TOPIC, {"c": main.url}, {"c": dlq.url})}
    return t


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        sqs = session.client("sqs")
        for name in ("q-dlq", "q-main"):
            sqs.create_queue(QueueName=name)
        session.client("sns").create_topic(Name="p-topic")
        session.client("dynamodb").create_table(
            TableName="t", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        )
        session.client("s3").create_bucket(Bucket="results")
        yield


def test_scripted_run_counts_every_billed_request(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    meter = Meter(Attribution(topology()))
    seen: list[ApiCall] = []

    def observe(call: ApiCall) -> None:
        seen.append(call)
        meter(call)

    with observe_api_calls(observe):
        session = boto3.session.Session(region_name=REGION)
        sqs, sns = session.client("sqs"), session.client("sns")
        sqs.create_queue(QueueName="control-plane")  # deploy-time: not billed monthly
        # the poller's side (no invocation running): 3 small sends, one receive, one batch delete
        sqs.send_message_batch(QueueUrl=url("q-main"), Entries=[
            {"Id": str(n), "MessageBody": "x" * 100} for n in range(3)
        ])
        got = sqs.receive_message(QueueUrl=url("q-main"), MaxNumberOfMessages=10)["Messages"]
        assert len(got) == 3
        sqs.delete_message_batch(QueueUrl=url("q-main"), Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)
        ])
        # the producer: a batch of 3 small messages (one request) and one 100 KiB message (two)
        sns.publish_batch(TopicArn=TOPIC, PublishBatchRequestEntries=[
            {"Id": str(n), "Message": "hello"} for n in range(3)
        ])
        sns.publish(TopicArn=TOPIC, Message="y" * (100 * 1024))
        # inside an invocation of p.c: a 70 KiB DLQ send (two requests), DynamoDB, S3
        monkeypatch.setenv("AP_PIPELINE", "p")
        monkeypatch.setenv("AP_CONSUMER", "c")
        sqs.send_message(QueueUrl=url("q-dlq"), MessageBody="z" * (70 * 1024))
        ddb, s3 = session.client("dynamodb"), session.client("s3")
        item = {"id": {"S": "k1"}, "data": {"S": "d" * 1500}}  # 2 + 2 + 4 + 1500 = 1508 bytes: 2 WRU
        ddb.put_item(TableName="t", Item=item)
        ddb.update_item(TableName="t", Key={"id": {"S": "k1"}}, UpdateExpression="SET s = :s",
                        ExpressionAttributeValues={":s": {"S": "done"}})  # larger of before/after: 2 WRU
        ddb.get_item(TableName="t", Key={"id": {"S": "k1"}}, ConsistentRead=True)  # 1 RRU
        ddb.get_item(TableName="t", Key={"id": {"S": "k1"}})  # eventually consistent: 0.5 RRU
        ddb.delete_item(TableName="t", Key={"id": {"S": "k1"}})  # the deleted item's size: 2 WRU
        s3.put_object(Bucket="results", Key="p/c/x.json", Body=b"{}")
        s3.get_object(Bucket="results", Key="p/c/x.json")

    assert {c.operation for c in seen} >= {"CreateQueue", "SendMessageBatch", "PublishBatch", "PutItem", "GetObject"}
    consumer, entry = meter.tallies[("p", "c")], meter.tallies[("p", ENTRY)]
    assert consumer.units["sqs.standard"] == 1 + 1 + 1 + 2
    assert consumer.calls["sqs:SendMessageBatch"] == 1 and consumer.calls["sqs:SendMessage"] == 1
    assert (consumer.polled_receives, consumer.polled_records, consumer.deleted_records) == (1, 3, 3)
    assert consumer.polled_bytes == 300
    assert consumer.units["dynamodb.wru"] == 6
    assert consumer.units["dynamodb.rru"] == 1.5
    assert consumer.units["s3.put"] == 1 and consumer.units["s3.get"] == 1
    # only calls made inside an invocation are the function's work (they scale per record)
    assert consumer.work_units["sqs.standard"] == 2
    assert consumer.work_units["dynamodb.wru"] == 6
    assert entry.units["sns.publish"] == 1 + 2
    assert (entry.entry_messages, entry.entry_bytes) == (4, 3 * 5 + 100 * 1024)
    assert "control-plane" not in str(meter.tallies)
    assert set(meter.tallies) == {("p", "c"), ("p", ENTRY)}


def test_the_hook_sees_the_caller_and_stops_at_exit(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[ApiCall] = []
    with observe_api_calls(calls.append):
        client = boto3.session.Session(region_name=REGION).client("sqs")
        client.list_queues()
        monkeypatch.setenv("AP_PIPELINE", "p")
        monkeypatch.setenv("AP_CONSUMER", "c")
        client.list_queues()
    after = boto3.session.Session(region_name=REGION).client("sqs")
    after.list_queues()
    assert [(c.operation, c.caller) for c in calls] == [("ListQueues", None), ("ListQueues", "p.c")]


@pytest.mark.parametrize(
    ("size", "expected"), [(0, 1), (1, 1), (CHUNK_BYTES - 1, 1), (CHUNK_BYTES, 1), (CHUNK_BYTES + 1, 2),
                           (256 * 1024, 4), (256 * 1024 + 1, 5), (1024 * 1024, 16)],
)
def test_every_64_kib_chunk_is_a_request(size: int, expected: int) -> None:
    assert chunks(size) == expected


def test_message_size_counts_attributes() -> None:
    attributes = {"type": {"DataType": "String", "StringValue": "order_created"}}
    assert message_bytes("x" * 10, attributes) == 10 + len("type") + len("String") + len("order_created")
    body = "b" * (CHUNK_BYTES - 4 - 6 - 1)
    assert chunks(message_bytes(body, {"type": {"DataType": "String", "StringValue": "a"}})) == 1
    assert chunks(message_bytes(body + "b", {"type": {"DataType": "String", "StringValue": "a"}})) == 2


def test_sqs_batch_chunks_by_total_payload(aws: None) -> None:
    meter = Meter(Attribution(topology()))
    with observe_api_calls(meter):
        sqs = boto3.session.Session(region_name=REGION).client("sqs")
        # ten 10 KiB messages = 100 KiB in one SendMessageBatch: 2 requests
        sqs.send_message_batch(QueueUrl=url("q-main"), Entries=[
            {"Id": str(n), "MessageBody": "m" * 10 * 1024} for n in range(10)
        ])
        # exactly 64 KiB: 1 request
        sqs.send_message(QueueUrl=url("q-main"), MessageBody="m" * CHUNK_BYTES)
    assert meter.tallies[("p", "c")].units["sqs.standard"] == 2 + 1


def test_dynamodb_units_round_up() -> None:
    assert dynamodb_item_bytes({"id": {"S": "abc"}}) == 2 + 3
    assert dynamodb_item_bytes({"n": {"N": "12345"}}) == 1 + 4
    assert write_units(1) == 1 and write_units(1024) == 1 and write_units(1025) == 2
    assert read_units(4096, consistent=True) == 1 and read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
