"""Large-message pointers: resolved before the business function, forwarded through S3, kept on retry tiers."""

from __future__ import annotations

import json

import pytest

from pipeline_runtime import attributes as attrs
from pipeline_runtime import entry, large_messages
from tests.functions import probe
from tests.functions.conftest import event, failures

BUCKET = "large-bucket"
BIG = 3 * 1024 * 1024


@pytest.fixture
def queues(aws):
    aws.table()
    aws.bucket(BUCKET)
    return aws.queue("media-download"), aws.queue("media-thumbnail"), aws.queue("media-download-dlq")


def send_large(aws, queue, body: dict, pipeline: str = "media", logical_id: str = "big-1") -> large_messages.Pointer:
    text = json.dumps(body)
    pointer = large_messages.store(aws.s3, BUCKET, pipeline, logical_id, text)
    aws.send(queue, pointer.body(), {attrs.MESSAGE_ID: logical_id, attrs.LARGE_MESSAGE: pointer.uri})
    return pointer


def test_the_business_function_gets_the_real_body(aws, queues, consumer_env, context) -> None:
    source, _, dlq = queues
    consumer_env(dlq=dlq, pipeline="media", consumer="download", large_bucket=BUCKET)
    body = {"do": "none", "n": 1, "blob": "x" * BIG}
    send_large(aws, source, body)
    [record] = aws.receive_records(source, expected=1)
    assert len(record["body"]) < 500
    assert failures(entry.handler(event(record), context)) == []
    assert body == probe.CALLS[0] and len(probe.CALLS) == 1


def test_a_large_chain_result_travels_through_s3_to_the_next_stage(aws, queues, consumer_env, context) -> None:
    source, next_queue, dlq = queues
    consumer_env(dlq=dlq, pipeline="media", consumer="download", next_queue=next_queue, large_bucket=BUCKET)
    aws.send(source, {"do": "big", "n": 7, "size": 2 * 1024 * 1024}, {attrs.MESSAGE_ID: "m-7"})
    [record] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(record), context)) == []

    [forwarded] = aws.receive_records(next_queue, expected=1)
    pointer = large_messages.parse_pointer(forwarded["body"])
    assert forwarded["messageAttributes"][attrs.LARGE_MESSAGE]["stringValue"] == pointer.uri
    assert pointer.key.startswith("media/")

    consumer_env(dlq=dlq, pipeline="media", consumer="thumbnail", large_bucket=BUCKET)
    probe.reset()
    assert failures(entry.handler(event(forwarded), context)) == []
    assert probe.CALLS == [{"n": 7, "blob": "z" * (2 * 1024 * 1024)}]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("deleted", "large-message object s3://large-bucket/media/"),
        ("other-pipeline", "is outside s3://large-bucket/media/"),
        ("no-bucket", "has no large-message bucket"),
    ],
)
def test_a_pointer_that_cannot_resolve_goes_to_the_dlq_as_malformed(
    aws, queues, consumer_env, context, setup: str, reason: str
) -> None:
    source, _, dlq = queues
    consumer_env(dlq=dlq, pipeline="media", consumer="download", large_bucket=None if setup == "no-bucket" else BUCKET)
    pointer = send_large(aws, source, {"n": 1}, pipeline="orders" if setup == "other-pipeline" else "media")
    if setup == "deleted":
        aws.s3.delete_object(Bucket=BUCKET, Key=pointer.key)
    [record] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    [dead] = aws.drain(dlq)
    assert dead.attributes[attrs.ERROR_KIND] == "malformed"
    assert reason in dead.attributes[attrs.ERROR_REASON]
    assert dead.attributes[attrs.LARGE_MESSAGE] == pointer.uri  # still redrivable once fixed
    assert dead.body == pointer.body()
    assert probe.CALLS == []


