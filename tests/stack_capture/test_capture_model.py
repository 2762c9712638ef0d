"""The typed stack model: config as the program parsed it, resources, outputs, enabled pipelines."""

from __future__ import annotations

import pytest

from components.config import StackConfig
from stack_capture import Capture, cached_capture, capture_stack
from stack_capture.capture import PROGRAM_CONFIG_VARIABLE, _program_config


@pytest.fixture(scope="module")
def prod() -> Capture:
    return cached_capture("prod")


def test_config_is_the_programs_own_stack_config(prod: Capture) -> None:
    assert isinstance(prod.config, StackConfig)
    assert prod.config.stack == "prod" and prod.config.region == prod.region == "eu-west-1"


def test_enabled_and_disabled_pipelines_come_from_the_config_model(prod: Capture) -> None:
    assert "media" in prod.disabled_pipelines
    assert "media" not in prod.enabled_pipelines
    assert sorted(prod.enabled_pipelines) == sorted(prod.pipelines)


def test_pipeline_outputs_are_typed(prod: Capture) -> None:
    ledger = prod.pipelines["ledger"]
    assert ledger.pattern == "retry" and not ledger.entry_is_topic
    assert ledger.entry == ledger.queue_urls["main"]
    assert ledger.dlq_urls == {"dlq": prod.outputs["pipelines"]["ledger"]["dlqUrls"]["dlq"]}
    assert prod.pipelines["orders"].entry_is_topic


def test_overrides_switch_a_pipeline_off_in_the_model_and_the_resources() -> None:
    capture = capture_stack("dev", {"async-pipelines:pipelines": {"email": {
        "pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}], "enabled": False}}})
    assert capture.disabled_pipelines == ("email",) and capture.enabled_pipelines == ()
    assert capture.pipelines == {} and capture.resources
    assert not [r for r in capture.resources if "email" in r.name]


def test_a_program_without_its_config_variable_fails_naming_it() -> None:
    with pytest.raises(TypeError, match=f"`{PROGRAM_CONFIG_VARIABLE}`"):
        _program_config({})
