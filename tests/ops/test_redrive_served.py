"""`ops.dlq redrive` against `python -m sandbox serve --aws-port`, where redriven messages really run again.

Each scenario of issue 18: messages that all fail again (the redrive ends, counts right); a redrive
interrupted in the middle (exit 130, counts, what it held visible again at once); a FIFO DLQ with two
groups whose one group's first message fails again (order kept, that group held); and an endpoint
without message move tasks (`auto` moves client-side, `--method task` is one line and exit 2).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

import ops.dlq
from pipeline_runtime.delivery import REDRIVE_MARK
from tests.serve.conftest import ROOT

from .served import Served, serve_prod

EMAIL_DLQ, EMAIL = "ap-prod-email-dlq", "ap-prod-email"
LEDGER_DLQ = "ap-prod-ledger-dlq.fifo"
NO_RECIPIENT = {"subject": "hello"}  # handlers.notify:send: PermanentError, every time


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    yield from serve_prod()


def tool_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def run_dlq(*argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m ops.dlq` in this process (`main(argv)`; the stack's capture is cached by the conftest)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = ops.dlq.main(list(argv))
        except SystemExit as exited:
            code = int(exited.code or 0)
    done = subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def redrive(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    return run_dlq("redrive", "--stack", "prod", "--endpoint-url", served.aws, "--yes", *args)


def redrive_in_time(served: Served, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """`redrive` with a deadline (SIGALRM): one that never ends fails here instead of hanging."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"the redrive did not end within {timeout} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(timeout)
    try:
        return redrive(served, *args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def logical(message: dict[str, Any]) -> str:
    """The message's `ap-message-id`, without the runtime's redrive-generation suffix."""
    return str(message["MessageAttributes"]["ap-message-id"]["StringValue"]).split(REDRIVE_MARK)[0]


def test_a_redrive_whose_messages_all_fail_again_ends_and_moves_each_once(served: Served) -> None:
    for n in range(4):
        served.dead_letter(EMAIL_DLQ, NO_RECIPIENT, f"again-{n}")
    done = redrive_in_time(served, "--pipeline", "email", "--rate", "10")  # --method auto: no move tasks here
    assert done.returncode == 0, done.stdout + done.stderr
    assert "this endpoint does not support message move tasks: moving client-side" in done.stdout
    assert "email/dlq: moved 4 messages to ap-prod-email" in done.stdout
    counts = next(line for line in done.stdout.splitlines() if line.startswith("  moved "))
    assert counts.startswith("  moved 4, failed 0, held ")
    served.settle(EMAIL_DLQ, 4)
    back = served.drain(EMAIL_DLQ)
    # each failed exactly once more: one copy of each in the DLQ, none moved twice
    assert sorted(logical(m) for m in back) == [
        f"again-{n}" for n in range(4)
    ]
    assert all("no valid recipient" in m["MessageAttributes"]["ap-error-reason"]["StringValue"] for m in back)


def test_a_redrive_interrupted_in_the_middle_exits_130_with_counts_and_releases_what_it_held(
    served: Served,
) -> None:
    """One FIFO group of 20: the move sends one message per round (order) at --rate 4 and holds the rest
    of its batch of 10 meanwhile; SIGINT in the middle must give them back at once."""
    for n in range(20):
        served.dead_letter(LEDGER_DLQ, {"id": f"stop-{n}", "values": [n]}, f"stop-{n}", group="G")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.dlq", "redrive", "--stack", "prod", "--endpoint-url", served.aws, "--yes",
         "--pipeline", "ledger", "--rate", "4"],
        cwd=ROOT, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while sum(served.counts(LEDGER_DLQ)) > 18 and time.monotonic() < deadline:  # two moved
            time.sleep(0.1)
        assert served.counts(LEDGER_DLQ)[1] > 0, "the move holds the rest of its batch while it paces"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    moved = int(out.split("ledger/dlq: moved ", 1)[1].split(" ", 1)[0])
    assert 2 <= moved < 20
    assert f"ledger/dlq: moved {moved} messages so far (interrupted)" in out
    assert f"  group G: moved {moved}, failed 0, held 0" in out
    assert err.startswith("interrupted: everything held was released")
    assert served.counts(LEDGER_DLQ) == (20 - moved, 0)  # visible again at once, not after 60 s
    assert [logical(m) for m in served.drain(LEDGER_DLQ)] == [f"stop-{n}" for n in range(moved, 20)]  # in order


