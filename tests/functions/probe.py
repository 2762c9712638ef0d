"""A business function for the runtime tests that records every call and every effect.

``message["do"]`` picks the behaviour; ``message["n"]`` identifies the message in ``EFFECTS``.
"""

from __future__ import annotations

from typing import Any

from pipeline_runtime import PermanentError, TransientError

CALLS: list[dict[str, Any]] = []
"""Every call, in order (a copy of the message)."""
EFFECTS: list[Any] = []
"""One entry per successful business effect (``message["n"]``)."""
STATE: dict[str, Any] = {}
"""``fixed``: whether ``do=fixable`` succeeds; ``reentry``: a nested invocation's event and outcome."""


def reset() -> None:
    CALLS.clear()
    EFFECTS.clear()
    STATE.clear()


def handle(message: dict[str, Any]) -> Any:
    CALLS.append(dict(message))
    do = message.get("do", "ok")
    n = message.get("n")
    if do == "ok":
        EFFECTS.append(n)
        return {"n": n, "seen": True}
    if do == "none":
        EFFECTS.append(n)
        return None
    if do == "permanent":
        raise PermanentError(message.get("reason", f"bad input {n}"))
    if do == "transient":
        raise TransientError("backend down")
    if do == "big":  # a large result (chain forwarding through S3)
        EFFECTS.append(n)
        return {"n": n, "blob": "z" * int(message["size"])}
    if do == "crash":
        raise RuntimeError("boom")
    if do == "list":
        return [n]
    if do == "unserialisable":
        return {"n": n, "when": object()}
    if do == "fixable":
        if not STATE.get("fixed"):
            raise PermanentError("not fixed yet")
        EFFECTS.append(n)
        return {"n": n}
    if do == "reenter":
        # A second invocation receives this very message while it is still in progress.
        from pipeline_runtime import entry

        nested = STATE["reentry"]
        try:
            nested["response"] = entry.handler(nested["event"], nested["context"])
        except Exception as exc:  # pragma: no cover - recorded for the assertion
            nested["error"] = exc
        EFFECTS.append(n)
        return {"n": n}
    raise AssertionError(f"unknown probe behaviour {do!r}")
