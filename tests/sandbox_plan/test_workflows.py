"""The GitHub workflows parse, and run what the project promises: tests, lint, previews and ordered deploys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
TEST_COMMAND = "python -m pytest -n auto"
# Third-party actions are pinned to a full commit SHA with the release in a comment (zizmor's
# unpinned-uses audit; a tag can be moved to other code, a commit cannot).
PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?:\s+#\s*(?P<version>\S+))?\s*$")
SHA = re.compile(r"^[0-9a-f]{40}$")
VERSION = re.compile(r"^v(?P<major>\d+)\.\d+\.\d+$")


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(document, dict), name
    # YAML 1.1 reads the bare key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def uses(job: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(prefix)]


def runs(job: dict[str, Any]) -> list[str]:
    return [line.strip() for s in steps(job) for line in str(s.get("run", "")).splitlines() if line.strip()]


def pinned_uses(name: str) -> list[re.Match[str]]:
    """Every `uses:` line of a workflow, read from its text: YAML parsing drops the version comment."""
    lines = (WORKFLOWS / name).read_text().splitlines()
    return [m for m in map(PINNED_USES.match, lines) if m]


def release(sha: str) -> str:
    """The release a pinned SHA stands for, from its comment in the workflows."""
    versions = {m["version"] for w in WORKFLOWS.glob("*.yml") for m in pinned_uses(w.name) if m["ref"] == sha}
    assert len(versions) == 1, (sha, versions)
    return versions.pop()


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found = [s for s in steps(job) if str(s.get("uses", "")).startswith("pulumi/actions@")]
    for s in found:
        version = VERSION.match(release(s["uses"].split("@", 1)[1]))
        assert version and int(version["major"]) >= 6, s["uses"]
    return found


@pytest.fixture(scope="module")
def pr() -> dict[str, Any]:
    return load("pull-request.yml")


@pytest.fixture(scope="module")
def main() -> dict[str, Any]:
    return load("main.yml")


def _documented_test_commands() -> list[str]:
    """`python -m pytest …` lines of .ci/run and README.md, where those exist."""
    found = []
    for path in (ROOT / ".ci" / "run", ROOT / "README.md"):
        if path.is_file():
            for m in re.finditer(r"python3? -m pytest[^`\n|;&]*", path.read_text()):
                words = []
                for word in m.group(0).split():
                    if word.startswith(("$", '"$', ">", "2>")):  # shell plumbing, not the command
                        break
                    words.append(word)
                found.append(" ".join(words))
    return found


@pytest.mark.parametrize("workflow", ["pull-request.yml", "main.yml"])
def test_test_job_installs_dev_requirements_and_runs_tests_ruff_mypy(workflow: str) -> None:
    job = load(workflow)["jobs"]["test"]
    setup = uses(job, "actions/setup-python@")
    assert [s["with"]["python-version"] for s in setup] == ["3.11"]
    assert setup[0]["with"]["cache"] == "pip"
    commands = runs(job)
    assert "pip install -r requirements-dev.txt" in commands
    assert TEST_COMMAND in commands
    assert any(c.startswith("python -m ruff check") for c in commands)
    assert any(c.startswith("python -m mypy") for c in commands)
    documented = _documented_test_commands()
    if documented:  # lenient where .ci/run and README.md do not exist
        assert TEST_COMMAND in documented, documented
    ci_run = ROOT / ".ci" / "run"
    if ci_run.is_file():  # the workflow runs what .ci/run runs
        lines = ci_run.read_text().splitlines()
        checks = [line.strip() for line in lines if line.startswith(("python -m ", "zizmor "))]
        missing = [c for c in checks if "pip install" not in c and c not in commands]
        assert not missing, missing


def test_pull_request_trigger_permissions_and_concurrency(pr: dict[str, Any]) -> None:
    assert "pull_request" in pr["on"]
    assert pr["permissions"] == {"contents": "read"}
    assert pr["concurrency"]["cancel-in-progress"] is True
    preview = pr["jobs"]["preview"]
    assert preview["needs"] == "test"
    assert preview["permissions"] == {"contents": "read", "pull-requests": "write", "id-token": "write"}
    assert preview["concurrency"]["cancel-in-progress"] is True
    assert "matrix.stack" in preview["concurrency"]["group"]
    # A preview's cancel-in-progress must never reach a deploy's group.
    deploy_groups = {job["concurrency"]["group"] for job in load("main.yml")["jobs"].values() if "concurrency" in job}
    assert not any(preview["concurrency"]["group"].startswith(g) for g in deploy_groups)


def test_preview_matrix_runs_pulumi_preview_with_policy_pack(pr: dict[str, Any]) -> None:
    preview = pr["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    [step] = pulumi_steps(preview)
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ vars.PULUMI_ORG }}/${{ matrix.stack }}"
    assert step["with"]["comment-on-pr"] is True
    assert step["with"]["github-token"] == "${{ secrets.GITHUB_TOKEN }}"
    assert step["with"]["policyPacks"] == "policy"
    assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    [aws] = uses(preview, "aws-actions/configure-aws-credentials@")
    assert aws["with"]["role-to-assume"].startswith("${{ secrets.")
    assert steps(preview).index(aws) < steps(preview).index(step)


def test_preview_writes_the_no_cloud_plan_to_the_step_summary(pr: dict[str, Any]) -> None:
    preview = pr["jobs"]["preview"]
    assert preview["env"]["STACK"] == "${{ matrix.stack }}"
    commands = runs(preview)
    plan = next(i for i, c in enumerate(commands) if "-m sandbox plan" in c)
    assert commands[plan].endswith('python -m sandbox plan --stack "$STACK" --output plan.md')
    assert commands[plan + 1] == 'cat plan.md >> "$GITHUB_STEP_SUMMARY"'


@pytest.mark.parametrize("workflow", ["pull-request.yml", "main.yml"])
def test_pulumi_plugins_are_cached_by_requirements(workflow: str) -> None:
    jobs = [j for j in load(workflow)["jobs"].values() if pulumi_steps(j)]
    assert jobs
    for job in jobs:
        [cache] = uses(job, "actions/cache@")
        assert "~/.pulumi/plugins" in cache["with"]["path"]
        assert "hashFiles('requirements.txt'" in cache["with"]["key"]
        assert steps(job).index(cache) < steps(job).index(pulumi_steps(job)[0])


def test_main_deploys_dev_then_prod_in_environments(main: dict[str, Any]) -> None:
    assert main["on"]["push"]["branches"] == ["main"]
    assert main["permissions"] == {"contents": "read"}
    jobs = main["jobs"]
    assert jobs["deploy-dev"]["needs"] == "test"
    assert jobs["deploy-prod"]["needs"] == "deploy-dev"
    for stack in ("dev", "prod"):
        job = jobs[f"deploy-{stack}"]
        assert job["environment"] == stack
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        [step] = pulumi_steps(job)
        assert step["with"]["command"] == "up"
        assert step["with"]["stack-name"] == f"${{{{ vars.PULUMI_ORG }}}}/{stack}"
        assert step["with"]["policyPacks"] == "policy"
        assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
        [aws] = uses(job, "aws-actions/configure-aws-credentials@")
        assert aws["with"]["role-to-assume"].startswith("${{ secrets.")
    assert main["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("workflow", ["pull-request.yml", "main.yml"])
def test_every_action_is_pinned_to_a_commit_sha_with_its_release(workflow: str) -> None:
    found = pinned_uses(workflow)
    steps_with_uses = [s for job in load(workflow)["jobs"].values() for s in steps(job) if "uses" in s]
    assert len(found) == len(steps_with_uses)  # the text scan saw every step that uses an action
    for m in found:
        assert SHA.match(m["ref"]), f"{m['action']}@{m['ref']} is not pinned to a 40-hex commit SHA"
        assert m["version"] and VERSION.match(m["version"]), f"{m['action']}@{m['ref']} lacks '# vX.Y.Z'"


def test_each_action_is_pinned_to_one_release_everywhere() -> None:
    pins: dict[str, set[tuple[str, str | None]]] = {}
    for workflow in WORKFLOWS.glob("*.yml"):
        for m in pinned_uses(workflow.name):
            pins.setdefault(m["action"], set()).add((m["ref"], m["version"]))
    assert pins
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}


@pytest.mark.parametrize("workflow", ["pull-request.yml", "main.yml"])
def test_checkout_never_persists_the_token(workflow: str) -> None:
    jobs = load(workflow)["jobs"].values()
    checkouts = [s for job in jobs for s in uses(job, "actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, step


@pytest.mark.parametrize("workflow", ["pull-request.yml", "main.yml"])
def test_every_job_states_least_permissions(workflow: str) -> None:
    for name, job in load(workflow)["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{name}: no job-level permissions"
        assumes_aws_role = bool(uses(job, "aws-actions/configure-aws-credentials@"))
        comments = any(s.get("with", {}).get("comment-on-pr") is True for s in pulumi_steps(job)) or any(
            "gh api" in str(s.get("run", "")) and "/comments" in str(s.get("run", "")) for s in steps(job)
        )  # the Pulumi action's preview comment, or the cost job's comment through the REST API
        expected = {"contents": "read"}
        if assumes_aws_role:
            expected["id-token"] = "write"
        if comments:
            expected["pull-requests"] = "write"
        assert permissions == expected, name
