"""`python -m sandbox serve`: the HTTP ingress contract (docs/http.md) on 127.0.0.1, over the sandbox.

One process: the stack's captured resources materialised in in-process moto (`engine.start`), the
event-source-mapping loop running continuously in a thread (`EventSourceMapping.tick`, `engine.next_event`
— the same code `sandbox run` drives), and a `ThreadingHTTPServer` answering

* `POST /pipelines/{name}` – `sandbox.ingress`: 202 {"messageId"}, or 400/403/404/413/429 with {"message"};
* `GET /messages/{id}` – `sandbox.follow`: where the message is, per consumer; 404 for an unknown id.
  Any message is followed, however it arrived: POSTed, or sent to an entry through `--aws-port` (the
  producer, the AWS CLI) - by its `ap-message-id`, or its SQS MessageId when it has none;
* `GET /` – the status page (`sandbox.status_page`), `GET /status.json` – what it polls.

Time is virtual and fast-forwards when idle: the clock moves with real time, and whenever every mapping
is idle it jumps to the next event (a delay or visibility timeout ending, a batching window closing), so
a message on a 300 s retry tier is retried as soon as nothing else can run. `--aws-port` also serves the
same emulator's AWS API (moto's ThreadedMotoServer), for boto3, the AWS CLI and `python -m ops.dlq`.

A POST is answered in its handler thread and never waits for the mapping loop: it takes no loop lock,
the loop starts no new batch while a POST is being answered (at most `YIELD_MAX`), the GIL changes hands
every `GIL_TURN`, each response leaves in one send on a TCP_NODELAY socket (no Nagle/delayed-ACK stall), and
setup's objects are frozen out of the cyclic GC's full collections (`bench/serve_latency.py`).
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
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from contract.runtime import MESSAGE_ID
from sandbox import ingress, plan, status_page
from sandbox.alarms import evaluate as evaluate_alarms
from sandbox.clock import VirtualClock
from sandbox.effects import record_logical_id
from sandbox.engine import Live, next_event, start
from sandbox.follow import follow
from sandbox.front_door import front_doors
from sandbox.messages import Message
from sandbox.publish import entry_queue_arns, routes_of_record
from sandbox.publish import routes as message_routes
from sandbox.topology import MappingSpec, topology_from_capture
from stack_capture import Capture, capture_stack

DEFAULT_API_KEY = "local-api-key"
RECENT = 20
IDLE_POLL = 0.02
AROUND = "sent around the server (--aws-port or a producer)"
"""Where a message that was not POSTed came from (the ledger's `where`)."""
QUIET = 0.5
"""Real seconds without a POST before the clock may jump: requests sent together see the same moment."""
YIELD_MAX = 0.05
"""Longest the mapping loop waits for POSTs in flight before it invokes the next batch anyway."""
GIL_TURN = 0.001
"""Seconds the mapping thread may keep the GIL once a woken request thread asks for it (Python's default: 0.005)."""


class PortInUse(OSError):
    """The port to listen on is taken: one line, exit status 2."""


@dataclass
class ServeOptions:
    stack: str = "dev"
    project_dir: Path | None = None
    """Where `stack` is looked up (stack_capture.stack_files.project_dir)."""
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
        self.recent_lock = threading.Lock()
        self.accepted: deque[tuple[ingress.Route, Message]] = deque()
        self.dedup_lock = threading.Lock()
        self.requests = threading.Condition()
        self.in_flight = 0
        """POSTs being answered: the mapping loop lets them run first (`_yield_to_requests`)."""
        self.last_request = 0.0
        live.ledger.on_first_sight = self._first_sight
        self.front_doors = [
            {"pipeline": d.pipeline, "text": d.describe(), "open": d.open} for d in front_doors(capture.config)
        ]
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
            # Known before it is sent, so a mapping that receives it at once does not take it for a stranger.
            already = message.logical_id in self.pipeline_of
            self.pipeline_of[message.logical_id] = route.pipeline.name
            try:
                ingress.send(self.live.aws, route, message)
            except Exception:
                if not already:
                    self.pipeline_of.pop(message.logical_id, None)
                raise
            self.accepted.append((route, message))
            self._remember(message.logical_id)
        return {"messageId": message.logical_id}

    def _remember(self, logical_id: str) -> None:
        """The status page's "Last messages": most recent first, each once."""
        with self.recent_lock:
            if logical_id in self.recent:
                self.recent.remove(logical_id)
            self.recent.append(logical_id)

    def _first_sight(self, mapping: MappingSpec, record: dict[str, Any]) -> None:
        """A message that did not come through POST (`--aws-port`, a producer): follow it like a POSTed one.

        Received at its pipeline's entry, it is accepted there, routed with the subscriptions' filter
        policies (so a subscriber it is filtered from says `filtered`, not `pending`); received later on
        (sent straight to a stage or tier queue), it is followed from there.
        """
        logical_id = record_logical_id(record)
        if logical_id in self.pipeline_of:  # a POST sending it right now
            return
        topology = self.live.topology
        pipeline = topology.pipelines[mapping.function.pipeline]
        self.pipeline_of[logical_id] = pipeline.name
        # Routed only by its ap-message-id: without one, each subscriber's copy has an SQS id of its own.
        carries_id = MESSAGE_ID in (record.get("messageAttributes") or {})
        if carries_id and mapping.queue.arn in entry_queue_arns(topology, pipeline):
            message = Message(pipeline.name, str(record.get("body", "")), {}, None, logical_id, AROUND)
            self.live.ledger.accept(message, routes_of_record(topology, pipeline, record))
        self._remember(logical_id)

    def _queued_pipeline(self, logical_id: str) -> str | None:
        """The pipeline whose entry queues hold `logical_id` now (sent around the server, not received yet)."""
        topology, now = self.live.topology, self.live.clock.now()
        for pipeline in topology.pipelines.values():
            for arn in entry_queue_arns(topology, pipeline):
                queue = next((q for q in topology.queues.values() if q.arn == arn), None)
                if queue is None:
                    continue
                if any(m.original_id == logical_id for m in self.live.state.snapshot(queue.name, now).messages):
                    return pipeline.name
        return None

    def _record_accepted(self) -> None:
        """Hand the messages POSTed since the last call to the ledger (call with `lock` held)."""
        while self.accepted:
            route, message = self.accepted.popleft()
            self.live.ledger.accept(message, message_routes(self.live.topology, route.pipeline, message))

    def message(self, logical_id: str) -> dict[str, Any] | None:
        """Where a message is, however it arrived: POSTed, or sent to an entry around the server."""
        with self.lock:
            self._record_accepted()
            pipeline = self.pipeline_of.get(logical_id)
            if pipeline is None:
                ledger = self.live.ledger
                scope = next((c for c, i in ledger.tracks if i == logical_id), None)
                info = ledger.consumers.get(scope) if scope else None
                pipeline = info.pipeline if info is not None else self._queued_pipeline(logical_id)
                if pipeline is None:
                    return None
            return follow(self.live.ledger, self.live.state, self.live.clock.now(), pipeline, logical_id)

    def status(self) -> dict[str, Any]:
        with self.lock:
            self._record_accepted()
            now = self.live.clock.now()
            queues = []
            snapshots = {}
            for q in sorted(self.live.topology.queues.values(), key=lambda q: q.name):
                snap = snapshots[q.name] = self.live.state.snapshot(q.name, now, read_messages=False)
                queues.append({"name": q.name, "visible": snap.visible, "inFlight": snap.in_flight,
                               "delayed": snap.delayed})
            alarms = [
                {"name": a.name, "metric": a.metric, "resource": ",".join(a.dimensions.values()),
                 "comparison": a.comparison, "threshold": a.threshold, "value": a.value, "state": a.state}
                for a in evaluate_alarms(self.live.topology.alarms, snapshots, self.live.ledger.functions,
                                         start=self.live.clock.start, now=now)
            ]
            with self.recent_lock:
                ids = list(reversed(self.recent))
        messages = [m for i in ids if (m := self.message(i)) is not None]
        clock = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + " UTC (virtual)"
        return {"stack": self.live.topology.stack, "clock": clock, "queues": queues, "alarms": alarms,
                "frontDoors": self.front_doors, "messages": messages}

    def page(self) -> str:
        topo = self.live.topology
        return status_page.page(topo.stack, topo.region, self.svg, self.mermaid, self.status())

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Around a POST: while any is being answered, the mapping loop starts no new invocation."""
        with self.requests:
            self.in_flight += 1
        try:
            yield
        finally:
            with self.requests:
                self.in_flight -= 1
                if not self.in_flight:
                    self.requests.notify_all()

    def _yield_to_requests(self) -> None:
        """Wait (at most `YIELD_MAX` s, so a request stream cannot starve the consumers) for POSTs to finish:
        in one process the mappings' functions and a request share the GIL, and the request should win."""
        with self.requests:
            self.requests.wait_for(lambda: not self.in_flight, timeout=YIELD_MAX)

    # -- the event-source-mapping loop ------------------------------------------------------
    def run_mappings(self, stop: threading.Event) -> None:
        """Poll every mapping; when all are idle and no POST came in the last `QUIET` s, jump to the next event."""
        clock = self.live.clock
        if isinstance(clock, VirtualClock):
            clock.follow_real_time()  # moves with real time between jumps
        while not stop.is_set():
            work = 0
            for mapping in self.live.mappings:
                if stop.is_set():
                    return
                self._yield_to_requests()
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
        """Buffered: status line, headers and body leave in one send when the handler flushes after each request
        (with two writes and Nagle on, the body would wait ~40 ms for the client's delayed ACK)."""

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
                with served.answering():
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
        capture = capture_stack(options.stack, config=options.config, project_dir=options.project_dir)
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

