"""Build the WSGI environ of moto's in-process requests directly, the way werkzeug's EnvironBuilder does.

moto 5.2.5 turns every botocore request into a werkzeug `Request` through `Request.from_values`, which
constructs a `werkzeug.test.EnvironBuilder` - a general test-client builder with form, file, JSON and
multipart handling, property setters that rewrite its headers, and a second headers copy - only to
read its environ once: ~5 % of a sandbox run. Every moto request with a body (the SQS, SNS and
DynamoDB calls, S3 uploads) passes the same six arguments: method, base URL, path, query string,
body (bytes, or text for query-protocol calls), header pairs. `direct_request_environ()` builds that
environ with the builder's own steps for exactly that case - the same IRI quoting, WSGI encoding
dance, header value check, host and port split, header folding and class constants - and sends every
other call (no body, a query string inside the path, other arguments) to werkzeug's builder as before.
`tests/sandbox/test_request_environ.py` compares both environs for every request of a sandbox run and
for edge cases (non-ASCII and percent-encoded paths, ports, duplicate and Host headers).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import Any
from urllib.parse import unquote, urlsplit

from sandbox.patching import replaced

DIRECT_ARGUMENTS = frozenset({"method", "base_url", "path", "query_string", "data", "headers"})
"""The keyword arguments moto's `Request.from_primitives` passes; any other call takes werkzeug's path."""


@functools.lru_cache(maxsize=512)
def _uri(iri: str) -> str:
    """werkzeug's `iri_to_uri`, a pure function of the string: a run sends the same few hosts and paths."""
    from werkzeug.urls import iri_to_uri

    return iri_to_uri(iri)


def environ_for(method: str, base_url: str, path: str, query_string: str, data: bytes | str,
                headers: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The environ `EnvironBuilder(...).get_environ()` returns for these arguments, or None when they
    are outside the case built here (then the caller uses the builder)."""
    from werkzeug._internal import _wsgi_encoding_dance
    from werkzeug.datastructures.headers import _str_header_value
    from werkzeug.test import EnvironBuilder

    if isinstance(data, str):
        data = data.encode()  # as the builder does (SNS's query-protocol bodies arrive as text)
    if not isinstance(data, bytes) or not data or not isinstance(query_string, str) or "?" in path:
        return None
    scheme, host, script_root, qs, anchor = urlsplit(_uri(base_url))
    if qs or anchor:
        return None  # the builder raises ValueError: let it
    content_type: str | None = None
    kept: list[tuple[str, str]] = []
    for key, value in headers:  # the builder's `Headers`: values checked, then both content headers removed
        value = _str_header_value(value)
        name = key.lower()
        if name == "content-type":
            content_type = value if content_type is None else content_type
        elif name != "content-length":
            kept.append((key, value))
    raw_uri = _wsgi_encoding_dance(path)
    server_name, _, port = host.partition(":")
    server_port = int(port) if port.isdigit() else (443 if scheme == "https" else 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": _wsgi_encoding_dance(unquote(script_root.rstrip("/"))),
        "PATH_INFO": _wsgi_encoding_dance(unquote(_uri(urlsplit(path).path))),
        "QUERY_STRING": _wsgi_encoding_dance(query_string),
        "REQUEST_URI": raw_uri,
        "RAW_URI": raw_uri,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": EnvironBuilder.server_protocol,
        "wsgi.version": EnvironBuilder.wsgi_version,
        "wsgi.url_scheme": scheme,
        "wsgi.input": BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    environ["CONTENT_LENGTH"] = str(len(data))
    folded: dict[str, list[str]] = {}
    for key, value in kept:
        folded.setdefault(f"HTTP_{key.upper().replace('-', '_')}", []).append(value)
    for key, values in folded.items():
        environ[key] = ", ".join(values)
    return environ


@contextmanager
def direct_request_environ() -> Iterator[None]:
    """Give moto's `Request.from_values` the direct environ as the module docstring says; restore on exit."""
    from moto.core.request import Request

    try:  # werkzeug's private helpers that `environ_for` uses; a werkzeug without them: its own builder
        from werkzeug._internal import _wsgi_encoding_dance  # noqa: F401
        from werkzeug.datastructures.headers import _str_header_value  # noqa: F401
    except ImportError:
        yield
        return
    original = Request.from_values  # werkzeug's classmethod, bound to moto's Request

    def from_values(cls: type[Request], *args: Any, **kwargs: Any) -> Request:
        environ = None
        if not args and kwargs.keys() == DIRECT_ARGUMENTS:
            environ = environ_for(**kwargs)
        if environ is None:
            return original.__func__(cls, *args, **kwargs)  # type: ignore[attr-defined]
        return cls(environ)

    with replaced() as patches:
        patches.set(Request, "from_values", classmethod(from_values))  # inherited: removed again on exit
        yield
