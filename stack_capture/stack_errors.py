"""How every command that reads a stack reports one it cannot read: the same lines, exit status 2.

`sandbox run|plan|cost|serve`, `ops.dlq`, `ops.smoke` and `producer send` all capture the stack
through `capture_for_cli`; what goes wrong becomes a `StackUnreadable` whose `lines` each name one
problem, located in the stack file where YAML gives a position:

    Pulumi.dev.yaml:7:5: mapping values are not allowed here
    Pulumi.dev.yaml:12:7: pipelines.orders.patern: unknown key 'patern'; did you mean 'pattern'? ...
    error: unknown stack 'dve': no Pulumi.dve.yaml (stacks: dev, prod)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from components.config_errors import ConfigError
from stack_capture.stack_files import StackFileError, UnknownStackError

if TYPE_CHECKING:
    from stack_capture.model import Capture

EXIT_BAD_INPUT = 2


class StackUnreadable(ValueError):
    """A stack a command cannot build; `lines` are printed as they are, one problem each."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def stack_error_lines(stack: str, error: BaseException) -> list[str]:
    """The lines a command prints for `error` raised while reading or building `stack`."""
    if isinstance(error, StackFileError):
        return list(error.problems)
    if isinstance(error, ConfigError):
        return [e if error.located else f"error: stack {stack!r}: {e}" for e in error.errors]
    if isinstance(error, UnknownStackError):
        return [f"error: {error}"]
    return [f"error: stack {stack!r}: {_one_line(str(error))}"]


def capture_for_cli(stack: str, project_dir: Path | str | None = None, **kwargs: Any) -> Capture:
    """`capture_stack`, with every way a stack can be unreadable turned into `StackUnreadable`."""
    import stack_capture  # the package's name, so that a test's stand-in for capture_stack applies

    try:
        if project_dir is not None:
            kwargs["project_dir"] = project_dir
        return stack_capture.capture_stack(stack, **kwargs)
    except stack_error_types() as error:
        raise StackUnreadable(stack_error_lines(stack, error)) from None


def report(error: StackUnreadable, stream: TextIO | None = None) -> int:
    """Print `error`'s lines on stderr; returns the exit status for bad input (2)."""
    for line in error.lines:
        print(line, file=stream or sys.stderr)
    return EXIT_BAD_INPUT


def stack_error_types() -> tuple[type[BaseException], ...]:
    """What reading or building a stack raises on bad input (Pulumi's RunError: the program's own check)."""
    from pulumi.errors import RunError

    return (UnknownStackError, StackFileError, ConfigError, RunError)


def report_stack_error(stack: str, error: BaseException, stream: TextIO | None = None) -> int:
    """Print the lines for `error` (one of `stack_error_types()`) on stderr; returns 2."""
    return report(StackUnreadable(stack_error_lines(stack, error)), stream)
