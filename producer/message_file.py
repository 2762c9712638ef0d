"""The one message-file format: JSON Lines read by ``producer send --file``, ``sandbox run --messages``,
``sandbox cost --messages`` and ``sandbox invoke --file`` (docs/contracts.md "One message-file format").

One JSON object per line; blank lines and lines starting with ``#`` are skipped::

    {"pipeline": "orders", "body": {...} | [...] | "raw text", "attributes": {"type": "order_created"},
     "group": "acct-1", "idempotency_key": "order-1", "note": "why this message is here"}

* ``pipeline``: the pipeline it is for; required unless the tool is given one (``--pipeline``), and then
  it must name that pipeline (so a file of mixed pipelines is never half-sent to the wrong one);
* ``body`` (required): an object or array (sent as compact JSON) or a string (sent as is: how to send
  malformed JSON on purpose);
* ``attributes``: name -> string | number | list of strings, at most 9 (the runtime adds
  ``ap-message-id``); names starting with ``ap-`` belong to the runtime;
* ``group``: FIFO ``MessageGroupId``;
* ``idempotency_key``: the message's ``ap-message-id`` - the one id every tool shows; without it each
  tool generates one;
* ``note``: free text, for the reader and the reports; never sent.

Any other key is an error. Every error names ``file:line``; the tools exit with status 2.
Lives in ``producer`` (not ``sandbox``) so that a service's producer reads it without the sandbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.aws import SQS_MESSAGE_ATTRIBUTES_MAX
from contract.runtime import MESSAGE_ID, RUNTIME_PREFIX

__all__ = ["KEYS", "MAX_USER_ATTRIBUTES", "MessageFileError", "MessageLine", "parse_line", "read_file"]

KEYS = ("pipeline", "body", "attributes", "group", "idempotency_key", "note")
MAX_USER_ATTRIBUTES = SQS_MESSAGE_ATTRIBUTES_MAX - 1
"""SQS/SNS allow 10 message attributes; the runtime's `ap-message-id` is one of them."""
MAX_KEY_CHARS = 1024
"""Our bound on an idempotency key: it travels as an attribute and keys the idempotency table."""


class MessageFileError(ValueError):
    """A line (or file) that cannot be used; the text starts with `file:line:`."""


@dataclass(frozen=True)
class MessageLine:
    """One line of a message file, checked."""

    pipeline: str
    body: str | dict[str, Any] | list[Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    group: str | None = None
    idempotency_key: str | None = None
    note: str | None = None
    where: str = ""
    """`file:line`, for later errors and the reports."""


def _attribute_problem(name: Any, value: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return f"attribute name {name!r} must be a non-empty string"
    if name.startswith(RUNTIME_PREFIX):
        return (f"attribute {name!r}: names starting with {RUNTIME_PREFIX!r} belong to the runtime "
                f"(set {MESSAGE_ID} with 'idempotency_key')")
    if isinstance(value, bool) or not isinstance(value, str | int | float | list):
        return f"attribute {name!r}: {value!r} must be a string, a number or a list of strings"
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        return f"attribute {name!r}: a list value must hold strings only"
    if isinstance(value, str) and not value:
        return f"attribute {name!r}: SNS and SQS reject empty string values"
    return None


def _optional_string(data: dict[str, Any], key: str, what: str, limit: int | None = None) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or (limit is not None and len(value) > limit):
        bound = f" of at most {limit} characters" if limit is not None else ""
        raise ValueError(f"{key!r} must be a non-empty string{bound} ({what})")
    return value


def _note(data: dict[str, Any]) -> str | None:
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        raise ValueError(f"'note' must be a string (free text), got {type(note).__name__}")
    return note


def _pipeline(data: dict[str, Any], given: str | None) -> str:
    named = data.get("pipeline")
    if named is not None and (not isinstance(named, str) or not named):
        raise ValueError("'pipeline' must be a pipeline name of the stack")
    if given is None:
        if named is None:
            raise ValueError("'pipeline' is required (a pipeline name of the stack)")
        return str(named)
    if named is not None and named != given:
        raise ValueError(f"pipeline {named!r} is not --pipeline {given!r}")
    return given


def _body(data: dict[str, Any]) -> str | dict[str, Any] | list[Any]:
    if "body" not in data:
        raise ValueError("'body' is required (an object or array sent as JSON, or a string sent as is)")
    body = data["body"]
    if not isinstance(body, str | dict | list):
        raise ValueError(f"'body' must be an object, an array or a string, got {type(body).__name__}")
    if body == "":
        raise ValueError("body is empty; SQS and SNS reject empty messages")
    return body


def _attributes(data: dict[str, Any]) -> dict[str, Any]:
    attributes = data.get("attributes", {})
    if not isinstance(attributes, dict):
        raise ValueError("'attributes' must be an object of name -> value")
    for name, value in attributes.items():
        problem = _attribute_problem(name, value)
        if problem:
            raise ValueError(problem)
    if len(attributes) > MAX_USER_ATTRIBUTES:
        raise ValueError(f"at most {MAX_USER_ATTRIBUTES} attributes (the runtime adds {MESSAGE_ID})")
    return dict(attributes)


def parse_line(text: str, where: str, *, pipeline: str | None = None) -> MessageLine:
    """One JSON object -> MessageLine; MessageFileError names `where`. `pipeline`: the tool's --pipeline."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MessageFileError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise MessageFileError(f"{where}: expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise MessageFileError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(KEYS)}")
    try:
        return MessageLine(
            pipeline=_pipeline(data, pipeline),
            body=_body(data),
            attributes=_attributes(data),
            group=_optional_string(data, "group", "the FIFO MessageGroupId"),
            idempotency_key=_optional_string(data, "idempotency_key", f"the {MESSAGE_ID}", MAX_KEY_CHARS),
            note=_note(data),
            where=where,
        )
    except ValueError as exc:
        raise MessageFileError(f"{where}: {exc}") from None


def read_file(path: Path, *, pipeline: str | None = None) -> list[MessageLine]:
    """Every message of a JSON Lines file; the first bad line raises MessageFileError (`file:line: ...`)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise MessageFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise MessageFileError(f"{path}: not UTF-8 text") from None
    found = [
        parse_line(line, f"{path}:{number}", pipeline=pipeline)
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not found:
        raise MessageFileError(f"{path}: no messages (one JSON object per line)")
    return found
