"""See every AWS API call made in this process: botocore's event system, on every client created inside.

botocore builds each new session's event handlers from `botocore.handlers.BUILTIN_HANDLERS` (moto
hooks in the same way), so a handler added there while a run creates its clients is attached to the
sandbox's own clients and to the runtime's (which are created, after `reset_caches`, per run):

* `before-parameter-build.<service>.<Operation>` receives the caller's parameters and the request
  context; the parameters are kept in the context;
* `after-call.<service>.<Operation>` receives the parsed response (and the same context).

`observe_api_calls(callback)` reports one `ApiCall` per completed call. Which consumer made a call is
read from the environment the sandbox swaps in per invocation (`AP_PIPELINE`/`AP_CONSUMER`); calls
made outside an invocation (publishing, the event source mapping's polls) have no caller.
Only clients created while the context is active are observed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore import handlers

_PARAMS = "ap_api_call_params"
"""Key under which the caller's parameters travel in botocore's per-request context."""


@dataclass(frozen=True)
class ApiCall:
    service: str
    """botocore service name: `sqs`, `sns`, `dynamodb`, `s3`, ..."""
    operation: str
    """API operation name, e.g. `SendMessageBatch`."""
    params: Mapping[str, Any]
    response: Mapping[str, Any]
    caller: str | None
    """`<pipeline>.<consumer>` when made inside a function invocation, else None."""

    @property
    def failed(self) -> bool:
        return "Error" in self.response


def _caller() -> str | None:
    pipeline, consumer = os.environ.get("AP_PIPELINE"), os.environ.get("AP_CONSUMER")
    return f"{pipeline}.{consumer}" if pipeline and consumer else None


@contextmanager
def botocore_handlers(pairs: Sequence[tuple[str, Callable[..., Any]]]) -> Iterator[None]:
    """Register `(event name, handler)` pairs on every botocore session created inside the block.

    The one hook mechanism of the project: cost metering and fault injection both go through here.
    """
    added = list(pairs)
    handlers.BUILTIN_HANDLERS.extend(added)
    try:
        yield
    finally:
        for pair in added:
            handlers.BUILTIN_HANDLERS.remove(pair)


@contextmanager
def observe_api_calls(callback: Callable[[ApiCall], None]) -> Iterator[None]:
    """Call `callback` once per completed API call of clients created inside the block."""

    def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = dict(params)

    def after_call(parsed: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        callback(
            ApiCall(
                service=model.service_model.service_name,
                operation=model.name,
                params=context.get(_PARAMS, {}),
                response=parsed or {},
                caller=_caller(),
            )
        )

    with botocore_handlers([("before-parameter-build", keep_params), ("after-call", after_call)]):
        yield
