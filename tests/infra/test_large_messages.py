"""`largeMessages: true`: one private, expiring bucket; each consumer may read exactly its pipeline's prefix."""

from __future__ import annotations

import json
from typing import Any

from components.large_messages import bucket_prefix, expiration_days
from stack_capture import Capture, capture_stack

BUCKET = "aws:s3/bucket:Bucket"


def large_bucket(capture: Capture) -> Any:
    [bucket] = [r for r in capture.of_type(BUCKET) if r.name == "large-messages-bucket"]
    return bucket


def children(capture: Capture, type_: str, bucket: Any) -> list[Any]:
    return [r for r in capture.of_type(type_) if r.inputs.get("bucket") == bucket.outputs["bucket"]]


def role_statement(capture: Capture, function: str, sid: str = "LargeMessages") -> list[dict[str, Any]]:
    [policy] = [r for r in capture.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == f"{function}-policy"]
    return [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Sid"] == sid]


def test_dev_bucket_is_provider_named_private_encrypted_tls_only_and_expiring(project_stacks: dict[str, Capture]):
    dev = project_stacks["dev"]
    bucket = large_bucket(dev)
    assert bucket.inputs.get("bucketPrefix") == "ap-dev-large-" and "bucket" not in bucket.inputs
    [block] = children(dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                         "restrictPublicBuckets"))
    [sse] = children(dev, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     bucket)
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    [policy] = children(dev, "aws:s3/bucketPolicy:BucketPolicy", bucket)
    [deny] = json.loads(policy.inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [lifecycle] = children(dev, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
    rules = {r["filter"]["prefix"]: r for r in lifecycle.inputs["rules"]}
    assert sorted(rules) == ["email/", "media/", "orders/"]
    assert all(r["status"] == "Enabled" for r in rules.values())
    # 4-day queues: media (1 hop) 4 + 14 + 1 = 19 days; email re-sends the pointer through 2 tiers: 3 × 4 + 14 + 1
    assert rules["media/"]["expiration"]["days"] == 19 == expiration_days(345_600, 1)
    assert rules["email/"]["expiration"]["days"] == 27


def test_each_consumer_reads_only_its_pipeline_prefix_and_only_chain_stages_write(project_stacks):
    dev = project_stacks["dev"]
    arn = large_bucket(dev).outputs["arn"]
    for function, prefix, actions in [
        ("orders-billing", "orders", ["s3:GetObject"]),
        ("email", "email", ["s3:GetObject"]),
        ("media-download", "media", ["s3:GetObject", "s3:PutObject"]),
        ("media-publish", "media", ["s3:GetObject"]),
    ]:
        [statement] = role_statement(dev, function)
        assert statement["Resource"] == f"{arn}/{prefix}/*", function
        assert statement["Action"] == actions, function


def test_each_consumer_may_list_only_its_pipeline_prefix_so_a_missing_object_answers_404(project_stacks):
    """Without s3:ListBucket, GetObject of an expired key answers 403 AccessDenied (S3 API reference, GetObject)."""
    dev = project_stacks["dev"]
    arn = large_bucket(dev).outputs["arn"]
    for function, prefix in [("orders-billing", "orders"), ("email", "email"), ("media-download", "media")]:
        [statement] = role_statement(dev, function, "LargeMessagesListPrefix")
        assert statement == {
            "Sid": "LargeMessagesListPrefix",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*"]}},
        }, function
    prod = project_stacks["prod"]
    policies = [json.loads(r.inputs["policy"]) for r in prod.of_type("aws:iam/rolePolicy:RolePolicy")]
    assert all("s3:ListBucket" not in json.dumps(p) for p in policies)  # no large messages, no listing


def test_env_and_outputs_name_the_bucket(project_stacks):
    dev = project_stacks["dev"]
    name = large_bucket(dev).outputs["bucket"]
    for spec in dev.outputs["pipelines"].values():
        assert spec["largeMessageBucket"] == name
    functions = dev.of_type("aws:lambda/function:Function")
    assert functions and all(f.inputs["environment"]["variables"]["AP_LARGE_MESSAGE_BUCKET"] == name for f in functions)


def test_without_large_messages_there_is_no_bucket_grant_or_output(project_stacks):
    prod = project_stacks["prod"]
    assert all(r.name != "large-messages-bucket" for r in prod.of_type(BUCKET))
    assert all("largeMessageBucket" not in spec for spec in prod.outputs["pipelines"].values())
    assert all("AP_LARGE_MESSAGE_BUCKET" not in f.inputs["environment"]["variables"]
               for f in prod.of_type("aws:lambda/function:Function"))


def test_only_the_pipelines_that_ask_get_it() -> None:
    stages = [{"name": "a", "handler": "handlers.media:download"}]
    config = {
        "aws:region": "us-east-1",
        "async-pipelines:pipelines": {
            "big": {"pattern": "chain", "largeMessages": True, "stages": stages},
            "small": {"pattern": "chain", "stages": stages},
        },
    }
    capture = capture_stack("lm", config=config)
    assert role_statement(capture, "big-a") and not role_statement(capture, "small-a")
    assert "largeMessageBucket" in capture.outputs["pipelines"]["big"]
    assert "largeMessageBucket" not in capture.outputs["pipelines"]["small"]


def test_bucket_prefix_fits_the_provider_limit() -> None:
    assert bucket_prefix("dev") == "ap-dev-large-"
    long = bucket_prefix("a" * 31)
    assert len(long) <= 37 and long.endswith("-large-")
