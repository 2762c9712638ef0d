"""Every Pulumi.<stack>.yaml of the user loads, validates and builds under mocks; the tests' dev and prod
(tests/stacks/) switch on what they say."""

from __future__ import annotations

import pytest

from components import defaults as d
from components.config import parse_stack_config
from stack_capture import UnknownStackError, cached_capture, capture_stack, load_stack_config, stack_names
from tests.conftest import USER_PROJECT_DIR, USER_STACKS


def test_the_tests_have_dev_and_prod_stacks():
    assert {"dev", "prod"} <= set(stack_names())


@pytest.mark.user_stacks
def test_the_user_has_at_least_one_stack():
    assert USER_STACKS, f"no Pulumi.<stack>.yaml in {USER_PROJECT_DIR}"


@pytest.mark.user_stacks
@pytest.mark.parametrize("stack", USER_STACKS)
def test_stack_file_builds_and_exports_every_enabled_pipeline(stack):
    raw = load_stack_config(stack, USER_PROJECT_DIR)
    config = parse_stack_config(
        {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith("async-pipelines:")},
        stack=stack,
        region=raw["aws:region"],
    )
    capture = cached_capture(stack, USER_PROJECT_DIR)
    exported = capture.outputs["pipelines"]
    assert sorted(exported) == sorted(p.name for p in config.enabled_pipelines)
    queue_urls = {r.outputs["url"] for r in capture.of_type("aws:sqs/queue:Queue")}
    for name, out in exported.items():
        assert out["entry"], name
        assert set(out["queueUrls"].values()) <= queue_urls
        assert set(out["dlqUrls"].values()) <= queue_urls
        assert all(u.split("/")[-1].removesuffix(".fifo").endswith("-dlq") for u in out["dlqUrls"].values())
    functions = capture.of_type("aws:lambda/function:Function")
    assert all(f.inputs["layers"][0].startswith(f"arn:aws:lambda:{raw['aws:region']}:") for f in functions)


def test_dev_switches_on_one_pipeline_of_each_pattern():
    exported = cached_capture("dev").outputs["pipelines"]
    assert {p["pattern"] for p in exported.values()} == {"fanout", "chain", "retry"}
    assert exported["orders"]["entry"].startswith("arn:aws:sns:")
    assert list(exported["media"]["queueUrls"]) == ["download", "thumbnail", "publish"]
    assert list(exported["email"]["queueUrls"]) == ["main", "retry-1", "retry-2"]


def test_prod_switches_a_different_mix_with_production_settings():
    capture = cached_capture("prod")
    exported = capture.outputs["pipelines"]
    assert "media" not in exported, "media is enabled: false in prod"
    assert not [r for r in capture.resources if "media" in r.name]
    assert exported["ledger"]["entry"].endswith(".fifo")
    billing = next(
        r.inputs
        for r in capture.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
        if r.inputs["eventSourceArn"].endswith("orders-billing")
    )
    assert billing["scalingConfig"] == {"maximumConcurrency": 50}
    assert {f.inputs["architectures"][0] for f in capture.of_type("aws:lambda/function:Function")} == {"arm64"}
    assert any(
        r.inputs.get("protocol") == "email" for r in capture.of_type("aws:sns/topicSubscription:TopicSubscription")
    )


def test_prod_retry_consumer_splits_its_max_concurrency_over_main_and_tiers():
    """prod `email`: maxConcurrency 20 over main + 3 tiers; AWS caps each mapping, so they must sum to 20."""
    capture = cached_capture("prod")
    shares = [
        r.inputs["scalingConfig"]["maximumConcurrency"]
        for r in capture.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
        if r.inputs["functionName"].endswith(":function:ap-prod-email")
    ]
    assert sorted(shares) == [5, 5, 5, 5]


@pytest.mark.parametrize(
    ("total", "mappings", "shares"),
    [(2, 1, [2]), (20, 4, [5, 5, 5, 5]), (7, 3, [3, 2, 2]), (1000, 10, [100] * 10), (4, 2, [2, 2])],
)
def test_split_max_concurrency_sums_to_the_total_with_at_least_two_each(total, mappings, shares):
    assert d.split_max_concurrency(total, mappings) == shares


def test_split_max_concurrency_refuses_less_than_two_per_mapping():
    with pytest.raises(ValueError, match=r"maxConcurrency 5 cannot be split over 3 .* use ≥ 6"):
        d.split_max_concurrency(5, 3)


def test_unknown_stack_is_named_with_the_known_ones():
    with pytest.raises(UnknownStackError, match=r"unknown stack 'staging'.*dev, prod"):
        capture_stack("staging")
