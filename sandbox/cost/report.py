"""The cost report: a table per pipeline and service, the total, drivers, capacity; JSON; base/head diff.

JSON (`--json FILE`, `schema_version` 1):
* `stack`, `region`, `approximate` (true outside us-east-1), `prices_as_of`, `volumes` (messages per
  month per pipeline), `free_tier`, `duration_ms` (a number, or `pipeline.consumer` -> ms with `*` for the rest);
* `monthly_usd`, `fixed_usd`, `usage_usd`;
* `by_service`: service -> USD; `by_pipeline`: pipeline -> {`usd`, `fixed_usd`, `by_service`,
  `consumers`: consumer -> service -> USD} (`(entry)` is the producer's publishes, `(stack)` the
  stack-wide dashboard and key);
* `lines`: every priced item {`pipeline`, `consumer`, `service`, `item`, `unit`, `quantity`, `usd`, `fixed`};
* `rates`: per `pipeline.consumer` the batching the model derived (records per month, per second,
  per receive, per invocation, ms per invocation and where that came from);
* `drivers`: the top three {`pipeline`, `consumer`, `service`, `usd`, `change`, `saves_usd`, `note`};
* `capacity`: per consumer {`concurrency`, `concurrency_source`, `ceiling_per_second`,
  `arrival_per_second`, `backlog_per_hour`, `warnings`} at `rate_per_second`;
* `account_concurrency`: {`limit`, `needed`, `reserved`, `consumers`, `warnings`}: the region's Lambda
  concurrency every consumer shares;
* `assumptions`: the model's assumptions, in words; `measured`: what the sandbox run published, and
  `probed`: the pipelines measured with smoke probes (no sample messages).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .capacity import AccountConcurrency, Capacity, account_concurrency
from .drivers import Driver
from .measure import Measurement
from .model import SERVICES, Estimate
from .prices import PRICES_AS_OF

SCHEMA_VERSION = 1


class DiffError(ValueError):
    """A cost JSON that cannot be compared (unreadable, not a cost report)."""


def usd(value: float) -> str:
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return "<$0.01" if value > 0 else "-<$0.01"
    return f"${value:,.2f}"


def to_json(
    est: Estimate,
    m: Measurement,
    drivers: list[Driver],
    capacity: list[Capacity],
    rates: dict[str, float],
    shared: AccountConcurrency | None = None,
) -> dict[str, Any]:
    shared = shared or account_concurrency(capacity)
    return {
        "schema_version": SCHEMA_VERSION,
        "stack": est.stack,
        "region": est.region,
        "approximate": est.approximate,
        "prices_as_of": PRICES_AS_OF,
        "volumes": est.volumes,
        "free_tier": est.free_tier,
        "duration_ms": est.duration_ms.to_json(),
        "monthly_usd": round(est.monthly_usd, 6),
        "fixed_usd": round(est.fixed_usd, 6),
        "usage_usd": round(est.monthly_usd - est.fixed_usd, 6),
        "by_service": {k: round(v, 6) for k, v in est.by_service().items()},
        "by_pipeline": est.by_pipeline(),
        "lines": [
            {"pipeline": line.pipeline, "consumer": line.consumer, "service": line.service, "item": line.item,
             "unit": line.unit, "quantity": line.quantity, "usd": line.usd, "fixed": line.fixed}
            for line in est.lines
        ],
        "rates": {f"{p}.{c}": asdict(r) for (p, c), r in est.rates.items()},
        "drivers": [asdict(d) for d in drivers],
        "rate_per_second": rates,
        "capacity": [asdict(c) for c in capacity],
        "account_concurrency": asdict(shared),
        "assumptions": est.assumptions,
        "measured": {
            "published": dict(m.published),
            "probed": list(m.probed),
            "run_ok": m.run_ok,
            "sandbox_wall_seconds": m.wall_seconds,
        },
    }


def render(
    est: Estimate,
    drivers: list[Driver],
    capacity: list[Capacity],
    console: Console,
    shared: AccountConcurrency | None = None,
    probed: tuple[str, ...] = (),
) -> None:
    volumes = ", ".join(f"{p} {v:,.0f}" for p, v in est.volumes.items())
    where = est.region + (" (APPROXIMATE: us-east-1 prices)" if est.approximate else "")
    console.print(f"[bold]Monthly cost of stack {est.stack}[/] · {where} · list prices of {PRICES_AS_OF}"
                  + (" · free tier subtracted" if est.free_tier else ""))
    console.print(f"messages per month: {volumes}")
    if probed:
        console.print(f"[yellow]measured with smoke probes (no sample messages): {', '.join(probed)}[/] - the "
                      "request path of a successful message, without the business function (see Assumptions)")
    services = [s for s in SERVICES if any(line.service == s for line in est.lines)]
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("pipeline / consumer")
    for s in services:
        table.add_column(s, justify="right")
    table.add_column("fixed", justify="right")
    table.add_column("total", justify="right", style="bold")
    for pipeline, p in est.by_pipeline().items():
        table.add_row(f"[bold]{pipeline}[/]", *[usd(p["by_service"].get(s, 0.0)) for s in services],
                      usd(p["fixed_usd"]), usd(p["usd"]))
        for consumer, by_service in p["consumers"].items():
            if consumer == "-":
                continue
            fixed = sum(
                line.usd for line in est.lines if line.fixed and line.pipeline == pipeline and line.consumer == consumer
            )
            table.add_row(f"  {consumer}", *[usd(by_service.get(s, 0.0)) for s in services], usd(fixed),
                          usd(sum(by_service.values())))
        table.add_section()
    totals = est.by_service()
    table.add_row("[bold]total[/]", *[usd(totals.get(s, 0.0)) for s in services], usd(est.fixed_usd),
                  usd(est.monthly_usd))
    console.print(table)
    console.print(f"[bold]Total: {usd(est.monthly_usd)} per month[/] (fixed {usd(est.fixed_usd)}, "
                  f"usage {usd(est.monthly_usd - est.fixed_usd)})")
    console.print("\n[bold]Top cost drivers[/]")
    for n, d in enumerate(drivers, 1):
        who = f"{d.pipeline}.{d.consumer}" if d.consumer else d.pipeline
        if d.change:
            console.print(f"  {n}. {d.service} of {who}: {usd(d.usd)} — {d.change} saves {usd(d.saves_usd)}")
        else:
            console.print(f"  {n}. {d.service} of {who}: {usd(d.usd)} — no config key: {d.note}")
    render_capacity(capacity, console, shared or account_concurrency(capacity))
    console.print("\n[bold]Assumptions[/]")
    for a in est.assumptions:
        console.print(f"  - {a}", highlight=False)


def render_capacity(capacity: list[Capacity], console: Console, shared: AccountConcurrency | None = None) -> None:
    table = Table(title="Capacity", title_justify="left", show_edge=False, pad_edge=False)
    for name, justify in (("consumer", "left"), ("batches", "right"), ("batch", "right"), ("ms/batch", "right"),
                          ("ceiling rec/s", "right"), ("arriving rec/s", "right"), ("backlog/h", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in capacity:
        table.add_row(f"{c.pipeline}.{c.consumer}", f"{c.concurrency:,}", str(c.batch_size), f"{c.ms_per_batch:,.0f}",
                      f"{c.ceiling_per_second:,.0f}", f"{c.arrival_per_second:,.2f}", f"{c.backlog_per_hour:,.0f}")
    console.print()
    console.print(table)
    for c in capacity:
        for w in c.warnings:
            console.print(f"  ! {c.pipeline}.{c.consumer}: {w}", highlight=False)
    shared = shared or account_concurrency(capacity)
    reserved = f", maxConcurrency reserves {shared.reserved:,}" if shared.reserved else ""
    console.print(
        f"Account concurrency: {shared.limit:,} concurrent executions in the region, shared by all "
        f"{shared.consumers} consumers (and every other function there); at these rates they need "
        f"~{shared.needed:,.1f} at once{reserved}",
        highlight=False,
    )
    for w in shared.warnings:
        console.print(f"  ! account: {w}", highlight=False)


def load_report(path: Path) -> dict[str, Any] | None:
    """A cost JSON, or None when the file does not exist (a base branch without the stack)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DiffError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict) or "monthly_usd" not in data or "by_pipeline" not in data:
        raise DiffError(f"{path}: not a cost report (no monthly_usd/by_pipeline)")
    return data


