"""The run report: one JSON document (`--json FILE`) and its rendering for the terminal.

JSON schema, `schema_version` 1 (counts are integers, times seconds)::

    {
      "schema_version": 1,
      "stack": "dev", "region": "us-east-1",
      "mode": "in-process" | "endpoint", "endpoint_url": null | "http://...",
      "clock": "virtual" | "real",
      "options": {"messages": "samples" | "<file>", "count": null | N, "seed": 0, "wave": 50,
                  "duplicate_rate": 0.0, "transient_rate": 0.0, "poison_rate": 0.0},
      "ok": true,                      # drained and lost == 0 (the exit status is 0 exactly then)
      "drained": true,                 # every source queue empty, nothing held by a mapping
      "stopped_by": null | "max-virtual-seconds" | "max-wall-seconds" | "stalled",
      "virtual_seconds": 1234.5,       # virtual time from start to end (= wall time with an endpoint)
      "wall_seconds": 2.3,
      "totals": {"published", "tracks", "processed", "dlq", "filtered", "in_flight", "lost",
                 "effects", "double_effects", "invocations", "errors", "injected_duplicates",
                 "chaos_failures", "function_seconds"},  # function_seconds: real time spent inside functions
      "pipelines": {
        "<pipeline>": {
          "pattern": "fanout" | "chain" | "retry", "entry": "<topic ARN or queue URL>",
          "published": N, "poisoned": N,
          "consumers": {
            "<consumer>": {
              "function": "<Lambda name>", "queues": ["<source queue>", ...], "dlq": "<DLQ name>",
              "sent": N,              # accepted for this consumer (fan-out: filter matched; chain: forwarded)
              "filtered": N,          # excluded by its subscription's filter policy
              "processed": N,         # committed a success
              "retried": N,           # needed more than one delivery, or moved to a retry tier
              "redeliveries": N,      # deliveries beyond the first, summed
              "tier_moves": N,        # retry pipeline: escalations to a delay tier
              "dlq_count": N, "dlq_reasons": {"permanent: ...": N, "maxReceiveCount exceeded": N},
              "also_in_dlq": N,       # processed (effect committed), yet a copy reached the DLQ (e.g. the
                                      # invocation kept timing out after committing: SQS redrove it)
              "dlq_extra_copies": N,  # DLQ messages beyond the first per logical message (a redelivered
                                      # record dead-lettered or escalated again)
              "in_flight": N, "lost": N, "lost_ids": ["<ap-message-id>", ...],
              "effects": N,           # committed business effects
              "double_effects": N, "double_effect_ids": [...],
              "invocations": N, "errors": N, "timeouts": N, "injected_duplicates": N
            }}}},
      "queues": {"<queue name>": {"role": "source" | "dlq", "consumer": "<pipeline>.<consumer>",
                                   "received": N, "deleted": N, "returned": N,
                                   "duplicate_deliveries": N,
                                   "final": {"visible": N, "in_flight": N, "delayed": N}}},
      "alarms": [{"name", "namespace", "metric", "dimensions", "comparison", "threshold",
                  "value", "state": "ALARM" | "OK" | "INSUFFICIENT_DATA",
                  "breached_during_run", "description"}],
      "unexpected": {"<queue name>": N},  # messages no track accounts for (e.g. left by an earlier run)
      "messages": {                       # every message, by its ap-message-id (the one id of every tool)
        "<ap-message-id>": {
          "pipeline": "<pipeline>", "note": null | "<the file line's note>", "from": null | "<file:line>",
          "consumers": {
            "<consumer>": {"state": "processed" | "dlq" | "in_flight" | "filtered" | "lost" | "not_reached",
                           "deliveries": N,
                           "last_error": null | "<the last error a delivery failed with>",
                           "dlq_reason": null | "<kind: reason>" | "maxReceiveCount exceeded (last error: ...)"}}}}
    }

`not_reached`: a later chain stage the message never got to (an earlier stage dead-lettered it, or the
run stopped first).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from contract.runtime import MESSAGE_ID
from sandbox.alarms import AlarmResult
from sandbox.ledger import Ledger, Track
from sandbox.state import QueueSnapshot
from sandbox.topology import Topology

SCHEMA_VERSION = 1
MAX_IDS = 20


@dataclass(frozen=True)
class RunInfo:
    stack: str
    region: str
    endpoint_url: str | None
    virtual_clock: bool
    options: dict[str, Any]
    drained: bool
    stopped_by: str | None
    virtual_seconds: float
    wall_seconds: float


def _consumer(ledger: Ledger, scope: str) -> dict[str, Any]:
    info = ledger.consumers[scope]
    tracks = ledger.of(scope)
    states = Counter(t.state for t in tracks)
    reasons = Counter(t.dlq_reason for t in tracks if t.state == "dlq")
    stats = ledger.functions[info.function]
    lost = [t.logical_id for t in tracks if t.state == "lost"]
    doubles = [t.logical_id for t in tracks if t.effects > 1]
    return {
        "function": info.function,
        "queues": list(info.queues),
        "dlq": info.dlq,
        "sent": sum(1 for t in tracks if t.accepted),
        "filtered": states["filtered"],
        "processed": states["processed"],
        "retried": sum(1 for t in tracks if t.deliveries > 1 or t.tier_moves),
        "redeliveries": sum(max(0, t.deliveries - 1) for t in tracks),
        "tier_moves": sum(t.tier_moves for t in tracks),
        "dlq_count": states["dlq"],
        "dlq_reasons": dict(reasons.most_common()),
        "also_in_dlq": sum(1 for t in tracks if t.state == "processed" and t.dlq_copies),
        "dlq_extra_copies": sum(max(0, len(t.dlq_copies) - 1) for t in tracks),
        "in_flight": states["in_flight"],
        "lost": len(lost),
        "lost_ids": sorted(lost)[:MAX_IDS],
        "effects": sum(t.effects for t in tracks),
        "double_effects": len(doubles),
        "double_effect_ids": sorted(doubles)[:MAX_IDS],
        "invocations": stats.invocations,
        "errors": stats.errors,
        "timeouts": stats.timeouts,
        "injected_duplicates": stats.injected_duplicates,
    }


def _pipelines_section(topology: Topology, ledger: Ledger) -> dict[str, Any]:
    pipelines: dict[str, Any] = {}
    for name, p in topology.pipelines.items():
        scopes = [s for s, c in ledger.consumers.items() if c.pipeline == name]
        pipelines[name] = {
            "pattern": p.pattern,
            "entry": p.entry,
            "published": ledger.published[name],
            "poisoned": ledger.poisoned[name],
            "consumers": {ledger.consumers[s].name: _consumer(ledger, s) for s in scopes},
        }
    return pipelines


def _queues_section(ledger: Ledger, snapshots: dict[str, QueueSnapshot]) -> dict[str, Any]:
    queues: dict[str, Any] = {}
    for c in ledger.consumers.values():
        for role, names in (("source", c.queues), ("dlq", (c.dlq,) if c.dlq else ())):
            for q in names:
                snap = snapshots.get(q) or QueueSnapshot(q)
                stats = ledger.queue_stats.get(q, Counter())
                queues[q] = {
                    "role": role,
                    "consumer": c.scope,
                    "received": stats["received"],
                    "deleted": stats["deleted"],
                    "returned": stats["returned"],
                    "duplicate_deliveries": stats["duplicate_deliveries"],
                    "final": {"visible": snap.visible, "in_flight": snap.in_flight, "delayed": snap.delayed},
                }
    return queues


def _messages_section(ledger: Ledger) -> dict[str, Any]:
    """Per message, per consumer of its pipeline: where it ended, how often it came, why it failed."""
    by_id: dict[str, dict[str, Track]] = {}
    for (scope, logical_id), track in ledger.tracks.items():
        by_id.setdefault(logical_id, {})[scope] = track
    out: dict[str, Any] = {}
    for logical_id, tracks in by_id.items():
        origin = ledger.origins.get(logical_id)
        pipeline = origin.pipeline if origin else ledger.consumers[next(iter(tracks))].pipeline
        consumers: dict[str, Any] = {}
        for info in ledger.consumers.values():
            if info.pipeline != pipeline:
                continue
            t = tracks.get(info.scope)
            consumers[info.name] = {
                "state": t.state if t else "not_reached",
                "deliveries": t.deliveries if t else 0,
                "last_error": t.last_error if t else None,
                "dlq_reason": t.dlq_reason if t and t.state == "dlq" else None,
            }
        out[logical_id] = {
            "pipeline": pipeline,
            "note": origin.note if origin else None,
            "from": origin.where if origin else None,
            "consumers": consumers,
        }
    return out


def _totals_section(ledger: Ledger) -> dict[str, Any]:
    fn = ledger.functions.values()
    return {
        "published": sum(ledger.published.values()),
        "tracks": len(ledger.tracks),
        "processed": ledger.count("processed"),
        "dlq": ledger.count("dlq"),
        "filtered": ledger.count("filtered"),
        "in_flight": ledger.count("in_flight"),
        "lost": ledger.count("lost"),
        "effects": sum(t.effects for t in ledger.tracks.values()),
        "double_effects": len(ledger.double_effects),
        "invocations": sum(s.invocations for s in fn),
        "errors": sum(s.errors for s in fn),
        "injected_duplicates": sum(s.injected_duplicates for s in fn),
        "chaos_failures": sum(s.chaos_failures for s in fn),
        "function_seconds": round(sum(s.duration for s in fn), 3),
    }


def build_report(
    info: RunInfo,
    topology: Topology,
    ledger: Ledger,
    snapshots: dict[str, QueueSnapshot],
    alarms: list[AlarmResult],
) -> dict[str, Any]:
    """The JSON report (schema above): the run's settings, then totals, pipelines, queues, alarms."""
    totals = _totals_section(ledger)
    return {
        "schema_version": SCHEMA_VERSION,
        "stack": info.stack,
        "region": info.region,
        "mode": "endpoint" if info.endpoint_url else "in-process",
        "endpoint_url": info.endpoint_url,
        "clock": "virtual" if info.virtual_clock else "real",
        "options": info.options,
        "ok": info.drained and totals["lost"] == 0,
        "drained": info.drained,
        "stopped_by": info.stopped_by,
        "virtual_seconds": round(info.virtual_seconds, 3),
        "wall_seconds": round(info.wall_seconds, 3),
        "totals": totals,
        "pipelines": _pipelines_section(topology, ledger),
        "queues": _queues_section(ledger, snapshots),
        "alarms": [asdict(a) for a in alarms],
        "unexpected": dict(ledger.unexpected),
        "messages": _messages_section(ledger),
    }


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _queue_label(name: str, stack: str, pipeline: str) -> str:
    """`ap-dev-email-retry-1` -> `retry-1`, `ap-dev-orders-billing` -> `billing`: the title names the rest."""
    prefix = f"ap-{stack}-{pipeline}"
    base, fifo = (name[: -len(".fifo")], ".fifo") if name.endswith(".fifo") else (name, "")
    if not base.startswith(prefix):
        return name
    return (base[len(prefix) :].lstrip("-") or "main") + fifo


