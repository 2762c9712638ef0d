"""SQS queues: dead-lettering, retention, encryption, queue policies.

A queue is a DLQ when another queue's redrive policy targets it (or its redrive allow policy admits
source queues) and no Lambda event source mapping reads it: a redrive target that a function consumes
is a *retry queue* (the classic delayed-retry design), which needs a DLQ of its own instead of a
"DLQ has messages" alarm. The target is resolved through the property dependencies of
``redrivePolicy`` (during a preview the document itself is unknown, because it embeds the DLQ's ARN),
falling back to matching ``deadLetterTargetArn`` against the queues' ARNs (or, in a preview, names).
Redrive policies set with a separate ``aws.sqs.RedrivePolicy`` resource count as the queue's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .documents import (
    SOURCE_ARN_OPERATORS,
    Document,
    attached_policies,
    parse_document,
    policy_documents,
    public_findings,
    ssl_deny_example,
    ssl_findings,
)
from .model import (
    EVENT_SOURCE_MAPPING,
    QUEUE,
    QUEUE_POLICY,
    REDRIVE_ALLOW_POLICY,
    REDRIVE_POLICY,
    UNKNOWN,
    Finding,
    InvalidJson,
    Resource,
    Stack,
    _Unknown,
    boolean,
    fmt,
    json_value,
    number,
    quoted_names,
    text,
)

# SQS defaults and limits: the pack's copy of contract/aws.py, checked by tests/test_contract_copies.py.
DEFAULT_RETENTION_SECONDS: Final = 345_600  # SQS default: 4 days
DEFAULT_VISIBILITY_SECONDS: Final = 30  # SQS default
MAX_RECEIVE_COUNT_RANGE: Final = (1, 1000)
SNS_PRINCIPAL: Final = "sns.amazonaws.com"

# --- queue facts ----------------------------------------------------------------------------------


def is_fifo(queue: Resource) -> bool | _Unknown:
    flag = boolean(queue.get("fifoQueue"), default=False)
    if flag is UNKNOWN:
        name = text(queue.get("name"))
        return True if isinstance(name, str) and name.endswith(".fifo") else UNKNOWN
    return flag


def type_name(fifo: bool) -> str:
    return "FIFO" if fifo else "standard"


def visibility_timeout(queue: Resource) -> float | _Unknown | None:
    return number(queue.get("visibilityTimeoutSeconds"), DEFAULT_VISIBILITY_SECONDS)


def retention(queue: Resource) -> float | _Unknown | None:
    return number(queue.get("messageRetentionSeconds"), DEFAULT_RETENTION_SECONDS)


# --- redrive graph --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedriveLink:
    """``source`` sends messages that failed ``maxReceiveCount`` times to ``targets`` (normally one)."""

    source: Resource
    holder: Resource  # the resource carrying the document: the queue or an aws.sqs.RedrivePolicy
    policy: Any  # parsed redrive document (dict), UNKNOWN, or InvalidJson
    targets: tuple[Resource, ...]

    @property
    def target(self) -> Resource | None:
        return self.targets[0] if len(self.targets) == 1 else None

    @property
    def target_arn(self) -> str | _Unknown | None:
        if self.policy is UNKNOWN:
            return UNKNOWN
        if isinstance(self.policy, Mapping):
            return text(self.policy.get("deadLetterTargetArn"))
        return None

    @property
    def max_receive_count(self) -> float | _Unknown | None:
        if isinstance(self.policy, Mapping):
            return number(self.policy.get("maxReceiveCount"))
        return UNKNOWN if self.policy is UNKNOWN else None

    @property
    def where(self) -> str:
        """How messages name the link: the queue, plus the RedrivePolicy resource if separate."""
        if self.holder is self.source:
            return self.source.label
        return f"{self.source.label} (redrive set by {self.holder.label})"


def _link(stack: Stack, source: Resource, holder: Resource) -> RedriveLink:
    policy = json_value(holder.get("redrivePolicy"))
    arn = policy.get("deadLetterTargetArn") if isinstance(policy, Mapping) else None
    targets = stack.resolve(
        holder, "redrivePolicy", (QUEUE,), attrs=("arn",), value=arn if isinstance(arn, str) else None
    )
    return RedriveLink(source, holder, policy, tuple(t for t in targets if t.urn != source.urn))


def redrive_links(stack: Stack) -> list[RedriveLink]:
    """One link per queue that has a redrive policy (a RedrivePolicy resource wins over the inline one)."""
    links: dict[str, RedriveLink] = {}
    for queue in stack.of_type(QUEUE):
        if queue.get("redrivePolicy") not in (None, ""):
            links[queue.urn] = _link(stack, queue, queue)
    for holder in stack.of_type(REDRIVE_POLICY):
        for source in stack.resolve(holder, "queueUrl", (QUEUE,), attrs=("url", "id")):
            links[source.urn] = _link(stack, source, holder)
    return list(links.values())


def esm_queues(stack: Stack, esm: Resource) -> list[Resource]:
    """The queue(s) an event source mapping reads (by dependency, ARN, or name in a preview)."""
    return stack.resolve(esm, "eventSourceArn", (QUEUE,), attrs=("arn",))


def _esm_source_unresolved(stack: Stack, esm: Resource) -> bool:
    """A mapping whose source cannot be told yet: it may read one of our queues."""
    if esm.property_dependencies.get("eventSourceArn") or esm_queues(stack, esm):
        return False
    value = esm.get("eventSourceArn")
    if value is UNKNOWN:
        return True
    return isinstance(value, str) and value.startswith("arn:") and ":sqs:" in value and stack.unresolvable(
        value, (QUEUE,), ("arn",)
    )


def consumed_queues(stack: Stack) -> set[str]:
    """URNs of the queues a Lambda event source mapping reads."""
    return {q.urn for esm in stack.of_type(EVENT_SOURCE_MAPPING) for q in esm_queues(stack, esm)}


def consumers_unresolved(stack: Stack) -> bool:
    """Some mapping's source is unknown (preview), so whether a redrive target is consumed is unknown."""
    return any(_esm_source_unresolved(stack, esm) for esm in stack.of_type(EVENT_SOURCE_MAPPING))


