"""CrossGuard policy pack of async-pipelines (run by the Pulumi CLI via ``__main__.py``).

Importing ``policy`` (or ``policy.guardrails``) has no side effects: only ``__main__.py`` starts the
pack's analyzer server.
"""
