"""Every DLQ is watched by a CloudWatch alarm on its visible-message count."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from .model import METRIC_ALARM, QUEUE, UNKNOWN, Finding, Resource, Stack, text
from .queues import consumers_unresolved, dead_letter_queues

DLQ_METRIC: Final = "ApproximateNumberOfMessagesVisible"
SQS_NAMESPACE: Final = "AWS/SQS"


def _metrics(alarm: Resource) -> Iterator[tuple[Any, Any, Any, str]]:
    """(metricName, namespace, dimensions, property holding them) for a plain or metric-math alarm."""
    yield alarm.get("metricName"), alarm.get("namespace"), alarm.get("dimensions"), "dimensions"
    queries = alarm.get("metricQueries")
    for query in queries if isinstance(queries, list) else []:
        metric = query.get("metric") if isinstance(query, Mapping) else None
        if isinstance(metric, Mapping):
            yield metric.get("metricName"), metric.get("namespace"), metric.get("dimensions"), "metricQueries"


def watches(alarm: Resource, dlq: Resource) -> bool:
    """The alarm reads AWS/SQS ApproximateNumberOfMessagesVisible for QueueName = the DLQ.

    The queue is recognised by name, or — when the dimension is unknown (preview) — by the alarm's
    dimensions depending on the DLQ resource. Unknown metric/namespace values count as matching.
    """
    dlq_name = text(dlq.get("name"))
    for metric, namespace, dimensions, prop in _metrics(alarm):
        if metric not in (DLQ_METRIC, UNKNOWN) or namespace not in (SQS_NAMESPACE, UNKNOWN):
            continue
        queue_name = dimensions.get("QueueName") if isinstance(dimensions, Mapping) else dimensions
        if isinstance(queue_name, str) and isinstance(dlq_name, str):
            if queue_name == dlq_name:
                return True
            continue
        if dlq.urn in alarm.property_dependencies.get(prop, ()):
            return True
    return False


def _might_watch(alarm: Resource, dlq: Resource) -> bool:
    """Preview: the alarm's queue cannot be told yet (unknown QueueName without a dependency, or a
    literal QueueName while the DLQ's name is unknown), so it might be this DLQ's alarm."""
    for metric, namespace, dimensions, _prop in _metrics(alarm):
        if metric not in (DLQ_METRIC, UNKNOWN) or namespace not in (SQS_NAMESPACE, UNKNOWN):
            continue
        queue_name = dimensions.get("QueueName") if isinstance(dimensions, Mapping) else dimensions
        if queue_name is UNKNOWN and not any(alarm.property_dependencies.values()):
            return True
        if isinstance(queue_name, str) and dlq.get("name") is UNKNOWN:
            return True
    return False


def unresolved_dlq_alarms(stack: Stack) -> list[Resource]:
    """DLQs whose alarm cannot be confirmed or ruled out yet (preview)."""
    alarms = stack.of_type(METRIC_ALARM)
    dlqs = [stack.get(urn) for urn in dead_letter_queues(stack)]
    return [
        dlq
        for dlq in dlqs
        if dlq is not None
        and not any(watches(alarm, dlq) for alarm in alarms)
        and any(_might_watch(alarm, dlq) for alarm in alarms)
    ]


def check_dlq_alarm(stack: Stack) -> Iterator[Finding]:
    if consumers_unresolved(stack):
        return  # a redrive target might be a consumed retry queue, not a DLQ: cannot judge yet
    alarms = stack.of_type(METRIC_ALARM)
    for urn, sources in dead_letter_queues(stack).items():
        dlq = stack.get(urn)
        if dlq is None or dlq.type != QUEUE or any(watches(alarm, dlq) for alarm in alarms):
            continue
        if any(_might_watch(alarm, dlq) for alarm in alarms):
            continue  # preview: reported as an unresolved reference (advisory) instead
        name = text(dlq.get("name"))
        shown = f'"{name}"' if isinstance(name, str) else "the DLQ's name"
        feeders = ", ".join(f'"{s.name}"' for s in sources) or "the queues its redrive allow policy admits"
        yield Finding.about(
            dlq,
            f"{dlq.label} (dead-letter queue of {feeders}) has no CloudWatch alarm on {SQS_NAMESPACE} "
            f"{DLQ_METRIC} with QueueName = {shown}, so failed messages pile up unnoticed "
            "(NumberOfMessagesSent does not count messages moved by redrive). Fix: add an "
            "aws.cloudwatch.MetricAlarm on that metric, threshold > 0, treatMissingData = notBreaching, "
            "notifying the stack's alarm topic.",
        )
