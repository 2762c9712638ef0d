"""How fast each consumer can go: its throughput ceiling, the backlog at a given rate, what caps it.

Ceiling = concurrent batches × batch size ÷ time per batch, where
* concurrent batches: `maxConcurrency` when set, else 1,000 ("The maximum number of batches that an
  event source mapping can process simultaneously is 1,000", AWS Lambda developer guide, "Configuring
  scaling behavior for SQS event source mappings"; Lambda adds up to 300 per minute from 5), and never
  more than the account's concurrency (1,000 by default, shared by every function in the region);
* FIFO: one batch in flight per message group, so at most as many batches as there are groups;
* time per batch: `--duration-ms`, or batch size × the measured time per record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contract import aws

from .measure import ConsumerProfile, Measurement
from .model import rates_for

ESM_MAX_CONCURRENT_BATCHES = aws.ESM_MAX_CONCURRENT_BATCHES
SCALE_UP_PER_MINUTE = aws.ESM_SCALE_UP_BATCHES_PER_MINUTE
INITIAL_POLLERS = aws.ESM_INITIAL_CONCURRENT_BATCHES


@dataclass(frozen=True)
class Capacity:
    pipeline: str
    consumer: str
    concurrency: int
    concurrency_source: str
    batch_size: int
    ms_per_batch: float
    ceiling_per_second: float
    arrival_per_second: float
    backlog_per_hour: float
    warnings: list[str] = field(default_factory=list)


def consumer_capacity(
    m: Measurement, c: ConsumerProfile, rate: float, duration_ms: float | None, fifo_groups: int | None
) -> Capacity:
    published = m.published.get(c.pipeline, 0)
    arrival = rate * c.records / published if published else 0.0
    ms_record = rates_for(m, c, 0.0, None).ms_per_record
    ms_batch = duration_ms if duration_ms is not None else c.batch_size * ms_record
    concurrency, source = ESM_MAX_CONCURRENT_BATCHES, "Lambda's SQS scaling limit (1,000 batches)"
    if c.max_concurrency:
        concurrency, source = c.max_concurrency, "maxConcurrency"
        if c.configured_max_concurrency and c.configured_max_concurrency != c.max_concurrency:
            share = f"{c.max_concurrency} of {c.configured_max_concurrency}"
            source = f"maxConcurrency ({share} on the main queue's mapping)"
    warnings = []
    if c.fifo:
        groups = fifo_groups if fifo_groups is not None else c.groups
        if groups < concurrency:
            concurrency, source = max(groups, 1), f"FIFO: {groups} message group(s), one batch in flight each"
            warnings.append(
                f"FIFO with {groups} message group(s): at most {groups} batch(es) in flight "
                "(use more MessageGroupIds, or --fifo-groups to model your traffic)"
            )
    ceiling = concurrency * c.batch_size / (ms_batch / 1000.0) if ms_batch > 0 else float("inf")
    backlog = max(0.0, arrival - ceiling) * 3600.0
    if backlog > 0:
        configured = c.configured_max_concurrency or c.max_concurrency
        by_key = source.startswith("maxConcurrency")
        capped = f"`maxConcurrency: {configured}` caps it" if by_key else f"{source} caps it"
        warnings.append(
            f"{arrival:,.1f} records/s arrive, at most {ceiling:,.1f}/s processed: backlog grows "
            f"{backlog:,.0f} per hour ({capped})"
        )
    window_plus_timeout = c.batch_window + c.timeout
    if c.visibility_timeout < window_plus_timeout:
        warnings.append(
            f"visibility timeout {c.visibility_timeout} s < batchWindow {c.batch_window} s + timeout {c.timeout} s: "
            "a slow batch becomes visible again while still in flight (duplicates)"
        )
    if not c.max_concurrency and arrival > INITIAL_POLLERS * c.batch_size / (ms_batch / 1000.0):
        warnings.append(
            f"needs more than the initial {INITIAL_POLLERS} concurrent batches; Lambda adds up to "
            f"{SCALE_UP_PER_MINUTE} per minute, so a burst queues for a while"
        )
    return Capacity(c.pipeline, c.consumer, concurrency, source, c.batch_size, ms_batch, ceiling, arrival, backlog,
                    warnings)


def capacities(
    m: Measurement, rates: dict[str, float], duration_ms: float | None = None, fifo_groups: int | None = None
) -> list[Capacity]:
    """Per consumer, at `rates[pipeline]` messages/s published into each pipeline."""
    return [
        consumer_capacity(m, c, rates.get(c.pipeline, 0.0), duration_ms, fifo_groups)
        for c in m.consumers.values()
    ]
