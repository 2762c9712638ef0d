"""Invoke the real Lambda entry point in this process, the way the Lambda service would.

Per invocation: the function's captured environment variables (plus what Lambda itself sets) are
swapped into `os.environ` and restored afterwards (the runtime reads its wiring per invocation,
docs/contracts.md §1); `functions/` is on `sys.path` (the code root of the deployment package); the
context object answers `get_remaining_time_in_millis()` against the function's timeout; whatever the
function prints or logs goes to one sink (discarded, or `--function-logs FILE`).

Timeouts: Python cannot be interrupted, so an invocation always runs to its end. If it took longer
(in real time) than the function's timeout, the result is thrown away and the invocation counts as
timed out, as in AWS: no partial response, the whole batch returns to the queue. Invocations take no
virtual time (the virtual clock only moves when every mapping is idle).
"""

from __future__ import annotations

import importlib
import io
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sandbox.topology import FunctionSpec

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
_RUNTIME_PREFIXES = ("AP_", "POWERTOOLS_", "AWS_LAMBDA_")


class FunctionOutput(io.TextIOBase):
    """The one stream every invocation writes to; loggers created inside keep pointing here.

    Powertools binds `sys.stdout` when a Logger is created (on a function's first invocation), so the
    sink must be the same object for the whole process; where it forwards to can change.
    """

    def __init__(self) -> None:
        super().__init__()
        self.target: TextIO | None = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.target is not None:
            self.target.write(text)
        return len(text)

    def flush(self) -> None:
        if self.target is not None:
            self.target.flush()


FUNCTION_OUTPUT = FunctionOutput()

InvocationObserver = Callable[["FunctionSpec", dict[str, Any], "InvocationOutcome"], None]
_INVOCATION_OBSERVERS: list[InvocationObserver] = []


@contextmanager
def observe_invocations(observer: InvocationObserver) -> Iterator[None]:
    """Call `observer(function, event, outcome)` after every invocation inside the block (cost metering)."""
    _INVOCATION_OBSERVERS.append(observer)
    try:
        yield
    finally:
        _INVOCATION_OBSERVERS.remove(observer)


class LambdaContext:
    """The attributes of Lambda's context object that runtimes and Powertools read."""

    def __init__(self, function: FunctionSpec, region: str, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"sandbox/[$LATEST]{self.aws_request_id.replace('-', '')}"
        self.region = region
        self._monotonic = monotonic
        self._deadline = monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._monotonic()) * 1000))


@dataclass
class InvocationOutcome:
    response: Any
    error: str | None
    """Set when the invocation failed as a whole (exception, timeout): the batch returns to the queue."""
    duration: float
    timed_out: bool = False
    cpu_seconds: float = 0.0
    """CPU time of the invocation in this process (moto included): steadier than `duration` on a busy machine."""
    traceback: str | None = None
    """The full traceback when the function raised (`sandbox invoke` prints it)."""


def lambda_environment(function: FunctionSpec, extra: Mapping[str, str]) -> dict[str, str]:
    """What Lambda sets for a function, then the function's own variables (which win)."""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR),
        "_HANDLER": function.handler,
        **extra,
    }
    env.update(function.environment)
    return env


@contextmanager
def swapped_environ(env: Mapping[str, str]) -> Iterator[None]:
    """`os.environ` holds exactly the process's own variables (minus other functions' wiring) + `env`."""
    saved = {k: v for k, v in os.environ.items() if k in env or k.startswith(_RUNTIME_PREFIXES)}
    for key in list(saved):
        if key not in env:
            del os.environ[key]
    os.environ.update(env)
    try:
        yield
    finally:
        for key in env:
            os.environ.pop(key, None)
        os.environ.update(saved)


def ensure_functions_on_path(functions_dir: Path = FUNCTIONS_DIR) -> None:
    if str(functions_dir) not in sys.path:
        sys.path.insert(0, str(functions_dir))


def resolve_entry(spec: str) -> Callable[[dict[str, Any], Any], Any]:
    """`pipeline_runtime.entry.handler` -> the function object."""
    module_name, _, attr = spec.rpartition(".")
    ensure_functions_on_path()
    handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module_name), attr)
    return handler


class Invoker:
    """Runs functions in-process with their own environment; one per run.

    `monotonic` measures an invocation against its timeout (real time; tests pass a fake one); `scope()` is
    entered around every invocation (the API faults of `--api-fault-rate` apply inside).
    """

    def __init__(
        self,
        region: str,
        extra_env: Mapping[str, str],
        scope: Callable[[], AbstractContextManager[Any]] = nullcontext,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.region = region
        self.extra_env = dict(extra_env)
        self.scope = scope
        self.monotonic = monotonic
        self._entries: dict[str, Callable[[dict[str, Any], Any], Any]] = {}

    def invoke(
        self, function: FunctionSpec, event: dict[str, Any], *, discard_response: str | None = None
    ) -> InvocationOutcome:
        """Call the function's handler; `discard_response` (chaos) runs it, then fails with that reason."""
        entry = self._entries.get(function.handler)
        if entry is None:
            entry = self._entries[function.handler] = resolve_entry(function.handler)
        context = LambdaContext(function, self.region, self.monotonic)
        env = lambda_environment(function, self.extra_env)
        started, started_cpu = self.monotonic(), time.process_time()
        response: Any = None
        error: str | None = None
        trace: str | None = None
        with swapped_environ(env), redirect_stdout(FUNCTION_OUTPUT), redirect_stderr(FUNCTION_OUTPUT), self.scope():
            try:
                response = entry(event, context)
            except Exception as exc:  # a failed invocation, as Lambda would report it
                error = f"{type(exc).__name__}: {exc}"
                trace = traceback.format_exc()
        duration, cpu = self.monotonic() - started, time.process_time() - started_cpu
        if error is None and duration > function.timeout:
            outcome = InvocationOutcome(None, f"Task timed out after {function.timeout} s", duration, True, cpu)
        elif error is None and discard_response:
            outcome = InvocationOutcome(None, discard_response, duration, True, cpu)
        else:
            outcome = InvocationOutcome(response, error, duration, cpu_seconds=cpu, traceback=trace)
        for observer in _INVOCATION_OBSERVERS:
            observer(function, event, outcome)
        return outcome
