"""Message attributes: the runtime's own (docs/contracts.md §2), and carrying the originals along.

SQS allows at most 10 message attributes per message. The runtime's own attributes take precedence;
original attributes are kept in their incoming order while they fit, and the rest are packed as JSON
into one ``ap-original-attributes`` attribute, so nothing is lost::

    {"<name>": {"DataType": "String", "StringValue": "..."},
     "<name>": {"DataType": "Binary", "BinaryValue": "<base64>"}}

(the ``SendMessage`` shape, binary values base64-encoded). An incoming ``ap-original-attributes`` is
unpacked first, so a message that is dead-lettered, redriven and dead-lettered again keeps everything.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ATTEMPT",
    "DEAD_LETTER_ID",
    "ERROR_KIND",
    "ERROR_REASON",
    "LARGE_MESSAGE",
    "MAX_ATTRIBUTES",
    "MAX_REASON_BYTES",
    "MESSAGE_ID",
    "ORIGINAL_ATTRIBUTES",
    "PROBE",
    "RUNTIME_PREFIX",
    "SOURCE_QUEUE",
    "compose",
    "incoming_string",
    "number",
    "originals",
    "string",
    "truncate_reason",
]

# The runtime ships to Lambda alone, so it keeps its own copy of contract/runtime.py and of SQS's
# attribute limit (contract/aws.py); tests/test_contract_copies.py fails when they differ.
MESSAGE_ID = "ap-message-id"
ATTEMPT = "ap-attempt"
ERROR_KIND = "ap-error-kind"
ERROR_REASON = "ap-error-reason"
SOURCE_QUEUE = "ap-source-queue"
DEAD_LETTER_ID = "ap-dead-letter-id"
"""Identifies one dead-lettering: copies of a DLQ message share it, a later dead-lettering gets a new one."""
ORIGINAL_ATTRIBUTES = "ap-original-attributes"
LARGE_MESSAGE = "ap-large-message"
"""The body is a pointer to an S3 object holding the real body (docs/contracts.md §6)."""
PROBE = "ap-probe"
"""A smoke-test probe (``ops.smoke``): the runtime answers it itself, the business function never runs."""
RUNTIME_PREFIX = "ap-"

MAX_ATTRIBUTES = 10
MAX_REASON_BYTES = 1024

SendAttribute = dict[str, Any]
"""One attribute in the ``SendMessage`` shape: ``{"DataType": ..., "StringValue"|"BinaryValue": ...}``."""


def string(value: str) -> SendAttribute:
    return {"DataType": "String", "StringValue": value}


def number(value: int) -> SendAttribute:
    return {"DataType": "Number", "StringValue": str(value)}


def truncate_reason(text: str, limit: int = MAX_REASON_BYTES) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 bytes without splitting a character; never empty."""
    data = text.encode("utf-8")
    if len(data) > limit:
        text = data[:limit].decode("utf-8", errors="ignore")
    return text or "(no reason given)"


def incoming_string(raw_attributes: Mapping[str, Any] | None, name: str) -> str | None:
    """The ``stringValue`` of an attribute in the Lambda SQS event shape, or None."""
    attr = raw_attributes.get(name) if raw_attributes else None
    if attr is None or not isinstance(attr, Mapping):  # None first: most records lack most attributes
        return None
    value = attr.get("stringValue")
    return value if isinstance(value, str) and value != "" else None


def _from_event(attr: Mapping[str, Any]) -> SendAttribute | None:
    """Lambda event shape (``stringValue``/``binaryValue``/``dataType``) -> SendMessage shape."""
    data_type = attr.get("dataType") or attr.get("DataType")
    if not isinstance(data_type, str):
        return None
    if data_type.startswith("Binary"):
        raw = attr.get("binaryValue", attr.get("BinaryValue"))
        if raw is None:
            return None
        try:
            value = raw if isinstance(raw, bytes) else base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError, TypeError):
            return None
        return {"DataType": data_type, "BinaryValue": value}
    text = attr.get("stringValue", attr.get("StringValue"))
    if not isinstance(text, str) or text == "":
        return None
    return {"DataType": data_type, "StringValue": text}


def _unpack(packed: str | None) -> dict[str, SendAttribute]:
    if not packed:
        return {}
    try:
        data = json.loads(packed)
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    result: dict[str, SendAttribute] = {}
    for name, attr in data.items():
        if isinstance(name, str) and isinstance(attr, Mapping):
            converted = _from_event(attr)
            if converted is not None:
                result[name] = converted
    return result


def originals(raw_attributes: Mapping[str, Any] | None, *, keep_runtime: bool) -> dict[str, SendAttribute]:
    """The incoming attributes (Lambda event shape) converted for ``SendMessage``.

    ``keep_runtime=False`` drops every ``ap-*`` attribute (forwarding, escalation: the runtime sets its
    own); ``True`` keeps them (dead-lettering: ``ap-attempt`` etc. are useful in the DLQ).
    """
    raw_attributes = raw_attributes or {}
    result: dict[str, SendAttribute] = {}
    for name, attr in raw_attributes.items():
        if name == ORIGINAL_ATTRIBUTES or not isinstance(attr, Mapping):
            continue
        converted = _from_event(attr)
        if converted is not None:
            result[name] = converted
    for name, attr in _unpack(incoming_string(raw_attributes, ORIGINAL_ATTRIBUTES)).items():
        result.setdefault(name, attr)
    if not keep_runtime:
        result = {k: v for k, v in result.items() if not k.startswith(RUNTIME_PREFIX)}
    return result


def _pack(overflow: Mapping[str, SendAttribute]) -> str:
    data: dict[str, dict[str, str]] = {}
    for name, attr in overflow.items():
        if "BinaryValue" in attr:
            value = base64.b64encode(attr["BinaryValue"]).decode("ascii")
            data[name] = {"DataType": attr["DataType"], "BinaryValue": value}
        else:
            data[name] = {"DataType": attr["DataType"], "StringValue": attr["StringValue"]}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def compose(own: Mapping[str, SendAttribute], carried: Mapping[str, SendAttribute]) -> dict[str, SendAttribute]:
    """Merge the runtime's ``own`` attributes with ``carried`` originals within the 10-attribute limit."""
    if len(own) > MAX_ATTRIBUTES:
        raise ValueError(f"the runtime sets {len(own)} attributes, more than SQS allows")
    rest = {name: attr for name, attr in carried.items() if name not in own}
    if len(own) + len(rest) <= MAX_ATTRIBUTES:
        return {**own, **rest}
    room = MAX_ATTRIBUTES - len(own) - 1
    if room < 0:
        raise ValueError("no room left for ap-original-attributes")
    names = list(rest)
    kept = {name: rest[name] for name in names[:room]}
    overflow = {name: rest[name] for name in names[room:]}
    return {**own, **kept, ORIGINAL_ATTRIBUTES: string(_pack(overflow))}
