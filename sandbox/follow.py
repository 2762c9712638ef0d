"""Where a message is right now, per consumer of its pipeline: what `GET /messages/{id}` answers.

Read from the run's ledger (what each mapping received and what the runtime decided for each record,
through its outcome hook) and from the DLQs' current contents (SQS's own redrive adds no attribute,
so a message moved at maxReceiveCount is only visible there). States, per consumer:

* `processed` – the consumer's unit of work committed a success;
* `dlq` – a copy is in the consumer's DLQ, with `ap-error-kind` / `ap-error-reason`
  (`max-receive-count` when SQS's redrive moved it);
* `retrying` – the runtime moved it to retry tier `tier` and it has not come out of it yet;
* `filtered` – a fan-out filter policy kept it from this subscriber;
* `queued` – accepted for this consumer, in its queue (visible, in flight or delayed);
* `pending` – a later chain stage the message has not reached yet;
* `not_reached` – a later chain stage it never will: an earlier stage put it in its DLQ.

Every state but `pending`/`not_reached` carries `deliveries` and `effects`; a consumer whose deliveries
failed carries `lastError` (the record's own error, else its invocation's), so a message SQS moved at
maxReceiveCount still says why. A redriven message that fails again is dead-lettered under
`<id>~redrive:<n>` (the runtime's new generation): it is matched by the id it was sent with.
"""

from __future__ import annotations

import re
from typing import Any

from contract.runtime import ERROR_KIND, ERROR_REASON
from sandbox.ledger import MAX_RECEIVE_REASON, Ledger, Track
from sandbox.state import QueuedMessage, QueueState

_TIER = re.compile(r"^outcome:retry-tier-(\d+)")


def _last_tier(track: Track) -> int | None:
    for _, _, event in reversed(track.timeline):
        if event.startswith("outcome:") and not event.startswith("outcome:retry-tier"):
            return None
        found = _TIER.match(event)
        if found:
            return int(found.group(1))
    return None


def consumer_state(
    track: Track | None, dlq_copy: QueuedMessage | None, *, earlier_stage_dead: bool = False
) -> dict[str, Any]:
    """One consumer's entry of the answer (without its name)."""
    if track is None:
        return {"state": "not_reached" if earlier_stage_dead else "pending"}
    out: dict[str, Any] = {"deliveries": track.deliveries, "effects": track.effects}
    if track.succeeded:
        return {"state": "processed", **out}
    if track.last_error:
        out["lastError"] = track.last_error
    if dlq_copy is not None:
        kind = dlq_copy.error_kind or "max-receive-count"
        reason = dlq_copy.error_reason or MAX_RECEIVE_REASON
        return {"state": "dlq", ERROR_KIND: kind, ERROR_REASON: reason, **out}
    if track.filtered and not track.accepted:
        return {"state": "filtered", **out}
    tier = _last_tier(track)
    if tier is not None:
        return {"state": "retrying", "tier": tier, **out}
    return {"state": "queued", **out}


def follow(ledger: Ledger, state: QueueState, now: float, pipeline: str, logical_id: str) -> dict[str, Any]:
    """Every consumer of `pipeline` (subscribers, chain stages, the retry consumer) and where the message is."""
    consumers = []
    dead = False  # an earlier chain stage holds it in its DLQ: the later ones are never reached
    for info in ledger.consumers.values():
        if info.pipeline != pipeline:
            continue
        track = ledger.tracks.get((info.scope, logical_id))
        copy = None
        if track is not None and info.dlq and not track.succeeded:
            snapshot = state.snapshot(info.dlq, now)
            copy = next((m for m in snapshot.messages if m.original_id == logical_id), None)
        entry = consumer_state(track, copy, earlier_stage_dead=dead)
        if entry["state"] == "dlq":
            entry["queue"] = info.dlq
            dead = dead or info.next_consumer is not None
        consumers.append({"consumer": info.name, **entry})
    return {"messageId": logical_id, "pipeline": pipeline, "consumers": consumers}
