"""Which stacks the tests read: their own (tests/stacks/), except the `user_stacks` tests.

The project's `Pulumi.<stack>.yaml` files belong to the user, who is invited to add and change
pipelines. So:

* every test that expects particular pipelines, names, outputs or counts reads the tests' own copies
  in `tests/stacks/`: `pytest_configure` points `$ASYNC_PIPELINES_PROJECT_DIR` there, which every
  stack lookup uses by default (`stack_capture.stack_files.project_dir`), in-process and in the
  subprocesses tests start - so `capture_stack("dev")` and `--stack dev` mean the tests' dev;
* tests marked `user_stacks` run over the user's stacks (`USER_STACKS`, read from `PROJECT_DIR`
  explicitly) and assert only what every valid stack must have: the program builds, the policy pack
  passes, the invariants hold, capture is deterministic, the sandbox drains with nothing lost, the
  smoke test is OK, `sandbox cost` measures every pipeline. `tests/test_user_stacks.py` proves that
  these still pass after a user adds pipelines (on a copy of the project).
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from stack_capture.stack_files import PROJECT_DIR, PROJECT_DIR_VARIABLE, stack_names

TEST_STACKS_DIR = Path(__file__).resolve().parent / "stacks"
"""The tests' own stack files (`Pulumi.dev.yaml`, `Pulumi.prod.yaml`): fixtures, not the user's config."""
USER_PROJECT_DIR = PROJECT_DIR
USER_STACKS = stack_names(USER_PROJECT_DIR)
"""The user's stacks: `Pulumi.<stack>.yaml` next to `__main__.py`, whatever they hold."""


def pytest_configure(config: pytest.Config) -> None:
    # Compiled modules are cached even where the environment says not to (PYTHONDONTWRITEBYTECODE, set on
    # some CI images): the workers and the ~40 Python processes the tests start (served sandboxes, CLIs, a
    # project copy) would otherwise each compile every module of the project, and rewrite every test module.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    # Unconditionally: a pytest started by a test of another checkout must read its own tests/stacks.
    os.environ[PROJECT_DIR_VARIABLE] = str(TEST_STACKS_DIR)
    # The same capture asked for again is a copy of the first (stack_capture.capture.memo).
    from stack_capture import capture

    capture.memo = {}
    # Every botocore session of the test process parses each service model once, not once per client
    # (sandbox.botocore_speed: read-only data; tests/sandbox/test_botocore_speed.py checks the models).
    from sandbox.botocore_speed import shared_service_data

    sharing = ExitStack()
    sharing.enter_context(shared_service_data())
    config.add_cleanup(sharing.close)
    config.addinivalue_line(
        "markers",
        "user_stacks: runs over the user's own Pulumi.<stack>.yaml files; asserts only what every valid stack "
        "must have (select with -m user_stacks)",
    )


LONG_FIRST = ("tests/test_user_stacks.py", "tests/ops/test_redrive_served.py")
"""Modules with the longest tests (a project copy's test run, a served sandbox), run first: with the
tests shared among workers, a long test that starts last leaves every other worker idle until it ends."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))  # stable: otherwise in order
