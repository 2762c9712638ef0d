"""One CLI parser base and one UsageError (contract/cli.py) for every command line of the project."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable
from pathlib import Path

import pytest

import ops.dlq
import ops.smoke
import producer.cli
import sandbox.__main__
from contract.cli import CliParser, UsageError

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("components", "contract", "functions", "ops", "policy", "producer", "sandbox", "stack_capture", "bench")

PARSERS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "python -m sandbox": sandbox.__main__.build_parser,
    "python -m ops.dlq": ops.dlq.build_parser,
    "python -m ops.smoke": ops.smoke.build_parser,
    "python -m producer": producer.cli.build_parser,
}


def classes_named(names: set[str]) -> list[str]:
    found: list[str] = []
    for directory in SOURCES:
        for path in sorted((ROOT / directory).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                bases = [ast.unparse(b) for b in getattr(node, "bases", [])]
                if isinstance(node, ast.ClassDef) and (node.name in names or "argparse.ArgumentParser" in bases):
                    found.append(f"{path.relative_to(ROOT)}:{node.name}")
    return found


def test_one_parser_base_and_one_usage_error() -> None:
    found = sorted(classes_named({"_Parser", "UsageError"}))
    assert found == ["contract/cli.py:CliParser", "contract/cli.py:UsageError"]
    assert ops.dlq.UsageError is UsageError and ops.smoke.UsageError is UsageError


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_every_command_line_uses_it_one_line_exit_2(prog: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = PARSERS[prog]()
    assert isinstance(parser, CliParser)
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["--no-such-option"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {prog}") and err.count("\n") == 1, err
