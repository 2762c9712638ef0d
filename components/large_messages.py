"""The large-message bucket: bodies over the SQS/SNS size limit, for pipelines with `largeMessages: true`.

One private bucket per stack; each such pipeline owns the prefix `<pipeline>/` (the runtime's
`pipeline_runtime.large_messages.pipeline_prefix`), which its consumers may read (`s3:GetObject`), and a
chain stage that forwards a large result may also write. The producer (your service) writes with its own
credentials. Objects expire by a lifecycle rule per prefix, after the longest a message can still be
waiting for them (see `expiration_days`).

Safe defaults: a provider-unique name from `bucket_prefix` (bucket names are global across all accounts),
public access blocked, SSE-S3, a TLS-only bucket policy, `force_destroy` off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import defaults as d
from components import policy_documents as docs

__all__ = ["LargeMessageBucket", "LargeMessageBucketArgs", "bucket_prefix", "expiration_days", "object_prefix"]

BUCKET_PREFIX_MAX = 37
"""pulumi_aws `s3.Bucket.bucket_prefix` allows ≤ 37 characters (the provider appends a unique suffix;
S3 names are ≤ 63 characters, S3 user guide "General purpose bucket naming rules")."""


def bucket_prefix(stack: str) -> str:
    """`ap-<stack>-large-`, cut to fit: lowercase letters, digits and hyphens only, like the stack name."""
    suffix = "-large-"
    return f"{d.NAME_PREFIX}-{stack}"[: BUCKET_PREFIX_MAX - len(suffix)].rstrip("-") + suffix


def object_prefix(pipeline: str) -> str:
    """`<pipeline>/`: must equal the runtime's `pipeline_prefix` (functions/pipeline_runtime/large_messages.py)."""
    return f"{pipeline}/"


def expiration_days(retention_seconds: int, hops: int) -> int:
    """Days an object must outlive its pointer: `hops` queue retentions (the entry queue and each retry
    tier re-sends the same pointer, each send restarting retention) plus the DLQ's 14 days, plus a day.

    After that a redriven pointer finds nothing and goes to the DLQ as malformed ("no longer exists (expired?)").
    """
    return math.ceil((retention_seconds * hops + d.DLQ_RETENTION) / 86_400) + 1


@dataclass(frozen=True)
class LargeMessageBucketArgs:
    stack: str
    expiration: Mapping[str, int]
    """Pipeline name -> days its objects are kept (a lifecycle rule on its prefix each)."""


class LargeMessageBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket

    def __init__(self, name: str, args: LargeMessageBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("async-pipelines:index:LargeMessageBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", bucket_prefix=bucket_prefix(args.stack), force_destroy=False,
                                    opts=child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy", bucket=self.bucket.id, policy=self.bucket.arn.apply(docs.bucket_policy), opts=child
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=f"expire-{pipeline}",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=object_prefix(pipeline)),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
                for pipeline, days in sorted(args.expiration.items())
            ],
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.bucket})

    def object_arn(self, pipeline: str) -> pulumi.Output[str]:
        """`arn:<partition>:s3:::<bucket>/<pipeline>/*` (from the bucket's own ARN): exactly one pipeline's objects."""
        return self.bucket.arn.apply(lambda arn: f"{arn}/{object_prefix(pipeline)}*")
