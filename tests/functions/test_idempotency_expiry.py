"""A completed unit of work is remembered for exactly 24 h (docs/contracts.md §1, contract/runtime.py).

Shorter, a redelivery after a long visibility timeout (6 × 900 s + 300 s) or a late producer duplicate
would run the business function again; Powertools' own default is only 1 h.
"""

from __future__ import annotations

import time

from contract.runtime import IDEMPOTENCY_EXPIRES_AFTER_SECONDS
from pipeline_runtime import entry
from tests.functions.conftest import event, failures

DAY = 24 * 60 * 60


def test_the_idempotency_record_expires_exactly_24_hours_after_the_unit_completed(aws, consumer_env, context):
    source, dlq = aws.queue("orders-billing"), aws.queue("orders-billing-dlq")
    aws.table()
    consumer_env(dlq=dlq)
    aws.send(source, {"do": "ok", "n": 1}, {"ap-message-id": "m-1"})
    [record] = aws.receive_records(source, expected=1)

    before = int(time.time())
    assert failures(entry.handler(event(record), context)) == []
    after = int(time.time()) + 1

    [item] = aws.idempotency_items()
    assert item["status"]["S"] == "COMPLETED"
    expiration = int(item["expiration"]["N"])
    assert before + DAY <= expiration <= after + DAY
    assert IDEMPOTENCY_EXPIRES_AFTER_SECONDS == DAY
