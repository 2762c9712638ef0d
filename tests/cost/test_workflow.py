"""The pull-request workflow posts each stack's cost and its difference to the base branch."""

from __future__ import annotations

from typing import Any

import yaml

from stack_capture import PROJECT_DIR


def cost_job() -> dict[str, Any]:
    workflow = yaml.safe_load((PROJECT_DIR / ".github/workflows/pull-request.yml").read_text())
    return dict(workflow["jobs"]["cost"])


def test_cost_job_compares_base_and_head_without_cloud_access() -> None:
    job = cost_job()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    checkouts = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert {s["with"]["path"] for s in checkouts} == {"base", "head"}
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)
    assert any("base.sha" in str(s["with"].get("ref", "")) for s in checkouts)
    assert all("@" in s["uses"] and len(s["uses"].split("@")[1].split()[0]) == 40 for s in checkouts)
    script = "\n".join(str(s.get("run", "")) for s in job["steps"])
    assert "-m sandbox cost --stack" in script and "--json" in script and "--diff" in script
    assert "GITHUB_STEP_SUMMARY" in script
    assert not any("aws-actions" in str(s.get("uses", "")) or "pulumi/actions" in str(s.get("uses", ""))
                   for s in job["steps"])
    comment = next(s for s in job["steps"] if "gh api" in str(s.get("run", "")))
    assert comment["if"] == "env.SAME_REPO == 'true'"  # forks get a read-only token
