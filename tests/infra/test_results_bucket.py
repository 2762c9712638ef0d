"""The results bucket gets a globally unique name, and everything uses the name it really got.

S3 bucket names are global across all accounts (S3 user guide, "General purpose bucket naming rules"):
a fixed `ap-<stack>-results` fails with BucketAlreadyExists for the second user of this project. The
provider names the bucket from `bucket_prefix` (≤ 37 characters + a 26-character unique suffix).
"""

from __future__ import annotations

import json
import re

import pytest

from components import defaults as d
from stack_capture import Capture, capture_stack
from tests.infra.builders import REGION, statements

BUCKET = "aws:s3/bucket:Bucket"
FUNCTION = "aws:lambda/function:Function"
S3_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _results_writers(capture: Capture) -> list[tuple[str, str, str]]:
    """(function name, its AP_RESULTS_BUCKET, the resource of its WriteResults grant) per writing consumer."""
    roles = {
        r.parent: r.inputs["policy"] for r in capture.resources if r.type == "aws:iam/rolePolicy:RolePolicy"
    }
    out = []
    for fn in capture.of_type(FUNCTION):
        variables = fn.inputs["environment"]["variables"]
        if "AP_RESULTS_BUCKET" in variables:
            (grant,) = [s for s in statements(roles[fn.parent]) if s["Sid"] == "WriteResults"]
            out.append((fn.inputs["name"], variables["AP_RESULTS_BUCKET"], grant["Resource"]))
    return out


def test_both_stacks_let_the_provider_name_the_bucket_and_use_that_name(project_stacks: dict[str, Capture]) -> None:
    for stack, capture in project_stacks.items():
        bucket = capture.named(BUCKET, "results")
        assert "bucket" not in bucket.inputs, f"{stack}: a fixed bucket name is not globally unique"
        prefix = bucket.inputs["bucketPrefix"]
        assert prefix == f"ap-{stack}-results-" and len(prefix) <= d.BUCKET_PREFIX_MAX
        name = capture.outputs["resultsBucket"]
        assert name == bucket.outputs["bucket"] and name.startswith(prefix) and len(name) <= 63
        assert S3_NAME.match(name), name
        writers = _results_writers(capture)
        assert writers, f"{stack}: some consumer has results: true"
        for function, env_bucket, resource in writers:
            assert env_bucket == name, function
            assert resource.startswith(f"arn:aws:s3:::{name}/"), function
        policy = capture.named("aws:s3/bucketPolicy:BucketPolicy", "results-policy")
        deny = statements(json.loads(policy.inputs["policy"]))[0]
        assert deny["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]


@pytest.mark.parametrize(
    ("stack", "prefix"),
    [
        ("dev", "ap-dev-results-"),
        ("a" * 31, "ap-" + "a" * 25 + "-results-"),  # the longest stack name: cut to 37 characters
        ("team-x-" + "b" * 18, "ap-team-x-" + "b" * 18 + "-results-"),
        ("ab-" + "c" * 21 + "-d", "ap-ab-" + "c" * 21 + "-results-"),  # no "--" where the cut meets a hyphen
    ],
)
def test_prefix_fits_the_providers_37_characters(stack: str, prefix: str) -> None:
    assert d.results_bucket_prefix(stack) == prefix
    assert len(prefix) <= d.BUCKET_PREFIX_MAX


def test_the_longest_stack_name_still_builds_a_valid_bucket() -> None:
    stack_name = "a" * 31
    chain = {"pattern": "chain", "stages": [{"name": "p", "handler": "handlers.media:publish", "results": True}]}
    capture = capture_stack(stack_name, config={"aws:region": REGION, "async-pipelines:pipelines": {"m": chain}})
    (bucket,) = capture.of_type(BUCKET)
    assert len(bucket.inputs["bucketPrefix"]) == d.BUCKET_PREFIX_MAX
    assert S3_NAME.match(capture.outputs["resultsBucket"])
