"""`python -m sandbox invoke`: one consumer, once, through the real runtime, in-process (`main(argv)`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sandbox.__main__ import main
from tests.sandbox.conftest import ORDER


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["invoke", "--stack", "dev", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_chain_stage_forwards_for_real_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--consumer", "media.download", "--body", '{"url": "https://cdn.example.com/a.jpg"}')
    assert code == 0
    assert 'batch response: {"batchItemFailures": []}' in out
    assert "  invoke-000000: forwarded " in out
    assert "  ap-dev-media-thumbnail ← invoke-000000\n" in out  # the runtime's SendMessage reached moto
    assert '"message":"forwarded to next stage"' in out  # the function's logs
    assert out.rstrip().endswith("OK")


def test_a_failed_record_exits_1_with_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    body = {**ORDER, "simulate": {"bill": "timeout"}}
    code, out, _ = invoke(capsys, "--consumer", "orders.billing", "--body", json.dumps(body))
    assert code == 1
    assert "  invoke-000000: failed: TransientError: payment gateway timed out (simulated)" in out
    trace = out.split("traceback (invoke-000000):\n", 1)[1]
    assert trace.startswith("Traceback (most recent call last):")
    assert 'handlers/orders.py", line' in trace and out.rstrip().endswith("FAILED")


def test_a_dead_lettered_record_exits_1_and_shows_the_dlq_send(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--consumer", "orders.billing", "--body", json.dumps({**ORDER, "currency": "XYZ"}))
    assert code == 1
    assert "ap-dev-orders-billing-dlq ← invoke-000000 (permanent: unknown currency 'XYZ'" in out


def test_an_exception_of_the_invocation_prints_the_full_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "handlers.orders", None)  # `import handlers.orders` raises ImportError
    code, out, _ = invoke(capsys, "--consumer", "orders.billing", "--body", json.dumps(ORDER))
    assert code == 1
    assert "cannot import 'handlers.orders'" in out
    trace = out.split("traceback (the invocation):\n", 1)[1]
    assert trace.startswith("Traceback (most recent call last):")
    assert "ModuleNotFoundError: import of handlers.orders halted" in trace  # the cause, in full


def test_a_file_in_the_one_format_is_one_batch_with_its_ids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(
        json.dumps({"pipeline": "media", "body": {"url": "https://cdn.example.com/b.png"}, "idempotency_key": "img-1"})
        + "\n" + json.dumps({"body": {"url": "ftp://x/y"}, "note": "bad"}) + "\n"
    )
    code, out, _ = invoke(capsys, "--consumer", "media.download", "--file", str(path))
    assert code == 1  # the ftp:// one is dead-lettered
    assert "  img-1: forwarded " in out and "  invoke-000001: dead-lettered " in out
    assert "2 record(s)" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--consumer", "orders.nope", "--body", "{}"],
         "--consumer 'orders.nope': no such consumer in stack 'dev' (consumers: email.consumer, media.download,"),
        (["--consumer", "orders", "--body", "{}"], "is not PIPELINE.CONSUMER"),
        (["--consumer", "orders.billing", "--body", "{oops"], "--body is not JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    code, out, err = invoke(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1


def test_a_bad_file_line_names_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"body": {}}\n{"pipeline": "orders", "body": {}}\n')
    code, _, err = invoke(capsys, "--consumer", "media.download", "--file", str(path))
    assert code == 2 and f"error: {path}:2: pipeline 'orders' is not --pipeline 'media'" in err
