"""The one table of what async-pipelines must agree on: AWS's limits and defaults, and the runtime's wire names.

* `contract.aws` — AWS limits, service defaults and AWS's own advice, each with its documentation source.
* `contract.runtime` — the message attributes and idempotency expiry of the consumer runtime
  (docs/contracts.md §2).

Components, sandbox, ops and benches import these names. Two parts of the project cannot: the Lambda
runtime (`functions/` is what ships to Lambda) and the policy pack (`policy/`, installable on its own
with its own requirements). They keep copies, and `tests/test_contract_copies.py` fails when a copy
differs from this table.
"""
