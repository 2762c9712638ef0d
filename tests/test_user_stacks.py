"""The user's own stacks (every `Pulumi.<stack>.yaml` of the project, whatever they hold) stay valid.

These tests assert only what every valid stack must have (tests/conftest.py): the sandbox drains its
messages with nothing lost, the smoke test answers OK for every consumer, `sandbox cost` measures every
enabled pipeline. The last test is the acceptance check of issue 19: a user adds a fan-out and a chain
pipeline with handlers of their own to dev, and every `user_stacks` test still passes (on a copy).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

import pytest
import yaml

from ops import smoke
from sandbox.__main__ import main as sandbox_main
from sandbox.cost.workload import workload
from sandbox.engine import RunOptions, run
from sandbox.topology import topology_from_capture
from stack_capture import cached_capture
from stack_capture.stack_files import PROJECT_DIR_VARIABLE
from tests.conftest import USER_PROJECT_DIR, USER_STACKS
from tests.ops.live_sandbox import live_sandbox


@pytest.mark.user_stacks
@pytest.mark.parametrize("stack", USER_STACKS)
def test_the_sandbox_drains_the_stack_with_nothing_lost(stack: str) -> None:
    """Samples where there are some, smoke probes for every other pipeline: each one carries traffic."""
    capture = cached_capture(stack, USER_PROJECT_DIR)
    topology = topology_from_capture(capture)
    messages = workload(topology, capture.disabled_pipelines).messages
    report = run(RunOptions(stack=stack, capture=capture, messages=messages)).report
    assert report["ok"] and report["drained"], report["totals"]
    assert report["totals"]["lost"] == 0 and report["totals"]["in_flight"] == 0
    assert set(report["pipelines"]) == set(capture.enabled_pipelines)
    assert all(p["published"] > 0 for p in report["pipelines"].values()), report["pipelines"]


@pytest.mark.user_stacks
@pytest.mark.parametrize("stack", USER_STACKS)
def test_the_smoke_test_answers_ok_for_every_consumer(
    stack: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    capture = cached_capture(stack, USER_PROJECT_DIR)
    with live_sandbox(capture):
        status = smoke.main(["--stack", stack, "--project-dir", str(USER_PROJECT_DIR), "--timeout", "60"])
    out = capsys.readouterr().out
    rows = out.strip().splitlines()[1:]
    assert status == 0, out
    assert {r.split()[0] for r in rows} == set(capture.enabled_pipelines), out


@pytest.mark.user_stacks
@pytest.mark.parametrize("stack", USER_STACKS)
def test_sandbox_cost_measures_every_enabled_pipeline(
    stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's `sandbox cost` command: pipelines without samples are measured with probes, not refused."""
    out_json = tmp_path / "cost.json"
    code = sandbox_main(["cost", "--stack", stack, "--project-dir", str(USER_PROJECT_DIR), "--json", str(out_json)])
    assert code == 0, capsys.readouterr().err
    data = json.loads(out_json.read_text())
    enabled = set(cached_capture(stack, USER_PROJECT_DIR).enabled_pipelines)
    assert {p for p, n in data["measured"]["published"].items() if n > 0} == enabled
    assert data["monthly_usd"] > 0


# --- the acceptance check: a user adds pipelines -------------------------------------------------------

NEW_HANDLERS = '''\
"""Inventory: a user's own business functions (added by tests/test_user_stacks.py to a copy)."""


def reserve(message: dict) -> dict:
    return {"sku": message.get("sku"), "reserved": True}


def restock(message: dict) -> None:
    return None


def fetch_report(message: dict) -> dict:
    return {"report": message.get("id"), "rows": 3}


def render_report(message: dict) -> dict:
    return {"report": message.get("report"), "pages": 1}
'''
NEW_PIPELINES = {
    "inventory": {
        "pattern": "fanout",
        "subscribers": {
            "reserve": {"handler": "handlers.inventory:reserve", "filter": {"type": ["order_created"]}},
            "restock": {"handler": "handlers.inventory:restock"},
        },
    },
    "reports": {
        "pattern": "chain",
        "stages": [
            {"name": "fetch", "handler": "handlers.inventory:fetch_report", "timeout": 60},
            {"name": "render", "handler": "handlers.inventory:render_report"},
        ],
    },
}
"""A new fan-out and a new chain pipeline, as a user would add them to `Pulumi.dev.yaml`."""
USER_STACK_TESTS = (
    "tests/test_user_stacks.py",
    "tests/policy/test_policy_real_stacks.py",
    "tests/infra/test_repeatable_inputs.py",
    "tests/infra/test_stacks.py",
)
"""Where the `user_stacks` tests live: the selected subset the copy runs (the whole suite would be too slow)."""
IGNORED = shutil.ignore_patterns(".git", "venv", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache", "*.pyc.*")
"""Not `__pycache__`: the copy's modules are this run's, byte for byte and with their times (`copytree` keeps them).
But `*.pyc.*`: the temporary file another worker's import writes a `.pyc` to and renames at once (a copy listing it
would then fail to find it)."""


def _unused(name: str, taken: Collection[str]) -> str:
    return next(n for n in (name, *(f"{name}{i}" for i in range(2, 100))) if n not in taken)


def _copy_with_new_pipelines(tmp_path: Path) -> tuple[Path, list[str]]:
    """The project copied, with NEW_PIPELINES and their module added to dev under names not yet taken."""
    copy = tmp_path / "project"
    shutil.copytree(USER_PROJECT_DIR, copy, ignore=IGNORED)
    handlers = copy / "functions" / "handlers"
    module = _unused("inventory", {p.stem for p in handlers.glob("*.py")})
    (handlers / f"{module}.py").write_text(NEW_HANDLERS)
    dev = copy / "Pulumi.dev.yaml"
    document = yaml.safe_load(dev.read_text())
    pipelines = document["config"]["async-pipelines:pipelines"]
    added = []
    for name, body in NEW_PIPELINES.items():
        added.append(_unused(name, pipelines))
        pipelines[added[-1]] = json.loads(json.dumps(body).replace("handlers.inventory:", f"handlers.{module}:"))
    dev.write_text(yaml.safe_dump(document, sort_keys=False))
    # Only dev changed: the user's other stacks would give the copy's tests the same inputs, and code, as the
    # `user_stacks` tests of this run, so the copy keeps dev alone (those tests then run for dev only).
    for other in copy.glob("Pulumi.*.yaml"):
        if other.name not in (dev.name, "Pulumi.yaml"):
            other.unlink()
    return copy, added


def _run(copy: Path, *argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (PROJECT_DIR_VARIABLE, "PYTEST_ADDOPTS")}
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run([sys.executable, *argv], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_adding_a_fanout_and_a_chain_pipeline_to_dev_keeps_the_user_stack_tests_green(tmp_path: Path) -> None:
    copy, added = _copy_with_new_pipelines(tmp_path)
    plan = _run(copy, "-m", "sandbox", "plan", "--stack", "dev", "--format", "text", timeout=300)
    assert plan.returncode == 0, plan.stderr
    header = plan.stdout.splitlines()[0]  # "stack dev · ... · pipelines: email (delayed retry), inventory (fan-out)…"
    fanout, chain = added
    assert f"{fanout} (fan-out)" in header and f"{chain} (chain)" in header, header
    done = _run(copy, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=", "-q",
                "-m", "user_stacks", *USER_STACK_TESTS, timeout=1500)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 9, summary  # 8 tests for dev, and one over all stacks
    assert not re.search(r"failed|error|skipped", summary), summary