def test_fifo_two_groups_one_whose_first_message_fails_again_keeps_order_and_is_held(served: Served) -> None:
    b = [f"b{n}" for n in range(1, 7)]  # a longer group B: six rounds at --rate 5, a1 fails meanwhile
    for name, group in [("a1", "A"), (b[0], "B"), ("a2", "A"), (b[1], "B"), ("a3", "A"), *[(x, "B") for x in b[2:]]]:
        body = {"id": name, "values": [] if name in ("a1", "a3") else [1, 2]}  # handlers.compute:transform
        served.dead_letter(LEDGER_DLQ, body, name, group=group)
    done = redrive_in_time(served, "--pipeline", "ledger", "--rate", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ledger/dlq: moved 9 messages to ap-prod-ledger.fifo" in done.stdout
    groups = {line.split(":")[0].strip(): line.split(":", 1)[1].strip()
              for line in done.stdout.splitlines() if line.startswith("  group ")}
    assert groups["group B"] == "moved 6, failed 0, held 0"
    assert groups["group A"] in ("moved 3, failed 0, held 1", "moved 3, failed 0, held 2")  # a1 (a3 if back in time)
    served.settle(LEDGER_DLQ, 2)
    back = served.drain(LEDGER_DLQ)
    # group A's failures come back in the order the consumer met them: a1 before a3; a2 and group B went through
    assert [(m["Attributes"]["MessageGroupId"], logical(m))
            for m in back] == [("A", "a1"), ("A", "a3")]
    assert all("'values' must be a non-empty list" in m["MessageAttributes"]["ap-error-reason"]["StringValue"]
               for m in back)


def test_method_task_on_an_endpoint_without_move_tasks_is_one_line_exit_2(served: Served) -> None:
    served.dead_letter(EMAIL_DLQ, NO_RECIPIENT, "task-1")
    for extra in ([], ["--dry-run"]):
        done = redrive(served, "--pipeline", "email", "--method", "task", *extra)
        assert done.returncode == 2
        assert done.stderr == "error: this endpoint does not support message move tasks; use `--method client`\n"
    assert served.counts(EMAIL_DLQ) == (1, 0)
    served.drain(EMAIL_DLQ)


def test_list_shows_the_logical_id_first_and_the_reason(served: Served) -> None:
    served.dead_letter(EMAIL_DLQ, NO_RECIPIENT, "listed-1")
    done = run_dlq("list", "--stack", "prod", "--endpoint-url", served.aws, "--pipeline", "email", "--peek", "5")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if "listed-1" in x)
    assert line.startswith("  listed-1  (sqs ") and "kind permanent" in line
    assert "    reason: first failure" in done.stdout
    served.drain(EMAIL_DLQ)


def test_a_redrive_after_a_list_moves_each_message_once(served: Served) -> None:
    """`list` receives them first (receive count 2): the start then comes from our clock, which the served
    clock must not lag behind, or each copy that fails again looks older than the start and moves again."""
    for n in range(2):
        served.dead_letter(EMAIL_DLQ, NO_RECIPIENT, f"listed-then-moved-{n}")
    assert run_dlq("list", "--stack", "prod", "--endpoint-url", served.aws, "--pipeline", "email",
                   "--peek", "5").returncode == 0
    done = redrive_in_time(served, "--pipeline", "email", "--rate", "10")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "email/dlq: moved 2 messages to ap-prod-email" in done.stdout
    served.settle(EMAIL_DLQ, 2)
    assert sorted(logical(m) for m in served.drain(EMAIL_DLQ)) == ["listed-then-moved-0", "listed-then-moved-1"]
