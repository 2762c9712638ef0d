"""The messages a run publishes: built-in samples, a `--messages` file, `--count` cycling, poison chaos.

Files (and the built-in samples in `sandbox/samples/<pipeline>.jsonl`) use the one message-file format,
read by the one parser `producer.message_file` (`pipeline` required here: a run serves every pipeline).

Every message's logical id (`ap-message-id`, docs/contracts.md §2) is its `idempotency_key`, else a
generated `<run id>-<n>`; with `--count` cycling a file, a key gets the message's number appended so
every message stays distinct. The ledger follows messages by it through fan-out, chain stages, retry
tiers and DLQs, and the report lists them by it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.runtime import MESSAGE_ID, PROBE
from producer.message_file import MessageFileError, MessageLine, parse_line, read_file

__all__ = ["MESSAGE_ID", "Message", "MessageError", "MessageSpec", "build", "load_file", "load_samples", "parse_line"]

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
UNIQUE_BODY_FIELDS = ("id", "order_id")
"""Top-level body fields made unique when `--count` cycles the samples (business ids stay distinct)."""

MessageError = MessageFileError
"""A message (file line) that cannot be sent; the text names the file and line."""
MessageSpec = MessageLine
"""One line of a messages file, validated."""


@dataclass(frozen=True)
class Message:
    """A message ready to publish."""

    pipeline: str
    body: str
    attributes: dict[str, Any]
    group: str | None
    logical_id: str
    where: str
    poison: bool = False
    note: str | None = None
    probe: str | None = None
    """A smoke probe's `ap-probe` value (sandbox/probes.py): sent with the producer's `send_probe`."""


def load_file(path: Path) -> list[MessageSpec]:
    """Every message of a JSON Lines file; the first bad line raises MessageError."""
    return read_file(path)


def load_samples(pipelines: Iterable[str], samples_dir: Path = SAMPLES_DIR) -> list[MessageSpec]:
    """The built-in samples of the given pipelines (pipelines without a sample file get none)."""
    specs: list[MessageSpec] = []
    for name in pipelines:
        path = samples_dir / f"{name}.jsonl"
        if path.is_file():
            specs.extend(s for s in load_file(path) if s.pipeline == name)
    return specs


def check_pipelines(specs: Iterable[MessageSpec], enabled: Iterable[str], disabled: Iterable[str], stack: str) -> None:
    """Every message must target an enabled pipeline of the stack."""
    enabled_set, disabled_set = set(enabled), set(disabled)
    for spec in specs:
        if spec.pipeline in disabled_set:
            raise MessageError(
                f"{spec.where}: pipeline {spec.pipeline!r} is disabled in stack {stack!r} (enabled: false)"
            )
        if spec.pipeline not in enabled_set:
            known = ", ".join(sorted(enabled_set)) or "none"
            raise MessageError(f"{spec.where}: no pipeline {spec.pipeline!r} in stack {stack!r} (pipelines: {known})")


def _unique_body(body: dict[str, Any], suffix: str) -> dict[str, Any]:
    out = dict(body)
    for name in UNIQUE_BODY_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = f"{out[name]}-{suffix}"
    return out


def _poison(text: str) -> str:
    """Malformed JSON that still looks like the message (truncated mid-object)."""
    cut = max(1, len(text) // 2)
    return text[:cut] if text[:cut].strip() else "{"


def build(
    specs: list[MessageSpec],
    *,
    run_id: str,
    count: int | None = None,
    poison_rate: float = 0.0,
    rng: random.Random | None = None,
) -> list[Message]:
    """The messages to publish: `specs` once each, or `count` messages cycling them with unique ids."""
    rng = rng or random.Random(0)
    total = len(specs) if count is None else count
    messages = []
    for n in range(total):
        spec = specs[n % len(specs)] if specs else None
        if spec is None:
            break
        suffix = f"{n:06d}"
        body_obj = spec.body
        if count is not None and isinstance(body_obj, dict):
            body_obj = _unique_body(body_obj, suffix)
        body = body_obj if isinstance(body_obj, str) else json.dumps(body_obj, separators=(",", ":"))
        poison = poison_rate > 0 and rng.random() < poison_rate
        if poison:
            body = _poison(body)
        key = spec.idempotency_key
        if key is None:
            key = f"{run_id}-{suffix}"
        elif count is not None:
            key = f"{key}-{suffix}"
        where = spec.where if count is None else f"#{n} from {spec.where}"
        attributes = dict(spec.attributes)
        probe = attributes.pop(PROBE, None)  # only sandbox.probes sets it: files may not name `ap-` attributes
        messages.append(
            Message(spec.pipeline, body, attributes, spec.group, key, where, poison, spec.note,
                    None if probe is None else str(probe))
        )
    return messages


def message_attributes(message: Message, *, sns: bool) -> dict[str, dict[str, Any]]:
    """SNS or SQS `MessageAttributes` as the producer sends them (lists: String.Array on SNS only)."""
    from producer.outgoing import wire_attributes

    out = wire_attributes(message.attributes, sns=sns)
    out[MESSAGE_ID] = {"DataType": "String", "StringValue": message.logical_id}
    return out


def filter_attributes(message: Message) -> Mapping[str, dict[str, Any]]:
    """The attributes as moto's SNS filter matcher reads them ({"Type", "Value"})."""
    return {
        name: {"Type": a["DataType"], "Value": a["StringValue"]}
        for name, a in message_attributes(message, sns=True).items()
    }
