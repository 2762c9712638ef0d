"""Producer against moto: ids, batching within limits, FIFO rules, attributes, and injected partial failures."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from contract import runtime as attrs
from producer import Entry, Message, Producer, ProducerError, SendError
from producer._runtime import large_messages
from producer.errors import SendRefused
from tests.producer.conftest import Aws, no_sleep_policy, producer_for


class FlakyBatches:
    """Wraps a client's batch call: entries listed in `plan` fail (partial result) the first N times they are sent.

    `plan`: message body -> how many times it fails. `whole_call_failures`: the first N calls raise
    ThrottlingException as a whole. Records the bodies of every call, to prove only failed entries are resent.
    """

    def __init__(self, real: Any, plan: dict[str, int], *, sender_fault: bool = False, whole_call_failures: int = 0):
        self.real = real
        self.plan = dict(plan)
        self.sender_fault = sender_fault
        self.whole_call_failures = whole_call_failures
        self.calls: list[list[str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append([e["MessageBody"] for e in Entries])
        if self.whole_call_failures:
            self.whole_call_failures -= 1
            error: Any = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                          "ResponseMetadata": {"HTTPStatusCode": 400}}
            raise ClientError(error, "SendMessageBatch")
        failing = [e for e in Entries if self.plan.get(e["MessageBody"], 0) > 0]
        passing = [e for e in Entries if e not in failing]
        for e in failing:
            self.plan[e["MessageBody"]] -= 1
        response: dict[str, Any] = {"Successful": [], "Failed": []}
        if passing:
            response = dict(self.real.send_message_batch(QueueUrl=QueueUrl, Entries=passing))
            response.setdefault("Failed", [])
        response["Failed"] = list(response.get("Failed", [])) + [
            {"Id": e["Id"], "Code": "InvalidParameterValue" if self.sender_fault else "InternalError",
             "Message": "injected", "SenderFault": self.sender_fault}
            for e in failing
        ]
        return response


def bodies(messages: list[dict[str, Any]]) -> list[str]:
    return sorted(m["Body"] for m in messages)


def attribute(message: dict[str, Any], name: str) -> str:
    return str(message["MessageAttributes"][name]["StringValue"])


def test_send_returns_the_ap_message_id_which_is_the_key_not_the_transport_id(aws: Aws) -> None:
    url = aws.queue("orders")
    producer = producer_for(aws, Entry("orders", url))
    message_id = producer.send("orders", {"id": "o-1"}, attributes={"type": "order_created", "n": 3},
                               idempotency_key="o-1")
    [got] = aws.drain(url)
    assert message_id == "o-1" != got["MessageId"]
    assert producer.transport_ids == {"o-1": got["MessageId"]}
    assert json.loads(got["Body"]) == {"id": "o-1"}
    assert attribute(got, attrs.MESSAGE_ID) == "o-1"
    assert got["MessageAttributes"]["n"] == {"DataType": "Number", "StringValue": "3"}


def test_without_a_key_every_message_gets_its_own_generated_id(aws: Aws) -> None:
    url = aws.queue("orders")
    returned = producer_for(aws, Entry("orders", url)).send_many("orders", ["a", "b", "c"])
    ids = {attribute(m, attrs.MESSAGE_ID) for m in aws.drain(url)}
    assert len(ids) == 3 and all(len(i) == 36 for i in ids)
    assert set(returned) == ids


def test_send_many_uses_batches_of_ten_and_keeps_input_order(aws: Aws) -> None:
    url = aws.queue("orders")
    flaky = FlakyBatches(aws.sqs, {})
    producer = producer_for(aws, Entry("orders", url))
    producer._clients["sqs"] = flaky
    ids = producer.send_many("orders", [f"m{n}" for n in range(25)])
    assert [len(c) for c in flaky.calls] == [10, 10, 5]
    by_id = {attribute(m, attrs.MESSAGE_ID): m["Body"] for m in aws.drain(url)}
    assert [by_id[i] for i in ids] == [f"m{n}" for n in range(25)]


def test_a_batch_stays_within_the_request_byte_limit(aws: Aws) -> None:
    url = aws.queue("orders")
    flaky = FlakyBatches(aws.sqs, {})
    producer = producer_for(aws, Entry("orders", url))
    producer._clients["sqs"] = flaky
    big = 400 * 1024
    producer.send_many("orders", [c * big for c in "abcde"])
    assert [len(c) for c in flaky.calls] == [2, 2, 1]  # 3 × 400 KiB > 1 MiB
    for call in flaky.calls:
        assert sum(len(b) for b in call) <= large_messages.SQS_MAX_MESSAGE_BYTES
    assert len(aws.drain(url)) == 5


def test_injected_partial_failures_are_retried_alone_and_nothing_is_lost(aws: Aws) -> None:
    url = aws.queue("orders")
    plan = {"m3": 1, "m7": 2, "m12": 1}
    flaky = FlakyBatches(aws.sqs, plan)
    retry, slept = no_sleep_policy()
    producer = producer_for(aws, Entry("orders", url), retry=retry)
    producer._clients["sqs"] = flaky
    ids = producer.send_many("orders", [f"m{n}" for n in range(15)])
    assert len(set(ids)) == 15
    assert bodies(aws.drain(url)) == sorted(f"m{n}" for n in range(15))  # each exactly once
    assert flaky.calls[2:] == [["m3", "m7", "m12"], ["m7"]]  # only the failed entries were sent again
    assert len(slept) == 2 and all(0 <= s <= retry.max_delay for s in slept)


def test_a_throttled_call_is_retried_as_a_whole(aws: Aws) -> None:
    url = aws.queue("orders")
    flaky = FlakyBatches(aws.sqs, {}, whole_call_failures=2)
    producer = producer_for(aws, Entry("orders", url))
    producer._clients["sqs"] = flaky
    producer.send_many("orders", ["a", "b"])
    assert len(flaky.calls) == 3
    assert bodies(aws.drain(url)) == ["a", "b"]


def test_entries_that_never_succeed_are_raised_together_never_dropped(aws: Aws) -> None:
    url = aws.queue("orders")
    flaky = FlakyBatches(aws.sqs, {"m1": 99, "m4": 99})
    retry, _ = no_sleep_policy(max_attempts=3)
    producer = producer_for(aws, Entry("orders", url), retry=retry)
    producer._clients["sqs"] = flaky
    with pytest.raises(SendError) as raised:
        producer.send_many("orders", [f"m{n}" for n in range(6)])
    error = raised.value
    assert [f.index for f in error.failed] == [1, 4]
    assert all(f.attempts == 3 and f.retryable and f.code == "InternalError" for f in error.failed)
    assert sorted(error.sent) == [0, 2, 3, 5]
    assert "#1" in str(error) and "#4" in str(error)
    assert bodies(aws.drain(url)) == ["m0", "m2", "m3", "m5"]


def test_a_sender_fault_is_not_retried(aws: Aws) -> None:
    url = aws.queue("orders")
    flaky = FlakyBatches(aws.sqs, {"bad": 99}, sender_fault=True)
    producer = producer_for(aws, Entry("orders", url))
    producer._clients["sqs"] = flaky
    with pytest.raises(SendError) as raised:
        producer.send_many("orders", ["ok", "bad"])
    assert [(f.index, f.attempts, f.retryable) for f in raised.value.failed] == [(1, 1, False)]
    assert len(flaky.calls) == 1


def test_fifo_needs_a_group(aws: Aws) -> None:
    url = aws.queue("ledger.fifo")
    producer = producer_for(aws, Entry("ledger", url))
    with pytest.raises(ProducerError, match="FIFO: pass group="):
        producer.send("ledger", {"id": 1})
    assert aws.drain(url) == []


def test_fifo_deduplication_id_derives_from_the_key_so_a_resend_is_dropped(aws: Aws) -> None:
    url = aws.queue("ledger.fifo")
    producer = producer_for(aws, Entry("ledger", url))
    producer.send("ledger", {"id": 1}, group="acct-1", idempotency_key="job-1")
    producer.send("ledger", {"id": 1}, group="acct-1", idempotency_key="job-1")  # a retry by the caller
    producer.send("ledger", {"id": 2}, group="acct-1", idempotency_key="job-2")
    got = aws.drain(url)
    assert [json.loads(m["Body"])["id"] for m in got] == [1, 2]
    assert attribute(got[0], attrs.MESSAGE_ID) == "job-1"


def test_fifo_dedup_id_value(aws: Aws) -> None:
    url = aws.queue("ledger.fifo")
    flaky = FlakyBatches(aws.sqs, {})
    producer = producer_for(aws, Entry("ledger", url))
    producer._clients["sqs"] = flaky
    captured: list[dict[str, Any]] = []
    real = flaky.send_message_batch

    def spy(QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        captured.extend(Entries)
        return real(QueueUrl=QueueUrl, Entries=Entries)

    flaky.send_message_batch = spy  # type: ignore[method-assign]
    producer.send("ledger", "x", group="g", idempotency_key="k-1")
    assert captured[0]["MessageDeduplicationId"] == hashlib.sha256(b"k-1").hexdigest()
    assert captured[0]["MessageGroupId"] == "g"


def test_topic_entry_publishes_and_lists_become_string_arrays(aws: Aws) -> None:
    topic = aws.sns.create_topic(Name="orders")["TopicArn"]
    url = aws.queue("billing")
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"tags": ["vip"]})},
    )
    producer = producer_for(aws, Entry("orders", topic))
    producer.send_many("orders", [Message({"n": 1}, {"tags": ["vip", "eu"]}), Message({"n": 2}, {"tags": ["eu"]})])
    [got] = aws.drain(url)
    assert json.loads(got["Body"]) == {"n": 1}
    assert got["MessageAttributes"]["tags"]["DataType"] == "String.Array"


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({"ap-message-id": "x"}, "belong to the runtime"),
        ({"flag": True}, "boolean"),
        ({"empty": ""}, "empty string"),
        ({f"a{n}": "v" for n in range(10)}, "allow 10"),
    ],
)
def test_bad_attributes_are_refused_before_anything_is_sent(aws: Aws, attributes: dict[str, Any], problem: str) -> None:
    url = aws.queue("orders")
    producer = producer_for(aws, Entry("orders", url))
    with pytest.raises(ProducerError, match=problem):
        producer.send_many("orders", ["fine", Message("x", attributes)])
    assert aws.drain(url) == []


def test_unknown_pipeline_names_the_known_ones(aws: Aws) -> None:
    producer = producer_for(aws, Entry("orders", aws.queue("orders")))
    with pytest.raises(ProducerError, match=r"unknown pipeline 'nope' \(pipelines: orders\)"):
        producer.send("nope", "x")


def test_a_body_over_the_limit_without_a_bucket_is_refused(aws: Aws) -> None:
    topic = aws.sns.create_topic(Name="orders")["TopicArn"]
    producer = producer_for(aws, Entry("orders", topic))
    with pytest.raises(ProducerError, match=r"over the 262144-byte limit .* largeMessages: true"):
        producer.send("orders", "x" * 300_000)


def test_a_large_body_goes_to_s3_and_the_message_carries_a_pointer(aws: Aws) -> None:
    aws.s3.create_bucket(Bucket="lm-bucket")
    url = aws.queue("media")
    producer = producer_for(aws, Entry("media", url, large_message_bucket="lm-bucket"))
    body = json.dumps({"blob": "y" * (3 * 1024 * 1024)})
    producer.send("media", body, idempotency_key="big-1")
    [got] = aws.drain(url)
    pointer = large_messages.parse_pointer(got["Body"])
    assert attribute(got, attrs.LARGE_MESSAGE) == pointer.uri
    assert pointer.bucket == "lm-bucket" and pointer.key.startswith("media/")
    stored = aws.s3.get_object(Bucket="lm-bucket", Key=pointer.key)["Body"].read()
    assert stored.decode() == body and pointer.size == len(stored)
    # a resend of the same message writes the same object, not a second one
    producer.send("media", body, idempotency_key="big-1")
    assert aws.s3.list_objects_v2(Bucket="lm-bucket")["KeyCount"] == 1


def test_a_threshold_sends_smaller_bodies_through_s3_too(aws: Aws) -> None:
    aws.s3.create_bucket(Bucket="lm-bucket")
    url = aws.queue("media")
    producer = producer_for(aws, Entry("media", url, large_message_bucket="lm-bucket"), large_message_threshold=1000)
    producer.send_many("media", ["s" * 10, "L" * 2000])
    kinds = sorted(attrs.LARGE_MESSAGE in m["MessageAttributes"] for m in aws.drain(url))
    assert kinds == [False, True]


def test_entries_from_the_captured_dev_stack() -> None:
    from producer import Producer

    producer = Producer.for_stack("dev")
    assert sorted(producer.entries) == ["email", "media", "orders"]
    assert producer.entry("orders").is_topic and not producer.entry("media").is_topic


# --- errors no retry can fix fail at once ------------------------------------------------------------


class RaisingBatches:
    """A client whose batch calls raise `error` as a whole; records how often it was called."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def send_message_batch(self, **kwargs: Any) -> Any:
        self.calls += 1
        raise self.error


