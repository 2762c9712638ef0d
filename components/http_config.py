"""The `http:` mapping of a pipeline: who may POST to it, how fast, how big, and the FIFO group.

Parsed with the rest of the stack config (components/config.py) so that its errors are collected and
reported with every other one, before any resource is registered. The same settings drive the API
Gateway ingress (components/http_ingress.py) and `python -m sandbox serve`; docs/http.md is the contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components import defaults as d
from components.config_errors import Errors

HTTP_KEYS = ("auth", "public", "throttle", "maxBodyBytes", "groupFrom")
THROTTLE_KEYS = ("rate", "burst")
HEADER_RE = re.compile(r"^[A-Za-z0-9!#%&'*+.^_`|~-]+$")
"""An HTTP header name (RFC 9110 token; `$` is left out so that it cannot be taken for a JSONPath)."""
JSONPATH_RE = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$")
"""The JSONPath subset both API Gateway (`$input.path`) and the local server evaluate: `$.a.b`."""


@dataclass(frozen=True)
class HttpSettings:
    """One pipeline's HTTP ingress (absent `http:` = no ingress in AWS)."""

    entry_limit: int
    """The entry's own limit on body + attributes: SNS 256 KiB (fan-out), SQS 1 MiB (chain, retry)."""
    auth: str = d.HTTP_AUTH
    """`iam` (SigV4), `apiKey` (x-api-key + usage plan), `none` (only with `public`)."""
    public: bool = False
    throttle_rate: float = d.HTTP_THROTTLE_RATE
    throttle_burst: int = d.HTTP_THROTTLE_BURST
    max_body_bytes: int = d.SQS_MAX_MESSAGE_BYTES
    fifo: bool = False
    group_from: str | None = None
    """FIFO only: a header name or a JSONPath (`$.customer.id`) into the body; None on standard entries."""

    @property
    def group_header(self) -> str | None:
        return None if self.group_from is None or self.group_from.startswith("$") else self.group_from

    @property
    def group_path(self) -> tuple[str, ...] | None:
        """The JSONPath's field names (`$.customer.id` -> ("customer", "id")), or None for a header."""
        if self.group_from is None or not self.group_from.startswith("$"):
            return None
        return tuple(self.group_from.split(".")[1:])


def local_defaults(*, fifo: bool, topic_entry: bool) -> HttpSettings:
    """What `sandbox serve` uses for a pipeline without `http:` (no API in AWS): no auth, default limits."""
    limit = d.SNS_MAX_MESSAGE_BYTES if topic_entry else d.SQS_MAX_MESSAGE_BYTES
    return HttpSettings(
        entry_limit=limit,
        auth="none",
        public=True,
        max_body_bytes=limit,
        fifo=fifo,
        group_from=d.HTTP_GROUP_HEADER if fifo else None,
    )


def parse_http(errors: Errors, path: str, value: Any, *, fifo: bool, topic_entry: bool) -> HttpSettings | None:
    """Validate `<pipeline>.http`; every problem goes to `errors` under its full key path."""
    raw = errors.mapping(path, value)
    if raw is None:
        return None
    errors.unknown_keys(path, raw, HTTP_KEYS)
    limit = d.SNS_MAX_MESSAGE_BYTES if topic_entry else d.SQS_MAX_MESSAGE_BYTES
    entry = "an SNS topic (fan-out)" if topic_entry else "an SQS queue"

    auth = raw.get("auth", d.HTTP_AUTH)
    if auth not in d.HTTP_AUTHS:
        errors.add(f"{path}.auth", f"{auth!r} is not allowed; allowed {', '.join(d.HTTP_AUTHS)}")
        auth = d.HTTP_AUTH
    public = errors.boolean(path, raw, "public", False)
    if auth == "none" and not public:
        errors.add(
            f"{path}.auth",
            "'none' lets anyone on the internet POST: it needs `public: true` next to it; "
            "otherwise use auth iam or apiKey",
        )
    if public and auth != "none":
        errors.add(f"{path}.public", f"true only goes with auth none (auth is {auth!r}); remove it")

    rate, burst = d.HTTP_THROTTLE_RATE, d.HTTP_THROTTLE_BURST
    throttle = errors.mapping(f"{path}.throttle", raw.get("throttle", {}))
    if throttle is not None:
        errors.unknown_keys(f"{path}.throttle", throttle, THROTTLE_KEYS)
        rate = _rate(errors, f"{path}.throttle.rate", throttle.get("rate", d.HTTP_THROTTLE_RATE))
        burst = errors.integer(
            f"{path}.throttle", throttle, "burst", d.HTTP_THROTTLE_BURST, 1, d.HTTP_THROTTLE_BURST_MAX, " requests"
        )
    max_body = errors.integer(path, raw, "maxBodyBytes", limit, 2, limit, f" bytes for {entry}")

    group_from: str | None = None
    if "groupFrom" in raw:
        group_from = _group_from(errors, f"{path}.groupFrom", raw["groupFrom"], fifo)
    elif fifo:
        group_from = d.HTTP_GROUP_HEADER
    return HttpSettings(
        entry_limit=limit,
        auth=auth,
        public=public,
        throttle_rate=rate,
        throttle_burst=burst,
        max_body_bytes=max_body,
        fifo=fifo,
        group_from=group_from,
    )


def _rate(errors: Errors, path: str, value: Any) -> float:
    hi = d.HTTP_THROTTLE_RATE_MAX
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= hi:
        errors.add(path, f"{value!r} is not allowed; requests per second, a number > 0 and ≤ {hi:g}")
        return d.HTTP_THROTTLE_RATE
    return float(value)


def _group_from(errors: Errors, path: str, value: Any, fifo: bool) -> str | None:
    if not fifo:
        errors.add(path, "only FIFO pipelines have message groups; remove it or set `fifo: true` on the pipeline")
        return None
    if isinstance(value, str) and (HEADER_RE.match(value) or JSONPATH_RE.match(value)):
        return value
    errors.add(
        path,
        f"{value!r} is not allowed; allowed a header name (default {d.HTTP_GROUP_HEADER}) "
        "or a JSONPath into the body like $.customer.id",
    )
    return None

