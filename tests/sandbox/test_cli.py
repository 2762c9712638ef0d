"""`python -m sandbox run`: exit statuses, one-line errors, the JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.__main__ import main
from stack_capture import PROJECT_DIR


def one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    try:
        code = main(["run", "--quiet", *argv])
    except SystemExit as exited:  # argparse's own errors
        code = exited.code  # type: ignore[assignment]
    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    return err


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "messages.jsonl"
    path.write_text(text)
    return str(path)


def test_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(capsys, "--stack", "nope")
    assert "unknown stack 'nope'" in err and "stacks: dev, prod" in err


def test_malformed_messages_file_names_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = '{"pipeline": "orders", "body": {"type": "x"}}'
    err = one_line_error(capsys, "--messages", write(tmp_path, f"{good}\n\n{{not json\n"))
    assert "messages.jsonl:3: not valid JSON" in err


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"pipeline": "orders"}', "messages.jsonl:1: 'body' is required"),
        ('{"pipeline": "orders", "body": 3}', "'body' must be an object, an array or a string"),
        ('{"pipeline": "orders", "body": "x", "attributes": {"a": true}}', "attribute 'a'"),
        ('{"pipeline": "orders", "body": "x", "colour": 1}', "unknown key(s) colour"),
        ('["orders"]', "expected a JSON object"),
    ],
)
def test_invalid_message_lines(capsys: pytest.CaptureFixture[str], tmp_path: Path, line: str, expected: str) -> None:
    assert expected in one_line_error(capsys, "--messages", write(tmp_path, line))


def test_message_for_a_missing_or_disabled_pipeline(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = one_line_error(capsys, "--messages", write(tmp_path, '{"pipeline": "nope", "body": "x"}'))
    assert "no pipeline 'nope' in stack 'dev' (pipelines: email, media, orders)" in err
    err = one_line_error(
        capsys, "--stack", "prod", "--messages", write(tmp_path, '{"pipeline": "media", "body": {"url": "x"}}')
    )
    assert "pipeline 'media' is disabled in stack 'prod'" in err


def test_unreachable_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(capsys, "--endpoint-url", "http://127.0.0.1:9")
    assert "endpoint http://127.0.0.1:9 is unreachable" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--transient-rate", "1.5"], "--transient-rate: 1.5 is out of range"),
        (["--count", "0"], "--count: 0 must be at least 1"),
        (["--messages", "/no/such/file.jsonl"], "/no/such/file.jsonl: cannot read"),
    ],
)
def test_bad_options(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    assert expected in one_line_error(capsys, *argv)


def test_exit_status_and_json_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report_path = tmp_path / "out" / "report.json"
    assert main(["run", "--quiet", "--list-messages", "--json", str(report_path)]) == 0
    out, _ = capsys.readouterr()
    assert "lost 0" in out and "OK · drained" in out
    report = json.loads(report_path.read_text())
    listed = [line for line in out.splitlines() if "e-mail provider always throttles" in line]
    throttled = next(i for i, m in report["messages"].items() if m["note"].startswith("e-mail provider always"))
    assert len(listed) == 1 and listed[0].split()[:2] == [throttled, "orders"]
    assert "email: dlq ×5 (maxReceiveCount exceeded (last" in out
    assert report["schema_version"] == 1 and report["ok"] and report["stack"] == "dev"
    assert set(report) >= {"totals", "pipelines", "queues", "alarms", "drained", "virtual_seconds"}
    assert report["pipelines"]["orders"]["consumers"]["billing"]["dlq_count"] == 2

    assert main(["run", "--quiet", "--max-virtual-seconds", "60", "--json", str(report_path)]) == 1
    assert "NOT drained (max-virtual-seconds)" in capsys.readouterr().out
    assert json.loads(report_path.read_text())["ok"] is False


def test_no_traceback_from_the_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "run", "--stack", "nope"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2
    expected = "error: unknown stack 'nope': no tests/stacks/Pulumi.nope.yaml (stacks: dev, prod)"
    assert result.stderr.strip().splitlines() == [expected]


def test_a_broken_plan_module_fails_loudly_instead_of_degrading(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ImportError of sandbox.plan is a bug to see, not a reason to offer a reduced `plan`."""
    monkeypatch.setitem(sys.modules, "sandbox.plan", None)  # makes `import sandbox.plan` raise ImportError
    with pytest.raises(ImportError, match=r"sandbox\.plan"):
        main(["plan", "--stack", "dev"])
