"""Build a smoke-test probe that an SNS subscription filter policy lets through.

A fan-out probe must reach every subscriber. SNS delivers a message to a subscription only when it
matches the subscription's filter policy, so `ops.smoke` sends one probe per filtered subscriber, built
by `matching_probe` to satisfy that subscriber's policy: for `MessageAttributes` scope as message
attributes, for `MessageBody` scope as fields of the (JSON) probe body. Probes never reach a business
function (the runtime answers them, docs/contracts.md §7), so matching a business filter is harmless;
a subscriber without a filter receives every probe of its topic and answers each.

Supported operators (Amazon SNS developer guide, "Filter policy constraints"/"operators"): exact
strings and numbers, `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (values, `prefix`),
`exists`, `numeric` ranges, and `$or`. Anything else (`cidr`, …) makes `matching_probe` return None:
the report then says the subscriber cannot be probed through its filter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from contract.runtime import PROBE

__all__ = ["matching_probe"]

PROBE_TEXT = PROBE
"""The value a probe gives an attribute whose filter only needs it present (or different)."""


def _numeric(conditions: list[Any]) -> float | None:
    low, high = -1e9, 1e9
    low_open = high_open = False
    for op, value in zip(conditions[::2], conditions[1::2], strict=False):
        if not isinstance(value, int | float):
            return None
        if op == "=":
            return float(value)
        if op in (">", ">="):
            low, low_open = float(value), op == ">"
        elif op in ("<", "<="):
            high, high_open = float(value), op == "<"
        else:
            return None
    candidate = low + 1 if low_open else low
    if candidate > high or (high_open and candidate >= high):
        candidate = (low + high) / 2
    return candidate


def _value(rules: Any) -> tuple[bool, Any]:
    """(present, value) satisfying one key's list of rules; (False, None) = the key must be absent."""
    if not isinstance(rules, list) or not rules:
        raise ValueError(f"unsupported rule {rules!r}")
    rule = rules[0]
    if isinstance(rule, str | int | float) and not isinstance(rule, bool):
        return True, rule
    if not isinstance(rule, Mapping) or len(rule) != 1:
        raise ValueError(f"unsupported rule {rule!r}")
    (op, arg), = rule.items()
    if op == "exists":
        return (True, PROBE_TEXT) if arg else (False, None)
    if op == "prefix" and isinstance(arg, str):
        return True, arg + PROBE_TEXT
    if op == "suffix" and isinstance(arg, str):
        return True, PROBE_TEXT + arg
    if op == "equals-ignore-case" and isinstance(arg, str):
        return True, arg
    if op == "anything-but":
        excluded = arg if isinstance(arg, list) else [arg]
        if all(isinstance(x, str | int | float) for x in excluded):
            candidates = (f"{PROBE_TEXT}-{n}" for n in range(len(excluded) + 1))
            return True, next(c for c in candidates if c not in excluded)
        if isinstance(arg, Mapping) and set(arg) == {"prefix"}:
            return True, "x-" + PROBE_TEXT if str(arg["prefix"]) != "x-" else "y-" + PROBE_TEXT
    if op == "numeric" and isinstance(arg, list):
        number = _numeric(arg)
        if number is not None:
            return True, number
    raise ValueError(f"unsupported operator {op!r}")


def _branch(policy: Mapping[str, Any]) -> Mapping[str, Any]:
    """`$or` picks its first alternative (merged with the keys beside it)."""
    if "$or" not in policy:
        return policy
    alternatives = policy["$or"]
    rest = {k: v for k, v in policy.items() if k != "$or"}
    return _branch({**rest, **alternatives[0]})


def _attributes(policy: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, rules in _branch(policy).items():
        present, value = _value(rules)
        if present:
            out[key] = value if not isinstance(value, float) or not value.is_integer() else int(value)
    return out


def _body(policy: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, rules in _branch(policy).items():
        if isinstance(rules, Mapping):
            out[key] = _body(rules)
            continue
        present, value = _value(rules)
        if present:
            out[key] = value
    return out


def matching_probe(
    filter_policy: str | Mapping[str, Any] | None, scope: str | None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(message attributes, body fields) that `filter_policy` lets through, or None if it cannot be built."""
    if not filter_policy:
        return {}, {}
    try:
        policy = json.loads(filter_policy) if isinstance(filter_policy, str) else dict(filter_policy)
        if (scope or "MessageAttributes") == "MessageBody":
            return {}, _body(policy)
        return _attributes(policy), {}
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
