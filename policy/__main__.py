"""Entry point of the CrossGuard pack: ``pulumi preview --policy-pack policy``.

The Pulumi CLI runs this directory with ``runpy.run_path``, which puts ``policy/`` itself on
``sys.path`` — hence ``guardrails`` is imported as a top-level package here. ``PolicyPack(...)``
starts the analyzer's gRPC server and serves until the engine stops it: it never returns.
"""

from guardrails import PACK_DESCRIPTION, PACK_NAME, build_policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    # Each policy sets its own level (mandatory / advisory); this is only the fallback.
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=build_policies(),
)
