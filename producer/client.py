"""The producer: send to a pipeline's entry with batching, retries of failed entries, large bodies in S3.

::

    producer = Producer.for_stack("dev")                       # entries from the stack outputs
    producer.send("orders", {"type": "order_created", "id": "o-1"},
                  attributes={"type": "order_created"}, idempotency_key="o-1")
    producer.send_many("media", [{"id": f"m-{n}"} for n in range(100)])

``send_many`` packs at most 10 entries per ``SendMessageBatch``/``PublishBatch`` and keeps each request
within the entry's byte limit (the sum over the batch, as AWS counts it). A batch call answers 200 with
some entries failed: only those are sent again, with full-jitter backoff, and so are entries of a call
that failed as a whole with a transient error (throttling, 5xx, connection). What still fails after
``RetryPolicy.max_attempts`` - or was rejected as the sender's fault - is raised in ONE
:class:`SendError` listing every such entry; nothing is dropped silently. A whole call that no retry can
fix (no credentials, access denied, the queue or topic does not exist, invalid parameters) stops the send
at once with :class:`SendRefused`: one line, no retries, the messages not sent listed in it.

FIFO: once an entry of a group failed, the group's later entries wait for the next round, so a retry
does not overtake them (within one batch AWS may still accept a group's later entry after a failed one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from contract import aws as limits
from contract import runtime as wire
from producer import outgoing
from producer._runtime import large_messages
from producer.entries import Entry, entries_from_outputs, load_outputs_file, region_of
from producer.errors import FailedEntry, ProducerError, SendError, SendRefused
from producer.outgoing import AttributeValue, Body, Message, Outgoing, Prepared
from producer.retry import RetryPolicy, describe_refusal, is_retryable, is_retryable_exception

__all__ = ["MAX_BATCH_ENTRIES", "Producer"]

MAX_BATCH_ENTRIES = min(limits.SQS_BATCH_ENTRIES_MAX, limits.SNS_BATCH_ENTRIES_MAX)
"""SendMessageBatch and PublishBatch take at most 10 entries (TooManyEntriesInBatchRequest)."""


class Producer:
    """Sends messages to the pipelines of one stack. Thread-compatible, not thread-safe (one per thread)."""

    def __init__(
        self,
        entries: Mapping[str, Entry] | Iterable[Entry],
        *,
        session: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        clients: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        large_message_threshold: int | None = None,
    ) -> None:
        """
        Args:
            entries: the pipelines' entries (see :func:`producer.entries.entries_from_outputs`).
            session: a ``boto3.session.Session`` for the clients (default: a new one).
            region: default: the region in the entries' ARNs/URLs.
            endpoint_url: an emulator (moto server, LocalStack, ``python -m sandbox serve``).
            clients: ready clients by service (``"sqs"``, ``"sns"``, ``"s3"``), e.g. the sandbox's.
            retry: attempts and backoff for entries AWS did not accept.
            large_message_threshold: for pipelines with ``largeMessages: true``, offload bodies above
                this many bytes even below the entry's limit (None: only above the limit).
        """
        items = entries.values() if isinstance(entries, Mapping) else entries
        self.entries: dict[str, Entry] = {e.pipeline: e for e in items}
        self.retry = retry or RetryPolicy()
        self.large_message_threshold = large_message_threshold
        self._session = session
        self._region = region or next((r for e in self.entries.values() if (r := region_of(e.target))), None)
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = dict(clients or {})
        self.transport_ids: dict[str, str] = {}
        """``ap-message-id`` -> SQS/SNS MessageId of the last send (secondary: for AWS support cases)."""

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], **kwargs: Any) -> Producer:
        """From a stack's outputs (a dict, as ``pulumi stack output --json`` prints them)."""
        return cls(entries_from_outputs(outputs), **kwargs)

    @classmethod
    def for_stack(
        cls, stack: str, *, outputs_file: Path | None = None, project_dir: Path | None = None, **kwargs: Any
    ) -> Producer:
        """The entries of ``stack``: from ``outputs_file`` (``pulumi stack output --json``) for a deployed
        stack, else from the program captured under Pulumi mocks (names as moto/the sandbox create them).

        ``stack`` is a name in ``project_dir`` or a stack file's path; a stack that cannot be read raises
        ``stack_capture.stack_errors.StackUnreadable`` (a ValueError whose lines name each problem)."""
        if outputs_file is not None:
            return cls.from_outputs(load_outputs_file(outputs_file), **kwargs)
        from stack_capture.stack_errors import capture_for_cli

        capture = capture_for_cli(stack, project_dir)
        kwargs.setdefault("region", capture.region)
        return cls.from_outputs(capture.outputs, **kwargs)

    def client(self, service: str) -> Any:
        found = self._clients.get(service)
        if found is None:
            if self._session is None:
                import boto3

                self._session = boto3.session.Session()
            found = self._session.client(service, region_name=self._region, endpoint_url=self._endpoint_url)
            self._clients[service] = found
        return found

    def entry(self, pipeline: str) -> Entry:
        found = self.entries.get(pipeline)
        if found is None:
            known = ", ".join(sorted(self.entries)) or "none"
            raise ProducerError(f"unknown pipeline {pipeline!r} (pipelines: {known})")
        return found

    # -- sending -------------------------------------------------------------------------------
    def send(
        self,
        pipeline: str,
        body: Body,
        *,
        attributes: Mapping[str, AttributeValue] | None = None,
        group: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Send one message; returns its ``ap-message-id`` (the ``idempotency_key`` when given, else a generated
        UUID): the one id every tool shows (``GET /messages/{id}``, ``ops.dlq list``, the DLQ attributes, the
        logs). Raises SendError if AWS never accepted it."""
        message = Message(body, attributes, group, idempotency_key)
        return self.send_many(pipeline, [message])[0]

    def send_many(
        self,
        pipeline: str,
        bodies: Iterable[Body | Message],
        *,
        attributes: Mapping[str, AttributeValue] | None = None,
        group: str | None = None,
    ) -> list[str]:
        """Send every body (or :class:`Message`); returns their ``ap-message-id`` values in input order.

        The SQS/SNS transport id is not returned: a fan-out topic's subscribers each see another one, and
        no other tool shows it. ``transport_ids`` maps the last call's ``ap-message-id`` values to it.

        ``attributes``/``group`` apply to plain bodies; a :class:`Message` carries its own. Bad input is
        refused (ProducerError) before anything is sent; entries AWS did not accept are retried, and
        whatever still failed is raised together in one SendError (with the ids of those that went out).
        """
        entry = self.entry(pipeline)
        messages = [b if isinstance(b, Message) else Message(b, attributes, group) for b in bodies]
        prepared = [
            outgoing.prepare(i, m, pipeline=pipeline, fifo=entry.fifo, sns=entry.is_topic)
            for i, m in enumerate(messages)
        ]
        ready = [self._finish(entry, p) for p in prepared]
        return self._send_all(entry, ready)

    def send_probe(
        self,
        pipeline: str,
        probe: str,
        *,
        body: Mapping[str, Any] | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
        through_s3: bool = False,
    ) -> str:
        """Send a smoke-test probe (``ap-probe`` = ``probe``; docs/contracts.md §7): the runtime answers it
        itself and the business function never sees it. ``through_s3`` sends it as a large message, so the
        consumer's S3 read is checked too. Used by ``ops.smoke``."""
        entry = self.entry(pipeline)
        message = Message(
            {wire.PROBE: probe, **(body or {})}, attributes, f"probe-{probe}" if entry.fifo else None, f"probe-{probe}"
        )
        prepared = outgoing.prepare(0, message, pipeline=pipeline, fifo=entry.fifo, sns=entry.is_topic)
        ready = self._finish(entry, prepared, own={wire.PROBE: _string(probe)}, force_large=through_s3)
        return self._send_all(entry, [ready])[0]

    def _finish(
        self, entry: Entry, p: Prepared, *, own: dict[str, dict[str, Any]] | None = None, force_large: bool = False
    ) -> Outgoing:
        """Add the runtime's attributes; a body over the limit (or the threshold) goes to S3."""
        own = {wire.MESSAGE_ID: _string(p.message_id), **(own or {})}
        out = self._outgoing(p, p.body, {**p.user_attributes, **own})
        threshold = entry.max_message_bytes
        if self.large_message_threshold is not None and entry.large_message_bucket is not None:
            threshold = min(threshold, self.large_message_threshold)
        if out.size <= threshold and not force_large:
            return out
        if entry.large_message_bucket is None:
            raise ProducerError(
                f"#{p.index}: message is {out.size} bytes, over the {entry.max_message_bytes}-byte limit of "
                f"pipeline {entry.pipeline!r}'s {'topic' if entry.is_topic else 'queue'}; set largeMessages: true "
                "on the pipeline to send large bodies through S3"
            )
        if len(p.user_attributes) + len(own) + 1 > limits.SQS_MESSAGE_ATTRIBUTES_MAX:
            raise ProducerError(f"#{p.index}: a large message carries {len(own) + 1} runtime attributes; "
                                f"use at most {limits.SQS_MESSAGE_ATTRIBUTES_MAX - len(own) - 1} of yours")
        try:
            pointer = self._call_with_retry(
                lambda: large_messages.store(
                    self.client("s3"), entry.large_message_bucket, entry.pipeline, p.message_id, p.body
                )
            )
        except _Refused as refused:
            raise refused.error(entry.pipeline, [p], {}) from refused.cause
        own[wire.LARGE_MESSAGE] = _string(pointer.uri)
        return self._outgoing(p, pointer.body(), {**p.user_attributes, **own})

    @staticmethod
    def _outgoing(p: Prepared, body: str, attributes: dict[str, dict[str, Any]]) -> Outgoing:
        if len(attributes) > limits.SQS_MESSAGE_ATTRIBUTES_MAX:
            raise ProducerError(
                f"#{p.index}: {len(attributes)} attributes with {wire.MESSAGE_ID}; "
                f"SQS/SNS allow {limits.SQS_MESSAGE_ATTRIBUTES_MAX}"
            )
        dedup = outgoing.deduplication_id(p.message_id) if p.group is not None else None
        return Outgoing(p.index, p.message_id, body, attributes, p.group, dedup)

    def _call_with_retry(self, call: Any) -> Any:
        """One non-batch call (the S3 upload), retried on transient errors like the batch entries; an
        error no retry can fix raises `_Refused` at once."""
        from botocore.exceptions import BotoCoreError, ClientError

        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except (ClientError, BotoCoreError) as exc:
                if not is_retryable_exception(exc):
                    raise _Refused(exc, attempt) from exc
                if attempt >= self.retry.max_attempts:
                    raise
            self.retry.backoff(attempt)

    def _send_all(self, entry: Entry, messages: Sequence[Outgoing]) -> list[str]:
        sent: dict[int, str] = {}
        failed: list[FailedEntry] = []
        pending = list(messages)
        attempt = 0
        while pending:
            attempt += 1
            retry_next: list[Outgoing] = []
            blocked: set[str] = set()  # FIFO groups with a failed entry this round: their later entries wait
            for planned in batches(pending, entry.max_message_bytes):
                batch = [m for m in planned if m.group is None or m.group not in blocked]
                retry_next.extend(m for m in planned if m.group is not None and m.group in blocked)
                if not batch:
                    continue
                try:
                    results = self._send_batch(entry, batch)
                except _Refused as refused:  # no retry can fix it: stop at once, one clear error
                    refused.attempt = attempt
                    raise refused.error(entry.pipeline, [m for m in messages if m.index not in sent], sent) from None
                for message, result in zip(batch, results, strict=True):
                    if isinstance(result, str):
                        sent[message.index] = result
                        continue
                    code, reason, retryable = result
                    if message.group is not None:
                        blocked.add(message.group)
                    if retryable and attempt < self.retry.max_attempts:
                        retry_next.append(message)
                    else:
                        failed.append(FailedEntry(message.index, message.message_id, code, reason, attempt, retryable))
            pending = sorted(retry_next, key=lambda m: m.index)
            if pending:
                self.retry.backoff(attempt)
        self.transport_ids = {m.message_id: sent[m.index] for m in messages if m.index in sent}
        logical = {m.index: m.message_id for m in messages if m.index in sent}
        if failed:
            raise SendError(entry.pipeline, sorted(failed, key=lambda f: f.index), logical)
        return [m.message_id for m in messages]

    def _send_batch(self, entry: Entry, batch: list[Outgoing]) -> list[str | tuple[str, str, bool]]:
        """One batch call: per message, its id, or (code, reason, retryable). A whole call refused for
        good (no credentials, access denied, no such queue/topic, invalid request) raises `_Refused`."""
        from botocore.exceptions import BotoCoreError, ClientError

        items = [m.entry(sns=entry.is_topic) for m in batch]
        try:
            if entry.is_topic:
                response = self.client("sns").publish_batch(TopicArn=entry.target, PublishBatchRequestEntries=items)
            else:
                response = self.client("sqs").send_message_batch(QueueUrl=entry.target, Entries=items)
        except (ClientError, BotoCoreError) as exc:
            if not is_retryable_exception(exc):
                raise _Refused(exc, 1) from exc
            if isinstance(exc, ClientError):  # throttled, 5xx
                code, _ = _error_code(exc)
                return [(code, str(exc.response.get("Error", {}).get("Message") or exc), True)] * len(batch)
            # connection reset, timeout: the request may or may not have landed
            return [(type(exc).__name__, str(exc), True)] * len(batch)
        ids = {str(s["Id"]): str(s["MessageId"]) for s in response.get("Successful") or []}
        problems = {
            str(f["Id"]): (
                str(f.get("Code", "Unknown")),
                str(f.get("Message", "")),
                not f.get("SenderFault", False) or is_retryable(str(f.get("Code", ""))),
            )
            for f in response.get("Failed") or []
        }
        results: list[str | tuple[str, str, bool]] = []
        for m in batch:
            key = str(m.index)
            if key in ids:
                results.append(ids[key])
            else:  # missing from both lists: never assume it was sent
                results.append(problems.get(key, ("MissingResult", "the response did not mention this entry", True)))
        return results


class _Refused(Exception):
    """A call no retry can fix; `error` turns it into the SendRefused the caller sees."""

    def __init__(self, cause: BaseException, attempt: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.attempt = attempt

    def error(self, pipeline: str, unsent: Sequence[Outgoing | Prepared], sent: dict[int, str]) -> SendRefused:
        code, reason = describe_refusal(self.cause)
        failed = [FailedEntry(m.index, m.message_id, code, reason, self.attempt, False) for m in unsent]
        return SendRefused(pipeline, code, reason, failed, sent)


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def batches(messages: Sequence[Outgoing], max_bytes: int) -> list[list[Outgoing]]:
    """Consecutive groups of ≤ 10 messages whose sizes sum to ≤ ``max_bytes`` (order kept for FIFO)."""
    out: list[list[Outgoing]] = []
    current: list[Outgoing] = []
    size = 0
    for m in messages:
        if current and (len(current) == MAX_BATCH_ENTRIES or size + m.size > max_bytes):
            out.append(current)
            current, size = [], 0
        current.append(m)
        size += m.size
    if current:
        out.append(current)
    return out


def _error_code(exc: Any) -> tuple[str, int | None]:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code", "Unknown")), status if isinstance(status, int) else None
