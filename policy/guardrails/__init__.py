"""async-pipelines guardrails: the rules of the CrossGuard pack, usable with or without Pulumi.

* :data:`RULES` — every rule (name, enforcement level, check function);
* :func:`build_policies` — the CrossGuard policy objects (what ``policy/__main__.py`` registers);
* :func:`evaluate` — run the whole pack over captured resources (docs/contracts.md §3).

Importing this package has no side effects.
"""

from .evaluate import Violation, evaluate, format_violations
from .rules import RULES, Rule, build_policies

PACK_NAME = "async-pipelines-guardrails"
PACK_DESCRIPTION = (
    "Guardrails for async-pipelines: dead-lettered, alarmed, encrypted, TLS-only, non-public queues and "
    "topics; event source mappings Lambda accepts; least-privilege IAM; throttled, logged, authenticated "
    "API Gateway ingress."
)

__all__ = [
    "PACK_DESCRIPTION",
    "PACK_NAME",
    "RULES",
    "Rule",
    "Violation",
    "build_policies",
    "evaluate",
    "format_violations",
]
