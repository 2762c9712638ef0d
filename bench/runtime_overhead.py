"""Per-record overhead of the consumer runtime vs a bare Powertools `BatchProcessor`, without I/O.

    python bench/runtime_overhead.py [--invocations 300] [--repeats 9] [--batch 10]

Both sides run the same business function, `handlers.orders:bill` (validate an order, compute its
invoice with Decimals: CPU only), over the same Lambda SQS events (records built by the sandbox's
`lambda_record`), every record succeeding, so nothing is sent anywhere:

* **bare**: `process_partial_response(event, record_handler, BatchProcessor(EventType.SQS), context)`
  with `record_handler = lambda record: bill(json.loads(record.body))` — what a user would write
  with Powertools alone;
* **runtime**: `pipeline_runtime.entry.handler(event, context)` with the environment the Consumer
  component sets (settings parsed per invocation, logger, handler resolution, delivery and logical
  id, redrive detection, outcome hook, …).

Twice: idempotency off (no `AP_IDEMPOTENCY_TABLE`), and on, with an in-memory Powertools persistence
layer on both sides (bare: `idempotent_function` keyed by message id, the runtime's 24 h expiry), so
the store costs nothing and only the runtime's own work is compared. Every invocation gets fresh
message ids (no record is a duplicate). Samples of the cases are interleaved; the median CPU time per
record (`time.process_time`) of `--repeats` samples is reported, with the ratio runtime / bare
(target ≤ 1.3, issue 20).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from aws_lambda_powertools.utilities import idempotency as powertools_idempotency  # noqa: E402
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response  # noqa: E402
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function  # noqa: E402
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemNotFoundError  # noqa: E402
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer  # noqa: E402
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord  # noqa: E402

from contract.runtime import IDEMPOTENCY_EXPIRES_AFTER_SECONDS, MESSAGE_ID  # noqa: E402
from handlers.orders import SAMPLE_ORDER, bill  # noqa: E402
from pipeline_runtime import entry  # noqa: E402
from sandbox.esm import lambda_record  # noqa: E402

REGION = "us-east-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:ap-bench-orders-billing"
BODY = json.dumps(SAMPLE_ORDER)
ENVIRONMENT = {
    "AP_HANDLER": "handlers.orders:bill",
    "AP_PIPELINE": "orders",
    "AP_CONSUMER": "billing",
    "AP_DLQ_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/ap-bench-orders-billing-dlq",
    "AP_FIFO": "false",
    "POWERTOOLS_SERVICE_NAME": "orders-billing",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}
TABLE = "ap-bench-idempotency"


class InMemoryPersistenceLayer(BasePersistenceLayer):
    """Powertools' persistence contract on a dict: the idempotency logic runs, the store costs nothing."""

    def __init__(self, **_: Any) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


@dataclass
class Context:
    """What Powertools reads from the Lambda context."""

    function_name: str = "ap-bench-orders-billing"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:ap-bench-orders-billing"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def sqs_event(batch: int) -> dict[str, Any]:
    """One Lambda SQS event of `batch` fresh messages, shaped by the sandbox's record builder."""
    records = []
    for _ in range(batch):
        message_id = str(uuid.uuid4())
        message = {
            "MessageId": message_id,
            "ReceiptHandle": f"rh-{message_id}",
            "Body": BODY,
            "MD5OfBody": hashlib.md5(BODY.encode()).hexdigest(),  # SQS's own body checksum
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764900000000", "SenderId": "bench"},
            "MessageAttributes": {MESSAGE_ID: {"DataType": "String", "StringValue": f"logical-{message_id}"}},
        }
        records.append(lambda_record(message, QUEUE_ARN, REGION, fifo=False))
    return {"Records": records}


def bare_handler(idempotent: bool) -> Callable[[dict[str, Any], Any], Any]:
    """A bare Powertools consumer of the same business function."""
    persistence = InMemoryPersistenceLayer()
    config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_EXPIRES_AFTER_SECONDS)

    def unit(*, message_id: str, body: str) -> Any:
        return bill(json.loads(body))

    guarded = idempotent_function(
        unit, data_keyword_argument="message_id", persistence_store=persistence, config=config
    )

    def record_handler(record: Any) -> Any:
        if idempotent:
            return guarded(message_id=record.message_id, body=record.body)
        return bill(json.loads(record.body))

    def handler(event: dict[str, Any], context: Any) -> Any:
        if idempotent:
            config.register_lambda_context(context)
        processor = BatchProcessor(event_type=EventType.SQS)
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler


@contextmanager
def runtime_environment(idempotent: bool) -> Iterator[None]:
    """The Consumer component's environment; with idempotency, the runtime's table backed by memory."""
    saved_env = dict(os.environ)
    saved_layer = powertools_idempotency.DynamoDBPersistenceLayer
    os.environ.update(ENVIRONMENT)
    if idempotent:
        os.environ["AP_IDEMPOTENCY_TABLE"] = TABLE
        powertools_idempotency.DynamoDBPersistenceLayer = InMemoryPersistenceLayer  # type: ignore[misc,assignment]
    entry.reset_caches()
    try:
        yield
    finally:
        powertools_idempotency.DynamoDBPersistenceLayer = saved_layer  # type: ignore[misc]
        os.environ.clear()
        os.environ.update(saved_env)
        entry.reset_caches()


def sample(handler: Callable[[dict[str, Any], Any], Any], events: list[dict[str, Any]]) -> float:
    """CPU seconds per record for handling `events` (all must succeed)."""
    context = Context()
    start = time.process_time()
    for event in events:
        response = handler(event, context)
        assert response == {"batchItemFailures": []}, response
    records = sum(len(e["Records"]) for e in events)
    return (time.process_time() - start) / records


def measure(idempotent: bool, invocations: int, repeats: int, batch: int) -> tuple[float, float]:
    """Median per-record CPU seconds: (bare, runtime)."""
    bare = bare_handler(idempotent)
    bare_samples: list[float] = []
    runtime_samples: list[float] = []
    with runtime_environment(idempotent):
        sample(entry.handler, [sqs_event(batch)])  # warm-up: imports, clients, caches
        sample(bare, [sqs_event(batch)])
        for _ in range(repeats):
            bare_samples.append(sample(bare, [sqs_event(batch) for _ in range(invocations)]))
            runtime_samples.append(sample(entry.handler, [sqs_event(batch) for _ in range(invocations)]))
    return statistics.median(bare_samples), statistics.median(runtime_samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=300, help="invocations per sample (default 300)")
    parser.add_argument("--repeats", type=int, default=9, help="samples per case (default 9)")
    parser.add_argument("--batch", type=int, default=10, help="records per invocation (default 10)")
    args = parser.parse_args(argv)

    for idempotent in (False, True):
        bare, runtime = measure(idempotent, args.invocations, args.repeats, args.batch)
        label = "idempotency on (in-memory store)" if idempotent else "idempotency off"
        print(
            f"{label:34} bare {bare * 1e6:7.1f} µs/record   runtime {runtime * 1e6:7.1f} µs/record   "
            f"ratio {runtime / bare:.2f}x (target <= 1.3)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
