"""sandbox.botocore_speed builds the same User-Agent header, faster."""

from __future__ import annotations

import copy
from contextlib import nullcontext
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from sandbox.botocore_speed import (
    ALIAS_METHOD,
    DEFAULT_ALIASES_FLAG,
    cached_signing_keys,
    memoised_user_agent_sanitising,
    shared_service_data,
)

REGION = "us-east-1"


def sent_user_agents(patched: bool) -> list[str]:
    """The User-Agent header of every request of a few SQS and DynamoDB calls, an app id included."""
    headers: list[str] = []

    def record(request: Any, **_: Any) -> None:
        value = request.headers["User-Agent"]
        headers.append(value.decode() if isinstance(value, bytes) else value)

    with mock_aws(), memoised_user_agent_sanitising() if patched else nullcontext():
        session = boto3.session.Session(region_name=REGION)
        app = Config(user_agent_appid="team#app/ü 1", user_agent_extra="extra/1 x#y")  # type: ignore[call-arg]
        for config in (None, app):
            sqs = session.client("sqs", config=config)
            dynamodb = session.client("dynamodb", config=config)
            for client in (sqs, dynamodb):
                client.meta.events.register("before-send", record)
            url = sqs.create_queue(QueueName=f"q{len(headers)}")["QueueUrl"]
            for _ in range(2):
                sqs.send_message(QueueUrl=url, MessageBody="m")
                sqs.receive_message(QueueUrl=url)
            dynamodb.list_tables()
    return headers


def test_the_user_agent_headers_are_the_same_with_and_without_the_patch() -> None:
    plain, patched = sent_user_agents(patched=False), sent_user_agents(patched=True)
    assert patched == plain
    assert len(plain) == 12
    # sanitised components ("#" kept where allowed, other characters -> "-"), per-request feature ids
    # (Powertools, once imported anywhere in the process, appends its own `PT/...` part: not at the end)
    assert "app/team#app---1" in plain[-1] and " extra/1 x#y" in plain[-1]
    assert len({h.split(" m/")[1].split(" ")[0] for h in plain}) > 1


def test_the_sanitiser_is_memoised_while_open_and_restored_after_a_failure() -> None:
    from botocore import useragent

    original = useragent.sanitize_user_agent_string_component
    with pytest.raises(RuntimeError), memoised_user_agent_sanitising():
        assert useragent.sanitize_user_agent_string_component is not original
        assert useragent.sanitize_user_agent_string_component("a b#c", allow_hash=False) == original("a b#c", False)
        raise RuntimeError("run failed")
    assert useragent.sanitize_user_agent_string_component is original


def test_sessions_opened_while_shared_use_one_loader_with_the_same_models() -> None:
    from botocore import loaders, session

    before = session.create_loader
    with shared_service_data():
        first, second = (boto3.session.Session(region_name=REGION)._session for _ in range(2))
        assert first.get_component("data_loader") is second.get_component("data_loader")
        shared = first.get_service_model("dynamodb")
    own = session.Session()
    own.register_component("data_loader", loaders.Loader())
    plain = own.get_service_model("dynamodb")
    assert shared is not plain and shared.operation_names == plain.operation_names
    for name in shared.operation_names:
        mine, theirs = shared.operation_model(name), plain.operation_model(name)
        assert mine.input_shape and theirs.input_shape
        assert mine.input_shape.members.keys() == theirs.input_shape.members.keys()
    assert session.create_loader is before


def test_event_names_are_aliased_as_botocore_does() -> None:
    from botocore.hooks import EventAliaser, HierarchicalEmitter

    def aliased(names: list[str], aliases: dict[str, str] | None = None) -> list[str]:
        aliaser = EventAliaser(HierarchicalEmitter(), aliases)
        return [getattr(aliaser, ALIAS_METHOD)(n) for n in names]

    names = ["before-call.sqs.SendMessage", "needs-retry.apigateway.GetRestApi", "docs.*.autoscaling.CreateTag",
             "before-parameter-build.s3.PutObject", "after-call.data.iot.GetThingShadow", "provide-client-params.logs"]
    expected = aliased(names)
    assert expected[1] == "needs-retry.api-gateway.GetRestApi"
    assert expected[4] == "after-call.iot-data-plane.GetThingShadow"
    with shared_service_data():
        for _ in range(2):  # the second time from the shared answers
            assert aliased(names) == expected
        client_copy = copy.copy(EventAliaser(HierarchicalEmitter()))  # how a client gets its session's
        assert [getattr(client_copy, ALIAS_METHOD)(n) for n in names] == expected
        assert client_copy.__dict__[DEFAULT_ALIASES_FLAG] is True
        assert aliased(["before-call.sqs.SendMessage"], {"sqs": "queue"}) == ["before-call.queue.SendMessage"]


def test_signatures_are_the_same_with_cached_signing_keys_and_take_one_hmac_once_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hmac

    from botocore import auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    made: list[bytes] = []
    real_new = hmac.new

    def counting_new(key: bytes, *args: Any, **kwargs: Any) -> Any:
        made.append(key)
        return real_new(key, *args, **kwargs)

    monkeypatch.setattr(hmac, "new", counting_new)  # the module botocore.auth signs with

    def signatures() -> list[str]:
        out = []
        for cls, service, region, day in [(auth.SigV4Auth, "sqs", "eu-west-1", "20261206"),
                                          (auth.SigV4Auth, "sqs", "eu-west-1", "20261206"),
                                          (auth.SigV4Auth, "sqs", "eu-west-1", "20261207"),
                                          (auth.SigV4Auth, "dynamodb", "us-east-1", "20261206"),
                                          (auth.S3SigV4Auth, "s3", "us-east-1", "20261206")]:
            for secret in ("secret-a", "secret-b"):
                signer = cls(Credentials("AKID", secret), service, region)
                request = AWSRequest(method="POST", url=f"https://{service}.{region}.amazonaws.com/", data=b"{}")
                request.context["timestamp"] = f"{day}T101010Z"
                out.append(signer.signature(f"string to sign {service}", request))
        return out

    plain = signatures()
    assert len(made) == 5 * len(plain)  # four HMACs for the key, one for the signature
    with cached_signing_keys():
        made.clear()
        cached = signatures()
        first = len(made)
        made.clear()
        again = signatures()
        assert len(made) == len(again) < first  # every key known now: one HMAC per signature
    assert cached == plain and again == plain
    assert len(set(plain)) == 8  # another day, service or secret signs differently
    assert not hasattr(auth.SigV4Auth.signature, "__wrapped__")  # restored
