"""Turn the AWS API calls of a sandbox run into billed units, per pipeline and consumer.

Each `ApiCall` (from `sandbox.api_calls`) is attributed through the resource it touches: a queue to
the consumer that reads it (its DLQ and retry tiers too), a topic to its pipeline's entry, an
idempotency table to its consumer, a results object to `<pipeline>/<consumer>/` in its key. Sends
and publishes made outside any invocation are the producer's (the pipeline's *entry*); receives and
deletes made outside any invocation are the event source mapping's polls.

Billing rules applied (sources in `sandbox.cost.prices`):
* SQS: one request per API call and per 64 KiB chunk of its payload (a batch of 10 small messages is
  one request); FIFO queues at the FIFO rate. Payload = body + message attributes (names, types, values).
* SNS: one publish request per 64 KiB chunk of published data (PublishBatch: of the whole batch).
* DynamoDB on-demand: a write is ceil(item size / 1 KB) write request units (UpdateItem: the larger of
  the item before and after; a failed conditional write still consumes them); a strongly consistent
  read ceil(size / 4 KB) read units, half that when eventually consistent.
* S3: PUT/COPY/POST/LIST and GET requests.
Control-plane calls (creating queues, tables, subscriptions) are deploy-time, not monthly: ignored.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sandbox.api_calls import ApiCall
from sandbox.topology import Topology

CHUNK_BYTES = 64 * 1024
"""SQS and SNS bill each 64 KiB chunk of a request's payload as one request."""
DYNAMODB_WRITE_UNIT = 1024
DYNAMODB_READ_UNIT = 4096
ENTRY = "(entry)"
"""The consumer name under which a pipeline's entry (the producer's publishes) is reported."""
STACK = "(stack)"

Scope = tuple[str, str]
"""(pipeline, consumer)."""

SQS_SENDS = {"SendMessage", "SendMessageBatch"}
SQS_POLLS = {"ReceiveMessage"}
SQS_DELETES = {"DeleteMessage", "DeleteMessageBatch"}
SQS_VISIBILITY = {"ChangeMessageVisibility", "ChangeMessageVisibilityBatch"}
SQS_OTHER = {"GetQueueAttributes", "GetQueueUrl"}
SNS_PUBLISHES = {"Publish", "PublishBatch"}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
DYNAMODB_READS = {"GetItem"}
S3_PUTS = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects"}
S3_GETS = {"GetObject"}


def chunks(size: int) -> int:
    """Billed requests for one request carrying `size` bytes of payload (at least one)."""
    return max(1, math.ceil(size / CHUNK_BYTES))


def _attribute_bytes(attributes: Any) -> int:
    total = 0
    for name, value in (attributes or {}).items():
        total += len(str(name).encode())
        if isinstance(value, dict):
            total += len(str(value.get("DataType", "")).encode())
            if value.get("StringValue") is not None:
                total += len(str(value["StringValue"]).encode())
            if value.get("BinaryValue") is not None:
                raw = value["BinaryValue"]
                total += len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw).encode())
    return total


def message_bytes(body: Any, attributes: Any = None) -> int:
    """Size SQS/SNS count for a message: the body plus its message attributes."""
    text = body if isinstance(body, str) else json.dumps(body)
    return len(text.encode()) + _attribute_bytes(attributes)


