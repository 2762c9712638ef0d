"""One message-file format for every tool that reads one: the parser, and the three CLIs that use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from producer.message_file import KEYS, MessageFileError, parse_line, read_file
from sandbox.__main__ import main as sandbox_main
from sandbox.messages import SAMPLES_DIR, build, load_file

FULL = ('{"pipeline": "orders", "body": {"id": "o-1"}, "attributes": {"type": "order_created", "n": 2}, '
        '"group": "acct-1", "idempotency_key": "order-1", "note": "why"}')


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "msgs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_keys_are_the_documented_six() -> None:
    assert KEYS == ("pipeline", "body", "attributes", "group", "idempotency_key", "note")


def test_a_full_line_keeps_every_key() -> None:
    line = parse_line(FULL, "f:1")
    assert (line.pipeline, line.body, line.attributes, line.group, line.idempotency_key, line.note) == (
        "orders", {"id": "o-1"}, {"type": "order_created", "n": 2}, "acct-1", "order-1", "why"
    )


@pytest.mark.parametrize(
    ("line", "given", "reason"),
    [
        ('{"body": "x", "colour": 1}', "orders", "f:3: unknown key(s) colour"),
        ('{"body": "x"}', None, "f:3: 'pipeline' is required"),
        ('{"pipeline": "media", "body": "x"}', "orders", "f:3: pipeline 'media' is not --pipeline 'orders'"),
        ('{"body": "x", "idempotency_key": 7}', "orders", "f:3: 'idempotency_key' must be a non-empty string"),
        ('{"body": "x", "attributes": {"ap-message-id": "k"}}', "orders", "belong to the runtime"),
        ('{"body": "x", "note": 3}', "orders", "f:3: 'note' must be a string"),
        ('{"body": 3}', "orders", "'body' must be an object, an array or a string"),
        ('{"body": "x", "group": ""}', "orders", "'group' must be a non-empty string"),
    ],
)
def test_bad_lines_name_file_and_line(line: str, given: str | None, reason: str) -> None:
    with pytest.raises(MessageFileError) as caught:
        parse_line(line, "f:3", pipeline=given)
    assert reason in str(caught.value)


def test_pipeline_is_optional_only_where_the_tool_is_given_one(tmp_path: Path) -> None:
    path = write(tmp_path, '{"body": "x"}', '{"pipeline": "orders", "body": "y"}')
    assert [m.pipeline for m in read_file(path, pipeline="orders")] == ["orders", "orders"]
    with pytest.raises(MessageFileError, match=r"msgs.jsonl:1: 'pipeline' is required"):
        read_file(path)


def test_every_built_in_sample_file_is_in_the_format() -> None:
    for path in sorted(SAMPLES_DIR.glob("*.jsonl")):
        assert read_file(path), path


def test_the_sandbox_takes_idempotency_key_as_the_ap_message_id(tmp_path: Path) -> None:
    specs = load_file(write(tmp_path, FULL, '{"pipeline": "orders", "body": "plain"}'))
    once = build(specs, run_id="r")
    assert [m.logical_id for m in once] == ["order-1", "r-000001"]
    assert once[0].note == "why"
    cycled = build(specs, run_id="r", count=4)  # cycling keeps every message distinct
    assert [m.logical_id for m in cycled] == ["order-1-000000", "r-000001", "order-1-000002", "r-000003"]


@pytest.mark.parametrize("command", ["run", "cost"])
def test_sandbox_run_and_cost_reject_an_unknown_key_with_file_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = write(tmp_path, FULL, '{"pipeline": "orders", "body": "x", "priority": "high"}')
    argv = [command, "--messages", str(path)] + (["--quiet"] if command == "run" else [])
    assert sandbox_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:2: unknown key(s) priority") and err.count("\n") == 1
