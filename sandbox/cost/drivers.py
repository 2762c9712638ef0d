"""The top cost drivers, each with the config key that changes it and what changing it saves.

A driver is one (pipeline, consumer, service) cost. For each, the candidate changes of that consumer's
config that touch that service are re-priced (`model.estimate` with the change) and the largest saving
is reported. Candidates: `idempotency: false` (no DynamoDB writes), half the `memory` (down to 128 MB;
the duration is assumed unchanged, which holds for I/O-bound handlers) and a 20 s `batchWindow`
(fewer invocations and delete calls at a trickle).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .measure import ConsumerProfile, Measurement
from .meter import Scope
from .model import Change, Estimate, estimate

WINDOW = 20


@dataclass(frozen=True)
class Driver:
    pipeline: str
    consumer: str
    service: str
    usd: float
    change: str | None
    """E.g. "`idempotency: false` on orders.analytics" (None: no config key changes it)."""
    saves_usd: float
    note: str = ""


def candidates(c: ConsumerProfile) -> list[tuple[str, Change]]:
    """(service it changes, change) for one consumer."""
    scope = (c.pipeline, c.consumer)
    out = []
    if c.idempotency:
        out.append(("DynamoDB", Change(scope, "idempotency", False, {"idempotency": False}, ("dynamodb.",))))
    if c.memory_mb > 128:
        half = max(128, c.memory_mb // 2)
        out.append(("Lambda", Change(scope, "memory", half, {"memory_mb": half})))
    if not c.fifo and c.batch_window < WINDOW:
        batch = max(c.batch_size, 10)
        fields = {"batch_window": WINDOW, "batch_size": batch}
        out.append(("Lambda", Change(scope, "batchWindow", WINDOW, fields)))
        out.append(("SQS", Change(scope, "batchWindow", WINDOW, fields)))
    return out


def top_drivers(m: Measurement, base: Estimate, count: int = 3) -> list[Driver]:
    costs: dict[tuple[str, str, str], float] = defaultdict(float)
    for line in base.lines:
        costs[(line.pipeline, line.consumer, line.service)] += line.usd
    ranked = sorted(costs.items(), key=lambda kv: -kv[1])[:count]
    drivers = []
    for (pipeline, consumer, service), usd in ranked:
        profile = m.consumers.get((pipeline, consumer))
        best: tuple[float, Change] | None = None
        for touched, change in candidates(profile) if profile else []:
            if touched != service:
                continue
            changed = estimate(m, base.volumes, duration_ms=base.duration_ms, free_tier=base.free_tier,
                               changes=(change,))
            saving = base.monthly_usd - changed.monthly_usd
            if saving > 0 and (best is None or saving > best[0]):
                best = (saving, change)
        if best is not None:
            drivers.append(Driver(pipeline, consumer, service, usd, best[1].text, best[0]))
        else:
            drivers.append(Driver(pipeline, consumer, service, usd, None, 0.0, _no_key_note(service, consumer)))
    return drivers


def _no_key_note(service: str, consumer: str) -> str:
    if service == "CloudWatch":
        return "one alarm set per queue and function (or the stack's dashboard): fewer queues, fewer alarms"
    if service == "KMS":
        return "the alarm topic's customer managed key"
    if consumer == "(entry)":
        return "publish in batches of up to 10 (producer library) to divide it by up to 10"
    if service == "SQS":
        return "per message (receives, sends); batching windows do not reduce receives of a trickle"
    return "scales with the messages"


def scope_text(scope: Scope) -> str:
    return f"{scope[0]}.{scope[1]}" if scope[1] else scope[0]