def dynamodb_value_bytes(value: Any) -> int:
    """Approximate size of one attribute value in DynamoDB's item-size accounting."""
    if not isinstance(value, dict) or len(value) != 1:
        return 0
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        digits = len(str(inner).lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(dynamodb_value_bytes({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(1 + dynamodb_value_bytes(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(str(k).encode()) + dynamodb_value_bytes(v) for k, v in inner.items())
    return 0


def dynamodb_item_bytes(item: Any) -> int:
    """Item size: the UTF-8 length of every attribute name plus its value's size."""
    return sum(len(str(k).encode()) + dynamodb_value_bytes(v) for k, v in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / DYNAMODB_WRITE_UNIT))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / DYNAMODB_READ_UNIT))
    return float(units) if consistent else units / 2


@dataclass
class Tally:
    """Billed units of one (pipeline, consumer) as the run made them."""

    units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    """Price key (`sqs.standard`, `dynamodb.wru`, ...) -> billed quantity, every call included."""
    calls: Counter[str] = field(default_factory=Counter)
    """`service:Operation` -> API calls made."""
    work_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    """Units of the calls the functions made (per record; they scale with the messages)."""
    polled_receives: int = 0
    polled_records: int = 0
    polled_bytes: int = 0
    deleted_records: int = 0
    entry_messages: int = 0
    entry_bytes: int = 0
    fifo: bool = False
    groups: set[str] = field(default_factory=set)
    """FIFO message groups the polls received."""


class Attribution:
    """Which (pipeline, consumer) a queue, topic, table or results key belongs to."""

    def __init__(self, topology: Topology) -> None:
        self.queues: dict[str, Scope] = {}
        self.fifo_queues: set[str] = {q.url for q in topology.queues.values() if q.fifo}
        self.mapped: set[str] = set()
        self.topics: dict[str, str] = {}
        self.tables: dict[str, Scope] = {}
        self.entries: dict[str, str] = {}
        for m in topology.mappings:
            scope = (m.function.pipeline, m.function.consumer)
            self.queues[m.queue.url] = scope
            self.mapped.add(m.queue.url)
            if m.queue.dlq_arn and m.queue.dlq_arn in topology.queues:
                self.queues.setdefault(topology.queues[m.queue.dlq_arn].url, scope)
        for fn in topology.functions.values():
            scope = (fn.pipeline, fn.consumer)
            if fn.dlq_url:
                self.queues.setdefault(fn.dlq_url, scope)
            table = fn.environment.get("AP_IDEMPOTENCY_TABLE")
            if table:
                self.tables[table] = scope
        for p in topology.pipelines.values():
            self.entries[p.entry] = p.name
            if p.entry_is_topic:
                self.topics[p.entry] = p.name

    def queue(self, url: str, caller: str | None) -> Scope:
        return self.queues.get(url) or _caller_scope(caller)

    def table(self, name: str, caller: str | None) -> Scope:
        return self.tables.get(name) or _caller_scope(caller)

    def results_key(self, key: str, caller: str | None) -> Scope:
        parts = key.split("/")
        return (parts[0], parts[1]) if len(parts) >= 3 else _caller_scope(caller)


def _caller_scope(caller: str | None) -> Scope:
    if caller and "." in caller:
        pipeline, consumer = caller.split(".", 1)
        return pipeline, consumer
    return STACK, ""


class Meter:
    """The `observe_api_calls` callback: accumulates a `Tally` per (pipeline, consumer)."""

    def __init__(self, attribution: Attribution) -> None:
        self.attribution = attribution
        self.tallies: dict[Scope, Tally] = {}
        self._items: dict[tuple[str, str], int] = {}
        """(table, key JSON) -> last known item size, for UpdateItem/DeleteItem sizes."""

    def tally(self, scope: Scope) -> Tally:
        return self.tallies.setdefault(scope, Tally())

    def __call__(self, call: ApiCall) -> None:
        handler = {"sqs": self._sqs, "sns": self._sns, "dynamodb": self._dynamodb, "s3": self._s3}.get(call.service)
        if handler is not None:
            handler(call)

    def _count(self, scope: Scope, call: ApiCall, unit: str, quantity: float) -> Tally:
        t = self.tally(scope)
        t.units[unit] += quantity
        t.calls[f"{call.service}:{call.operation}"] += 1
        if call.caller is not None:
            t.work_units[unit] += quantity
        return t

    # -- SQS ----------------------------------------------------------------------------------
    def _sqs(self, call: ApiCall) -> None:
        op, params, url = call.operation, call.params, str(call.params.get("QueueUrl", ""))
        fifo = url in self.attribution.fifo_queues or url.endswith(".fifo")
        unit = "sqs.fifo" if fifo else "sqs.standard"
        entry = call.caller is None and op in SQS_SENDS and url in self.attribution.entries
        scope = (self.attribution.entries[url], ENTRY) if entry else self.attribution.queue(url, call.caller)
        if op in SQS_SENDS:
            entries = params.get("Entries") if op == "SendMessageBatch" else [params]
            sizes = [message_bytes(e.get("MessageBody", ""), e.get("MessageAttributes")) for e in entries or []]
            t = self._count(scope, call, unit, chunks(sum(sizes)))
            if entry:
                t.entry_messages += len(sizes)
                t.entry_bytes += sum(sizes)
        elif op in SQS_POLLS:
            messages = call.response.get("Messages") or []
            size = sum(message_bytes(m.get("Body", ""), m.get("MessageAttributes")) for m in messages)
            t = self._count(scope, call, unit, chunks(size))
            if call.caller is None and url in self.attribution.mapped:
                t.polled_receives += 1
                t.polled_records += len(messages)
                t.polled_bytes += size
                t.groups.update(g for m in messages if (g := (m.get("Attributes") or {}).get("MessageGroupId")))
        elif op in SQS_DELETES:
            t = self._count(scope, call, unit, 1)
            if call.caller is None and url in self.attribution.mapped:
                t.deleted_records += len(params.get("Entries") or []) if op == "DeleteMessageBatch" else 1
        elif op in SQS_VISIBILITY or op in SQS_OTHER:
            t = self._count(scope, call, unit, 1)
        else:
            return
        t.fifo = t.fifo or fifo

    # -- SNS ----------------------------------------------------------------------------------
    def _sns(self, call: ApiCall) -> None:
        if call.operation not in SNS_PUBLISHES:
            return
        params = call.params
        arn = str(params.get("TopicArn", ""))
        entries = params.get("PublishBatchRequestEntries") if call.operation == "PublishBatch" else [params]
        sizes = [message_bytes(e.get("Message", ""), e.get("MessageAttributes")) for e in entries or []]
        pipeline = self.attribution.topics.get(arn)
        scope = (pipeline, ENTRY) if pipeline else _caller_scope(call.caller)
        fifo = arn.endswith(".fifo")
        t = self._count(scope, call, "sns.fifo_publish" if fifo else "sns.publish", chunks(sum(sizes)))
        if fifo:
            t.units["sns.fifo_payload"] += sum(sizes) / 1e9
        if call.caller is None:
            t.entry_messages += len(sizes)
            t.entry_bytes += sum(sizes)

    # -- DynamoDB -----------------------------------------------------------------------------
    def _dynamodb(self, call: ApiCall) -> None:
        op, params = call.operation, call.params
        if op not in DYNAMODB_WRITES and op not in DYNAMODB_READS:
            return
        table = str(params.get("TableName", ""))
        scope = self.attribution.table(table, call.caller)
        if op == "PutItem":
            item = params.get("Item") or {}
            size = dynamodb_item_bytes(item)
            key = self._key(table, item)
            before = self._items.get(key, 0)
            self._items[key] = size
            self._count(scope, call, "dynamodb.wru", write_units(max(size, before)))
        elif op == "UpdateItem":
            key = self._key(table, params.get("Key") or {})
            values = params.get("ExpressionAttributeValues") or {}
            names = params.get("ExpressionAttributeNames") or {}
            written = dynamodb_item_bytes(params.get("Key") or {}) + sum(
                dynamodb_value_bytes(v) for v in values.values()
            ) + sum(len(str(n).encode()) for n in names.values())
            before = self._items.get(key, 0)
            after = max(before, written)
            self._items[key] = after
            self._count(scope, call, "dynamodb.wru", write_units(max(before, after)))
        elif op == "DeleteItem":
            key = self._key(table, params.get("Key") or {})
            before = self._items.pop(key, 0)
            self._count(scope, call, "dynamodb.wru", write_units(before))
        else:
            size = dynamodb_item_bytes(call.response.get("Item") or {})
            self._count(scope, call, "dynamodb.rru", read_units(size, bool(params.get("ConsistentRead"))))

    @staticmethod
    def _key(table: str, item: dict[str, Any]) -> tuple[str, str]:
        # Idempotency tables key on `id` (design.md §5); other tables: the whole given key.
        key = {"id": item["id"]} if "id" in item else item
        return table, json.dumps(key, sort_keys=True, default=str)

    # -- S3 -----------------------------------------------------------------------------------
    def _s3(self, call: ApiCall) -> None:
        op = call.operation
        if op not in S3_PUTS and op not in S3_GETS:
            return
        scope = self.attribution.results_key(str(call.params.get("Key", "")), call.caller)
        self._count(scope, call, "s3.put" if op in S3_PUTS else "s3.get", 1)
