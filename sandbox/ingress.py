"""The HTTP ingress contract (docs/http.md) without the HTTP: check one POST, turn it into a message, send it.

`sandbox serve` calls `accept` then `send` for `POST /pipelines/{name}`; the checks run in API Gateway's
order (auth 403, throttle 429, size 413, body/group/key 400) and raise `Rejected(status, reason)`. Sending
goes through the pipeline's real entry (stack output `pipelines.<name>.entry`): a topic → SNS `Publish`,
a queue → SQS `SendMessage`, with `ap-message-id` = the `Idempotency-Key` header (else a fresh id) and, on
FIFO entries, `MessageGroupId` from `groupFrom` and `MessageDeduplicationId` = the same id.

Kept to this one module so that the producer library can reuse or replace the sending part.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components import defaults as d
from components.config import StackConfig
from components.http_config import HttpSettings, local_defaults
from sandbox.clients import AwsClients
from sandbox.messages import MESSAGE_ID, Message, message_attributes
from sandbox.topology import Topology
from stack_capture import PipelineOutputs

IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
"""SQS MessageDeduplicationId: 1–128 alphanumerics and punctuation (SQS message quotas)."""
ATTRIBUTE_OVERHEAD = len(MESSAGE_ID) + len("String")
FIFO_DEDUPLICATION_WINDOW = 300.0
"""SQS FIFO queues and SNS FIFO topics drop a message whose deduplication id was sent in the last 5 minutes."""
"""SNS and SQS count attribute name, type and value towards the message size limit."""


class Rejected(Exception):
    """The request breaks the contract: `status` and a reason for the JSON body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class TokenBucket:
    """API Gateway's throttle: `rate` tokens per second, at most `burst` stored (real time, not the sandbox's)."""

    rate: float
    burst: int
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1.0:
                return False
            self.tokens -= 1.0
            return True


@dataclass
class Route:
    """One pipeline as the ingress serves it."""

    pipeline: PipelineOutputs
    settings: HttpSettings
    configured: bool
    """False: the pipeline has no `http:` (no API in AWS); served locally with auth none and default limits."""
    bucket: TokenBucket
    sent: dict[str, float] = field(default_factory=dict)
    """FIFO: deduplication id -> when it was sent (the sandbox clock); moto forgets ids once deleted."""

    @property
    def fifo(self) -> bool:
        return self.settings.fifo

    def duplicate(self, message: Message, now: float) -> bool:
        """A FIFO repeat within the deduplication window: accepted (202) but not delivered again, as in AWS."""
        if not self.fifo:
            return False
        self.sent = {k: t for k, t in self.sent.items() if now - t < FIFO_DEDUPLICATION_WINDOW}
        if message.logical_id in self.sent:
            return True
        self.sent[message.logical_id] = now
        return False


def routes(topology: Topology, config: StackConfig) -> dict[str, Route]:
    """Every enabled pipeline of the stack, with its `http:` settings or the local defaults."""
    out: dict[str, Route] = {}
    for p in config.enabled_pipelines:
        spec = topology.pipelines.get(p.name)
        if spec is None:
            continue
        fifo = (
            topology.topics[spec.entry].fifo if spec.entry_is_topic else topology.queue_by_url(spec.entry).fifo
        )
        settings = p.http or local_defaults(fifo=fifo, topic_entry=spec.entry_is_topic)
        out[p.name] = Route(spec, settings, p.http is not None, TokenBucket(settings.throttle_rate,
                                                                             settings.throttle_burst))
    return out


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def check_auth(settings: HttpSettings, headers: Mapping[str, str], api_key: str) -> None:
    """403 like API Gateway: IAM without a SigV4 header, apiKey without the right `x-api-key`.

    Locally the SigV4 header is checked for shape only (any credentials sign it); AWS verifies it.
    """
    if settings.auth == "iam":
        auth = _header(headers, "Authorization") or ""
        if not (auth.startswith("AWS4-HMAC-SHA256 ") and "Credential=" in auth and "Signature=" in auth):
            raise Rejected(403, "Missing Authentication Token: sign the request with SigV4 (auth iam)")
    elif settings.auth == "apiKey" and _header(headers, "x-api-key") != api_key:
        raise Rejected(403, "Forbidden: a valid x-api-key header is required (auth apiKey)")


def check_size(settings: HttpSettings, length: int) -> None:
    if length > settings.max_body_bytes:
        raise Rejected(413, f"body is {length} bytes; this pipeline accepts at most {settings.max_body_bytes}")


def _group(settings: HttpSettings, headers: Mapping[str, str], body: dict[str, Any]) -> str | None:
    if not settings.fifo or settings.group_from is None:
        return None
    header = settings.group_header
    if header is not None:
        value = _header(headers, header)
        if not value:
            raise Rejected(400, f"missing message group id: header {header} is required on this FIFO pipeline")
        return value[:128]
    node: Any = body
    for name in settings.group_path or ():
        node = node.get(name) if isinstance(node, dict) else None
    if node is None or isinstance(node, dict | list) or node == "":
        raise Rejected(400, f"missing message group id: {settings.group_from} is required in the body")
    return str(node)[:128]


def accept(route: Route, raw: bytes, headers: Mapping[str, str]) -> Message:
    """The message a valid POST body becomes; `Rejected` (400/413) otherwise. Auth and throttle come first."""
    settings = route.settings
    check_size(settings, len(raw))
    try:
        text = raw.decode("utf-8")
        body = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Rejected(400, f"body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise Rejected(400, f"body must be a JSON object, got {type(body).__name__}")
    # An empty key is no key: API Gateway's template cannot tell an empty header from a missing one.
    key = _header(headers, d.IDEMPOTENCY_KEY_HEADER) or None
    if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
        raise Rejected(
            400, f"{d.IDEMPOTENCY_KEY_HEADER} must be 1–{d.IDEMPOTENCY_KEY_MAX} letters, digits or punctuation"
        )
    message_id = key or str(uuid.uuid4())
    if len(raw) + ATTRIBUTE_OVERHEAD + len(message_id) > settings.entry_limit:
        raise Rejected(413, f"body and attributes exceed the entry's limit of {settings.entry_limit} bytes")
    group = _group(settings, headers, body)
    return Message(route.pipeline.name, text, {}, group, message_id, f"POST /pipelines/{route.pipeline.name}")


def send(aws: AwsClients, route: Route, message: Message) -> None:
    """One message through the pipeline's real entry (SNS Publish or SQS SendMessage)."""
    entry = route.pipeline.entry
    fifo: dict[str, Any] = {}
    if route.fifo:
        fifo = {"MessageGroupId": message.group or route.pipeline.name, "MessageDeduplicationId": message.logical_id}
    if route.pipeline.entry_is_topic:
        aws.sns.publish(
            TopicArn=entry, Message=message.body, MessageAttributes=message_attributes(message, sns=True), **fifo
        )
    else:
        aws.sqs.send_message(
            QueueUrl=entry, MessageBody=message.body, MessageAttributes=message_attributes(message, sns=False), **fifo
        )
