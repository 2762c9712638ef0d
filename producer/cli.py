"""``python -m producer send``: send a JSON Lines file of messages to one pipeline, print one id per line.

Each line is a JSON object (blank lines and ``#`` comments skipped)::

    {"body": {...} | "text", "attributes": {"type": "order_created"}, "group": "acct-1",
     "idempotency_key": "order-1", "note": "ignored", "pipeline": "orders"}

``body`` is required; ``pipeline``, if present, must be the ``--pipeline`` (so the sandbox's sample files
work as they are). Every line is checked before anything is sent: a bad line is reported as
``file:line: reason`` with exit status 2. Exit 1 when AWS did not accept some messages (all listed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contract.cli import CliParser
from producer.errors import ProducerError, SendError
from producer.outgoing import Message, prepare

__all__ = ["main", "read_messages"]

LINE_KEYS = ("body", "attributes", "group", "idempotency_key", "note", "pipeline")


class InputError(ValueError):
    """Bad input: one line on stderr, exit status 2."""



def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="python -m producer",
                       description="Send messages to a pipeline of an async-pipelines stack.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{send}")
    send = commands.add_parser(
        "send", help="send a JSON Lines file of messages; prints one message id per line",
        description="Send every message of FILE to PIPELINE's entry (batched, failed entries retried).",
    )
    send.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    send.add_argument("--pipeline", required=True, help="pipeline name in the stack")
    send.add_argument("--file", required=True, type=Path, metavar="FILE.jsonl", help="one JSON message per line")
    send.add_argument("--outputs", type=Path, metavar="FILE.json",
                      help="`pulumi stack output --json` of the deployed stack (default: the program's own "
                      "outputs under mocks, which match moto / `python -m sandbox serve`)")
    send.add_argument("--endpoint-url", metavar="URL", help="an emulator instead of AWS")
    send.add_argument("--region", help="default: the region of the pipeline's entry")
    send.add_argument("--large-message-threshold", type=int, metavar="BYTES",
                      help="send bodies over BYTES through S3 (needs largeMessages: true on the pipeline)")
    return parser


def _line(text: str, where: str, pipeline: str) -> Message:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(LINE_KEYS))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(LINE_KEYS)}")
    if "body" not in data:
        raise InputError(f"{where}: 'body' is required (an object, or a string sent as is)")
    if data.get("pipeline", pipeline) != pipeline:
        raise InputError(f"{where}: pipeline {data['pipeline']!r} is not --pipeline {pipeline!r}")
    attributes = data.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise InputError(f"{where}: 'attributes' must be an object of name -> value")
    for key in ("group", "idempotency_key"):
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{where}: {key!r} must be a string")
    return Message(data["body"], attributes, data.get("group"), data.get("idempotency_key"))


def read_messages(path: Path, pipeline: str, *, fifo: bool, sns: bool) -> list[Message]:
    """Every message of the file, each checked like the producer would check it (``file:line: reason``)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    messages: list[Message] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        message = _line(text, where, pipeline)
        try:
            prepare(len(messages), message, pipeline=pipeline, fifo=fifo, sns=sns)
        except ProducerError as exc:
            reason = str(exc).split(": ", 1)[1] if str(exc).startswith("#") else str(exc)
            raise InputError(f"{where}: {reason}") from None
        messages.append(message)
    if not messages:
        raise InputError(f"{path}: no messages (one JSON object per line)")
    return messages


def _session(endpoint_url: str | None) -> Any:
    import boto3

    session = boto3.session.Session()
    if endpoint_url and session.get_credentials() is None:  # emulators accept any credentials
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    return session


def send_command(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    producer = _producer(args)
    entry = producer.entry(args.pipeline)
    messages = read_messages(args.file, args.pipeline, fifo=entry.fifo, sns=entry.is_topic)
    try:
        ids = producer.send_many(args.pipeline, messages)
    except SendError as exc:
        for index in sorted(exc.sent):
            print(exc.sent[index])
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:  # e.g. the S3 upload of a large body, after its retries
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print("\n".join(ids))
    return 0


def _producer(args: argparse.Namespace) -> Any:
    from producer.client import Producer

    kwargs: dict[str, Any] = {
        "session": _session(args.endpoint_url),
        "endpoint_url": args.endpoint_url,
        "large_message_threshold": args.large_message_threshold,
    }
    if args.region:
        kwargs["region"] = args.region
    if args.outputs is not None:
        return Producer.for_stack(args.stack, outputs_file=args.outputs, **kwargs)
    from pulumi.errors import RunError

    from components.config import ConfigError
    from stack_capture import UnknownStackError

    try:
        return Producer.for_stack(args.stack, **kwargs)
    except UnknownStackError as exc:
        raise InputError(str(exc)) from None
    except (ConfigError, RunError) as exc:
        raise InputError(f"stack {args.stack!r}: {' '.join(str(exc).split())}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return send_command(args)
    except (InputError, ProducerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
