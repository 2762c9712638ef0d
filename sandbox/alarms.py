"""Which captured CloudWatch alarms would be in ALARM, given the run's final state and invocations.

moto neither emits AWS/SQS or AWS/Lambda metrics nor evaluates alarms (design.md §6), so the sandbox
computes each alarm's metric itself and applies the captured threshold and comparison:

* `AWS/SQS ApproximateNumberOfMessagesVisible|NotVisible|Delayed` (by QueueName): the final count.
  The DLQ alarm (> 0) is the one that matters: any dead-lettered message sets it.
* `AWS/SQS ApproximateAgeOfOldestMessage`: now minus the oldest SentTimestamp still in the queue
  (no messages = no data).
* `AWS/Lambda Errors` (Sum, by FunctionName): failed invocations (exception, timeout, chaos) in the
  alarm's last evaluation window (`period x evaluationPeriods` virtual seconds before the end);
  `breached_during_run` says whether any period of the run went over, i.e. whether it fired at all.
* `AWS/Lambda Throttles`: always 0 here (the sandbox never throttles).

Anything else is reported as INSUFFICIENT_DATA ("not simulated"). The state is the end-of-run view:
alarms with several evaluation periods are judged on the final value, which is what they would
settle on if the state persisted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sandbox.ledger import FunctionStats
from sandbox.state import QueueSnapshot
from sandbox.topology import AlarmSpec

COMPARISONS = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
DEFAULT_PERIOD = 60


@dataclass(frozen=True)
class AlarmResult:
    name: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    comparison: str
    threshold: float
    value: float | None
    state: str
    """ALARM, OK or INSUFFICIENT_DATA."""
    breached_during_run: bool
    description: str


def _missing(alarm: AlarmSpec) -> str:
    return {"breaching": "ALARM", "notBreaching": "OK"}.get(alarm.treat_missing_data, "INSUFFICIENT_DATA")


def _judge(alarm: AlarmSpec, value: float | None) -> str:
    if value is None:
        return _missing(alarm)
    compare = COMPARISONS.get(alarm.comparison)
    if compare is None:
        return "INSUFFICIENT_DATA"
    return "ALARM" if compare(value, alarm.threshold) else "OK"


def _sqs_value(alarm: AlarmSpec, snapshots: dict[str, QueueSnapshot], now: float) -> tuple[bool, float | None]:
    snap = snapshots.get(alarm.dimensions.get("QueueName", ""))
    if snap is None:
        return False, None
    if alarm.metric == "ApproximateNumberOfMessagesVisible":
        return True, float(snap.visible)
    if alarm.metric == "ApproximateNumberOfMessagesNotVisible":
        return True, float(snap.in_flight)
    if alarm.metric == "ApproximateNumberOfMessagesDelayed":
        return True, float(snap.delayed)
    if alarm.metric == "ApproximateAgeOfOldestMessage":
        return True, None if snap.oldest_sent_at is None else max(0.0, now - snap.oldest_sent_at)
    return False, None


def _lambda_values(
    alarm: AlarmSpec, stats: FunctionStats | None, start: float, now: float
) -> tuple[bool, float | None, bool]:
    """(simulated, value in the last window, any period breached)."""
    if stats is None or alarm.metric not in ("Errors", "Throttles"):
        return False, None, False
    times = stats.error_times if alarm.metric == "Errors" else []
    period = DEFAULT_PERIOD
    window = period * max(1, alarm.evaluation_periods)
    recent = float(sum(1 for t in times if t > now - window))
    compare = COMPARISONS.get(alarm.comparison, COMPARISONS["GreaterThanThreshold"])
    buckets: dict[int, int] = {}
    for t in times:
        key = math.floor((t - start) / period)
        buckets[key] = buckets.get(key, 0) + 1
    fired = any(compare(float(n), alarm.threshold) for n in buckets.values())
    return True, recent, fired


def evaluate(
    alarms: list[AlarmSpec],
    snapshots: dict[str, QueueSnapshot],
    functions: dict[str, FunctionStats],
    *,
    start: float,
    now: float,
) -> list[AlarmResult]:
    results = []
    for alarm in alarms:
        simulated, value, fired = False, None, False
        if alarm.namespace == "AWS/SQS":
            simulated, value = _sqs_value(alarm, snapshots, now)
            fired = simulated and _judge(alarm, value) == "ALARM"
        elif alarm.namespace == "AWS/Lambda":
            stats = functions.get(alarm.dimensions.get("FunctionName", ""))
            simulated, value, fired = _lambda_values(alarm, stats, start, now)
        state = _judge(alarm, value) if simulated else "INSUFFICIENT_DATA"
        results.append(
            AlarmResult(
                name=alarm.name,
                namespace=alarm.namespace,
                metric=alarm.metric,
                dimensions=alarm.dimensions,
                comparison=alarm.comparison,
                threshold=alarm.threshold,
                value=value,
                state=state,
                breached_during_run=fired,
                description=alarm.description if simulated else f"not simulated: {alarm.description}",
            )
        )
    return results
