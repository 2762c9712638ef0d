"""put_json, and the handlers that write results, run through the real entry point."""

from __future__ import annotations

import json

import pytest

from pipeline_runtime import ConfigurationError, entry, put_json
from tests.functions.conftest import event, failures


def _object(aws, bucket, key):
    obj = aws.s3.get_object(Bucket=bucket, Key=key)
    return obj["ContentType"], json.loads(obj["Body"].read())


def test_put_json_writes_under_pipeline_and_consumer(aws, monkeypatch):
    bucket = aws.bucket()
    monkeypatch.setenv("AP_RESULTS_BUCKET", bucket)
    monkeypatch.setenv("AP_PIPELINE", "media")
    monkeypatch.setenv("AP_CONSUMER", "publish")

    uri = put_json("2024/m-1", {"b": 2, "a": "é"})

    assert uri == "s3://results/media/publish/2024/m-1.json"
    assert _object(aws, bucket, "media/publish/2024/m-1.json") == ("application/json", {"a": "é", "b": 2})


def test_put_json_does_not_double_a_json_suffix(aws, monkeypatch):
    bucket = aws.bucket()
    monkeypatch.setenv("AP_RESULTS_BUCKET", bucket)
    monkeypatch.setenv("AP_PIPELINE", "media")
    monkeypatch.setenv("AP_CONSUMER", "publish")

    assert put_json("reports/m-1.json", {"n": 1}) == "s3://results/media/publish/reports/m-1.json"
    assert put_json("m-2", {"n": 2}) == "s3://results/media/publish/m-2.json"
    keys = sorted(o["Key"] for o in aws.s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["media/publish/m-2.json", "media/publish/reports/m-1.json"]


def test_put_json_rejects_bad_keys_and_missing_bucket(aws, monkeypatch):
    monkeypatch.setenv("AP_PIPELINE", "media")
    monkeypatch.setenv("AP_CONSUMER", "publish")
    with pytest.raises(ConfigurationError, match="AP_RESULTS_BUCKET"):
        put_json("k", {})
    monkeypatch.setenv("AP_RESULTS_BUCKET", aws.bucket())
    for key in ("", "../etc", "a//b", "/abs", ".json", "reports/.json"):
        with pytest.raises(ValueError):
            put_json(key, {})
    assert aws.s3.list_objects_v2(Bucket="results").get("KeyCount") == 0


def test_compute_transform_writes_statistics(aws, consumer_env, context):
    source, dlq = aws.queue("compute"), aws.queue("compute-dlq")
    bucket = aws.bucket()
    aws.table()
    consumer_env(dlq=dlq, pipeline="jobs", consumer="stats", handler="handlers.compute:transform", bucket=bucket)
    aws.send(source, {"id": "job-7", "values": [3, 1, 4, 1, 5, 9, 2, 6], "precision": 3})
    aws.send(source, {"id": "job-8", "values": []})
    ok, bad = aws.receive_records(source, expected=2)

    assert failures(entry.handler(event(ok, bad), context)) == []

    content_type, stored = _object(aws, bucket, "jobs/stats/job-7.json")
    assert content_type == "application/json"
    assert stored == {
        "job_id": "job-7",
        "statistics": {
            "count": 8,
            "sum": 31.0,
            "mean": 3.875,
            "median": 3.5,
            "min": 1.0,
            "max": 9.0,
            "stdev": 2.571,
            "p90": 9.0,
        },
    }
    [dead] = aws.drain(dlq)
    assert dead.attributes["ap-error-reason"] == "'values' must be a non-empty list of numbers"
    assert [o["Key"] for o in aws.s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["jobs/stats/job-7.json"]


def test_media_chain_end_to_end_through_real_queues(aws, consumer_env, context):
    bucket = aws.bucket()
    aws.table()
    names = ["download", "thumbnail", "publish"]
    queues = {name: aws.queue(f"media-{name}") for name in names}
    dlqs = {name: aws.queue(f"media-{name}-dlq") for name in names}
    aws.send(queues["download"], {"url": "https://cdn.example.com/photos/cat.jpg"}, {"ap-message-id": "m-cat"})

    for index, name in enumerate(names):
        is_last = index == len(names) - 1
        consumer_env(
            dlq=dlqs[name],
            pipeline="media",
            consumer=name,
            handler=f"handlers.media:{name}",
            next_queue=None if is_last else queues[names[index + 1]],
            bucket=bucket if is_last else None,
        )
        [record] = aws.receive_records(queues[name], expected=1)
        assert record["messageAttributes"]["ap-message-id"]["stringValue"] == "m-cat"
        assert failures(entry.handler(event(record), context)) == []

    assert all(aws.drain(dlq) == [] for dlq in dlqs.values())
    [obj] = aws.s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert obj["Key"].startswith("media/publish/m-") and obj["Key"].endswith(".json")
    _, stored = _object(aws, bucket, obj["Key"])
    assert stored["status"] == "published"
    assert stored["url"] == "https://cdn.example.com/photos/cat.jpg"
    assert stored["content_type"] == "image/jpeg"
    assert stored["thumbnail"]["width"] == 128