def _allows_sources(policy: Any) -> bool:
    """A redrive allow policy that lets source queues use this queue as their DLQ."""
    return isinstance(policy, Mapping) and policy.get("redrivePermission") in ("allowAll", "byQueue")


def declared_dlqs(stack: Stack) -> set[str]:
    """Queues declared DLQs by a redrive allow policy (inline or a separate RedriveAllowPolicy)."""
    found = {q.urn for q in stack.of_type(QUEUE) if _allows_sources(json_value(q.get("redriveAllowPolicy")))}
    for holder in stack.of_type(REDRIVE_ALLOW_POLICY):
        if _allows_sources(json_value(holder.get("redriveAllowPolicy"))):
            found |= {q.urn for q in stack.resolve(holder, "queueUrl", (QUEUE,), attrs=("url", "id"))}
    return found


def redrive_targets(stack: Stack, links: list[RedriveLink] | None = None) -> dict[str, list[Resource]]:
    """Every queue some queue redrives into (DLQ or retry queue) -> the queues redriving into it."""
    result: dict[str, list[Resource]] = {}
    for link in redrive_links(stack) if links is None else links:
        for target in link.targets:
            result.setdefault(target.urn, []).append(link.source)
    return result


def dead_letter_queues(stack: Stack, links: list[RedriveLink] | None = None) -> dict[str, list[Resource]]:
    """DLQ URN -> the queues redriving into it: redrive targets and declared DLQs no function consumes."""
    result = redrive_targets(stack, links)
    for urn in declared_dlqs(stack):
        result.setdefault(urn, [])
    consumed = consumed_queues(stack)
    return {urn: sources for urn, sources in result.items() if urn not in consumed}


def _unresolved_target(stack: Stack, link: RedriveLink) -> bool:
    """The link points somewhere, but we cannot tell where yet (preview): never a mandatory finding."""
    return not link.targets and (
        link.target_arn is UNKNOWN or stack.unresolvable(link.target_arn, (QUEUE,), ("arn",))
    )


def unresolved_links(stack: Stack) -> list[RedriveLink]:
    return [link for link in redrive_links(stack) if _unresolved_target(stack, link)]


# --- checks ---------------------------------------------------------------------------------------


def check_redrive(stack: Stack) -> Iterator[Finding]:
    """Every queue that is not a DLQ redrives to an existing queue of the same type."""
    links = redrive_links(stack)
    by_source = {link.source.urn: link for link in links}
    dlqs = dead_letter_queues(stack, links)
    # In a preview, a target we cannot identify yet may be any queue: none can be called "not a DLQ".
    some_target_unknown = any(_unresolved_target(stack, link) for link in links)
    retry_queues = set(redrive_targets(stack, links)) - set(dlqs)

    for queue in stack.of_type(QUEUE):
        link = by_source.get(queue.urn)
        if link is None:
            if queue.urn in dlqs or some_target_unknown:
                continue
            fifo = is_fifo(queue)
            kind = f" ({type_name(fifo)})" if isinstance(fifo, bool) else ""
            role = (
                "is a redrive target read by a Lambda function (a retry queue, not a DLQ), and has no redrive "
                "policy of its own"
                if queue.urn in retry_queues
                else "has no redrive policy and is not the dead-letter queue of any other queue"
            )
            yield Finding.about(
                queue,
                f"{queue.label} {role}: a message that keeps failing is retried until its retention period "
                "ends and is then lost. "
                f"Fix: give it a dead-letter queue of the same type{kind} with redrivePolicy = "
                '{"deadLetterTargetArn": <DLQ arn>, "maxReceiveCount": 5} '
                "(the DeadLetteredQueue component does this).",
            )
            continue
        yield from _check_link(stack, link)


