"""Which Powertools layer the Lambdas run: the release pinned in requirements.txt, the one the tests use.

Powertools publishes one public SSM parameter per release, runtime and architecture whose value is the
layer version holding that release (Powertools docs, "Lambda Layers"; e.g. 3.23.0 is layer 27 of
`AWSLambdaPowertoolsPythonV3-python313-x86_64`). Resolving the layer from the pinned release, instead of
pinning a layer number, keeps what is tested and what runs in AWS the same package. For a release whose
parameter is missing (it happened: powertools-lambda-python#7689) `powertoolsLayerVersion` overrides it.
The parameter exists only in commercial regions with the layer (not me-central-1, China or GovCloud:
contract.aws); elsewhere the config check (`defaults.powertools_region_problem`) asks for
`powertoolsLayerVersion` before any resource is registered, and the ARN is built in the region's partition.
"""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import defaults as d

REQUIREMENTS = d.FUNCTIONS_DIR.parent / "requirements.txt"
"""The single source of the Powertools version: CI, the tests and the sandbox install from it."""
PACKAGE = "aws-lambda-powertools"
_PIN = re.compile(rf"^\s*{re.escape(PACKAGE)}(\[[^\]]*\])?\s*==\s*([0-9][0-9A-Za-z.+-]*)\s*(#.*)?$", re.IGNORECASE)


def pinned_version(requirements: Path = REQUIREMENTS) -> str:
    """The exact `aws-lambda-powertools==X.Y.Z` of requirements.txt; an unpinned one cannot pick a layer."""
    for line in requirements.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            return match.group(2)
    raise ValueError(f"{requirements.name}: no exact `{PACKAGE}==X.Y.Z` pin; the Lambda layer is chosen by it")


def layer_parameter_name(architecture: str, version: str) -> str:
    """`/aws/service/powertools/python/{arch}/python3.13/{version}` (the runtime as `python3.13`)."""
    return f"/aws/service/powertools/python/{architecture}/{d.LAMBDA_RUNTIME}/{version}"


def layer_arn(region: str, architecture: str, override: int | None) -> pulumi.Output[str]:
    """The layer ARN: the explicit layer version when given, else the pinned release's public SSM parameter."""
    if override is not None:
        return pulumi.Output.from_input(d.powertools_layer_arn(region, override, architecture))
    parameter = aws.ssm.get_parameter_output(name=layer_parameter_name(architecture, pinned_version()))
    return parameter.value