def _columns(report: dict[str, Any]) -> list[str]:
    """Always the accounting; `in flight` when something is, `effects` when chaos ran or an effect doubled."""
    columns = ["consumer", "queue ×recv", "sent", "filtered", "processed", "retried", "DLQ"]
    t, o = report["totals"], report["options"]
    if t["in_flight"] or not report["drained"]:
        columns.append("in flight")
    columns.append("lost")
    if t["double_effects"] or any(o.get(k) for k in ("duplicate_rate", "transient_rate", "poison_rate")):
        columns.append("effects")
    return columns


def _pipeline_table(name: str, p: dict[str, Any], report: dict[str, Any]) -> Table:
    title = f"{name} ({p['pattern']}) · published {p['published']}"
    if p["poisoned"]:
        title += f" · {p['poisoned']} poisoned"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    columns = _columns(report)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i < 2 else "right", no_wrap=True, min_width=len(column))
    for consumer, c in p["consumers"].items():
        queues = "\n".join(
            f"{_queue_label(q, report['stack'], name)} ×{report['queues'].get(q, {}).get('received', 0)}"
            for q in c["queues"]
        )
        cells = {
            "consumer": consumer,
            "queue ×recv": queues,
            "sent": str(c["sent"]),
            "filtered": str(c["filtered"]),
            "processed": str(c["processed"]),
            "retried": str(c["retried"]),
            "DLQ": str(c["dlq_count"]),
            "in flight": str(c["in_flight"]),
            "lost": f"[bold red]{c['lost']}[/]" if c["lost"] else "0",
            "effects": str(c["effects"]) + (f" ({c['double_effects']} twice!)" if c["double_effects"] else ""),
        }
        table.add_row(*(cells[column] for column in columns))
    return table


