"""References the pack cannot follow during a preview, said out loud instead of judged (advisory).

During a first ``pulumi preview`` most ARNs and URLs are unknown. The mandatory rules never report a
reference they cannot resolve; this rule names each one, so a user knows which checks wait for
``pulumi up`` (CrossGuard runs again before each create/update, with the values known).
"""

from __future__ import annotations

from collections.abc import Iterator

from .alarms import unresolved_dlq_alarms
from .model import EVENT_SOURCE_MAPPING, QUEUE, QUEUE_POLICY, TOPIC, TOPIC_POLICY, Finding, Stack
from .queues import esm_queues, unresolved_links

_LATER = "the checks that need it run again on `pulumi up`, when the value is known."


def check_unresolved_references(stack: Stack) -> Iterator[Finding]:
    for link in unresolved_links(stack):
        target = link.target_arn if isinstance(link.target_arn, str) else "a value not known yet"
        yield Finding.about(
            link.holder,
            f"{link.where}: cannot tell during this preview which queue the redrive policy targets ({target}); "
            f"DLQ type, retention and alarm are not judged yet — {_LATER}",
        )
    for policy_type, target_type, prop, attrs in (
        (QUEUE_POLICY, QUEUE, "queueUrl", ("url", "id")),
        (TOPIC_POLICY, TOPIC, "arn", ("arn", "id")),
    ):
        for policy in stack.of_type(policy_type):
            if stack.resolve(policy, prop, (target_type,), attrs=attrs):
                continue
            if stack.unresolvable(policy.get(prop), (target_type,), attrs):
                yield Finding.about(
                    policy,
                    f"{policy.label}: cannot tell during this preview which resource it applies to; "
                    f"one-policy-per-resource is not judged yet — {_LATER}",
                )
    for esm in stack.of_type(EVENT_SOURCE_MAPPING):
        value = esm.get("eventSourceArn")
        if esm_queues(stack, esm) or esm.property_dependencies.get("eventSourceArn"):
            continue
        if stack.unresolvable(value, (QUEUE,), ("arn",)) and (not isinstance(value, str) or ":sqs:" in value):
            yield Finding.about(
                esm,
                f"{esm.label}: cannot tell during this preview which queue it reads, so no redrive target can be "
                f"told apart from a retry queue and DLQ alarms are not judged yet — {_LATER}",
            )
    for dlq in unresolved_dlq_alarms(stack):
        yield Finding.about(
            dlq,
            f"{dlq.label}: cannot tell during this preview whether an alarm watches this DLQ (queue names not "
            f"known yet) — {_LATER}",
        )
