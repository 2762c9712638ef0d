"""The README's set-up: two commands, each in the project's virtualenv; .ci/run runs the README's test command."""

from __future__ import annotations

import re

from stack_capture import PROJECT_DIR

VENV = "python3 -m venv venv && . venv/bin/activate && "


def setup_commands() -> list[str]:
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no bash block in the README's Set up section"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_two_setup_commands_each_creating_and_using_the_projects_virtualenv() -> None:
    tests, sandbox = setup_commands()
    assert tests.startswith(VENV) and sandbox.startswith(VENV)
    assert tests.endswith("pip install -r requirements-dev.txt && python -m pytest -n auto")
    assert sandbox.endswith("pip install -r requirements.txt && python -m sandbox run --stack dev")
    assert "virtualenv: venv" in (PROJECT_DIR / "Pulumi.yaml").read_text()  # the venv `pulumi install` uses


def test_ci_runs_the_readmes_test_command() -> None:
    tests, _ = setup_commands()
    readme_pytest = tests.rsplit(" && ", 1)[1]
    ci = [line.strip() for line in (PROJECT_DIR / ".ci" / "run").read_text().splitlines()]
    pytest_lines = [line for line in ci if re.match(r"python3? -m pytest\b", line)]
    assert pytest_lines == [readme_pytest]
    assert "python -m pip install --disable-pip-version-check -q -r requirements-dev.txt" in ci
