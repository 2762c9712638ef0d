"""Stack outputs (typed by `stack_capture`) → the DLQs of a stack and the queue each one redrives into.

The program exports, per pipeline, `queueUrls` and `dlqUrls` (docs/contracts.md §3). Physical queue
names are deterministic (`ap-<stack>-<pipeline>-<consumer>[-dlq][.fifo]`), so the *names* in the
captured URLs are right for any account; the account id and region in them are the mocks'. Callers
therefore keep only names here and resolve the live URL with `GetQueueUrl` (see `ops.queues`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from stack_capture import Capture, PipelineOutputs

__all__ = ["DlqTarget", "StackTargets", "TargetError", "capture_of", "dlq_targets", "load_targets", "queue_name"]


class TargetError(LookupError):
    """An unknown stack, pipeline or consumer; the message names what exists."""


@dataclass(frozen=True)
class DlqTarget:
    pipeline: str
    consumer: str
    """Key in the pipeline's `dlqUrls`: the subscriber / stage name, `dlq` for a retry pipeline."""
    pattern: str
    dlq_name: str
    source_name: str
    """Where a redrive sends messages: the consumer's queue; for a retry pipeline its *main* queue."""

    @property
    def fifo(self) -> bool:
        return self.dlq_name.endswith(".fifo")

    @property
    def label(self) -> str:
        return f"{self.pipeline}/{self.consumer}"


@dataclass(frozen=True)
class StackTargets:
    stack: str
    region: str
    targets: list[DlqTarget]


def queue_name(url: str) -> str:
    """The queue name is the last path segment of its URL."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _source_name(spec: PipelineOutputs, consumer: str) -> str:
    """A retry pipeline's DLQ has several sources (main + tiers); a redrive restarts at the main queue.

    Redriving into a tier would skip the earlier delays and, in the runtime, count as a later attempt;
    the main queue is the pipeline's entry, where `ap-attempt` restarts at 0 (contracts §5).
    """
    if spec.pattern == "retry":
        url = spec.entry if spec.entry.startswith("http") else spec.queue_urls.get("main")
    else:
        url = spec.queue_urls.get(consumer)
    if not url:
        raise TargetError(f"pipeline {spec.name!r}: no source queue for DLQ {consumer!r} in the stack outputs")
    return queue_name(url)


def dlq_targets(
    pipelines: Mapping[str, PipelineOutputs],
    *,
    stack: str,
    pipeline: str | None = None,
    consumer: str | None = None,
    disabled: Collection[str] = (),
) -> list[DlqTarget]:
    """Every DLQ of the exported pipelines, narrowed to `pipeline` / `consumer` (errors name the choices)."""
    if pipeline is not None and pipeline not in pipelines:
        if pipeline in disabled:
            raise TargetError(
                f"pipeline {pipeline!r} is disabled in stack {stack!r} (enabled: false): it has no queues"
            )
        known = ", ".join(sorted(pipelines)) or "none"
        raise TargetError(f"unknown pipeline {pipeline!r} in stack {stack!r} (pipelines: {known})")
    if consumer is not None and pipeline is None:
        raise TargetError("--consumer needs --pipeline")
    names = [pipeline] if pipeline is not None else sorted(pipelines)
    found: list[DlqTarget] = []
    for name in names:
        spec = pipelines[name]
        if consumer is not None and consumer not in spec.dlq_urls:
            known = ", ".join(spec.dlq_urls) or "none"
            raise TargetError(f"unknown consumer {consumer!r} in pipeline {name!r} (DLQs: {known})")
        for key, url in spec.dlq_urls.items():
            if consumer is not None and key != consumer:
                continue
            found.append(
                DlqTarget(
                    pipeline=name,
                    consumer=key,
                    pattern=spec.pattern,
                    dlq_name=queue_name(url),
                    source_name=_source_name(spec, key),
                )
            )
    return found


def capture_of(stack: str, project_dir: Path | None = None) -> Capture:
    """`stack` run under mocks (stack_capture); a bad stack or config raises `StackUnreadable` (its lines).

    Imported lazily: Pulumi is slow to import and not needed for `--help`.
    """
    from stack_capture.stack_errors import capture_for_cli

    return capture_for_cli(stack, project_dir)


def load_targets(
    stack: str, pipeline: str | None = None, consumer: str | None = None, project_dir: Path | None = None
) -> StackTargets:
    capture = capture_of(stack, project_dir)
    targets = dlq_targets(
        capture.pipelines, stack=capture.stack, pipeline=pipeline, consumer=consumer,
        disabled=capture.disabled_pipelines,
    )
    return StackTargets(stack=capture.stack, region=capture.region, targets=targets)