def _delta(value: float) -> str:
    if abs(value) < 0.005:
        return "±$0"
    return ("+" if value > 0 else "-") + usd(abs(value))


def diff_markdown(base: dict[str, Any] | None, head: dict[str, Any]) -> str:
    """Markdown for a pull request: the head's cost per pipeline and its difference to the base."""
    stack = head.get("stack", "?")
    volumes = ", ".join(f"{p} {v:,.0f}" for p, v in (head.get("volumes") or {}).items())
    approx = " (approximate: us-east-1 prices)" if head.get("approximate") else ""
    lines = [f"#### Cost of stack `{stack}`{approx}", "", f"Messages per month: {volumes}", ""]
    lines += ["| pipeline | base | head | change |", "|---|---:|---:|---:|"]
    base_p = (base or {}).get("by_pipeline") or {}
    head_p = head.get("by_pipeline") or {}
    for name in list(head_p) + [n for n in base_p if n not in head_p]:
        b = base_p.get(name, {}).get("usd")
        h = head_p.get(name, {}).get("usd")
        lines.append(
            f"| {name} | {usd(b) if b is not None else '—'} | {usd(h) if h is not None else '—'} | "
            f"{_delta((h or 0.0) - (b or 0.0)) if base is not None else 'new'} |"
        )
    b_total = base.get("monthly_usd") if base else None
    h_total = float(head["monthly_usd"])
    lines.append(
        f"| **total** | {usd(b_total) if b_total is not None else '—'} | **{usd(h_total)}** | "
        f"{_delta(h_total - b_total) if b_total is not None else 'new'} |"
    )
    drivers = head.get("drivers") or []
    if drivers:
        lines += ["", "Top drivers: " + "; ".join(
            f"{d['service']} of {d['pipeline']}.{d['consumer']} {usd(d['usd'])}"
            + (f" ({d['change']} saves {usd(d['saves_usd'])})" if d.get("change") else "")
            for d in drivers
        )]
    warnings = [f"{c['pipeline']}.{c['consumer']}: {w}" for c in head.get("capacity") or [] for w in c["warnings"]]
    if warnings:
        lines += ["", "<details><summary>Capacity warnings</summary>", ""] + [f"- {w}" for w in warnings]
        lines += ["", "</details>"]
    if base is None:
        lines += ["", "_No cost report on the base branch for this stack._"]
    return "\n".join(lines) + "\n"


