"""`python -m sandbox serve` as a user runs it: help, a busy port, bad input, and SIGTERM / Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from tests.serve.conftest import ROOT, Client, free_port

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "functions")])}


def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=120)


def test_help_states_the_clock() -> None:
    out = sandbox("serve", "--help").stdout
    assert "time: virtual, fast-forwarding when idle" in out
    assert "--aws-port" in out


def test_busy_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = sandbox("serve", "--stack", "dev", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr == f"error: port {port} on 127.0.0.1 is already in use; pick another with --port\n"


def test_busy_aws_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = sandbox("serve", "--stack", "dev", "--port", "0", "--aws-port", str(port))
    assert done.returncode == 2
    assert done.stderr == f"error: port {port} on 127.0.0.1 is already in use; pick another with --aws-port\n"


def test_unknown_stack_is_exit_2() -> None:
    done = sandbox("serve", "--stack", "nope", "--port", "0")
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown stack 'nope'") and done.stderr.count("\n") == 1


def test_bad_port_is_exit_2() -> None:
    done = sandbox("serve", "--port", "70000")
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
