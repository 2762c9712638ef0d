"""``python -m producer send``: send a JSON Lines file of messages to one pipeline, print one id per line.

The file is the one message-file format (``producer.message_file``; the sandbox's sample files work as
they are): ``pipeline``, if present, must be the ``--pipeline``. The id printed per message is its
``ap-message-id`` (the ``idempotency_key`` when given): the id ``GET /messages/{id}``, ``ops.dlq list``
and the logs show. Every line is checked before anything is sent: a bad line is reported as
``file:line: reason`` with exit status 2. Exit 1 when AWS did not accept some messages (all listed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contract.cli import CliParser
from producer.errors import ProducerError, SendError
from producer.message_file import MessageFileError, read_file
from producer.outgoing import Message, prepare
from stack_capture.cli import add_stack_arguments

__all__ = ["main", "read_messages"]


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
    add_stack_arguments(send, default=None)
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


def read_messages(path: Path, pipeline: str, *, fifo: bool, sns: bool) -> list[Message]:
    """Every message of the file, each checked like the producer would check it (``file:line: reason``)."""
    try:
        lines = read_file(path, pipeline=pipeline)
    except MessageFileError as exc:
        raise InputError(str(exc)) from None
    messages: list[Message] = []
    for line in lines:
        message = Message(line.body, line.attributes, line.group, line.idempotency_key)
        try:
            prepare(len(messages), message, pipeline=pipeline, fifo=fifo, sns=sns)
        except ProducerError as exc:
            reason = str(exc).split(": ", 1)[1] if str(exc).startswith("#") else str(exc)
            raise InputError(f"{line.where}: {reason}") from None
        messages.append(message)
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
    return Producer.for_stack(args.stack, project_dir=args.project_dir, **kwargs)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return send_command(args)
    except (InputError, ProducerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a stack that cannot be read: stack_capture's lines (imported late: Pulumi is slow)
        from stack_capture.stack_errors import StackUnreadable, report

        if isinstance(exc, StackUnreadable):
            return report(exc)
        raise
