"""sandbox.moto_speed changes how fast moto answers, never what it answers."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox.clock import VirtualClock
from sandbox.moto_speed import COUNTS, depth_free_attribute_reads, remembered_routes

REGION = "us-east-1"


def scenario(patched: bool) -> dict[str, Any]:
    """Sends (standard, FIFO with content-based dedup), receives, a redrive and an expired message."""
    clock = VirtualClock(start=1_700_000_000.0)
    with mock_aws(), clock.patch_moto(), depth_free_attribute_reads() if patched else nullcontext():
        sqs = boto3.client("sqs", region_name=REGION)
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "2"}}'
        src = sqs.create_queue(
            QueueName="src", Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "30",
                                         "MessageRetentionPeriod": "60"}
        )["QueueUrl"]
        fifo = sqs.create_queue(
            QueueName="f.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        )["QueueUrl"]
        for i in range(5):
            sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
        sqs.send_message(QueueUrl=src, MessageBody="late", DelaySeconds=10)
        for body in ("same", "same", "other"):
            sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g")
        seen: list[Any] = []
        for _ in range(3):  # receive, let the visibility time out, receive again: then the redrive
            got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
            messages = got.get("Messages", [])
            seen.append(sorted((m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in messages))
            clock.advance(31)
        sqs.send_message(QueueUrl=src, MessageBody="expires")
        clock.advance(61)
        expired = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10).get("Messages", [])
        counts = {
            url.rsplit("/", 1)[-1]: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            for url in (src, dlq, fifo)
        }
        fifo_bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]]
    for attributes in counts.values():
        for volatile in ("CreatedTimestamp", "LastModifiedTimestamp"):
            attributes.pop(volatile, None)
    return {"seen": seen, "expired": [m["Body"] for m in expired], "attributes": counts, "fifo": fifo_bodies}


def test_a_send_receive_redrive_sequence_answers_the_same_with_and_without_the_patch() -> None:
    plain, patched = scenario(patched=False), scenario(patched=True)
    assert patched == plain
    # the scenario exercised what the patch touches: counts read, dedup applied, a redrive, an expiry
    assert plain["attributes"]["dlq"]["ApproximateNumberOfMessages"] != "0"
    assert plain["fifo"] == ["same", "other"]
    assert plain["expired"] == []


def test_counts_are_moto_s_own_outside_the_single_value_readers() -> None:
    with mock_aws(), depth_free_attribute_reads():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="a")
        sqs.send_message(QueueUrl=url, MessageBody="b", DelaySeconds=60)
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
        sqs.send_message(QueueUrl=url, MessageBody="c")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"],
        attributes["ApproximateNumberOfMessagesDelayed"],
        attributes["ApproximateNumberOfMessagesNotVisible"],
    ) == ("1", "1", "1")


def test_the_patch_is_undone_even_after_an_error() -> None:
    from moto.core import responses
    from moto.sqs import models

    listing, action_names = responses.method_names_from_class, responses.camelcase_to_underscores
    before = {name: models.Queue.__dict__[name] for name in COUNTS}
    send, convert = models.SQSBackend.__dict__["send_message"], models.camelcase_to_underscores
    with pytest.raises(RuntimeError), depth_free_attribute_reads():
        assert models.SQSBackend.__dict__["send_message"] is not send
        raise RuntimeError("boom")
    assert {name: models.Queue.__dict__[name] for name in COUNTS} == before
    assert models.SQSBackend.__dict__["send_message"] is send and models.camelcase_to_underscores is convert
    assert responses.method_names_from_class is listing and responses.camelcase_to_underscores is action_names


def test_identifiers_drawn_in_one_call_keep_moto_s_alphabet_length_and_seed() -> None:
    import string

    from moto.moto_api._internal import mock_random
    from moto.sqs import models

    from sandbox.moto_speed import RECEIPT_HANDLE_LENGTH, one_draw_identifiers

    plain = models.generate_receipt_handle()
    plain_id = mock_random.get_random_string(length=52)
    with one_draw_identifiers():
        handles = []
        for _ in range(2):
            mock_random.seed(7)
            handles.append((models.generate_receipt_handle(), mock_random.get_random_string(length=52),
                            mock_random.get_random_string(8, include_digits=False, lower_case=True)))
        assert handles[0] == handles[1]  # seeded: the same identifiers again
        handle, request_id, short = handles[0]
    for drawn, reference, alphabet in ((handle, plain, string.ascii_lowercase),
                                       (request_id, plain_id, string.ascii_letters + string.digits),
                                       (short, "x" * 8, string.ascii_lowercase)):
        assert len(drawn) == len(reference) and set(drawn) <= set(alphabet)
    assert len(plain) == RECEIPT_HANDLE_LENGTH
    assert "one_draw" not in models.generate_receipt_handle.__qualname__  # moto's own again


VOLATILE = {"MessageId", "ReceiptHandle", "LastModified", "ETag", "Body", "CreationDateTime", "TableId"}


def routed_scenario(patched: bool) -> list[Any]:
    """Calls to SQS, SNS, DynamoDB and S3 (odd keys, a missing one), each URL more than once, and errors."""
    from botocore.exceptions import ClientError

    answers: list[Any] = []

    def answer(call: Any, *args: Any, **kwargs: Any) -> None:
        try:
            response = call(*args, **kwargs)
        except ClientError as error:
            answers.append(("error", error.response["Error"], error.response["ResponseMetadata"]["HTTPStatusCode"]))
            return
        response.pop("ResponseMetadata", None)
        answers.append(("ok", stable(response)))

    def stable(value: Any) -> Any:  # without what differs between any two runs (ids, times, streams)
        if isinstance(value, dict):
            return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
        return [stable(v) for v in value] if isinstance(value, list) else value

    with mock_aws(), remembered_routes() if patched else nullcontext():
        sqs = boto3.client("sqs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        s3 = boto3.client("s3", region_name=REGION)
        for n in range(2):
            url = sqs.create_queue(QueueName=f"q{n}")["QueueUrl"]
            answer(sqs.send_message, QueueUrl=url, MessageBody="m")
            answer(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            answer(sqs.send_message, QueueUrl=url + "-missing", MessageBody="m")
            topic = sns.create_topic(Name=f"t{n}")["TopicArn"]
            answer(sns.publish, TopicArn=topic, Message="m")
            answer(sns.publish, TopicArn=topic + "-missing", Message="m")
            answer(dynamodb.create_table, TableName=f"t{n}", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
            answer(dynamodb.put_item, TableName=f"t{n}", Item={"k": {"S": "a"}})
            answer(dynamodb.get_item, TableName=f"t{n}", Key={"k": {"S": "a"}})
            answer(dynamodb.get_item, TableName="absent", Key={"k": {"S": "a"}})
            answer(s3.create_bucket, Bucket=f"bucket-{n}")
            for key in ("a/b c.json", "a%2Fb", "ü/ß"):
                answer(s3.put_object, Bucket=f"bucket-{n}", Key=key, Body=b"x")
                answer(s3.get_object, Bucket=f"bucket-{n}", Key=key)
            answer(s3.get_object, Bucket=f"bucket-{n}", Key="missing")
            answer(s3.list_objects_v2, Bucket=f"bucket-{n}")
    return answers


def test_remembered_routes_answer_the_same_as_moto_s_own_search(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import base_backend

    plain = routed_scenario(patched=False)
    searched: list[str] = []
    urls = base_backend.BaseBackend.urls

    def counted_urls(backend: Any) -> Any:
        searched.append(type(backend).__name__)
        return urls.fget(backend)  # type: ignore[attr-defined]

    monkeypatch.setattr(base_backend.BaseBackend, "urls", property(counted_urls))
    patched = routed_scenario(patched=True)
    assert patched == plain
    assert {a[0] for a in plain} == {"ok", "error"} and len(plain) == 36
    assert 0 < len(searched) < len(plain) / 2  # most of the 40 calls reused a route found before
    from moto.core.botocore_stubber import BotocoreStubber
    assert BotocoreStubber.process_request.__module__ == "moto.core.botocore_stubber"  # restored