def _check_link(stack: Stack, link: RedriveLink) -> Iterator[Finding]:
    subject = link.holder
    if isinstance(link.policy, InvalidJson):
        yield Finding.about(
            subject,
            f"{link.where}: redrivePolicy is not valid JSON ({link.policy.error}). "
            'Fix: set it to json.dumps({"deadLetterTargetArn": <DLQ arn>, "maxReceiveCount": 3}).',
        )
        return
    if link.policy is not UNKNOWN and not isinstance(link.policy, Mapping):
        yield Finding.about(subject, f"{link.where}: redrivePolicy is not a JSON object.")
        return
    if link.target_arn is None:
        yield Finding.about(
            subject,
            f"{link.where}: redrivePolicy has no deadLetterTargetArn, so failed messages go nowhere. "
            "Fix: set deadLetterTargetArn to the ARN of this queue's DLQ.",
        )
        return
    if not link.targets:
        if isinstance(link.target_arn, str) and not _unresolved_target(stack, link):
            yield Finding.about(
                subject,
                f"{link.where}: redrivePolicy targets {link.target_arn}, which is not a queue of this stack. "
                "Fix: point deadLetterTargetArn at the DLQ created next to this queue (dlq.arn), "
                "so the DLQ exists, has the same type and is alarmed.",
            )
        return
    target = link.target
    if target is None:
        return
    source_fifo, target_fifo = is_fifo(link.source), is_fifo(target)
    if isinstance(source_fifo, bool) and isinstance(target_fifo, bool) and source_fifo != target_fifo:
        yield Finding.about(
            subject,
            f"{link.where} is a {type_name(source_fifo)} queue but its dead-letter queue {target.label} is "
            f"{type_name(target_fifo)}: AWS requires a DLQ of the same type as its source. "
            f"Fix: make the DLQ {type_name(source_fifo)} "
            f"(fifoQueue={source_fifo}{', name ending in .fifo' if source_fifo else ''}).",
        )


def check_max_receive_count(resource: Resource) -> Iterator[str]:
    """maxReceiveCount is an integer in 1..1000 (resource level: queues and RedrivePolicy resources)."""
    policy = json_value(resource.get("redrivePolicy"))
    if not isinstance(policy, Mapping):
        return  # absent, unknown during preview, or invalid JSON (reported by the redrive policy check)
    count = number(policy.get("maxReceiveCount"))
    low, high = MAX_RECEIVE_COUNT_RANGE
    if count is None:
        yield (
            f"{resource.label}: redrivePolicy has no maxReceiveCount. "
            f"Fix: set maxReceiveCount ({low}-{high}; the design default is 5)."
        )
    elif isinstance(count, float) and not (count.is_integer() and low <= count <= high):
        yield (
            f"{resource.label}: redrivePolicy maxReceiveCount is {fmt(count)}, outside {low}-{high}: "
            f"SQS rejects it. Fix: use a whole number from {low} to {high} (the design default is 5)."
        )


def check_dlq_retention(stack: Stack) -> Iterator[Finding]:
    """A DLQ keeps messages at least as long as each of its source queues."""
    for link in redrive_links(stack):
        dlq = link.target
        if dlq is None:
            continue
        source_keep, dlq_keep = retention(link.source), retention(dlq)
        if isinstance(source_keep, float) and isinstance(dlq_keep, float) and dlq_keep < source_keep:
            yield Finding.about(
                dlq,
                f"{dlq.label} keeps messages {fmt(dlq_keep)} s, less than its source {link.source.label} "
                f"({fmt(source_keep)} s): the enqueue timestamp survives the move to a standard DLQ, so "
                "failed messages can expire from the DLQ soon after they land. Fix: set the DLQ's "
                f"messageRetentionSeconds to at least {fmt(source_keep)} (the design uses 1209600, 14 days).",
            )


_SSE_FIX: Final = (
    "Fix: set sqsManagedSseEnabled=True (SSE-SQS: works with SNS subscriptions and Lambda without any key "
    "policy), or kmsMasterKeyId to a customer managed KMS key."
)