def client_error(code: str, status: int, message: str = "refused") -> ClientError:
    error: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(error, "SendMessageBatch")


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (client_error("AccessDenied", 403, "User: u is not authorized to perform: sqs:SendMessage"), "access denied"),
        (client_error("AWS.SimpleQueueService.NonExistentQueue", 400, "The specified queue does not exist"),
         "does not exist"),
        (client_error("InvalidParameterValue", 400, "bad attribute"), "AWS refused SendMessageBatch"),
        (NoCredentialsError(), "no AWS credentials found"),
    ],
)
def test_an_error_no_retry_can_fix_stops_the_send_at_once_with_one_line(
    aws: Aws, error: Exception, says: str
) -> None:
    retry, slept = no_sleep_policy()
    producer = producer_for(aws, Entry("orders", aws.queue("orders")), retry=retry)
    batches = RaisingBatches(error)
    producer._clients["sqs"] = batches
    with pytest.raises(SendRefused) as raised:
        producer.send_many("orders", [f"m{n}" for n in range(15)])  # two batches
    assert batches.calls == 1 and slept == []  # no retry, and the second batch is not even tried
    text = str(raised.value)
    assert says in text and "\n" not in text and "not retried; nothing was sent" in text
    assert [f.index for f in raised.value.failed] == list(range(15))  # every unsent message is listed
    assert all(not f.retryable and f.attempts == 1 for f in raised.value.failed)