STATE_STYLE = {"processed": "green", "dlq": "red", "lost": "bold red", "in_flight": "yellow"}


def _consumer_cell(name: str, c: dict[str, Any]) -> str:
    style = STATE_STYLE.get(c["state"], "dim")
    text = f"{name}: [{style}]{c['state'].replace('_', ' ')}[/]"
    if c["deliveries"] > 1:
        text += f" ×{c['deliveries']}"
    why = c["dlq_reason"] or (c["last_error"] if c["state"] != "processed" else None)
    if why:
        text += f" ({_short(why, 90)})"
    return text


def messages_table(report: dict[str, Any]) -> Table:
    """`--list-messages`: every message by its logical id, where it ended per consumer, and its note."""
    table = Table(title="Messages", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in (MESSAGE_ID, "pipeline", "per consumer", "note"):
        table.add_column(column, no_wrap=column == MESSAGE_ID)
    for logical_id, m in report["messages"].items():
        cells = "\n".join(_consumer_cell(name, c) for name, c in m["consumers"].items())
        table.add_row(logical_id, m["pipeline"], cells, m["note"] or "")
    return table


def render(report: dict[str, Any], console: Console, *, list_messages: bool = False) -> None:
    """The terminal view of `report`: one table per pipeline, DLQ reasons, alarms, a verdict line;
    with `list_messages` first every message (`--list-messages`)."""
    if list_messages:
        console.print(messages_table(report), highlight=False)
        console.print()
    for name, p in report["pipelines"].items():
        console.print(_pipeline_table(name, p, report))
        for c in p["consumers"].values():
            for reason, n in c["dlq_reasons"].items():
                console.print(f"  [yellow]DLQ[/] {c['dlq']} ×{n}: {_short(reason)}", highlight=False)
        console.print()
    firing = [a for a in report["alarms"] if a["state"] == "ALARM"]
    fired = [a for a in report["alarms"] if a["breached_during_run"] and a["state"] != "ALARM"]
    console.print(f"Alarms in ALARM at the end: {len(firing)} of {len(report['alarms'])}")
    for a in firing:
        metric = f"{a['metric']}({','.join(a['dimensions'].values())})"
        console.print(f"  [red]ALARM[/] {a['name']}: {metric} = {a['value']:g} > {a['threshold']:g}", highlight=False)
    for a in fired:
        console.print(f"  [yellow]fired during the run, OK at the end[/] {a['name']}: {a['metric']}", highlight=False)
    t = report["totals"]
    verdict = "[green]OK[/]" if report["ok"] else "[bold red]FAILED[/]"
    drained = "drained" if report["drained"] else f"NOT drained ({report['stopped_by']})"
    clock = f"{report['virtual_seconds']:.0f} s {report['clock']} time in {report['wall_seconds']:.1f} s"
    console.print(
        f"\n{verdict} · {drained} · {t['published']} messages, {t['tracks']} consumer deliveries: "
        f"{t['processed']} processed, {t['dlq']} in DLQs, {t['filtered']} filtered, {t['in_flight']} in flight, "
        f"lost {t['lost']} · double effects {t['double_effects']} · {t['invocations']} invocations "
        f"({t['errors']} failed) · {clock}",
        highlight=False,
    )
    faults = report.get("api_faults")
    if faults:
        top = ", ".join(f"{what} ×{n}" for what, n in sorted(faults["injected"].items(), key=lambda i: -i[1])[:6])
        console.print(f"API faults injected: {faults['injected_total']} ({top})", highlight=False)
        for r in faults["rejected_at_entry"]:
            console.print(f"  [yellow]not accepted by the entry[/] {r['pipeline']} {r['id']}: {r['reason']}",
                          highlight=False)
        for d in faults["double_effects"]:
            console.print(f"  [yellow]applied twice[/] {d['consumer']} {d['id']}: {d['explanation']}", highlight=False)
        if faults["reruns"]:
            first = faults["reruns"][0]
            console.print(
                f"  [yellow]ran again after an unrecorded completion[/]: {len(faults['reruns'])} record(s), "
                f"e.g. {first['consumer']} {first['id']}: {first['explanation']} (all in the JSON report)",
                highlight=False,
            )
    elif t["double_effects"]:
        console.print("[bold red]a business effect was applied twice:[/] see double_effect_ids in the JSON report")
    if report["unexpected"]:
        console.print(f"[yellow]messages no track accounts for:[/] {report['unexpected']}")
