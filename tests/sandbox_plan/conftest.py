"""Shared fixtures: one capture per stack per test process (the program runs under mocks in ~1 s)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from sandbox.plan import FlowGraph, build_flow_graph, render_mermaid, render_tree
from stack_capture import Capture, cached_capture

NODE_RE = re.compile(r'^\s*(\w+)(\{\{|\[\(|\(\[|\[)"(.*?)"')
EDGE_RE = re.compile(r'^\s*(\w+) (-->|-\.->)(?:\|"(.*?)"\|)? (\w+)$')
SHAPES = {"{{": "topic", "[(": "dlq", "([": "function", "[": "queue"}


@dataclass
class Diagram:
    """A parsed Mermaid subgraph: nodes keyed `kind:physical-name`, edges in the order they are written."""

    title: str
    nodes: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(source key, arrow, label, target key)."""

    def out(self, key: str, arrow: str | None = None) -> list[tuple[str, str, str, str]]:
        return [e for e in self.edges if e[0] == key and (arrow is None or e[1] == arrow)]


def parse_mermaid(text: str) -> dict[str, Diagram]:
    """Subgraphs by pipeline name; fails loudly on a line it cannot read."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR", lines[0]
    diagrams: dict[str, Diagram] = {}
    current: Diagram | None = None
    ids: dict[str, str] = {}
    for line in lines[1:]:
        stripped = line.strip()
        if m := re.match(r'subgraph pipeline_(\w+)\["(.*)"\]$', stripped):
            current = diagrams.setdefault(m.group(1), Diagram(m.group(2)))
        elif stripped == "end":
            current = None
        elif stripped in ("direction LR",) or stripped.startswith(("classDef ", "class ")):
            continue
        elif m := EDGE_RE.match(line):
            assert current is not None, line
            current.edges.append((ids[m.group(1)], m.group(2), m.group(3) or "", ids[m.group(4)]))
        elif m := NODE_RE.match(line):
            assert current is not None, line
            lines_of_label = m.group(3).split("<br/>")
            key = f"{SHAPES[m.group(2)]}:{lines_of_label[0]}"
            ids[m.group(1)] = key
            current.nodes.append(key)
            current.labels[key] = m.group(3)
        else:
            raise AssertionError(f"unparsed Mermaid line: {line!r}")
    return diagrams


@dataclass
class Plan:
    capture: Capture
    graph: FlowGraph
    mermaid: str
    tree: str
    diagrams: dict[str, Diagram]


def make_plan(capture: Capture) -> Plan:
    graph = build_flow_graph(capture)
    mermaid = render_mermaid(graph)
    return Plan(capture, graph, mermaid, render_tree(graph), parse_mermaid(mermaid))


@pytest.fixture(scope="session")
def dev() -> Plan:
    return make_plan(cached_capture("dev"))


@pytest.fixture(scope="session")
def prod() -> Plan:
    return make_plan(cached_capture("prod"))