def check_queue_encrypted(queue: Resource) -> Iterator[str]:
    """SSE is set explicitly in code (not left to the account/endpoint default)."""
    raw_sse = queue.get("sqsManagedSseEnabled")
    sse = boolean(raw_sse, default=False)
    key = text(queue.get("kmsMasterKeyId"))
    if sse is True or isinstance(key, str) or sse is UNKNOWN or key is UNKNOWN:
        return
    if raw_sse is None:
        # AWS: "Announcing server-side encryption with SQS-managed encryption keys (SSE-SQS) by default"
        # (AWS Compute Blog, Oct 2022): new queues created over HTTPS/SigV4 get SSE-SQS unless told not to.
        yield (
            f"{queue.label}: SSE not set explicitly (AWS applies SSE-SQS by default since 2022 to queues created "
            "over HTTPS, but the program does not say so: a queue created over the non-TLS endpoint, or "
            "whose encryption is switched off outside the program, would not be encrypted and nothing here "
            f"would notice). {_SSE_FIX}"
        )
        return
    yield f"{queue.label} has SSE explicitly disabled (sqsManagedSseEnabled=false, no kmsMasterKeyId). {_SSE_FIX}"


def check_queue_policy_ssl(resource: Resource) -> Iterator[str]:
    yield from ssl_findings(resource, "sqs", "pass json.dumps(<policy dict>) with Version 2012-10-17.")


def check_queue_policy_not_public(resource: Resource) -> Iterator[str]:
    yield from public_findings(resource, "sqs", "queue")


def _wildcard_source_arn(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    parts = value.split(":")
    return value.strip() == "*" or len(parts) < 6 or parts[4] in ("", "*") or ":".join(parts[5:]) in ("", "*")


def check_queue_policy_sns_scoped(resource: Resource) -> Iterator[str]:
    """Allow statements for sns.amazonaws.com carry an aws:SourceArn condition (Arn*/String*) = a topic ARN."""
    for what, raw in policy_documents(resource):
        document = parse_document(raw)
        if not isinstance(document, Document):
            continue  # absent, unknown, or invalid (reported by the TLS check)
        for statement in document.statements:
            services, _ = statement.principals()
            if not statement.is_allow or SNS_PRINCIPAL not in services:
                continue
            values = statement.condition_values(SOURCE_ARN_OPERATORS, "aws:SourceArn")
            if not values:
                yield (
                    f"{what}, {statement.label}: allows {SNS_PRINCIPAL} without an aws:SourceArn condition, "
                    "so any SNS topic, in any account, can send messages to this queue. "
                    'Fix: add "Condition": {"ArnEquals": {"aws:SourceArn": <topic arn>}} '
                    "(one statement per subscribed topic, all in this queue's single policy)."
                )
            elif any(_wildcard_source_arn(v) for v in values):
                shown = ", ".join(str(v) for v in values)
                yield (
                    f"{what}, {statement.label}: the aws:SourceArn condition for {SNS_PRINCIPAL} is a "
                    f"wildcard ({shown}), which does not tie the permission to one topic. "
                    "Fix: use ArnEquals (or StringEquals) with the exact ARN of the subscribed topic."
                )


def check_queue_has_policy(stack: Stack) -> Iterator[Finding]:
    """Every queue has exactly one resource policy: one QueuePolicy, or an inline policy, not both."""
    attached, unresolved = attached_policies(stack, QUEUE_POLICY, QUEUE, "queueUrl", ("url", "id"))
    for queue in stack.of_type(QUEUE):
        policies = attached.get(queue.urn, [])
        if policies and queue.get("policy") not in (None, ""):
            yield Finding.about(
                queue,
                f"{queue.label} has an inline policy and also the queue policy {quoted_names(policies)}: both "
                "set the queue's one Policy attribute, so each deployment overwrites the other and which one "
                "holds depends on the order of updates. Fix: keep one — move the inline statements into the "
                "QueuePolicy (or drop the QueuePolicy).",
            )
        elif len(policies) > 1:
            yield Finding.about(
                queue,
                f"{queue.label} has {len(policies)} queue policies ({quoted_names(policies)}): "
                "a queue holds one policy, so each QueuePolicy overwrites the others and the last one "
                "applied wins (SNS permissions or the TLS-only deny get lost). Fix: merge all statements, "
                "for every topic feeding this queue, into one QueuePolicy.",
            )
        elif not policies and queue.get("policy") in (None, "") and not unresolved:
            yield Finding.about(
                queue,
                f"{queue.label} has no queue policy, so nothing denies access over plain HTTP. "
                f"Fix: attach one aws.sqs.QueuePolicy containing {ssl_deny_example('sqs')} "
                "(plus the SNS allow statements if topics feed the queue).",
            )
