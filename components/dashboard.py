"""One CloudWatch dashboard per stack: a row per pipeline with the metrics its alarms watch.

cdk-monitoring-constructs gives every resource a dashboard; a row per pipeline keeps the picture
to one page: queue depth, age of the oldest message, DLQ depth, and the consumers' errors/throttles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class PipelineMetrics:
    """What one pipeline's row shows: its queues, DLQs and functions, by physical name."""

    name: str
    queue_names: Sequence[pulumi.Input[str]]
    dlq_names: Sequence[pulumi.Input[str]]
    function_names: Sequence[pulumi.Input[str]]


def stack_dashboard(name: str, region: str, pipelines: Sequence[PipelineMetrics]) -> aws.cloudwatch.Dashboard:
    """Register the stack's dashboard; the body is built once every name is known."""
    names = pulumi.Output.all(
        *[
            pulumi.Output.all(
                pulumi.Output.all(*p.queue_names), pulumi.Output.all(*p.dlq_names), pulumi.Output.all(*p.function_names)
            )
            for p in pipelines
        ]
    )
    return aws.cloudwatch.Dashboard(
        "dashboard",
        dashboard_name=name,
        dashboard_body=names.apply(
            lambda resolved: json.dumps(
                {"widgets": [w for p, n in zip(pipelines, resolved, strict=True) for w in _row(p.name, region, *n)]}
            )
        ),
    )


def _row(pipeline: str, region: str, queues: list[str], dlqs: list[str], functions: list[str]) -> list[dict[str, Any]]:
    def widget(title: str, stat: str, metrics: list[list[str]]) -> dict[str, Any]:
        return {
            "type": "metric",
            "width": 6,
            "height": 6,
            "properties": {
                "title": f"{pipeline}: {title}",
                "region": region,
                "stat": stat,
                "period": 60,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    return [
        widget(
            "visible messages",
            "Maximum",
            [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q] for q in queues],
        ),
        widget(
            "age of oldest message (s)",
            "Maximum",
            [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q] for q in queues],
        ),
        widget(
            "dead-lettered messages",
            "Maximum",
            [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q] for q in dlqs],
        ),
        widget(
            "function errors and throttles",
            "Sum",
            [["AWS/Lambda", metric, "FunctionName", f] for f in functions for metric in ("Errors", "Throttles")],
        ),
    ]
