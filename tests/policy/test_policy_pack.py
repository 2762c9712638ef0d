"""The pack as the Pulumi CLI runs it: PulumiPolicy.yaml, __main__.py, and pulumi-policy's analyzer."""

from __future__ import annotations

import copy
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as sdk

from policy.guardrails import PACK_NAME, RULES, build_policies

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"


def test_pulumi_policy_yaml():
    spec = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    # PulumiPolicy.yaml fields known to the CLI (workspace.PolicyPackProject); no "name" field exists.
    assert set(spec) <= {"runtime", "version", "main", "description", "author", "website", "license"}
    assert spec["runtime"]["name"] == "python"
    assert len(spec["description"]) > 40


def test_requirements():
    lines = (POLICY_DIR / "requirements.txt").read_text().splitlines()
    names = {line.split("==")[0].strip() for line in lines if line.strip() and not line.startswith("#")}
    assert names == {"pulumi", "pulumi-policy"}


def test_importing_the_package_has_no_side_effects():
    done = subprocess.run(
        [sys.executable, "-c", "import policy, policy.guardrails, policy.guardrails.evaluate"],
        cwd=POLICY_DIR.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_main_builds_and_serves_the_policy_pack(monkeypatch, capfd):
    """Run policy/__main__.py as the CLI does (runpy.run_path on the directory).

    The real PolicyPack constructor starts pulumi-policy's gRPC analyzer on 127.0.0.1, prints the
    port for the engine, then sleeps forever; the sleep is made to raise KeyboardInterrupt, which the
    constructor handles by stopping the server and returning.
    """
    servicers = []
    original = sdk.analyzer_pb2_grpc.add_AnalyzerServicer_to_server

    def record(servicer, server):
        servicers.append(servicer)
        return original(servicer, server)

    def interrupt(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(sdk.analyzer_pb2_grpc, "add_AnalyzerServicer_to_server", record)
    monkeypatch.setattr(sdk.time, "sleep", interrupt)
    try:
        runpy.run_path(str(POLICY_DIR), run_name="__main__")
    finally:
        for module in [m for m in sys.modules if m == "guardrails" or m.startswith("guardrails.")]:
            del sys.modules[module]

    assert capfd.readouterr().out.strip().isdigit()  # the port handed to the engine
    [servicer] = servicers
    info = servicer.GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME == "async-pipelines-guardrails"
    assert "async-pipelines" in info.description
    levels = {EnforcementLevel.MANDATORY: proto.MANDATORY, EnforcementLevel.ADVISORY: proto.ADVISORY}
    assert [(p.name, p.enforcementLevel) for p in info.policies] == [(r.name, levels[r.level]) for r in RULES]
    assert all(p.description and p.remediation_steps for p in info.policies)


# --- pulumi-policy's analyzer servicer, fed protobuf requests like the engine's --------------------


@pytest.fixture
def analyzer():
    return sdk._PolicyAnalyzerServicer(PACK_NAME, "0.1.0", build_policies(), EnforcementLevel.ADVISORY)


def _analyze(analyzer, resource):
    request = proto.AnalyzeRequest(type=resource["type"], urn=resource["urn"], name=resource["name"])
    request.properties.update(copy.deepcopy(resource["props"]))
    return list(analyzer.Analyze(request, None).diagnostics)


def _analyze_stack(analyzer, resources):
    request = proto.AnalyzeStackRequest()
    for r in resources:
        item = request.resources.add(type=r["type"], urn=r["urn"], name=r["name"])
        item.properties.update(copy.deepcopy(r["props"]))
        for prop, urns in r["property_dependencies"].items():
            item.propertyDependencies[prop].urns.extend(urns)
            item.dependencies.extend(u for u in urns if u not in item.dependencies)
    return list(analyzer.AnalyzeStack(request, None).diagnostics)


def test_analyze_preview_resources_without_diagnostics(analyzer, stack):
    stack.preview()
    for resource in stack.resources:
        assert _analyze(analyzer, resource) == [], resource["name"]
    assert _analyze_stack(analyzer, stack.resources) == []


def test_analyze_reports_resource_violation(analyzer, stack):
    stack.preview()
    queue = stack["orders-billing-queue"]
    del queue["props"]["sqsManagedSseEnabled"]
    [diagnostic] = _analyze(analyzer, queue)
    assert diagnostic.policyName == "sqs-queue-encrypted"
    assert diagnostic.enforcementLevel == proto.MANDATORY
    assert diagnostic.urn == queue["urn"]
    description, message = diagnostic.message.split("\n", 1)
    assert description == (
        "Every SQS queue sets its encryption at rest explicitly (sqsManagedSseEnabled or kmsMasterKeyId)."
    )
    assert message.startswith('SQS queue "orders-billing-queue": SSE not set explicitly (AWS applies SSE-SQS')


def test_analyze_stack_reports_with_urns_and_levels(analyzer, stack):
    stack.remove("orders-billing-dlq-alarm")
    stack.props("orders-billing-function")["timeout"] = 900
    stack.preview()
    diagnostics = _analyze_stack(analyzer, stack.resources)
    found = {(d.policyName, d.enforcementLevel, d.urn) for d in diagnostics}
    assert found == {
        ("sqs-dlq-has-alarm", proto.MANDATORY, stack.urn("orders-billing-dlq")),
        ("lambda-sqs-esm-visibility-covers-timeout", proto.MANDATORY, stack.urn("orders-billing-esm")),
    }
    timeout = next(d for d in diagnostics if d.policyName == "lambda-sqs-esm-visibility-covers-timeout")
    # Engine numbers arrive as floats; messages still show whole seconds.
    assert "visibility timeout (180 s) is below the function's timeout (900 s)" in timeout.message
    assert not any("can't run policy" in d.message for d in diagnostics)
