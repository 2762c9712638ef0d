"""sandbox.request_environ builds the environ werkzeug's EnvironBuilder builds, for every request moto gets."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from sandbox.engine import RunOptions, run
from sandbox.request_environ import DIRECT_ARGUMENTS, direct_request_environ, environ_for


def comparable(environ: dict[str, Any]) -> list[tuple[str, Any]]:
    """The environ's items in order (header iteration follows it), the input stream as its bytes."""
    return [(k, v.getvalue() if k == "wsgi.input" else v) for k, v in environ.items()]


def builders(kwargs: dict[str, Any]) -> tuple[Any, Any]:
    built = EnvironBuilder(**kwargs)
    try:
        expected = comparable(built.get_environ())
    finally:
        built.close()
    direct = environ_for(**kwargs)
    return expected, None if direct is None else comparable(direct)


def test_every_request_of_a_sandbox_run_gets_the_builder_s_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.request import Request

    seen: list[dict[str, Any]] = []
    original = Request.from_values

    def recording(cls: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(dict(kwargs))
        return original.__func__(cls, *args, **kwargs)  # type: ignore[attr-defined]

    monkeypatch.setattr(Request, "from_values", classmethod(recording))
    monkeypatch.setattr("sandbox.engine.direct_request_environ", nullcontext)  # record werkzeug's own path
    report = run(RunOptions(stack="dev", count=12, poison_rate=0.2, seed=3)).report
    assert report["totals"]["processed"] > 0 and report["totals"]["dlq"] > 0
    assert all(call.keys() == DIRECT_ARGUMENTS for call in seen)
    direct = 0
    for call in seen:
        expected, got = builders(call)
        if got is not None:
            direct += 1
            assert got == expected, call
    assert direct > 0.8 * len(seen)  # the calls with a body: SQS, SNS, DynamoDB, S3 uploads


@pytest.mark.parametrize("path, query, headers", [
    ("/", "", [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.PutItem")]),
    ("/bucket/a b/ü%2Fß.json", "x-id=PutObject", [("Content-Type", "application/octet-stream")]),
    ("/p%20q/%E2%98%83", "a=1&b=%20&c", [("X-Dup", "1"), ("x-dup", "2"), ("Content-Length", "999")]),
    ("/", "", [("Host", "other.example:8443"), ("X-Amz-Meta-My_Key", "v")]),
    ("/", "", []),
])
@pytest.mark.parametrize("base_url", ["https://sqs.us-east-1.amazonaws.com", "http://localhost:4566",
                                      "https://s3.amazonaws.com/root/", "http://[::1]:5000"])
def test_edge_cases_get_the_builder_s_environ(path: str, query: str, headers: list[tuple[str, str]],
                                             base_url: str) -> None:
    call = {"method": "POST", "base_url": base_url, "path": path, "query_string": query,
            "data": b'{"a": 1}', "headers": headers}
    expected, got = builders(call)
    assert got == expected


@pytest.mark.parametrize("call", [
    {"method": "GET", "base_url": "https://s3.amazonaws.com", "path": "/b/k", "query_string": "", "data": b"",
     "headers": []},  # no body: the builder's own path
    {"method": "POST", "base_url": "https://h", "path": "/a?b=1", "query_string": "", "data": b"x", "headers": []},
    {"method": "POST", "base_url": "https://h?q", "path": "/", "query_string": "", "data": b"x", "headers": []},
])
def test_other_calls_are_left_to_the_builder(call: dict[str, Any]) -> None:
    assert environ_for(**call) is None


def test_the_patch_is_undone_and_falls_back_for_other_arguments() -> None:
    from moto.core.request import Request

    with direct_request_environ():
        assert "from_values" in Request.__dict__
        request = Request.from_values(path="/x", method="PUT", data=b"body", content_type="text/plain")
        assert request.get_data() == b"body" and request.content_type == "text/plain"
        direct = Request.from_values(method="POST", base_url="https://h", path="/y", query_string="a=1",
                                     data=b"z", headers=[("X-A", "b")])
        assert (direct.path, direct.args["a"], direct.headers["X-A"], direct.get_data()) == ("/y", "1", "b", b"z")
    assert "from_values" not in Request.__dict__


def test_a_header_value_with_a_newline_is_refused_as_the_builder_refuses_it() -> None:
    call: dict[str, Any] = {"method": "POST", "base_url": "https://h", "path": "/", "query_string": "",
                            "data": b"x", "headers": [("X-Bad", "a\nb")]}
    with pytest.raises(ValueError, match="newline"):
        EnvironBuilder(**call)
    with pytest.raises(ValueError, match="newline"):
        environ_for(**call)
