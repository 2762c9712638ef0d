"""How fast each consumer can go: its throughput ceiling, the backlog at a given rate, what caps it.

Ceiling = concurrent batches × batch size ÷ time per batch, where
* concurrent batches: `maxConcurrency` when set, else 1,000 ("The maximum number of batches that an
  event source mapping can process simultaneously is 1,000", AWS Lambda developer guide, "Configuring
  scaling behavior for SQS event source mappings"; Lambda adds up to 300 per minute from 5), and never
  more than the account's concurrency (1,000 by default, `--account-concurrency`);
* FIFO: one batch in flight per message group, so at most as many batches as there are groups;
* time per batch: `--duration-ms`, or batch size × the measured time per record.

The account's concurrency is one pool for every function in the region, so `account_concurrency`
also adds up what all consumers need at once (each: arriving batches per second × seconds per batch,
Little's law) and what their `maxConcurrency` settings reserve, and warns when either exceeds the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contract import aws

from .measure import ConsumerProfile, Measurement
from .model import Durations, as_durations, rates_for

ESM_MAX_CONCURRENT_BATCHES = aws.ESM_MAX_CONCURRENT_BATCHES
SCALE_UP_PER_MINUTE = aws.ESM_SCALE_UP_BATCHES_PER_MINUTE
INITIAL_POLLERS = aws.ESM_INITIAL_CONCURRENT_BATCHES
ACCOUNT_CONCURRENCY = aws.LAMBDA_ACCOUNT_CONCURRENCY_DEFAULT


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
    m: Measurement,
    c: ConsumerProfile,
    rate: float,
    duration_ms: float | Durations | None,
    fifo_groups: int | None,
    account_concurrency: int = ACCOUNT_CONCURRENCY,
    shared_by: int = 1,
) -> Capacity:
    published = m.published.get(c.pipeline, 0)
    arrival = rate * c.records / published if published else 0.0
    ms_record = rates_for(m, c, 0.0, None).ms_per_record
    duration = as_durations(duration_ms).of((c.pipeline, c.consumer))
    ms_batch = duration if duration is not None else c.batch_size * ms_record
    concurrency, source = ESM_MAX_CONCURRENT_BATCHES, "Lambda's SQS scaling limit (1,000 batches)"
    if account_concurrency <= concurrency:
        concurrency = account_concurrency
        who = f"all {shared_by} consumers and every other function" if shared_by > 1 else "every function"
        source = f"the account's Lambda concurrency ({account_concurrency:,}, shared by {who} in the region)"
    if c.max_concurrency and c.max_concurrency <= concurrency:
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
    m: Measurement,
    rates: dict[str, float],
    duration_ms: float | Durations | None = None,
    fifo_groups: int | None = None,
    account_concurrency: int = ACCOUNT_CONCURRENCY,
) -> list[Capacity]:
    """Per consumer, at `rates[pipeline]` messages/s published into each pipeline."""
    return [
        consumer_capacity(
            m, c, rates.get(c.pipeline, 0.0), duration_ms, fifo_groups, account_concurrency, len(m.consumers)
        )
        for c in m.consumers.values()
    ]


@dataclass(frozen=True)
class AccountConcurrency:
    """The region's Lambda concurrency, one pool for all consumers (and every other function there)."""

    limit: int
    needed: float
    """Concurrent executions all consumers need at once at the given rates (Little's law, summed)."""
    reserved: int
    """Sum of the consumers' `maxConcurrency` (what they may take at most, together)."""
    consumers: int
    warnings: list[str] = field(default_factory=list)


def account_concurrency(capacity: list[Capacity], limit: int = ACCOUNT_CONCURRENCY) -> AccountConcurrency:
    """What every consumer of the stack needs from the account's shared concurrency, and whether it fits."""
    needed = sum(c.arrival_per_second / c.batch_size * c.ms_per_batch / 1000.0 for c in capacity if c.batch_size)
    reserved = sum(c.concurrency for c in capacity if c.concurrency_source.startswith("maxConcurrency"))
    warnings = []
    if needed > limit:
        warnings.append(
            f"the {len(capacity)} consumers need ~{needed:,.0f} concurrent executions at these rates, more than "
            f"the account's {limit:,} (shared by every function in the region): they throttle each other - "
            "ask AWS for a higher quota, or set maxConcurrency to share it on purpose"
        )
    if reserved > limit:
        warnings.append(
            f"maxConcurrency adds up to {reserved:,} over the consumers, more than the account's {limit:,}: "
            "the caps cannot all be reached at once"
        )
    return AccountConcurrency(limit, needed, reserved, len(capacity), warnings)
