"""What every command line of the project promises on bad input: one line `error: …` and exit status 2.

`sandbox`, `ops.dlq`, `ops.smoke` and `producer` share this one parser base and this one `UsageError`.
It lives in `contract` because all of them may import it: `ops` must not import `sandbox`, and
`producer` is a library that must not import the operator tools.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["EXIT_USAGE", "CliParser", "UsageError"]

EXIT_USAGE = 2


class UsageError(ValueError):
    """Bad input found by a command's own checks: its `main` prints `error: <message>` and returns 2."""


class CliParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`error: <prog>: <message>`, no usage text) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {self.prog}: {' '.join(message.split())}\n")
