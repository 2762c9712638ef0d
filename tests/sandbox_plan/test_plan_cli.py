"""`sandbox plan` / `python -m sandbox.plan`: formats, output file, and errors as one-line messages with exit 2."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.plan import main
from stack_capture import PROJECT_DIR


def args(**kwargs: object) -> argparse.Namespace:
    defaults: dict[str, object] = {"stack": "dev", "output": None, "format": "markdown"}
    return argparse.Namespace(**(defaults | kwargs))


def test_unknown_stack_exits_2_naming_it_and_the_known_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args(stack="nope")) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "'nope'" in err
    assert "stacks: dev, prod" in err


def test_standalone_module_unknown_stack_has_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.plan", "--stack", "nope"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: unknown stack 'nope': no tests/stacks/Pulumi.nope.yaml (stacks: dev, prod)"
    ]


def test_config_error_exits_2_with_the_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "__main__.py").symlink_to(PROJECT_DIR / "__main__.py")
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  async-pipelines:pipelines:\n    x:\n      pattern: nope\n"
    )
    assert main(args(stack="broken", project_dir=tmp_path)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert "pipelines.x.pattern: 'nope' is not a pattern; allowed fanout, chain, retry" in err


def test_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args(format="text")) == 0
    text = capsys.readouterr().out
    assert text.startswith("stack dev · us-east-1 · ")
    assert "flowchart" not in text

    assert main(args(format="mermaid")) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart LR\n")
    assert "├─" not in mermaid

    assert main(args(format="markdown")) == 0
    markdown = capsys.readouterr().out
    assert "```mermaid\n" + mermaid + "```" in markdown
    assert "```text\n" + text + "```" in markdown


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "plan.md"
    assert main(args(output=str(target))) == 0
    assert capsys.readouterr().out == ""
    written = target.read_text(encoding="utf-8")
    assert written.startswith("### Plan of stack `dev` (us-east-1)")
    assert "subgraph pipeline_orders" in written


def test_every_pipeline_shows_its_http_front_door_and_an_open_api_stands_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "__main__.py").symlink_to(PROJECT_DIR / "__main__.py")
    (tmp_path / "Pulumi.open.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  async-pipelines:pipelines:\n"
        "    hooks:\n      pattern: retry\n      handler: handlers.notify:send\n      retries: [{delay: 30}]\n"
        "      http: {auth: none, public: true, maxBodyBytes: 2048, throttle: {rate: 5, burst: 10}}\n"
        "    jobs:\n      pattern: chain\n      stages: [{name: run, handler: handlers.compute:transform}]\n"
    )
    assert main(args(stack="open", project_dir=tmp_path, format="text")) == 0
    text = capsys.readouterr().out
    assert ("  hooks: POST /pipelines/hooks · auth none (anyone who can reach the URL can send) · public · "
            "throttle 5/s burst 10 · maxBodyBytes 2048\n") in text
    assert "  jobs: no HTTP front door (no API in AWS)\n" in text
    assert main(args(stack="open", project_dir=tmp_path)) == 0
    markdown = capsys.readouterr().out
    assert "| `hooks` | **none** (anyone who can reach the URL can send) | yes | 5/s, burst 10 | 2048 |" in markdown
