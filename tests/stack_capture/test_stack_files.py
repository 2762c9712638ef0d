"""Stack files read strictly, every config error at its line, and every CLI reporting them the same way (exit 2)."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pulumi
import pytest

from stack_capture import capture_stack, load_stack_config
from stack_capture.stack_files import (
    PROJECT_DIR_VARIABLE,
    StackFileError,
    UnknownStackError,
    find_stack,
    read_stack,
    stack_names,
)

GOOD = """\
config:
  aws:region: us-east-1
  async-pipelines:pipelines:
    email:
      pattern: retry
      handler: handlers.notify:send
      retries: [{delay: 30}]
"""
PATTERN_KEYS = (
    "pattern, enabled, fifo, largeMessages, subscribers, http, stages, retries, handler, timeout, memory, batchSize, "
    "batchWindow, maxConcurrency, maxReceiveCount, visibilityTimeout, retention, delay, idempotency, results"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory of stack files (no program: the project's runs), the working and default project dir."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(PROJECT_DIR_VARIABLE, str(tmp_path))
    return tmp_path


def write(project: Path, text: str, stack: str = "dev") -> Path:
    path = project / f"Pulumi.{stack}.yaml"
    path.write_text(text)
    return path


# --- reading ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("pattern: retry", "pattern: retry: x"),
            "Pulumi.dev.yaml:5:21: mapping values are not allowed here",
        ),
        (
            GOOD.replace("retries: [{delay: 30}]", "retries: [{delay: 30}"),
            "Pulumi.dev.yaml:8:1: expected ',' or ']', but got '<stream end>' "
            "(while parsing a flow sequence at line 7)",
        ),
        (
            GOOD.replace("      handler:", "     handler:"),
            "Pulumi.dev.yaml:6:6: expected <block end>, but found '<block mapping start>' "
            "(while parsing a block mapping at line 4)",
        ),
        ("config:\n\taws:region: us-east-1\n",
         "Pulumi.dev.yaml:2:1: found character '\\t' that cannot start any token (while scanning for the next token)"),
    ],
    ids=["colon-in-value", "unclosed-list", "bad-indent", "tab"],
)
def test_yaml_syntax_error_is_one_line_at_its_position(project: Path, text: str, expected: str) -> None:
    write(project, text)
    with pytest.raises(StackFileError) as info:
        read_stack("dev")
    assert info.value.problems == [expected]


def test_duplicate_keys_are_errors_at_every_level(project: Path) -> None:
    text = GOOD.replace("      retries:", "      handler: handlers.notify:other\n      retries:") + (
        "  aws:region: eu-west-1\n"
    )
    write(project, text)
    with pytest.raises(StackFileError) as info:
        read_stack("dev")
    assert info.value.problems == [
        "Pulumi.dev.yaml:7:7: duplicate key 'handler' (first at line 6); a later value would silently replace it",
        "Pulumi.dev.yaml:9:3: duplicate key 'aws:region' (first at line 2); a later value would silently replace it",
    ]


def test_an_unknown_top_level_key_is_named_with_its_correction(project: Path) -> None:
    write(project, GOOD.replace("config:", "confg:"))
    with pytest.raises(StackFileError) as info:
        read_stack("dev")
    assert info.value.problems == [
        "Pulumi.dev.yaml:1:1: unknown key 'confg'; did you mean 'config'? allowed keys: config, environment, "
        "secretsprovider, encryptedkey, encryptionsalt"
    ]


def test_config_keys_the_program_would_never_see_are_errors(project: Path) -> None:
    text = GOOD.replace("  async-pipelines:pipelines:", "  async-pipeline:pipelines:") + "  alarmEmail: a@b.co\n"
    write(project, text)
    with pytest.raises(Exception) as info:
        capture_stack("dev")
    assert info.value.errors == [  # type: ignore[attr-defined]
        "Pulumi.dev.yaml:3:3: async-pipeline:pipelines: unknown namespace 'async-pipeline'; "
        "did you mean async-pipelines:pipelines?",
        "Pulumi.dev.yaml:8:3: alarmEmail: a stack file's config key needs its namespace: async-pipelines:alarmEmail",
        "Pulumi.dev.yaml: pipelines: required; a mapping of pipeline name to its settings",
    ]


def test_stack_given_as_a_path_or_by_name_in_the_project_dir(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    path = write(other, GOOD, "staging")
    assert find_stack(str(path)) == path
    assert read_stack(str(path)).name == "staging"
    assert find_stack("staging", other) == path
    assert stack_names(other) == ["staging"]
    with pytest.raises(UnknownStackError, match=r"unknown stack 'staging': no Pulumi.staging.yaml \(stacks: none\)"):
        find_stack("staging")
    with pytest.raises(UnknownStackError, match=r"a stack file is named Pulumi\.<stack>\.yaml"):
        find_stack(str(tmp_path / "stack.yaml"))


# --- config errors at their line -------------------------------------------------------------------------


def test_config_errors_name_the_line_of_their_key(project: Path) -> None:
    text = """\
config:
  aws:region: us-east-1
  async-pipelines:alarmEmails: ops@example.com
  async-pipelines:pipelines:
    media:
      patern: chain
      stages:
        - {name: download, handler: handlers.media:download}
    email:
      pattern: retry
      handler: handlers.notify:sned
      memory: 64
      retries: [{delay: 30}]
