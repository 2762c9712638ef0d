"""`python -m sandbox serve`: the HTTP ingress contract (docs/http.md) on 127.0.0.1, over the sandbox.

One process: the stack's captured resources materialised in in-process moto (`engine.start`), the
event-source-mapping loop running continuously in a thread (`EventSourceMapping.tick`, `engine.next_event`
— the same code `sandbox run` drives), and a `ThreadingHTTPServer` answering

* `POST /pipelines/{name}` – `sandbox.ingress`: 202 {"messageId"}, or 400/403/404/413/429 with {"message"};
* `GET /messages/{id}` – `sandbox.follow`: where the message is, per consumer; 404 for an unknown id;
* `GET /` – the status page (`sandbox.status_page`), `GET /status.json` – what it polls.

Time is virtual and fast-forwards when idle: the clock moves with real time, and whenever every mapping
is idle it jumps to the next event (a delay or visibility timeout ending, a batching window closing), so
a message on a 300 s retry tier is retried as soon as nothing else can run. `--aws-port` also serves the
same emulator's AWS API (moto's ThreadedMotoServer), for boto3, the AWS CLI and `python -m ops.dlq`.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import logging
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from sandbox import ingress, plan, status_page
from sandbox.engine import Live, next_event, start
from sandbox.follow import follow
from sandbox.messages import Message
from sandbox.publish import routes as message_routes
from sandbox.topology import topology_from_capture
from stack_capture import Capture, capture_stack, load_stack_config

DEFAULT_API_KEY = "local-api-key"
RECENT = 20
IDLE_POLL = 0.02
QUIET = 0.5
"""Real seconds without a POST before the clock may jump: requests sent together see the same moment."""
GIL_TURN = 0.001
"""Seconds the mapping thread may keep the GIL once a woken request thread asks for it (Python's default: 0.005)."""


class PortInUse(OSError):
    """The port to listen on is taken: one line, exit status 2."""


@dataclass
class ServeOptions:
    stack: str = "dev"
    port: int = 8080
    aws_port: int | None = None
    host: str = "127.0.0.1"
    api_key: str = DEFAULT_API_KEY
    config: dict[str, Any] | None = None
    """Replaces `Pulumi.<stack>.yaml` (focused test stacks)."""
    function_logs: TextIO | None = None


class ServedStack:
    """The live sandbox behind the HTTP handlers; `lock` orders the mappings' work, the ledger and reads."""

    def __init__(self, live: Live, capture: Capture, api_key: str) -> None:
        self.live = live
        self.capture = capture
        self.routes = ingress.routes(live.topology, capture.config)
        self.api_key = api_key
        self.lock = threading.RLock()
        self.pipeline_of: dict[str, str] = {}
        self.recent: deque[str] = deque(maxlen=RECENT)
        self.accepted: deque[tuple[ingress.Route, Message]] = deque()
        self.dedup_lock = threading.Lock()
        self.last_request = 0.0
        topo = plan.build_flow_graph(capture)
        self.svg = status_page.diagram_svg(topo)
        self.mermaid = plan.render_mermaid(topo)

    # -- requests ---------------------------------------------------------------------------
    def post(self, name: str, headers: dict[str, str], read: Callable[[int], bytes], length: int) -> dict[str, Any]:
        """`POST /pipelines/{name}`; raises `ingress.Rejected` for every non-202 answer."""
        route = self.routes.get(name)
        if route is None:
            known = ", ".join(sorted(self.routes)) or "none"
            raise ingress.Rejected(404, f"no pipeline {name!r} in stack {self.live.topology.stack!r} "
                                        f"(pipelines: {known})")
        ingress.check_auth(route.settings, headers, self.api_key)
        if not route.bucket.take():
            raise ingress.Rejected(429, "Too Many Requests: over this pipeline's throttle")
        ingress.check_size(route.settings, length)
        message = ingress.accept(route, read(length), headers)
        self.last_request = time.monotonic()
        with self.dedup_lock:
            duplicate = route.duplicate(message, self.live.clock.now())
        if not duplicate:
            # Not under `lock`: a POST never waits for the mappings' invocations (moto takes concurrent
            # calls, as its own threaded server does); the ledger hears of it from the mappings' thread.
            ingress.send(self.live.aws, route, message)
            self.pipeline_of[message.logical_id] = route.pipeline.name
            self.accepted.append((route, message))
            if message.logical_id in self.recent:
                self.recent.remove(message.logical_id)
            self.recent.append(message.logical_id)
        return {"messageId": message.logical_id}

    def _record_accepted(self) -> None:
        """Hand the messages POSTed since the last call to the ledger (call with `lock` held)."""
        while self.accepted:
            route, message = self.accepted.popleft()
            self.live.ledger.accept(message, message_routes(self.live.topology, route.pipeline, message))

    def message(self, logical_id: str) -> dict[str, Any] | None:
        """Where a message is; also one sent straight to an entry through `--aws-port` once a consumer saw it."""
        with self.lock:
            self._record_accepted()
            pipeline = self.pipeline_of.get(logical_id)
            if pipeline is None:
                ledger = self.live.ledger
                scope = next((c for c, i in ledger.tracks if i == logical_id), None)
                info = ledger.consumers.get(scope) if scope else None
                if info is None:
                    return None
                pipeline = info.pipeline
            return follow(self.live.ledger, self.live.state, self.live.clock.now(), pipeline, logical_id)

    def status(self) -> dict[str, Any]:
        with self.lock:
            self._record_accepted()
            now = self.live.clock.now()
            queues = []
            for q in sorted(self.live.topology.queues.values(), key=lambda q: q.name):
                snap = self.live.state.snapshot(q.name, now, read_messages=False)
                queues.append({"name": q.name, "visible": snap.visible, "inFlight": snap.in_flight,
                               "delayed": snap.delayed})
            ids = list(reversed(self.recent))
        messages = [m for i in ids if (m := self.message(i)) is not None]
        clock = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + " UTC (virtual)"
        return {"stack": self.live.topology.stack, "clock": clock, "queues": queues, "messages": messages}

    def page(self) -> str:
        topo = self.live.topology
        return status_page.page(topo.stack, topo.region, self.svg, self.mermaid, self.status())

    # -- the event-source-mapping loop ------------------------------------------------------
    def run_mappings(self, stop: threading.Event) -> None:
        """Poll every mapping; when all are idle and no POST came in the last `QUIET` s, jump to the next event."""
        clock = self.live.clock
        last = time.monotonic()
        while not stop.is_set():
            with self.lock:
                real = time.monotonic()
                clock.sleep_until(clock.now() + (real - last))  # keep pace with real time
                last = real
            work = 0
            for mapping in self.live.mappings:
                if stop.is_set():
                    return
                with self.lock:
                    self._record_accepted()
                    work += mapping.tick()
            if work:
                continue
            with self.lock:
                wake = next_event(self.live) if time.monotonic() - self.last_request > QUIET else None
                if wake is not None:
                    clock.sleep_until(wake)
            if wake is None:
                stop.wait(IDLE_POLL)


def _handler(served: ServedStack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "sandbox-serve"
        protocol_version = "HTTP/1.1"
        wbufsize = -1
        """Buffered: status line, headers and body leave in one send when the handler flushes after each request."""

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the status page shows what happened."""

        def _send(self, status: int, body: dict[str, Any] | str, content_type: str = "application/json") -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            parts = path.strip("/").split("/")
            if len(parts) != 2 or parts[0] != "pipelines":
                self.close_connection = True
                self._send(404, {"message": f"no route POST {path}; POST /pipelines/{{name}}"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self._send(400, {"message": "Content-Length must be a byte count"})
                return
            headers = {k: v for k, v in self.headers.items()}
            consumed = False

            def read(n: int) -> bytes:
                nonlocal consumed
                consumed = True
                return self.rfile.read(n)

            try:
                body = served.post(unquote(parts[1]), headers, read, length)
            except ingress.Rejected as exc:
                if not consumed:
                    self.close_connection = True  # the unread body must not be taken for the next request
                self._send(exc.status, {"message": exc.reason})
                return
            except Exception as exc:  # the emulator failed: a 500 that names it, and the server stays up
                self.close_connection = True
                self._send(500, {"message": f"the entry failed: {type(exc).__name__}: {exc}"})
                return
            self._send(202, body)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/":
                self._send(200, served.page(), "text/html")
            elif path == "/status.json":
                self._send(200, served.status())
            elif path.startswith("/messages/") and path.count("/") == 2:
                logical_id = unquote(path.split("/", 2)[2])
                found = served.message(logical_id)
                if found is None:
                    self._send(404, {"message": f"no message {logical_id!r} was accepted by this server"})
                else:
                    self._send(200, found)
            else:
                self._send(404, {"message": f"no route GET {path}; try /, /status.json, /messages/{{id}}"})

    return Handler


class HttpServer(ThreadingHTTPServer):
    """One thread per connection; every accepted socket has TCP_NODELAY set.

    Without it, a response written in two sends over a keep-alive connection waits for the client's
    delayed ACK of the first (Nagle): ~40 ms on Linux, far more than the request itself takes.
    """

    daemon_threads = True

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, address


def bind(host: str, port: int) -> HttpServer:
    """The HTTP server, bound (before any slow setup, so a busy port fails at once)."""
    try:
        server = HttpServer((host, port), BaseHTTPRequestHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use; pick another with --port") from None
        raise
    return server


def check_free(host: str, port: int, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {port} on {host} is already in use; pick another with {flag}") from None
            raise


@contextlib.contextmanager
def aws_api(host: str, port: int | None) -> Iterator[str | None]:
    """moto's server on `port`, sharing the in-process emulator's state; yields its URL."""
    if port is None:
        yield None
        return
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep long-lived objects out of the cyclic GC while serving, so that no collection stalls a POST.

    A full collection walks every tracked object with every thread stopped: over the ~300,000 that setup
    leaves (the capture, moto's backends, botocore's models), 100–400 ms, which the POST in flight waits
    out. Setup's objects are frozen once; what survives each later full collection (the ledger, the
    emulator's queues and tables) is frozen after it, so each walks only what is new since the last.
    Reference counting still frees frozen objects; only cyclic garbage among them waits for the end.
    """

    def freeze_survivors(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    gc.collect()  # garbage from setup is freed now, not frozen
    gc.freeze()
    gc.callbacks.append(freeze_survivors)
    try:
        yield
    finally:
        gc.callbacks.remove(freeze_survivors)
        gc.unfreeze()


@contextlib.contextmanager
def short_gil_turns() -> Iterator[None]:
    """A request thread waits at most `GIL_TURN` for the mapping thread to yield the interpreter.

    The mapping thread runs pure Python (moto, Powertools) without pause; a request thread that comes
    back from its socket asks for the GIL and, at the default interval, waits up to 5 ms each time.
    Only threads that compete switch more often: while no request is in flight it costs nothing.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(GIL_TURN)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def serve(options: ServeOptions, stop: threading.Event, ready: Callable[[str, str | None], None]) -> None:
    """Serve until `stop` is set; `ready(url, aws_url)` once requests are answered. Raises PortInUse."""
    server = bind(options.host, options.port)
    try:
        if options.aws_port is not None:
            check_free(options.host, options.aws_port, "--aws-port")
        values = dict(options.config) if options.config is not None else load_stack_config(options.stack)
        capture = capture_stack(options.stack, config=values)
        topology = topology_from_capture(capture)
        with start(topology, function_logs=options.function_logs) as live, aws_api(
            options.host, options.aws_port
        ) as aws_url, frozen_heap(), short_gil_turns():
            served = ServedStack(live, capture, options.api_key)
            server.RequestHandlerClass = _handler(served)
            mapping_stop = threading.Event()
            loop = threading.Thread(target=served.run_mappings, args=(mapping_stop,), name="mappings", daemon=True)
            http = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="http",
                                    daemon=True)
            loop.start()
            http.start()
            port = server.server_address[1]
            ready(f"http://{options.host}:{port}", aws_url)
            stop.wait()
            server.shutdown()
            mapping_stop.set()
            loop.join(timeout=3.0)
    finally:
        server.server_close()

