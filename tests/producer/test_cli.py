"""`python -m producer send`: ids on stdout, `file:line` errors with exit 2, stack outputs or a file of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract import runtime as attrs
from producer.cli import main
from tests.producer.conftest import Aws

DEV_MEDIA = "https://sqs.us-east-1.amazonaws.com/123456789012/ap-dev-media-download"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "msgs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_send_prints_one_id_per_line_for_the_dev_stack(
    aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = aws.queue("ap-dev-media-download")
    assert url.endswith("ap-dev-media-download")
    path = write(
        tmp_path,
        '{"body": {"id": "m-1"}, "idempotency_key": "m-1"}',
        "# a comment",
        "",
        '{"pipeline": "media", "body": "plain text"}',
    )
    assert main(["send", "--stack", "dev", "--pipeline", "media", "--file", str(path)]) == 0
    ids = capsys.readouterr().out.split()
    got = aws.drain(url)
    assert ids[0] == "m-1"  # the ap-message-id (the idempotency key), not the SQS MessageId
    assert sorted(ids) == sorted(m["MessageAttributes"][attrs.MESSAGE_ID]["StringValue"] for m in got)
    assert not set(ids) & {m["MessageId"] for m in got}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"attributes": {}}', "'body' is required"),
        ('{"body": "x", "colour": "red"}', "unknown key(s) colour"),
        ('{"body": "x", "pipeline": "orders"}', "pipeline 'orders' is not --pipeline 'media'"),
        ('{"body": "x", "attributes": {"ap-attempt": "1"}}', "belong to the runtime"),
        ('{"body": ""}', "body is empty"),
    ],
)
def test_a_bad_line_names_file_and_line_exits_2_and_sends_nothing(
    aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, reason: str
) -> None:
    url = aws.queue("ap-dev-media-download")
    path = write(tmp_path, '{"body": "fine"}', line)
    assert main(["send", "--stack", "dev", "--pipeline", "media", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:2: ") and reason in err and len(err.strip().splitlines()) == 1
    assert aws.drain(url) == []


def test_outputs_file_of_a_deployed_stack_and_the_fifo_group_rule(
    aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = aws.queue("ledger.fifo")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"pipelines": {"ledger": {"pattern": "chain", "entry": url}}}))
    bad = write(tmp_path, '{"body": {"n": 1}, "group": "a"}', '{"body": {"n": 2}}')
    args = ["send", "--stack", "prod", "--outputs", str(outputs), "--pipeline", "ledger", "--file", str(bad)]
    assert main(args) == 2
    assert "msgs.jsonl:2: pipeline 'ledger' is FIFO: pass group=" in capsys.readouterr().err
    good = write(tmp_path, '{"body": {"n": 1}, "group": "a"}', '{"body": {"n": 2}, "group": "a"}')
    args[-1] = str(good)
    assert main(args) == 0
    assert len(capsys.readouterr().out.split()) == 2
    assert [json.loads(m["Body"])["n"] for m in aws.drain(url)] == [1, 2]


def test_unknown_stack_and_pipeline_are_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, '{"body": "x"}')
    assert main(["send", "--stack", "nope", "--pipeline", "media", "--file", str(path)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["send", "--stack", "dev", "--pipeline", "nope", "--file", str(path)]) == 2
    assert "unknown pipeline 'nope' (pipelines: email, media, orders)" in capsys.readouterr().err


def test_module_entry_point_usage_error_is_one_line_exit_2() -> None:
    done = subprocess.run([sys.executable, "-m", "producer", "send"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "required" in done.stderr
