"""Who may import what: ops/ never imports sandbox/, and only stack_capture touches Pulumi's internals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stack_capture import pulumi_internals

ROOT = Path(__file__).resolve().parent.parent
PYTHON_DIRS = ("components", "functions", "sandbox", "ops", "policy", "bench", "tests", "stack_capture")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (lazy imports inside functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def python_files(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("ops"), ids=lambda p: str(p.relative_to(ROOT)))
def test_ops_imports_nothing_from_the_sandbox(path: Path) -> None:
    offending = sorted(m for m in imported_modules(path) if m == "sandbox" or m.startswith("sandbox."))
    assert offending == [], f"{path.relative_to(ROOT)} imports {offending}; use stack_capture"


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from sandbox.topology import Topology\n    import sandbox.engine\n")
    assert {"sandbox.topology", "sandbox.engine"} <= imported_modules(probe)


PRIVATE_PULUMI_NAMES = ("_sync_await", "run_pulumi_func", "MockMonitor", "_stack_transforms", "settings.ROOT")


def test_only_stack_capture_reaches_pulumi_private_apis() -> None:
    assert {name.rsplit(".", 1)[-1] for name in PRIVATE_PULUMI_NAMES} <= {
        name for _, name in pulumi_internals.PRIVATE_APIS
    } | set(pulumi_internals.MONITOR_MEMBERS)
    users = {
        str(path.relative_to(ROOT)): [name for name in PRIVATE_PULUMI_NAMES if name in path.read_text()]
        for path in python_files(*PYTHON_DIRS)
        if not path.is_relative_to(ROOT / "stack_capture")
        and not path.is_relative_to(ROOT / "tests" / "stack_capture")  # the adapter's own tests
        and path != Path(__file__).resolve()
    }
    assert {p: names for p, names in users.items() if names} == {}


def test_components_have_no_import_cycle() -> None:
    """e.g. config.py <-> http_config.py: both take the error collector from config_errors.py instead."""
    modules = {p.stem: p for p in python_files("components") if p.stem != "__init__"}
    graph = {
        name: {m.split(".")[1] for m in imported_modules(path) if m.startswith("components.") and
               m.split(".")[1] in modules}
        for name, path in modules.items()
    }

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return [*path, start]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for name in sorted(graph) if (c := cycle_from(name))]
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)


def test_command_lines_parse_without_importing_pulumi() -> None:
    """`--help` and argument errors stay fast: the stack arguments (stack_capture.cli) need no Pulumi."""
    import subprocess
    import sys

    code = (
        "import sys, ops.dlq, ops.smoke, producer.cli, stack_capture.cli, sandbox.cost.cli\n"
        "print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
