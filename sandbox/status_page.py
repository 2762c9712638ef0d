"""The `sandbox serve` status page: the pipeline diagram with live counts, each pipeline's HTTP front door,
the last messages (state per consumer, DLQ reason or last error) and the alarms.

The diagram is the one `sandbox plan` draws (same topology: `sandbox.plan.build_flow_graph`), rendered
here as inline SVG rather than handed to Mermaid's JavaScript: the page must work with no network (CI,
a laptop on a plane) and nothing fetched from a CDN or vendored into the repo. The Mermaid source is on
the page too, to paste into any Mermaid renderer. A few lines of inline JavaScript poll `/status.json`
every second and update the counts and the message table in place.
"""

from __future__ import annotations

import html
import json
from collections import deque
from typing import Any

from contract.runtime import ERROR_KIND, ERROR_REASON
from sandbox import plan

NODE_W, NODE_H, COL_W, ROW_H, BAND_GAP, TOP = 205, 58, 250, 74, 36, 34


def _layout(topo: plan.FlowGraph, p: plan.Pipeline) -> dict[str, tuple[int, int]]:
    """(column, row) per node: columns follow the message flow from the entry, DLQs on a last row."""
    members = set(p.nodes)
    column: dict[str, int] = {}
    queue = deque([p.nodes[0]]) if p.nodes else deque()
    if p.nodes:
        column[p.nodes[0]] = 0
    while queue:
        urn = queue.popleft()
        for e in topo.out_edges(urn):
            if e.kind in plan.FORWARD and e.dst in members and e.dst not in column and e.dst not in topo.dlqs:
                column[e.dst] = column[urn] + 1
                queue.append(e.dst)
    for urn in p.nodes:  # anything unreachable from the entry (should not happen): after the rest
        if urn not in column and urn not in topo.dlqs:
            column[urn] = max(column.values(), default=-1) + 1
    rows: dict[int, int] = {}
    at: dict[str, tuple[int, int]] = {}
    for urn in p.nodes:
        if urn in topo.dlqs:
            continue
        col = column[urn]
        at[urn] = (col, rows.get(col, 0))
        rows[col] = rows.get(col, 0) + 1
    dlq_row = max(rows.values(), default=1)
    last_col = max(column.values(), default=0)
    taken = set(at.values())
    for urn in p.nodes:
        if urn not in topo.dlqs:
            continue
        sources = [e.src for e in topo.in_edges(urn) if e.src in at and topo.by_urn[e.src].type == plan.QUEUE]
        source = at[sources[0]] if sources else (0, 0)
        # below a queue that has its column to itself (chain, retry); else right of the stacked queues (fan-out)
        spot = (source[0], dlq_row) if rows.get(source[0], 0) == 1 else (last_col + 1, source[1])
        while spot in taken:
            spot = (spot[0] + 1, spot[1]) if spot[1] == dlq_row else (spot[0], spot[1] + 1)
        taken.add(spot)
        at[urn] = spot
    return at


