"""`--stack` and `--project-dir`: how every command names the stack it reads (sandbox, ops, producer).

`--stack` is a stack name (`Pulumi.<name>.yaml` in the project dir) or a stack file's path;
`--project-dir` is where names are looked up (default `$ASYNC_PIPELINES_PROJECT_DIR`, else this
project; `stack_capture.stack_files.project_dir`). Import-light: no Pulumi, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

STACK_HELP = "stack name (Pulumi.<stack>.yaml in --project-dir) or a stack file's path"
PROJECT_DIR_HELP = (
    "directory of the Pulumi.<stack>.yaml files (default: $ASYNC_PIPELINES_PROJECT_DIR, else this project); "
    "its __main__.py, if it has one, is the program"
)


def add_stack_arguments(parser: argparse.ArgumentParser, *, default: str | None = "dev") -> None:
    """`--stack` (required when `default` is None) and `--project-dir`."""
    if default is None:
        parser.add_argument("--stack", required=True, help=STACK_HELP)
    else:
        parser.add_argument("--stack", default=default, help=f"{STACK_HELP} (default: {default})")
    parser.add_argument("--project-dir", type=Path, metavar="DIR", help=PROJECT_DIR_HELP)
