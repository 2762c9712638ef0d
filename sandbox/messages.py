"""The messages a run publishes: built-in samples, a `--messages` file, `--count` cycling, poison chaos.

File format (JSON Lines; the built-in samples in `sandbox/samples/<pipeline>.jsonl` use it too), one
object per line, blank lines and lines starting with `#` ignored::

    {"pipeline": "orders", "body": {...} | "raw text", "attributes": {"type": "order_created"},
     "group": "acct-1", "note": "why this message is here"}

* `pipeline` (required): an enabled pipeline of the stack.
* `body` (required): an object (sent as JSON) or a string (sent as is: how to send malformed JSON).
* `attributes`: name -> string | number | list of strings; they become SNS MessageAttributes when the
  pipeline's entry is a topic (fan-out filter policies read them), SQS MessageAttributes when it is a
  queue. At most 9 (the sandbox adds `ap-message-id`, SQS/SNS allow 10).
* `group`: FIFO `MessageGroupId` (default: the pipeline name); ignored for standard entries.
* `note`: free text, ignored.

Every message gets a unique logical id (`ap-message-id`, docs/contracts.md §2) unless its attributes
set one; the ledger follows messages by it through fan-out, chain stages, retry tiers and DLQs.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.aws import SQS_MESSAGE_ATTRIBUTES_MAX
from contract.runtime import MESSAGE_ID

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
KEYS = ("pipeline", "body", "attributes", "group", "note")
MAX_USER_ATTRIBUTES = SQS_MESSAGE_ATTRIBUTES_MAX - 1
"""SQS allows 10 message attributes; the sandbox adds `ap-message-id`."""
UNIQUE_BODY_FIELDS = ("id", "order_id")
"""Top-level body fields made unique when `--count` cycles the samples (business ids stay distinct)."""


class MessageError(ValueError):
    """A message (file line) that cannot be sent; the text names the file and line."""


@dataclass(frozen=True)
class MessageSpec:
    """One line of a messages file, validated."""

    pipeline: str
    body: str | dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    group: str | None = None
    where: str = ""
    """`file:line`, for error messages and the report."""


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


def _attribute_problem(name: Any, value: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return f"attribute name {name!r} must be a non-empty string"
    if isinstance(value, bool) or not isinstance(value, str | int | float | list):
        return f"attribute {name!r}: {value!r} must be a string, a number or a list of strings"
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        return f"attribute {name!r}: a list value must hold strings only"
    if isinstance(value, str) and not value:
        return f"attribute {name!r}: SNS and SQS reject empty string values"
    return None


def parse_line(text: str, where: str) -> MessageSpec:
    """One JSON object -> MessageSpec, or MessageError naming `where` and the problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MessageError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise MessageError(f"{where}: expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise MessageError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(KEYS)}")
    pipeline = data.get("pipeline")
    if not isinstance(pipeline, str) or not pipeline:
        raise MessageError(f"{where}: 'pipeline' is required (a pipeline name of the stack)")
    if "body" not in data:
        raise MessageError(f"{where}: 'body' is required (an object, or a string sent as is)")
    body = data["body"]
    if not isinstance(body, str | dict):
        raise MessageError(f"{where}: 'body' must be an object or a string, got {type(body).__name__}")
    if body == "":
        raise MessageError(f"{where}: 'body' is empty; SQS rejects empty messages")
    attributes = data.get("attributes", {})
    if not isinstance(attributes, dict):
        raise MessageError(f"{where}: 'attributes' must be an object of name -> value")
    for name, value in attributes.items():
        problem = _attribute_problem(name, value)
        if problem:
            raise MessageError(f"{where}: {problem}")
    if len([n for n in attributes if n != MESSAGE_ID]) > MAX_USER_ATTRIBUTES:
        raise MessageError(f"{where}: at most {MAX_USER_ATTRIBUTES} attributes (the sandbox adds {MESSAGE_ID})")
    group = data.get("group")
    if group is not None and (not isinstance(group, str) or not group):
        raise MessageError(f"{where}: 'group' must be a non-empty string (FIFO MessageGroupId)")
    return MessageSpec(pipeline, body, dict(attributes), group, where)


def load_file(path: Path) -> list[MessageSpec]:
    """Every message of a JSON Lines file; the first bad line raises MessageError."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise MessageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise MessageError(f"{path}: not UTF-8 text") from None
    specs = []
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            specs.append(parse_line(line, f"{path.name}:{number}"))
    if not specs:
        raise MessageError(f"{path}: no messages (one JSON object per line)")
    return specs


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
        attributes = dict(spec.attributes)
        logical_id = str(attributes.pop(MESSAGE_ID, "")) or f"{run_id}-{suffix}"
        where = spec.where if count is None else f"#{n} from {spec.where}"
        messages.append(Message(spec.pipeline, body, attributes, spec.group, logical_id, where, poison))
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