def _node_svg(topo: plan.FlowGraph, urn: str, x: int, y: int) -> str:
    r = topo.by_urn[urn]
    name = plan.physical_name(r)
    if r.type == plan.TOPIC:
        kind, css = "SNS topic", "topic"
    elif r.type == plan.FUNCTION:
        kind, css = f"λ {plan._env(r).get('AP_HANDLER', '')}", "function"
    elif urn in topo.dlqs:
        kind, css = "DLQ", "dlq"
    else:
        delay = plan._num(r.inputs.get("delaySeconds") or 0)
        kind, css = "SQS queue" + (f" · delay {delay} s" if delay else ""), "queue"
    parts = [
        f'<g class="node {css}" data-name="{html.escape(name)}">',
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8"/>',
        f'<text x="{x + 10}" y="{y + 18}" class="name">{html.escape(name)}</text>',
        f'<text x="{x + 10}" y="{y + 34}" class="kind">{html.escape(kind)}</text>',
    ]
    if r.type == plan.QUEUE:
        parts.append(
            f'<text x="{x + 10}" y="{y + 50}" class="count" id="count-{html.escape(name)}">…</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _edge_svg(a: tuple[int, int], b: tuple[int, int], dashed: bool, label: str) -> str:
    ax, ay = a
    bx, by = b
    if bx > ax:  # forward: right side to left side
        x1, y1, x2, y2 = ax + NODE_W, ay + NODE_H // 2, bx, by + NODE_H // 2
        path = f"M{x1},{y1} C{x1 + 30},{y1} {x2 - 30},{y2} {x2},{y2}"
    elif by > ay:  # down (to a DLQ, or a node below)
        x1, y1, x2, y2 = ax + NODE_W // 2, ay + NODE_H, bx + NODE_W // 2, by
        path = f"M{x1},{y1} C{x1},{y1 + 20} {x2},{y2 - 20} {x2},{y2}"
    else:  # back or up (a retry tier feeding its consumer again): loop over the top
        x1, y1, x2, y2 = ax + NODE_W // 3, ay, bx + 2 * NODE_W // 3, by
        lift = 26 + abs(ax - bx) // 10
        path = f"M{x1},{y1} C{x1},{y1 - lift} {x2},{y2 - lift} {x2},{y2}"
    css = "edge failure" if dashed else "edge"
    title = f"<title>{html.escape(label)}</title>" if label else ""
    return f'<path class="{css}" d="{path}" marker-end="url(#arrow)">{title}</path>'


def diagram_svg(topo: plan.FlowGraph) -> str:
    """Every pipeline as a band of boxes (topics, queues with a count line, functions) and arrows."""
    bands: list[str] = []
    y0 = 0
    width = 0
    for p in topo.pipelines:
        at = _layout(topo, p)
        if not at:
            continue
        pos = {urn: (20 + c * COL_W, y0 + TOP + r * ROW_H) for urn, (c, r) in at.items()}
        members = set(pos)
        edges = [
            _edge_svg(pos[e.src], pos[e.dst], e.kind in (plan.REDRIVE, plan.PERMANENT), e.label)
            for e in topo.edges
            if e.src in members and e.dst in members
        ]
        nodes = [_node_svg(topo, urn, *pos[urn]) for urn in p.nodes if urn in pos]
        title = f"{p.name} · {p.pattern}"
        bands.append(
            f'<g class="pipeline" data-pipeline="{html.escape(p.name)}">'
            f'<text x="10" y="{y0 + 20}" class="band">{html.escape(title)}</text>{"".join(edges)}{"".join(nodes)}</g>'
        )
        height = TOP + (max(r for _, r in at.values()) + 1) * ROW_H
        width = max(width, 40 + (max(c for c, _ in at.values()) + 1) * COL_W)
        y0 += height + BAND_GAP
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="diagram" width="{width}" height="{y0}" '
        f'viewBox="0 0 {width} {y0}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        f'</defs>{"".join(bands)}</svg>'
    )


