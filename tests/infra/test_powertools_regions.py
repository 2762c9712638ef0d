"""The Powertools layer outside the regions with its public SSM parameter, and ARNs in every partition.

Powertools publishes `/aws/service/powertools/python/...` only in commercial layer regions (not
me-central-1, China or GovCloud); there the layer version must come from `powertoolsLayerVersion`, and it
is a config error, reported with the others before any resource is registered. China and GovCloud have
their own partitions (`arn:aws-cn:`, `arn:aws-us-gov:`) and their own publishing accounts (Powertools
docs, "Installation": AWS China / AWS GovCloud regions).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components import defaults as d
from contract import aws
from stack_capture import capture_stack

CHAIN = {"pattern": "chain", "stages": [{"name": "a", "handler": "handlers.media:download"}]}
FANOUT = {"pattern": "fanout", "subscribers": {"billing": {"handler": "handlers.orders:bill"}}}


def capture_in(region: str, **extra: Any):
    config = {"aws:region": region, "async-pipelines:pipelines": {"media": CHAIN, "orders": FANOUT}}
    config |= {f"async-pipelines:{k}": v for k, v in extra.items()}
    return capture_stack("test", config=config)


@pytest.mark.parametrize("region", ["me-central-1", "cn-north-1", "us-gov-west-1"])
def test_a_region_without_the_ssm_parameter_is_a_config_error_naming_the_way_out(region: str) -> None:
    config = {
        "aws:region": region,
        "async-pipelines:pipelines": {"media": CHAIN},
        "async-pipelines:architecture": "z80",
    }
    with pytest.raises(pulumi.RunError) as caught:
        capture_stack("test", config=config)
    errors = str(caught.value).splitlines()
    [problem] = [e for e in errors if e.strip().startswith("- aws:region:")]
    assert f"{region!r}: Powertools publishes no public SSM parameter" in problem
    assert "set async-pipelines:powertoolsLayerVersion" in problem
    assert any(e.strip().startswith("- architecture:") for e in errors), "collected with the other config errors"
    assert caught.value.captured_resources == []  # type: ignore[attr-defined]  # nothing was registered


def test_a_region_without_any_layer_is_an_error_even_with_a_layer_version() -> None:
    with pytest.raises(pulumi.RunError, match="'cn-northwest-1': Powertools publishes no public Lambda layer"):
        capture_in("cn-northwest-1", powertoolsLayerVersion=27)


@pytest.mark.parametrize(
    ("region", "partition", "account"),
    [
        ("cn-north-1", "aws-cn", "498634801083"),
        ("us-gov-east-1", "aws-us-gov", "165087284144"),
        ("us-gov-west-1", "aws-us-gov", "165093116878"),
        ("me-central-1", "aws", "017000801446"),
    ],
)
def test_with_a_layer_version_every_arn_is_in_the_region_s_partition(region: str, partition: str, account: str) -> None:
    capture = capture_in(region, powertoolsLayerVersion=27, architecture="arm64")
    functions = capture.of_type("aws:lambda/function:Function")
    assert functions and {tuple(f.inputs["layers"]) for f in functions} == {
        (f"arn:{partition}:lambda:{region}:{account}:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27",)
    }
    # every ARN the program writes itself (policies, alarm sources, key policies) is in the partition
    text = json.dumps([r.inputs for r in capture.resources], default=str)
    foreign = sorted({arn for arn in _arns(text) if not arn.startswith(f"arn:{partition}:")})
    assert foreign == []


def _arns(text: str) -> set[str]:
    import re

    return set(re.findall(r"arn:[a-z-]+:[a-z0-9-]+:[^\"\s,]*", text))


def test_partitions_follow_the_region_name() -> None:
    assert [aws.partition_of(r) for r in ("eu-west-1", "cn-northwest-1", "us-gov-west-1", "us-isob-east-1")] == [
        "aws", "aws-cn", "aws-us-gov", "aws-iso-b",
    ]  # fmt: skip


def test_commercial_layer_regions_resolve_by_ssm_and_need_no_layer_version() -> None:
    assert d.powertools_region_problem("eu-west-1", explicit_version=False) is None
    assert aws.powertools_ssm_published("us-east-1") and not aws.powertools_ssm_published("me-central-1")


def test_http_ingress_arns_are_in_the_region_s_partition_too() -> None:
    chain = {**CHAIN, "http": {}}
    config = {
        "aws:region": "cn-north-1",
        "async-pipelines:pipelines": {"media": chain},
        "async-pipelines:powertoolsLayerVersion": 27,
        "async-pipelines:apiGatewayCloudWatchRole": True,
    }
    capture = capture_stack("test", config=config)
    text = json.dumps([r.inputs for r in capture.resources], default=str)
    assert sorted(a for a in _arns(text) if not a.startswith("arn:aws-cn:")) == []