"""
    write(project, text)
    with pytest.raises(Exception) as info:
        capture_stack("dev")
    assert info.value.errors == [  # type: ignore[attr-defined]
        "Pulumi.dev.yaml:3:3: async-pipelines.alarmEmails: unknown key 'alarmEmails'; did you mean 'alarmEmail'? "
        "allowed keys: pipelines, alarmEmail, alarms, logRetentionDays, powertoolsLayerVersion, architecture, "
        "apiGatewayCloudWatchRole",
        f"Pulumi.dev.yaml:6:7: pipelines.media.patern: unknown key 'patern'; did you mean 'pattern'? "
        f"allowed keys: {PATTERN_KEYS}",
        "Pulumi.dev.yaml:5:5: pipelines.media.pattern: required; allowed fanout, chain, retry",
        "Pulumi.dev.yaml:11:7: pipelines.email.handler: 'handlers.notify:sned': handlers/notify.py defines no "
        "function 'sned'; did you mean handlers.notify:send?",
        "Pulumi.dev.yaml:12:7: pipelines.email.memory: 64 is out of range; allowed 128–10240 MB",
    ]


def test_list_items_are_located_too(project: Path) -> None:
    write(project, GOOD.replace("retries: [{delay: 30}]", "retries:\n        - delay: 30\n        - delai: 60"))
    with pytest.raises(Exception) as info:
        capture_stack("dev")
    assert info.value.errors == [  # type: ignore[attr-defined]
        "Pulumi.dev.yaml:9:11: pipelines.email.retries[1].delai: unknown key 'delai'; did you mean 'delay'? "
        "allowed keys: delay",
        "Pulumi.dev.yaml:9:11: pipelines.email.retries[1].delay: required; seconds 0–900",
    ]


def test_the_program_under_pulumi_up_fails_before_any_resource_with_every_error_located(project: Path) -> None:
    """`pulumi up` runs __main__.py with the engine's config: it finds the stack file's lines on its own."""
    write(project, GOOD.replace("pattern: retry", "patern: retry").replace("retries:", "memory: 1\n      retries:"))
    config = load_stack_config("dev")  # as the engine hands it over: no pre-check by stack_capture
    with pytest.raises(pulumi.RunError) as info:
        capture_stack("dev", config=config)
    assert info.value.captured_resources == []  # type: ignore[attr-defined]
    message = str(info.value)
    assert message.startswith("invalid stack config (2 errors):\n")
    assert "  - Pulumi.dev.yaml:5:7: pipelines.email.patern: unknown key 'patern'; did you mean 'pattern'?" in message
    assert "  - Pulumi.dev.yaml:4:5: pipelines.email.pattern: required; allowed fanout, chain, retry" in message


def test_the_program_does_not_borrow_lines_from_a_file_it_was_not_given(project: Path) -> None:
    write(project, GOOD)
    with pytest.raises(pulumi.RunError) as info:
        capture_stack("dev", config={"aws:region": "us-east-1", "async-pipelines:pipelines": {"x": {"patern": 1}}})
    assert "  - pipelines.x.patern: unknown key 'patern'" in str(info.value)
    assert "Pulumi.dev.yaml" not in str(info.value)


# --- every command reports them the same way ----------------------------------------------------------


def _sandbox(*argv: str) -> int:
    from sandbox.__main__ import main

    return main(list(argv))


def _serve(*argv: str) -> int:
    from sandbox.__main__ import build_parser, serve_command

    return serve_command(build_parser().parse_args(["serve", *argv, "--port", "0"]))


def _dlq(*argv: str) -> int:
    from ops.dlq import main

    return main(["list", *argv])


def _smoke(*argv: str) -> int:
    from ops.smoke import main

    return main([*argv, "--endpoint-url", "http://127.0.0.1:9"])


def _producer(*argv: str) -> int:
    from producer.cli import main

    return main(["send", *argv, "--pipeline", "email", "--file", "messages.jsonl"])


COMMANDS: dict[str, Callable[..., int]] = {
    "sandbox run": lambda *a: _sandbox("run", "--quiet", *a),
    "sandbox plan": lambda *a: _sandbox("plan", *a),
    "sandbox cost": lambda *a: _sandbox("cost", *a),
    "sandbox serve": _serve,
    "ops.dlq": _dlq,
    "ops.smoke": _smoke,
    "producer": _producer,
}
BROKEN = {
    "syntax": (GOOD.replace("pattern: retry", "pattern: retry: x"),
               ["Pulumi.bad.yaml:5:21: mapping values are not allowed here"]),
    "duplicate": (GOOD.replace("      retries:", "      pattern: chain\n      retries:"),
                  ["Pulumi.bad.yaml:7:7: duplicate key 'pattern' (first at line 5); a later value would silently "
                   "replace it"]),
    "config": (GOOD.replace("pattern: retry", "patern: retry"),
               [f"Pulumi.bad.yaml:5:7: pipelines.email.patern: unknown key 'patern'; did you mean 'pattern'? "
                f"allowed keys: {PATTERN_KEYS}",
                "Pulumi.bad.yaml:4:5: pipelines.email.pattern: required; allowed fanout, chain, retry"]),
}


@pytest.mark.parametrize("broken", list(BROKEN))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_reports_a_broken_stack_file_alike_with_exit_2(
    project: Path, command: str, broken: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    text, expected = BROKEN[broken]
    write(project, text, "bad")
    (project / "messages.jsonl").write_text('{"body": {"to": "a@example.com"}}\n')
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = COMMANDS[command]("--stack", "bad", "--project-dir", str(project))
    assert (code, err.getvalue().splitlines(), out.getvalue()) == (2, expected, "")
