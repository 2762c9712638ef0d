"""Where each pipeline takes messages: its entry (topic ARN or first queue URL) and large-message bucket.

Read from the stack outputs (docs/contracts.md §3): ``pipelines.<name>.entry`` and, with
``largeMessages: true``, ``pipelines.<name>.largeMessageBucket``. Three sources give those outputs:
a deployed stack (``pulumi stack output --json > outputs.json``), the program captured under Pulumi
mocks (names match moto's, for the sandbox and tests), or explicit ARNs/URLs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import aws as limits
from producer.errors import ProducerError

__all__ = ["Entry", "entries_from_outputs", "load_outputs_file", "region_of"]

_SQS_URL = re.compile(r"^https?://(?:sqs\.)?(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)?[^/]*/\d{12}/(?P<name>[^/]+)$")
_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):\d{12}:(?P<name>.+)$")


@dataclass(frozen=True)
class Entry:
    """One pipeline's entry."""

    pipeline: str
    target: str
    """SNS topic ARN (fan-out) or SQS queue URL (chain, retry)."""
    large_message_bucket: str | None = None
    """Bucket for bodies over the limit (``largeMessages: true``); None: such bodies are refused."""

    def __post_init__(self) -> None:
        arn = _ARN.match(self.target)
        if not (arn and arn["service"] == "sns") and not _SQS_URL.match(self.target):
            raise ProducerError(
                f"pipeline {self.pipeline!r}: entry {self.target!r} is neither an SNS topic ARN nor an SQS queue URL"
            )

    @property
    def is_topic(self) -> bool:
        return self.target.startswith("arn:")

    @property
    def fifo(self) -> bool:
        """FIFO topic and queue names must end in ``.fifo``, so the name tells."""
        return self.target.rstrip("/").endswith(".fifo")

    @property
    def max_message_bytes(self) -> int:
        """Per message and per batch request: SNS 256 KiB, SQS the size the program's queues are created with."""
        return limits.SNS_MESSAGE_BYTES_MAX if self.is_topic else limits.QUEUE_MAX_MESSAGE_BYTES


def region_of(target: str) -> str | None:
    """The region spelled in an ARN or an AWS queue URL (None for an emulator URL)."""
    if (arn := _ARN.match(target)) is not None:
        return arn["region"] or None
    if (url := _SQS_URL.match(target)) is not None:
        return url["region"]
    return None


def entries_from_outputs(outputs: Mapping[str, Any]) -> dict[str, Entry]:
    """``pipelines.<name>.entry`` (+ ``largeMessageBucket``) of a stack's outputs, by pipeline name."""
    pipelines = outputs.get("pipelines")
    if not isinstance(pipelines, Mapping):
        raise ProducerError("the stack outputs have no 'pipelines' (is this an async-pipelines stack?)")
    found: dict[str, Entry] = {}
    for name, spec in pipelines.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("entry"), str):
            raise ProducerError(f"stack output pipelines.{name} has no 'entry'")
        bucket = spec.get("largeMessageBucket")
        found[str(name)] = Entry(str(name), spec["entry"], bucket if isinstance(bucket, str) and bucket else None)
    return found


def load_outputs_file(path: Path) -> dict[str, Any]:
    """The JSON written by ``pulumi stack output --json`` (secrets shown or not: entries are not secret)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProducerError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProducerError(f"{path}: not the JSON of `pulumi stack output --json` ({exc})") from None
    if not isinstance(data, dict):
        raise ProducerError(f"{path}: expected a JSON object of stack outputs")
    return data