def test_no_credentials_in_the_environment_is_one_clear_error_not_six_send_attempts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    retry, slept = no_sleep_policy()
    producer = Producer([Entry("orders", "https://sqs.us-east-1.amazonaws.com/123456789012/orders")], retry=retry)
    with pytest.raises(SendRefused) as raised:
        producer.send("orders", {"id": 1})
    assert slept == []
    assert str(raised.value) == (
        "pipeline 'orders': no AWS credentials found (set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
        "or use a role) (not retried; nothing was sent)"
    )


def test_a_queue_that_does_not_exist_is_refused_at_once(aws: Aws) -> None:
    retry, slept = no_sleep_policy()
    missing = "https://sqs.us-east-1.amazonaws.com/123456789012/not-deployed"
    producer = producer_for(aws, Entry("orders", missing), retry=retry)
    with pytest.raises(SendRefused) as raised:
        producer.send_many("orders", ["a", "b"])
    assert raised.value.code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    assert "does not exist" in str(raised.value) and slept == []


def test_a_broken_connection_is_still_retried(aws: Aws) -> None:
    retry, slept = no_sleep_policy(max_attempts=3)
    producer = producer_for(aws, Entry("orders", aws.queue("orders")), retry=retry)
    batches = RaisingBatches(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    producer._clients["sqs"] = batches
    with pytest.raises(SendError) as raised:
        producer.send("orders", "x")
    assert not isinstance(raised.value, SendRefused)
    assert batches.calls == 3 and len(slept) == 2
    assert raised.value.failed[0].retryable


def test_sends_before_a_refusal_are_reported_with_their_ids(aws: Aws) -> None:
    url = aws.queue("orders")
    retry, _ = no_sleep_policy()
    producer = producer_for(aws, Entry("orders", url), retry=retry)
    real = aws.sqs

    class DeniedAfterOneBatch:
        calls = 0

        def send_message_batch(self, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                return real.send_message_batch(**kwargs)
            raise client_error("AccessDenied", 403)

    producer._clients["sqs"] = DeniedAfterOneBatch()
    with pytest.raises(SendRefused) as raised:
        producer.send_many("orders", [f"m{n}" for n in range(12)])
    assert sorted(raised.value.sent) == list(range(10))
    assert [f.index for f in raised.value.failed] == [10, 11]
    assert "10 message(s) were sent before it" in str(raised.value)
    assert len(aws.drain(url)) == 10
