"""Powertools idempotency around the per-record unit of work (business call + its sends).

One ``DynamoDBPersistenceLayer`` + ``IdempotencyConfig`` + decorated unit is built per
(table, consumer scope, DynamoDB client) and cached, never at import time: the sandbox runs many
consumers with different environments in one process. Records use the Powertools defaults that
docs/contracts.md §1 fixes for the table: partition key ``id`` (S), TTL attribute ``expiration``; the
record id is ``<pipeline>.<consumer>#<md5 of the key>``, so consumers sharing a table and a logical
message id (fan-out subscribers, chain stages) never see each other's records.

Powertools deletes the in-progress record when the unit raises, so a transient failure leaves no
trace and the retry runs the business function again; a completed unit (success, forward, or
dead-letter) is stored, and a duplicate delivery gets the stored outcome back with ``"duplicate": True``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipeline_runtime import clients

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

    from pipeline_runtime.settings import Settings

__all__ = ["EXPIRES_AFTER_SECONDS", "Unit", "reset", "unit_for"]

EXPIRES_AFTER_SECONDS = 24 * 60 * 60
"""How long a completed unit is remembered. Longer than the default 1 h so that a redelivery after a
long visibility timeout (up to 6 x 900 s + window) still finds the record. A copy of
`contract.runtime.IDEMPOTENCY_EXPIRES_AFTER_SECONDS` (tests/test_contract_copies.py)."""

Unit = Callable[..., dict[str, Any]]
"""Called as ``unit(idempotency_key=<str>, job=<callable returning the outcome dict>)``."""

_lock = threading.Lock()
_units: dict[tuple[str, str, Any], tuple[Unit, IdempotencyConfig]] = {}


def _run(*, idempotency_key: str, job: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The idempotent unit: ``idempotency_key`` is hashed by Powertools, ``job`` does the work."""
    return job()


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    if isinstance(response, dict):
        return {**response, "duplicate": True}
    return {"outcome": "unknown", "stored": response, "duplicate": True}


def unit_for(settings: Settings, lambda_context: Any) -> Unit:
    """The idempotent unit for this consumer; registers ``lambda_context`` for in-progress expiry."""
    table = settings.idempotency_table
    if not table:
        raise ValueError("unit_for() needs AP_IDEMPOTENCY_TABLE")
    client = clients.dynamodb()
    cache_key = (table, settings.scope, client)
    with _lock:
        built = _units.get(cache_key)
        if built is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)
            config = IdempotencyConfig(
                expires_after_seconds=EXPIRES_AFTER_SECONDS,
                response_hook=_mark_duplicate,
            )
            unit = idempotent_function(
                _run,
                data_keyword_argument="idempotency_key",
                persistence_store=persistence,
                config=config,
                key_prefix=settings.scope,
            )
            built = _units[cache_key] = (unit, config)
    unit, config = built
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    return unit


def reset() -> None:
    with _lock:
        _units.clear()