STYLE = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:16px;color:#222}
#diagram{max-width:100%;height:auto}
h1{font-size:20px;margin:0 0 4px} .sub{color:#666;font-size:13px;margin-bottom:12px}
svg .node rect{fill:#eef4fb;stroke:#4a78a8;stroke-width:1.2}
svg .node.topic rect{fill:#fff4e0;stroke:#c98a1b} svg .node.function rect{fill:#eef8ee;stroke:#3c8d3c}
svg .node.dlq rect{fill:#fdecea;stroke:#c0392b}
svg text{font-size:11px} svg .name{font-weight:bold} svg .kind{fill:#555} svg .count{fill:#1a4d80}
svg .band{font-size:14px;font-weight:bold}
svg .edge{fill:none;stroke:#777;stroke-width:1.2} svg .edge.failure{stroke:#c0392b;stroke-dasharray:4 3}
table{border-collapse:collapse;font-size:12px;margin-top:8px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
.processed{color:#2e7d32} .dlq{color:#c0392b} .retrying{color:#b26a00} .queued,.pending{color:#555}
.filtered{color:#888} .not_reached{color:#999} tr.ALARM td{background:#fdecea} tr.open td{background:#fff4e0}
details{margin-top:12px} pre{font-size:11px;background:#f6f6f6;padding:8px}
"""

SCRIPT = """
function esc(t){
  return String(t).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
}
function consumer(c){
  let text = c.consumer + ': ' + (STATE_LABELS[c.state] || c.state) + (c.tier ? ' ' + c.tier : '');
  if (c[ERROR_KIND]) text += ' (' + c[ERROR_KIND] + ': ' + c[ERROR_REASON] + ')';
  else if (c.lastError && c.state !== 'processed') text += ' (last error: ' + c.lastError + ')';
  return '<span class="' + esc(c.state) + '">' + esc(text) + '</span>';
}
function render(s){
  document.getElementById('clock').textContent = s.clock;
  for (const q of s.queues){
    const el = document.getElementById('count-' + q.name);
    if (el) el.textContent = q.visible + ' visible · ' + q.inFlight + ' in flight · ' + q.delayed + ' delayed';
  }
  const rows = s.messages.map(m => '<tr><td>' + esc(m.messageId) + '</td><td>' + esc(m.pipeline) + '</td><td>' +
    m.consumers.map(consumer).join(', ') + '</td></tr>');
  document.getElementById('messages').innerHTML = rows.join('') ||
    '<tr><td colspan="3">no messages yet: POST one to /pipelines/{name}</td></tr>';
  document.getElementById('alarms').innerHTML = s.alarms.map(a => '<tr class="' + esc(a.state) + '"><td>' +
    esc(a.name) + '</td><td>' + esc(a.metric + ' (' + a.resource + ')') + '</td><td>' + esc(a.state) +
    '</td><td>' + esc((a.value === null ? '–' : a.value) + ' ' + a.comparison + ' ' + a.threshold) +
    '</td></tr>').join('');
}
async function refresh(){
  try { render(await (await fetch('/status.json')).json()); } catch (e) {}
}
refresh(); setInterval(refresh, 1000);
"""

STATE_LABELS = {"dlq": "in DLQ", "not_reached": "not reached"}
"""How a state reads on the page (the JSON keeps the short names)."""


def consumer_text(c: dict[str, Any]) -> str:
    """One consumer's state as the page shows it (the script's `consumer()` writes the same)."""
    text = f"{c['consumer']}: {STATE_LABELS.get(c['state'], c['state'])}" + (f" {c['tier']}" if c.get("tier") else "")
    if c.get(ERROR_KIND):
        text += f" ({c[ERROR_KIND]}: {c.get(ERROR_REASON, '')})"
    elif c.get("lastError") and c["state"] != "processed":
        text += f" (last error: {c['lastError']})"
    return text


def _message_rows(messages: list[dict[str, Any]]) -> str:
    rows = [
        f"<tr><td>{html.escape(m['messageId'])}</td><td>{html.escape(m['pipeline'])}</td><td>"
        + ", ".join(f'<span class="{html.escape(c["state"])}">{html.escape(consumer_text(c))}</span>'
                    for c in m["consumers"])
        + "</td></tr>"
        for m in messages
    ]
    return "".join(rows) or '<tr><td colspan="3">no messages yet: POST one to /pipelines/{name}</td></tr>'


def _alarm_row(a: dict[str, Any]) -> str:
    value = "–" if a["value"] is None else f"{a['value']:g}"
    return (
        f'<tr class="{html.escape(a["state"])}"><td>{html.escape(a["name"])}</td>'
        f"<td>{html.escape(a['metric'])} ({html.escape(a['resource'])})</td><td>{html.escape(a['state'])}</td>"
        f"<td>{value} {html.escape(a['comparison'])} {a['threshold']:g}</td></tr>"
    )


def _alarm_rows(alarms: list[dict[str, Any]]) -> str:
    return "".join(_alarm_row(a) for a in alarms)


def _front_door_rows(doors: list[dict[str, Any]]) -> str:
    return "".join(
        f'<tr class="{"open" if d["open"] else ""}"><td>{html.escape(d["pipeline"])}</td>'
        f"<td>{html.escape(d['text'])}</td></tr>"
        for d in doors
    )


def page(stack: str, region: str, svg: str, mermaid: str, initial: dict[str, Any]) -> str:
    """The whole HTML document; `initial` (a first /status.json) fills the counts before any script runs."""
    counts = {q["name"]: q for q in initial.get("queues", [])}
    for name, q in counts.items():
        text = f"{q['visible']} visible · {q['inFlight']} in flight · {q['delayed']} delayed"
        svg = svg.replace(f'id="count-{html.escape(name)}">…<', f'id="count-{html.escape(name)}">{text}<')
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>sandbox serve · {html.escape(stack)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Stack <code>{html.escape(stack)}</code> ({html.escape(region)}) on the local sandbox</h1>"
        "<div class='sub'>Counts per queue and DLQ refresh every second · sandbox clock "
        f"<span id='clock'>{html.escape(str(initial.get('clock', '')))}</span></div>"
        f"{svg}"
        "<h2 style='font-size:16px'>HTTP front doors</h2>"
        "<table><thead><tr><th>pipeline</th><th>auth · public · throttle · maxBodyBytes</th></tr></thead>"
        f"<tbody id='front-doors'>{_front_door_rows(initial.get('frontDoors', []))}</tbody></table>"
        "<h2 style='font-size:16px'>Last messages</h2>"
        "<table><thead><tr><th>messageId</th><th>pipeline</th><th>per consumer</th></tr></thead>"
        f"<tbody id='messages'>{_message_rows(initial.get('messages', []))}</tbody></table>"
        "<h2 style='font-size:16px'>Alarms</h2>"
        "<table><thead><tr><th>alarm</th><th>metric</th><th>state</th><th>value</th></tr></thead>"
        f"<tbody id='alarms'>{_alarm_rows(initial.get('alarms', []))}</tbody></table>"
        "<details><summary>Mermaid source (same diagram as <code>python -m sandbox plan</code>)</summary>"
        f"<pre class='mermaid-source'>{html.escape(mermaid)}</pre></details>"
        f"<script>const ERROR_KIND = {json.dumps(ERROR_KIND)}; const ERROR_REASON = {json.dumps(ERROR_REASON)}; "
        f"const STATE_LABELS = {json.dumps(STATE_LABELS)};{SCRIPT}</script>"
        "</body></html>"
    )
