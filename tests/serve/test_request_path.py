"""The POST path of `sandbox serve` stays short: it never waits for the mapping loop, a response leaves in one
send on a TCP_NODELAY socket, and setup's objects are kept out of the cyclic GC while serving.

No timed assertions: a generous join timeout only keeps a broken build from hanging the suite.
"""

from __future__ import annotations

import gc
import http.client
import importlib
import json
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any, cast

import pytest

from sandbox.engine import start
from sandbox.serve import GIL_TURN, HttpServer, ServedStack, _handler, bind, frozen_heap, short_gil_turns
from sandbox.topology import topology_from_capture
from stack_capture import capture_stack
from tests.serve.conftest import REGION

GENEROUS = 30.0
"""Seconds: far above any real answer, only so that a POST stuck behind the loop fails instead of hanging."""


class CountingSocket(socket.socket):
    """An accepted socket that counts the sends a response takes."""

    sends = 0

    def send(self, data: Any, flags: int = 0) -> int:
        CountingSocket.sends += 1
        return super().send(data, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        CountingSocket.sends += 1
        super().sendall(data, flags)


class CountingServer(HttpServer):
    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        nodelay = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        counted = CountingSocket(conn.family, conn.type, conn.proto, fileno=conn.detach())
        assert counted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == nodelay
        return counted, address


def test_accepted_sockets_have_tcp_nodelay() -> None:
    """Nagle + the client's delayed ACK hold a small response back ~40 ms on a keep-alive connection."""
    server = bind("127.0.0.1", 0)
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1])):
            conn, _ = server.get_request()
            with conn:
                assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server.server_close()


@pytest.fixture
def counting_server() -> Iterator[tuple[str, int]]:
    """The server's own handler on a socket that counts sends; only routes that never reach the stack are asked."""
    server = CountingServer(("127.0.0.1", 0), _handler(cast(ServedStack, None)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_response_leaves_in_one_send(counting_server: tuple[str, int]) -> None:
    """Status line, headers and body in one send: a second small send would wait on the first one's ACK."""
    conn = http.client.HTTPConnection(*counting_server, timeout=GENEROUS)
    CountingSocket.sends = 0
    for _ in range(3):  # one keep-alive connection, as a producer uses it
        conn.request("GET", "/no-such-page")
        response = conn.getresponse()
        assert response.status == 404
        assert "no route GET /no-such-page" in json.loads(response.read())["message"]
    conn.close()
    assert CountingSocket.sends == 3


def test_setup_objects_are_frozen_while_serving() -> None:
    built = [[n] for n in range(1000)]  # lists are tracked by the GC (dicts of ints are not)
    with frozen_heap():
        assert gc.get_freeze_count() >= len(built)
    assert gc.get_freeze_count() == 0


def test_survivors_of_a_full_collection_are_frozen_while_serving() -> None:
    """So that the next full collection walks only what is new, not the whole grown ledger again."""
    with frozen_heap():
        frozen = gc.get_freeze_count()
        kept = [[n] for n in range(1000)]
        gc.collect()
        assert gc.get_freeze_count() >= frozen + len(kept)
    gc.collect()
    assert gc.get_freeze_count() == 0


def test_the_mapping_thread_yields_the_gil_sooner_while_serving() -> None:
    """A request thread woken by its socket waits for the busy mapping thread at most one interval per turn."""
    default = sys.getswitchinterval()
    with short_gil_turns():
        assert sys.getswitchinterval() == pytest.approx(GIL_TURN)
        assert default > GIL_TURN
    assert sys.getswitchinterval() == default


def test_post_answers_while_the_mapping_loop_is_inside_a_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop holds its lock while a consumer runs; a POST is accepted (202) all the same."""
    config = {"aws:region": REGION, "async-pipelines:pipelines": {
        "media": {"pattern": "chain", "stages": [{"name": "download", "handler": "handlers.media:download"}]},
    }}
    capture = capture_stack("latency", config=config)
    entered, release = threading.Event(), threading.Event()
    with start(topology_from_capture(capture)) as live:
        media = importlib.import_module("handlers.media")  # importable once start() put functions/ on the path
        download = media.download

        def blocked(message: dict[str, Any]) -> Any:
            entered.set()
            release.wait(GENEROUS)
            return download(message)

        monkeypatch.setattr(media, "download", blocked)
        served = ServedStack(live, capture, "key")
        stop = threading.Event()
        loop = threading.Thread(target=served.run_mappings, args=(stop,), daemon=True)
        loop.start()
        try:
            first = post(served, {"id": "first", "url": "https://cdn.example.com/a.jpg"})
            assert entered.wait(GENEROUS), "the mapping loop never invoked the consumer"
            answers: list[dict[str, Any]] = []
            second = threading.Thread(
                target=lambda: answers.append(post(served, {"id": "second", "url": "https://cdn.example.com/b.jpg"}))
            )
            second.start()
            second.join(GENEROUS)
            assert not second.is_alive(), "the POST waited for the consumer the mapping loop is running"
            assert not release.is_set()
            assert answers and answers[0]["messageId"] != first["messageId"]
        finally:
            release.set()
            stop.set()
            loop.join(GENEROUS)


def post(served: ServedStack, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /pipelines/media` as the handler makes it (no auth: the pipeline has no `http:`)."""
    raw = json.dumps(body).encode()
    return served.post("media", {"Content-Type": "application/json"}, lambda n: raw[:n], len(raw))
