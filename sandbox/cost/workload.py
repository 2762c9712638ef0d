"""What `sandbox cost` measures with: the samples, plus `--messages`, plus smoke probes for the rest.

A `--messages` file adds to the built-in samples (the user's traffic mix on top of ours, not instead
of it). An enabled pipeline that still has no message - a pipeline the user just added - is measured
with smoke probes (`sandbox.probes`): the request path of a successful message, without the business
function. The report names those pipelines (`Measurement.probed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sandbox.messages import MessageSpec, check_pipelines, load_file, load_samples
from sandbox.probes import probe_messages
from sandbox.topology import Topology


@dataclass(frozen=True)
class Workload:
    messages: list[MessageSpec]
    probed: tuple[str, ...]
    """Enabled pipelines without sample or file messages: their messages are smoke probes."""


def workload(topology: Topology, disabled: tuple[str, ...], messages_file: Path | None = None) -> Workload:
    """Samples + the file's messages (checked against the stack) + probes for pipelines with neither."""
    enabled = list(topology.pipelines)
    specs = load_samples(enabled)
    if messages_file is not None:
        given = load_file(messages_file)
        check_pipelines(given, enabled, disabled, topology.stack)
        specs += given
    covered = {s.pipeline for s in specs}
    probed = tuple(p for p in enabled if p not in covered)
    return Workload(specs + probe_messages(topology, probed), probed)
