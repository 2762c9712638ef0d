"""One Powertools release for the tests and for AWS: requirements.txt's pin picks the Lambda layer.

The tests, the sandbox and CI import the `aws-lambda-powertools` installed from requirements.txt; the
functions in AWS import the public layer. The program resolves the layer from that same pin through
Powertools' public SSM parameter `/aws/service/powertools/python/{arch}/python3.13/{version}`.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import aws_lambda_powertools
import pulumi
import pytest

from components import powertools
from stack_capture import AwsMocks, Capture, capture_stack, stack_names
from stack_capture import capture as capture_module
from tests.infra.builders import REGION, capture_pipelines

FUNCTION = "aws:lambda/function:Function"
LAYER_PREFIX = "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-{arch}:"


class RecordingMocks(AwsMocks):
    """The capture mocks, also keeping the SSM parameters the program reads."""

    read: list[str] = []

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        if args.token == "aws:ssm/getParameter:getParameter":
            RecordingMocks.read.append(args.args["name"])
        return super().call(args)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    RecordingMocks.read = []
    monkeypatch.setattr(capture_module, "AwsMocks", RecordingMocks)
    return RecordingMocks.read


def test_requirements_pin_is_the_installed_powertools() -> None:
    """What the tests import is what requirements.txt pins (a stale venv or a loose pin fails here)."""
    pinned = powertools.pinned_version()
    assert importlib.metadata.version("aws-lambda-powertools") == pinned
    assert aws_lambda_powertools.__version__ == pinned


@pytest.mark.parametrize("stack", stack_names())
def test_every_function_runs_the_layer_of_the_pinned_release(stack: str, recorded: list[str]) -> None:
    capture: Capture = capture_stack(stack)
    arch = capture.config.architecture
    expected_parameter = f"/aws/service/powertools/python/{arch}/python3.13/{powertools.pinned_version()}"
    assert set(recorded) == {expected_parameter}
    assert len(recorded) == 1, "one lookup per stack, shared by every function"
    answer, _ = AwsMocks(capture.region).call(
        pulumi.runtime.MockCallArgs("aws:ssm/getParameter:getParameter", {"name": expected_parameter}, "")
    )
    assert answer["value"].startswith(LAYER_PREFIX.format(region=capture.region, arch=arch))
    functions = capture.of_type(FUNCTION)
    assert functions and all(f.inputs["layers"] == [answer["value"]] for f in functions)


def test_explicit_layer_version_overrides_the_lookup(recorded: list[str]) -> None:
    """For a release whose SSM parameter is missing (powertools-lambda-python#7689)."""
    chain = {"pattern": "chain", "stages": [{"name": "a", "handler": "handlers.media:download"}]}
    capture = capture_pipelines({"media": chain}, powertoolsLayerVersion=41, architecture="arm64")
    assert recorded == []
    (function,) = capture.of_type(FUNCTION)
    assert function.inputs["layers"] == [LAYER_PREFIX.format(region=REGION, arch="arm64") + "41"]


@pytest.mark.parametrize(
    ("line", "version"),
    [
        ("aws-lambda-powertools==3.37.0", "3.37.0"),
        ("aws-lambda-powertools[tracer] == 3.38.1  # layer has the extras", "3.38.1"),
        ("AWS-Lambda-Powertools==3.40.0rc1", "3.40.0rc1"),
    ],
)
def test_pinned_version_reads_the_exact_pin(tmp_path: Path, line: str, version: str) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"boto3>=1.40\n{line}\njmespath>=1.0\n")
    assert powertools.pinned_version(requirements) == version


@pytest.mark.parametrize(
    "line", ["aws-lambda-powertools>=3.37", "aws-lambda-powertools", "# aws-lambda-powertools==3.1.0"]
)
def test_an_unpinned_powertools_cannot_pick_a_layer(tmp_path: Path, line: str) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{line}\n")
    with pytest.raises(ValueError, match=r"no exact `aws-lambda-powertools==X.Y.Z` pin"):
        powertools.pinned_version(requirements)
