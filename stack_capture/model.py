"""The typed model of a captured stack: its parsed config, every registered resource, its outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.config import StackConfig


@dataclass
class CapturedResource:
    """One registration, values as the Pulumi engine saw them (camelCase keys, numbers as floats)."""

    urn: str
    type: str
    name: str
    """Pulumi logical name."""
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    """Inputs plus what the mocks computed (`arn`, `url`, `name`, …)."""
    parent: str | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    retain_on_delete: bool = False
    """The `retain_on_delete` resource option: the engine leaves it in the cloud when the stack lets go of it."""


@dataclass(frozen=True)
class PipelineOutputs:
    """One entry of the stack output `pipelines` (docs/contracts.md §3)."""

    name: str
    pattern: str
    entry: str
    """A topic ARN (fan-out) or a queue URL (chain, retry): where messages are accepted."""
    queue_urls: dict[str, str]
    dlq_urls: dict[str, str]
    large_message_bucket: str | None = None
    """Output `largeMessageBucket` (pipeline `largeMessages: true`): where bodies over the limit go."""

    @property
    def entry_is_topic(self) -> bool:
        return self.entry.startswith("arn:") and self.entry.split(":")[2:3] == ["sns"]  # any partition


@dataclass
class Capture:
    """A stack as the real program registers it under mocks.

    `config` is the very `StackConfig` the program built from (so "is a pipeline enabled" is the
    config model's answer, not a second reading of the YAML).
    """

    stack: str
    region: str
    resources: list[CapturedResource]
    outputs: dict[str, Any]
    config: StackConfig

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> CapturedResource:
        for r in self.resources:
            if r.type == type_ and r.name == name:
                return r
        raise KeyError(f"no {type_} named {name!r}")

    def by_urn(self, urn: str) -> CapturedResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    @property
    def pipelines(self) -> dict[str, PipelineOutputs]:
        """The exported pipelines (the enabled ones), in export order."""
        return {
            name: PipelineOutputs(
                name=name,
                pattern=str(p.get("pattern", "")),
                entry=str(p["entry"]),
                queue_urls=dict(p.get("queueUrls") or {}),
                dlq_urls=dict(p.get("dlqUrls") or {}),
                large_message_bucket=p.get("largeMessageBucket") or None,
            )
            for name, p in (self.outputs.get("pipelines") or {}).items()
        }

    @property
    def enabled_pipelines(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.config.enabled_pipelines)

    @property
    def disabled_pipelines(self) -> tuple[str, ...]:
        """Pipelines in the config with `enabled: false`: they register nothing."""
        return tuple(p.name for p in self.config.pipelines if not p.enabled)
