"""The runtime's large-message pointer format, imported from ``functions/pipeline_runtime`` (one implementation).

Attribute names and AWS limits come from ``contract`` (the one table); the pointer a producer writes and
the runtime resolves (``pipeline_runtime.large_messages``) has one implementation, the runtime's. Inside
this repository ``functions/`` is on the path of tests and the sandbox; a service that imports
``producer`` from a checkout gets it appended here (lowest priority, nothing shadowed).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"

if importlib.util.find_spec("pipeline_runtime") is None:  # pragma: no cover - depends on the caller's sys.path
    sys.path.append(str(FUNCTIONS_DIR))

from pipeline_runtime import large_messages  # noqa: E402

__all__ = ["large_messages"]
