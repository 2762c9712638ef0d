"""One message as the producer sends it: body text, attributes in the wire shape, ids, size.

* ``ap-message-id`` = the caller's ``idempotency_key`` (stable across retries: a resend is the same
  logical message and the consumer's idempotency drops the copy), else a generated UUID that the
  producer keeps across its own retries;
* FIFO: ``MessageGroupId`` = ``group`` (required), ``MessageDeduplicationId`` = SHA-256 of the
  ``ap-message-id``, so SQS/SNS drop a resend within their 5-minute deduplication window;
* attribute values: ``str`` -> String, ``int``/``float`` -> Number, ``bytes`` -> Binary, a list of
  strings -> String.Array on SNS (filter policies match its members) and a JSON String on SQS (SQS
  has no String.Array). Names starting with ``ap-`` are the runtime's and refused.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contract import runtime as wire
from producer._runtime import large_messages
from producer.errors import ProducerError

__all__ = ["AttributeValue", "Message", "Outgoing", "Prepared", "deduplication_id", "wire_attributes"]

AttributeValue = str | int | float | bytes | list[str]
Body = str | Mapping[str, Any] | list[Any]
MAX_ID_CHARS = 1024
"""Our own bound on an idempotency key: it travels as an attribute and keys the idempotency table."""


@dataclass(frozen=True)
class Message:
    """A message for :meth:`producer.Producer.send_many` when messages differ in more than the body."""

    body: Body
    attributes: Mapping[str, AttributeValue] | None = None
    group: str | None = None
    idempotency_key: str | None = None


@dataclass
class Outgoing:
    """A message ready for a batch entry (after any large-body offload)."""

    index: int
    message_id: str
    body: str
    attributes: dict[str, dict[str, Any]]
    group: str | None
    deduplication_id: str | None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = large_messages.message_size(self.body, self.attributes)

    def entry(self, *, sns: bool) -> dict[str, Any]:
        """The ``PublishBatchRequestEntries`` / ``SendMessageBatch`` ``Entries`` item; Id = input index."""
        item: dict[str, Any] = {"Id": str(self.index), "MessageAttributes": self.attributes}
        item["Message" if sns else "MessageBody"] = self.body
        if self.group is not None:
            item["MessageGroupId"] = self.group
        if self.deduplication_id is not None:
            item["MessageDeduplicationId"] = self.deduplication_id
        return item


@dataclass(frozen=True)
class Prepared:
    """A message with its text body and ids decided, before the size check."""

    index: int
    message_id: str
    body: str
    user_attributes: dict[str, dict[str, Any]]
    group: str | None


def deduplication_id(message_id: str) -> str:
    """64 hex characters (FIFO allows up to 128): the same for every resend of the message."""
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()


def body_text(body: Any) -> str:
    if isinstance(body, str):
        text = body
    else:
        try:
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ProducerError(f"body must be a string or JSON-serialisable: {exc}") from None
    if not text:
        raise ProducerError("body is empty; SQS and SNS reject empty messages")
    return text


def _attribute(name: str, value: Any, *, sns: bool) -> dict[str, Any]:
    if isinstance(value, bool):
        raise ProducerError(f"attribute {name!r}: a boolean is not an attribute value; send 'true'/'false'")
    if isinstance(value, str):
        if not value:
            raise ProducerError(f"attribute {name!r}: SQS and SNS reject empty string values")
        return {"DataType": "String", "StringValue": value}
    if isinstance(value, int | float):
        return {"DataType": "Number", "StringValue": str(value)}
    if isinstance(value, bytes):
        return {"DataType": "Binary", "BinaryValue": value}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {"DataType": "String.Array" if sns else "String", "StringValue": json.dumps(value)}
    raise ProducerError(f"attribute {name!r}: {value!r} must be a string, number, bytes or list of strings")


def wire_attributes(attributes: Mapping[str, Any] | None, *, sns: bool) -> dict[str, dict[str, Any]]:
    """The caller's attributes in the SNS/SQS ``MessageAttributes`` shape (``ap-*`` names refused)."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in (attributes or {}).items():
        if not isinstance(name, str) or not name:
            raise ProducerError(f"attribute name {name!r} must be a non-empty string")
        if name.startswith(wire.RUNTIME_PREFIX):
            raise ProducerError(
                f"attribute {name!r}: names starting with {wire.RUNTIME_PREFIX!r} belong to the runtime "
                f"(use idempotency_key= for {wire.MESSAGE_ID})"
            )
        out[name] = _attribute(name, value, sns=sns)
    return out


def prepare(
    index: int, message: Message, *, pipeline: str, fifo: bool, sns: bool
) -> Prepared:
    key = message.idempotency_key
    if key is not None and (not isinstance(key, str) or not key or len(key) > MAX_ID_CHARS):
        raise ProducerError(f"#{index}: idempotency_key must be a non-empty string of at most {MAX_ID_CHARS} chars")
    group = message.group
    if fifo:
        if not isinstance(group, str) or not group:
            raise ProducerError(
                f"#{index}: pipeline {pipeline!r} is FIFO: pass group= (the MessageGroupId; messages of one group "
                "are processed in order, one at a time)"
            )
        if len(group) > 128:
            raise ProducerError(f"#{index}: group {group[:20]!r}… is longer than the 128 characters FIFO allows")
    else:
        group = None  # standard entries have no groups
    user = wire_attributes(message.attributes, sns=sns)
    return Prepared(index, key or str(uuid.uuid4()), body_text(message.body), user, group)
