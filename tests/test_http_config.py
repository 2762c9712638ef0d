"""The `http:` mapping (issue 9 item 1): defaults per entry, every rule and the exact error it reports."""

from __future__ import annotations

from typing import Any

import pytest

from components import defaults as d
from components.config import ConfigError, FanOutPipeline, RetryPipeline, parse_stack_config
from components.http_config import HttpSettings

DASH = "\N{EN DASH}"
LE = "\N{LESS-THAN OR EQUAL TO}"


def fanout(http: Any, **pipeline: Any) -> dict[str, Any]:
    body = {"pattern": "fanout", "subscribers": {"billing": {"handler": "handlers.orders:bill"}}, **pipeline}
    return {"pipelines": {"orders": {**body, "http": http}}}


def retry(http: Any, **pipeline: Any) -> dict[str, Any]:
    body = {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}], **pipeline}
    return {"pipelines": {"email": {**body, "http": http}}}


def chain(http: Any) -> dict[str, Any]:
    stages = [{"name": "download", "handler": "handlers.media:download"}]
    return {"pipelines": {"media": {"pattern": "chain", "stages": stages, "http": http}}}


def http_of(raw: dict[str, Any]) -> HttpSettings | None:
    (pipeline,) = parse_stack_config(raw, stack="dev", region="us-east-1").pipelines
    return pipeline.http


def errors_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_stack_config(raw, stack="dev", region="us-east-1")
    return info.value.errors


def test_absent_http_means_no_ingress() -> None:
    raw = fanout(None)
    del raw["pipelines"]["orders"]["http"]
    assert http_of(raw) is None


def test_fanout_defaults_follow_the_sns_limit() -> None:
    assert http_of(fanout({})) == HttpSettings(
        entry_limit=262_144, auth="iam", public=False, throttle_rate=50.0, throttle_burst=100,
        max_body_bytes=262_144, fifo=False, group_from=None,
    )


@pytest.mark.parametrize("build", [retry, chain], ids=["retry", "chain"])
def test_queue_entries_default_to_the_sqs_limit(build: Any) -> None:
    http = http_of(build({}))
    assert http is not None and http.max_body_bytes == http.entry_limit == 1_048_576


def test_fifo_default_group_header() -> None:
    http = http_of(retry({}, fifo=True))
    assert http is not None and http.group_from == "X-Message-Group-Id" and http.group_header == "X-Message-Group-Id"


def test_group_from_jsonpath() -> None:
    http = http_of(fanout({"groupFrom": "$.customer.id"}, fifo=True))
    assert http is not None and http.group_path == ("customer", "id") and http.group_header is None


def test_all_settings() -> None:
    raw = retry({"auth": "apiKey", "throttle": {"rate": 5, "burst": 10}, "maxBodyBytes": 4096})
    http = http_of(raw)
    assert http is not None
    assert (http.auth, http.throttle_rate, http.throttle_burst, http.max_body_bytes) == ("apiKey", 5.0, 10, 4096)


def test_auth_none_with_public() -> None:
    http = http_of(chain({"auth": "none", "public": True}))
    assert http is not None and http.auth == "none" and http.public


def test_stack_switch_for_the_account_role() -> None:
    raw = retry({}) | {"apiGatewayCloudWatchRole": True}
    assert parse_stack_config(raw, stack="dev", region="us-east-1").api_gateway_cloudwatch_role is True
    assert parse_stack_config(retry({}), stack="dev", region="us-east-1").api_gateway_cloudwatch_role is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (fanout("yes"), ["pipelines.orders.http: expected a mapping of settings, got str 'yes'"]),
        (
            fanout({"auth": "jwt", "cors": True}),
            [
                "pipelines.orders.http.cors: unknown key 'cors'; allowed keys: auth, public, throttle, maxBodyBytes, "
                "groupFrom",
                "pipelines.orders.http.auth: 'jwt' is not allowed; allowed iam, apiKey, none",
            ],
        ),
        (
            fanout({"auth": "none"}),
            [
                "pipelines.orders.http.auth: 'none' lets anyone on the internet POST: it needs `public: true` "
                "next to it; otherwise use auth iam or apiKey"
            ],
        ),
        (
            fanout({"public": True}),
            ["pipelines.orders.http.public: true only goes with auth none (auth is 'iam'); remove it"],
        ),
        (
            fanout({"maxBodyBytes": 262_145}),
            [f"pipelines.orders.http.maxBodyBytes: 262145 is out of range; allowed 2{DASH}262144 bytes for an SNS "
             "topic (fan-out)"],
        ),
        (
            retry({"maxBodyBytes": 1_048_577}),
            [f"pipelines.email.http.maxBodyBytes: 1048577 is out of range; allowed 2{DASH}1048576 bytes for an SQS "
             "queue"],
        ),
        (
            retry({"throttle": {"rate": 0, "burst": 6000, "period": "DAY"}}),
            [
                "pipelines.email.http.throttle.period: unknown key 'period'; allowed keys: rate, burst",
                f"pipelines.email.http.throttle.rate: 0 is not allowed; requests per second, a number > 0 and "
                f"{LE} 10000",
                f"pipelines.email.http.throttle.burst: 6000 is out of range; allowed 1{DASH}5000 requests",
            ],
        ),
        (
            retry({"groupFrom": "X-Group"}),
            ["pipelines.email.http.groupFrom: only FIFO pipelines have message groups; remove it or set "
             "`fifo: true` on the pipeline"],
        ),
        (
            retry({"groupFrom": "$..customer[*]"}, fifo=True),
            ["pipelines.email.http.groupFrom: '$..customer[*]' is not allowed; allowed a header name (default "
             "X-Message-Group-Id) or a JSONPath into the body like $.customer.id"],
        ),
    ],
    ids=["not-mapping", "unknown-auth", "none-not-public", "public-not-none", "sns-ceiling", "sqs-ceiling",
         "throttle", "group-on-standard", "bad-group"],
)
def test_errors(raw: dict[str, Any], expected: list[str]) -> None:
    assert errors_of(raw) == expected


def test_http_errors_come_with_every_other_error() -> None:
    raw = fanout({"auth": "jwt"})
    raw["pipelines"]["orders"]["subscribers"]["billing"]["timeout"] = 0
    errors = errors_of(raw)
    assert len(errors) == 2
    assert errors[0].startswith("pipelines.orders.http.auth:") or errors[1].startswith("pipelines.orders.http.auth:")


def test_http_does_not_leak_into_other_pipelines() -> None:
    raw = fanout({})
    raw["pipelines"]["email"] = retry({})["pipelines"]["email"]
    del raw["pipelines"]["email"]["http"]
    config = parse_stack_config(raw, stack="dev", region="us-east-1")
    by_name = {p.name: p for p in config.pipelines}
    assert isinstance(by_name["orders"], FanOutPipeline) and by_name["orders"].http is not None
    assert isinstance(by_name["email"], RetryPipeline) and by_name["email"].http is None
    assert d.HTTP_AUTH == "iam"
