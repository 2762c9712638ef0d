"""The runtime's wire definitions, imported from ``functions/pipeline_runtime`` (one definition).

Attribute names (``ap-message-id``, ``ap-large-message``, …), the size limits and the large-message
pointer format are the consumer runtime's; the producer writes exactly what the runtime reads. Inside
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

from pipeline_runtime import attributes, large_messages  # noqa: E402

__all__ = ["attributes", "large_messages"]
