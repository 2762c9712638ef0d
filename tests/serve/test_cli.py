"""`python -m sandbox serve` as a user runs it: help, a busy port, bad input (in-process, through the CLI's own
parser and command), and SIGTERM / Ctrl-C (end to end, in a subprocess)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass

import pytest

from sandbox.__main__ import build_parser, serve_command
from tests.serve.conftest import ROOT, Client, free_port

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "functions")])}


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def sandbox(capsys: pytest.CaptureFixture[str], *args: str) -> Done:
    """`python -m sandbox serve ...` without the process: `main` itself ends a serve run with os._exit."""
    try:
        code = serve_command(build_parser().parse_args(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return Done(code, out, err)


def test_help_states_the_clock(capsys: pytest.CaptureFixture[str]) -> None:
    out = sandbox(capsys, "serve", "--help").stdout
    assert "time: virtual, fast-forwarding when idle" in out
    assert "--aws-port" in out


def test_busy_port_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = sandbox(capsys, "serve", "--stack", "dev", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr == f"error: port {port} on 127.0.0.1 is already in use; pick another with --port\n"


def test_busy_aws_port_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = sandbox(capsys, "serve", "--stack", "dev", "--port", "0", "--aws-port", str(port))
    assert done.returncode == 2
    assert done.stderr == f"error: port {port} on 127.0.0.1 is already in use; pick another with --aws-port\n"


def test_unknown_stack_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    done = sandbox(capsys, "serve", "--stack", "nope", "--port", "0")
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown stack 'nope'") and done.stderr.count("\n") == 1


def test_bad_port_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    done = sandbox(capsys, "serve", "--port", "70000")
    assert done.returncode == 2 and "out of range" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_it_cleanly(sig: signal.Signals) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--stack", "dev", "--port", str(port)],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith(f"serving stack 'dev' on http://127.0.0.1:{port}")
    client = Client(f"http://127.0.0.1:{port}")
    sent = client.post("email", {"to": "ana@example.com", "subject": "Hi", "text": "Hello"})
    assert client.settled(sent.body["messageId"])["consumers"][0]["state"] == "processed"  # functions ran
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == "stopped" and "Traceback" not in err