class S3AsAws:
    """The runtime's S3 client as AWS answers a role: GetObject of a missing key is 403 AccessDenied when
    S3 does not count the role's ListBucket (moto answers 404 whatever the role); `list_denied` refuses
    ListObjectsV2 too, `get_denied` refuses every GetObject (a role that lost its grant)."""

    def __init__(self, s3, *, list_denied: bool = False, get_denied: bool = False) -> None:
        self._s3, self._list_denied, self._get_denied = s3, list_denied, get_denied

    @staticmethod
    def _denied(operation: str):
        from botocore.exceptions import ClientError

        return ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, operation)

    def get_object(self, **kwargs):
        if self._get_denied:
            raise self._denied("GetObject")
        try:
            return self._s3.get_object(**kwargs)
        except self._s3.exceptions.NoSuchKey:
            raise self._denied("GetObject") from None

    def list_objects_v2(self, **kwargs):
        if self._list_denied:
            raise self._denied("ListObjectsV2")
        return self._s3.list_objects_v2(**kwargs)


@pytest.mark.parametrize("answer", ["404", "403"])
def test_an_expired_pointer_is_dead_lettered_at_once_with_a_clear_reason(
    aws, queues, consumer_env, context, monkeypatch, answer: str
) -> None:
    """Gone is permanent: straight to the DLQ (first receive), not retried up to maxReceiveCount."""
    from pipeline_runtime import clients

    source, _, dlq = queues
    consumer_env(dlq=dlq, pipeline="media", consumer="download", large_bucket=BUCKET)
    if answer == "403":
        monkeypatch.setattr(clients, "s3", lambda: S3AsAws(aws.s3))
    pointer = send_large(aws, source, {"n": 1})
    aws.s3.delete_object(Bucket=BUCKET, Key=pointer.key)  # what the lifecycle rule does
    [record] = aws.receive_records(source, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    [dead] = aws.drain(dlq)
    assert dead.attributes[attrs.ERROR_REASON] == f"large-message object {pointer.uri} no longer exists (expired?)"
    assert dead.attributes[attrs.ERROR_KIND] == "malformed"
    assert probe.CALLS == []


@pytest.mark.parametrize("denied", ["list", "get"])
def test_a_real_permission_problem_is_transient_not_dead_lettered(
    aws, queues, consumer_env, context, monkeypatch, denied: str
) -> None:
    """403 with the key still listed (or the listing refused too): fix the role, the redelivery succeeds."""
    from pipeline_runtime import clients

    source, _, dlq = queues
    consumer_env(dlq=dlq, pipeline="media", consumer="download", large_bucket=BUCKET)
    fake = S3AsAws(aws.s3, list_denied=True) if denied == "list" else S3AsAws(aws.s3, get_denied=True)
    monkeypatch.setattr(clients, "s3", lambda: fake)
    pointer = send_large(aws, source, {"n": 1})
    if denied == "list":
        aws.s3.delete_object(Bucket=BUCKET, Key=pointer.key)
    [record] = aws.receive_records(source, expected=1)
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError, match="AccessDenied"):  # every record failed: the batch returns
        entry.handler(event(record), context)
    assert aws.drain(dlq) == []
    assert probe.CALLS == []


def test_a_retry_tier_gets_the_pointer_not_the_resolved_body(aws, consumer_env, context) -> None:
    aws.table()
    aws.bucket(BUCKET)
    main, tier, dlq = aws.queue("mail"), aws.queue("mail-retry-1"), aws.queue("mail-dlq")
    consumer_env(dlq=dlq, pipeline="mail", consumer="consumer", tiers=[(tier, 30)], large_bucket=BUCKET)
    pointer = send_large(aws, main, {"do": "transient", "n": 1, "blob": "x" * BIG}, pipeline="mail")
    [record] = aws.receive_records(main, expected=1)
    assert failures(entry.handler(event(record), context)) == []
    aws.release_delayed(tier)
    [moved] = aws.drain(tier)
    assert moved.body == pointer.body()
    assert moved.attributes[attrs.LARGE_MESSAGE] == pointer.uri
    assert moved.attributes[attrs.ATTEMPT] == "1"
