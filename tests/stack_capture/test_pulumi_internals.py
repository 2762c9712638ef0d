"""The private Pulumi APIs stack capture adapts still exist and still behave as it expects.

A Pulumi SDK upgrade that moves one of them fails here, naming it, rather than as a confusing
failure in every test that captures a stack.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from stack_capture import AwsMocks, pulumi_internals


def test_every_private_pulumi_api_stack_capture_uses_exists() -> None:
    missing = pulumi_internals.missing_internals()
    assert missing == [], (
        f"the installed Pulumi SDK lacks {', '.join(missing)}: adapt stack_capture/pulumi_internals.py"
    )


def test_a_missing_private_api_is_reported_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        pulumi_internals, "PRIVATE_APIS", (*pulumi_internals.PRIVATE_APIS, ("pulumi.runtime.stack", "gone_function"))
    )
    assert pulumi_internals.missing_internals() == ["pulumi.runtime.stack.gone_function"]
    with pytest.raises(pulumi_internals.PulumiInternalsChanged, match=r"pulumi\.runtime\.stack\.gone_function"):
        pulumi_internals._private("pulumi.runtime.stack", "gone_function")


def test_a_program_runs_with_stack_transforms_and_its_exports_resolve() -> None:
    """The adapter end to end: monitor, transform hook, program run, exports."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    mocks = AwsMocks("eu-west-1")
    monitor = pulumi_internals.RecordingMonitor(
        mocks, lambda request, urn, state: seen.append((request.type, urn, state))
    )
    pulumi_internals.install_mocks(mocks, project="probe", stack="t", monitor=monitor)
    pulumi_internals.set_engine_config({"probe:greeting": "hello"})

    def tag(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
        return pulumi.ResourceTransformResult({**args.props, "tags": {"team": "t"}}, args.opts)

    def program() -> None:
        import pulumi_aws as aws

        pulumi.runtime.register_resource_transform(tag)
        queue = aws.sqs.Queue("q", name="probe-q")
        pulumi.export("url", queue.url)
        pulumi.export("greeting", pulumi.Config("probe").get("greeting"))

    pulumi_internals.run_program(program)
    exports = pulumi_internals.stack_exports()

    [(type_, urn, state)] = seen
    assert type_ == "aws:sqs/queue:Queue" and urn.endswith("::q")
    assert state["tags"] == {"team": "t"}
    assert exports == {"url": "https://sqs.eu-west-1.amazonaws.com/123456789012/probe-q", "greeting": "hello"}
