"""Large message bodies kept in S3, with a small pointer in the message (docs/contracts.md §6).

SQS takes at most 1 MiB per message and SNS 256 KiB (limits below). A bigger body is written to the
pipeline's large-message bucket under ``<pipeline>/`` and the message carries

* the attribute ``ap-large-message`` = ``s3://<bucket>/<key>`` (what marks the message), and
* a small JSON body ``{"ap-large-message": {"v": 1, "bucket", "key", "size", "sha256"}}``.

The producer (``producer/``) and a chain stage forwarding a large result write pointers; the runtime
resolves them before the business function runs, checking size and SHA-256, so a business function
never sees the difference. The object key is content-addressed under the message's logical id, so a
retried send overwrites the same object instead of leaving a second one. A lifecycle rule of the stack
expires the objects (they outlive the queues' and the DLQ's retention).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline_runtime import attributes as attrs

__all__ = [
    "POINTER_VERSION",
    "SNS_MAX_MESSAGE_BYTES",
    "SQS_MAX_MESSAGE_BYTES",
    "LargeMessageError",
    "Pointer",
    "fetch",
    "message_size",
    "object_key",
    "parse_pointer",
    "pipeline_prefix",
    "store",
]

SQS_MAX_MESSAGE_BYTES = 1_048_576
"""SQS SendMessage / SendMessageBatch: per message *and* per batch, body plus attributes, at the
``MaximumMessageSize`` every queue of the program is created with (contract.aws.QUEUE_MAX_MESSAGE_BYTES,
set explicitly: pulumi-aws would create 256 KiB queues; Amazon SQS API Reference, SendMessageBatch)."""
SNS_MAX_MESSAGE_BYTES = 262_144
"""SNS Publish / PublishBatch: 256 KiB per message and per batch at the topic's default
``MaximumMessageSize`` (Amazon SNS API Reference, PublishBatch; a topic may raise it to 1 MiB, ours don't)."""
POINTER_VERSION = 1


class LargeMessageError(ValueError):
    """A pointer that cannot be resolved for good (bad pointer, object gone, content changed): permanent."""


@dataclass(frozen=True)
class Pointer:
    bucket: str
    key: str
    size: int
    """Bytes of the UTF-8 body."""
    sha256: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def body(self) -> str:
        """The small JSON body that replaces the real one."""
        inner = {"v": POINTER_VERSION, "bucket": self.bucket, "key": self.key, "size": self.size, "sha256": self.sha256}
        return json.dumps({attrs.LARGE_MESSAGE: inner}, separators=(",", ":"))


def pipeline_prefix(pipeline: str) -> str:
    """Every pipeline's objects live under ``<pipeline>/``: its consumers may read only that prefix."""
    return f"{pipeline}/"


def message_size(body: str, attributes: Mapping[str, Mapping[str, Any]] | None = None) -> int:
    """Bytes SQS/SNS count against the limit: the body plus each attribute's name, type and value."""
    size = len(body.encode("utf-8"))
    for name, attr in (attributes or {}).items():
        size += len(name.encode("utf-8")) + len(str(attr.get("DataType", "")).encode("utf-8"))
        if "BinaryValue" in attr:
            size += len(attr["BinaryValue"])
        else:
            size += len(str(attr.get("StringValue", "")).encode("utf-8"))
    return size


def object_key(pipeline: str, logical_id: str, data: bytes) -> str:
    """``<pipeline>/<sha256(logical id)[:32]>/<sha256(body)>``: same message, same key, on every retry."""
    owner = hashlib.sha256(logical_id.encode("utf-8")).hexdigest()[:32]
    return f"{pipeline_prefix(pipeline)}{owner}/{hashlib.sha256(data).hexdigest()}"


def store(s3: Any, bucket: str, pipeline: str, logical_id: str, body: str) -> Pointer:
    """Write ``body`` to the bucket under the pipeline's prefix; returns the pointer to send instead."""
    data = body.encode("utf-8")
    key = object_key(pipeline, logical_id, data)
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/octet-stream")
    return Pointer(bucket=bucket, key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())


MISSING_CODES = frozenset({"NoSuchKey", "404"})
"""GetObject of a missing key when the caller may list the bucket (the consumer role may, under its prefix)."""
DENIED_CODES = frozenset({"AccessDenied", "403"})
"""What S3 answers instead when the caller may not list the key's prefix (S3 API reference, GetObject)."""


def gone_reason(pointer: Pointer) -> str:
    """The DLQ reason of a pointer whose object is gone: permanent, a redelivery cannot bring it back."""
    return f"large-message object {pointer.uri} no longer exists (expired?)"


def _listed(s3: Any, pointer: Pointer) -> bool:
    """Whether ListObjectsV2 of the key's own prefix shows the key: tells a 403 for a missing key from a real denial.

    S3 answers GetObject of a missing key with 403 unless the caller may `s3:ListBucket`; the role may,
    limited by `s3:prefix` to the pipeline's prefix. Whether S3 honours that condition when it picks 403 or
    404 for a GetObject is not documented, so a 403 is settled by a listing the condition surely allows.
    A listing that is itself refused raises: a permission problem is transient (fix the role, redelivery).
    """
    listing = s3.list_objects_v2(Bucket=pointer.bucket, Prefix=pointer.key, MaxKeys=1)
    return any(item.get("Key") == pointer.key for item in listing.get("Contents", []))


def parse_pointer(body: str) -> Pointer:
    try:
        data = json.loads(body)
        inner = data[attrs.LARGE_MESSAGE]
        pointer = Pointer(
            bucket=str(inner["bucket"]), key=str(inner["key"]), size=int(inner["size"]), sha256=str(inner["sha256"])
        )
    except (json.JSONDecodeError, TypeError, KeyError, ValueError) as exc:
        raise LargeMessageError(f"{attrs.LARGE_MESSAGE} is set but the body is not a pointer ({exc})") from None
    if not pointer.bucket or not pointer.key:
        raise LargeMessageError(f"{attrs.LARGE_MESSAGE} pointer names no bucket or key")
    return pointer


def fetch(s3: Any, pointer: Pointer, *, bucket: str | None, pipeline: str) -> str:
    """The real body. Permanent problems raise LargeMessageError; other S3 errors propagate (transient).

    A missing object (expired by the lifecycle rule, deleted) is permanent: 404 NoSuchKey, or 403
    AccessDenied when a listing of the key's prefix confirms the key is not there (see `_listed`).

    ``bucket``/``pipeline``: the consumer's own large-message bucket and pipeline; a pointer elsewhere is
    refused before any S3 call (the role could not read it anyway).
    """
    if not bucket:
        raise LargeMessageError(
            f"message points to {pointer.uri} but this consumer has no large-message bucket "
            "(set largeMessages: true on the pipeline)"
        )
    if pointer.bucket != bucket or not pointer.key.startswith(pipeline_prefix(pipeline)):
        raise LargeMessageError(f"{pointer.uri} is outside s3://{bucket}/{pipeline_prefix(pipeline)}")
    from botocore.exceptions import ClientError

    try:
        data: bytes = s3.get_object(Bucket=pointer.bucket, Key=pointer.key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in MISSING_CODES or (code in DENIED_CODES and not _listed(s3, pointer)):
            raise LargeMessageError(gone_reason(pointer)) from None
        raise
    if len(data) != pointer.size or hashlib.sha256(data).hexdigest() != pointer.sha256:
        raise LargeMessageError(f"{pointer.uri} does not match its pointer (size or sha256 differ)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise LargeMessageError(f"{pointer.uri} is not UTF-8 text") from None
