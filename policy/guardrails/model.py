"""The resource model every check works on: plain dicts, one ``UNKNOWN`` marker, and a stack index.

Checks never see pulumi-policy objects. Three adapters build :class:`Resource` values:

* :func:`from_validation_args` — a resource-level CrossGuard call (``props`` = the engine's inputs);
* :func:`from_policy_resource` — a stack-level CrossGuard call (``props`` = outputs, which during a
  preview are the checked inputs with computed attributes unknown);
* :func:`from_capture` — a resource captured under Pulumi mocks (docs/contracts.md §3).

Unknown values (not computable during ``pulumi preview``) arrive as sentinel strings behind
pulumi-policy's unknown-checking proxy, which raises ``UnknownValueError`` on access; under mocks
they are ``pulumi.output.Unknown`` instances. All of them become :data:`UNKNOWN`, and every check
treats a value it cannot read as "cannot judge → pass".
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi.output import Unknown as _PulumiUnknown
from pulumi_policy import Secret
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

# --- resource types -------------------------------------------------------------------------------

QUEUE: Final = "aws:sqs/queue:Queue"
QUEUE_POLICY: Final = "aws:sqs/queuePolicy:QueuePolicy"
REDRIVE_POLICY: Final = "aws:sqs/redrivePolicy:RedrivePolicy"
TOPIC: Final = "aws:sns/topic:Topic"
TOPIC_POLICY: Final = "aws:sns/topicPolicy:TopicPolicy"
TOPIC_SUBSCRIPTION: Final = "aws:sns/topicSubscription:TopicSubscription"
EVENT_SOURCE_MAPPING: Final = "aws:lambda/eventSourceMapping:EventSourceMapping"
FUNCTION: Final = "aws:lambda/function:Function"
FUNCTION_ALIAS: Final = "aws:lambda/alias:Alias"
METRIC_ALARM: Final = "aws:cloudwatch/metricAlarm:MetricAlarm"
IAM_ROLE: Final = "aws:iam/role:Role"
IAM_ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY: Final = "aws:iam/policy:Policy"
IAM_ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: Final = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
IAM_POLICY_ATTACHMENT: Final = "aws:iam/policyAttachment:PolicyAttachment"
IAM_USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
IAM_USER_POLICY_ATTACHMENT: Final = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
IAM_GROUP_POLICY_ATTACHMENT: Final = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
REDRIVE_ALLOW_POLICY: Final = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
S3_BUCKET: Final = "aws:s3/bucket:Bucket"
S3_BUCKET_V2: Final = "aws:s3/bucketV2:BucketV2"
REST_API: Final = "aws:apigateway/restApi:RestApi"
REST_STAGE: Final = "aws:apigateway/stage:Stage"
REST_METHOD: Final = "aws:apigateway/method:Method"
REST_METHOD_SETTINGS: Final = "aws:apigateway/methodSettings:MethodSettings"
REST_INTEGRATION: Final = "aws:apigateway/integration:Integration"
APIGATEWAY_ACCOUNT: Final = "aws:apigateway/account:Account"
HTTP_API: Final = "aws:apigatewayv2/api:Api"
HTTP_STAGE: Final = "aws:apigatewayv2/stage:Stage"
HTTP_ROUTE: Final = "aws:apigatewayv2/route:Route"
HTTP_INTEGRATION: Final = "aws:apigatewayv2/integration:Integration"

_KIND: Final[Mapping[str, str]] = {
    QUEUE: "SQS queue",
    QUEUE_POLICY: "SQS queue policy",
    REDRIVE_POLICY: "SQS redrive policy",
    TOPIC: "SNS topic",
    TOPIC_POLICY: "SNS topic policy",
    TOPIC_SUBSCRIPTION: "SNS subscription",
    EVENT_SOURCE_MAPPING: "Lambda event source mapping",
    FUNCTION: "Lambda function",
    FUNCTION_ALIAS: "Lambda alias",
    METRIC_ALARM: "CloudWatch alarm",
    IAM_ROLE: "IAM role",
    IAM_ROLE_POLICY: "IAM role policy",
    IAM_POLICY: "IAM policy",
    IAM_ROLE_POLICY_ATTACHMENT: "IAM role policy attachment",
    IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: "IAM exclusive role policy attachments",
    IAM_POLICY_ATTACHMENT: "IAM policy attachment",
    IAM_USER_POLICY: "IAM user policy",
    IAM_GROUP_POLICY: "IAM group policy",
    IAM_USER_POLICY_ATTACHMENT: "IAM user policy attachment",
    IAM_GROUP_POLICY_ATTACHMENT: "IAM group policy attachment",
    REDRIVE_ALLOW_POLICY: "SQS redrive allow policy",
    S3_BUCKET: "S3 bucket",
    S3_BUCKET_V2: "S3 bucket",
    REST_API: "API Gateway REST API",
    REST_STAGE: "API Gateway stage",
    REST_METHOD: "API Gateway method",
    REST_METHOD_SETTINGS: "API Gateway method settings",
    REST_INTEGRATION: "API Gateway integration",
    APIGATEWAY_ACCOUNT: "API Gateway account settings",
    HTTP_API: "API Gateway HTTP API",
    HTTP_STAGE: "API Gateway HTTP API stage",
    HTTP_ROUTE: "API Gateway HTTP API route",
    HTTP_INTEGRATION: "API Gateway HTTP API integration",
}

# --- unknown values -------------------------------------------------------------------------------


class _Unknown:
    """Marker for a value that is not known yet (``pulumi preview``). Compare with ``is``."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Final = _Unknown()

_SENTINELS: Final = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


def is_unknown(value: object) -> bool:
    return value is UNKNOWN


def _is_raw_unknown(value: object) -> bool:
    if isinstance(value, str):
        return value in _SENTINELS
    # pulumi.output.Unknown: what Pulumi mocks hand over for unknown inputs during a dry run.
    return isinstance(value, _PulumiUnknown)


def to_plain(value: Any) -> Any:
    """Deep-copy ``value`` into plain dicts/lists, with every unknown value replaced by UNKNOWN.

    Works on pulumi-policy's unknown-checking proxies (reading an unknown through them raises
    ``UnknownValueError``), on its secret wrappers, and on ordinary Python values.
    """
    if _is_raw_unknown(value):
        return UNKNOWN
    if isinstance(value, Secret):
        return to_plain(value.value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in list(value):
            try:
                item = value[key]
            except UnknownValueError:
                out[str(key)] = UNKNOWN
                continue
            out[str(key)] = to_plain(item)
        return out
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                item = value[index]
            except UnknownValueError:
                items.append(UNKNOWN)
                continue
            items.append(to_plain(item))
        return items
    return value


# --- scalar readers ---------------------------------------------------------------------------------


def number(value: Any, default: float | None = None) -> float | _Unknown | None:
    """A number from an engine value (numbers arrive as floats, sometimes as strings).

    Missing/None gives ``default``; anything unreadable is UNKNOWN (cannot judge).
    """
    if value is UNKNOWN:
        return UNKNOWN
    if value is None or value == "":
        return None if default is None else float(default)
    if isinstance(value, bool):
        return UNKNOWN
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else UNKNOWN
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return UNKNOWN
        return parsed if math.isfinite(parsed) else UNKNOWN
    return UNKNOWN


def boolean(value: Any, default: bool = False) -> bool | _Unknown:
    if value is UNKNOWN:
        return UNKNOWN
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return UNKNOWN


def text(value: Any) -> str | _Unknown | None:
    """A non-empty string, None when absent/empty, UNKNOWN when unknown or not a string."""
    if value is UNKNOWN:
        return UNKNOWN
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return UNKNOWN


def fmt(value: float | int) -> str:
    """Render a number the way a user wrote it: 30, not 30.0."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class InvalidJson:
    """A JSON string that does not parse."""

    def __init__(self, error: str) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"InvalidJson({self.error!r})"


def json_value(value: Any) -> Any:
    """Parse a property that may hold JSON text or an already-structured object.

    Returns None (absent/empty), UNKNOWN, an :class:`InvalidJson`, or the parsed value.
    """
    if value is UNKNOWN or value is None or value == "":
        return UNKNOWN if value is UNKNOWN else None
    if isinstance(value, str):
        try:
            return to_plain(json.loads(value))
        except ValueError as exc:
            return InvalidJson(str(exc))
    return value


# --- resources ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One resource as the checks see it."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    parent: str | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.props.get(key, default)

    @property
    def label(self) -> str:
        """``SQS queue "orders-billing"``: how messages name the resource (its Pulumi name)."""
        return f'{_KIND.get(self.type, self.type)} "{self.name}"'


def quoted_names(resources: Iterable[Resource]) -> str:
    return ", ".join(f'"{r.name}"' for r in resources)


@dataclass(frozen=True)
class Finding:
    """A violation found by a check: the resource it is about and the full message."""

    urn: str | None
    name: str | None
    type: str | None
    message: str

    @classmethod
    def about(cls, resource: Resource, message: str) -> Finding:
        return cls(resource.urn, resource.name, resource.type, message)


def _urn_list(values: Iterable[Any]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        urn = value if isinstance(value, str) else getattr(value, "urn", None)
        if isinstance(urn, str) and urn not in out:
            out.append(urn)
    return tuple(out)


def _prop_deps(raw: Mapping[str, Iterable[Any]] | None) -> dict[str, tuple[str, ...]]:
    return {str(key): _urn_list(values or ()) for key, values in (raw or {}).items()}


def from_validation_args(args: Any) -> Resource:
    """From ``pulumi_policy.ResourceValidationArgs`` (no dependency information at this level)."""
    return Resource(type=args.resource_type, name=args.name, urn=args.urn, props=to_plain(args.props))


def from_policy_resource(resource: Any) -> Resource:
    """From ``pulumi_policy.PolicyResource`` (stack validation)."""
    parent = getattr(resource, "parent", None)
    return Resource(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=to_plain(resource.props),
        property_dependencies=_prop_deps(getattr(resource, "property_dependencies", None)),
        dependencies=_urn_list(getattr(resource, "dependencies", None) or ()),
        parent=getattr(parent, "urn", parent if isinstance(parent, str) else None),
    )


def _field(raw: Any, key: str, default: Any = None) -> Any:
    if isinstance(raw, Mapping):
        return raw.get(key, default)
    return getattr(raw, key, default)


def from_capture(raw: Any) -> Resource:
    """From a captured resource (docs/contracts.md §3), as a dict or a ``CapturedResource``.

    ``props`` are the inputs overlaid with the outputs (outputs = inputs + computed attributes such
    as ``arn``/``url``), so both resource-level and stack-level checks see what the engine would show
    them. A plain ``props`` key is accepted too.
    """
    props: dict[str, Any] = {}
    for key in ("inputs", "outputs", "props"):
        part = _field(raw, key)
        if isinstance(part, Mapping):
            props.update(part)
    resource_type = _field(raw, "type") or _field(raw, "resource_type")
    name = _field(raw, "name")
    urn = _field(raw, "urn") or f"urn:pulumi:stack::project::{resource_type}::{name}"
    return Resource(
        type=str(resource_type),
        name=str(name),
        urn=str(urn),
        props=to_plain(props),
        property_dependencies=_prop_deps(_field(raw, "property_dependencies")),
        dependencies=_urn_list(_field(raw, "dependencies") or ()),
        parent=_field(raw, "parent"),
    )


_FROM_PROP: Final = object()


def reference_name(value: str) -> str | None:
    """The resource name inside an ARN or URL: ``arn:aws:sqs:r:a:jobs-dlq`` / ``.../a/jobs-dlq`` -> ``jobs-dlq``.

    Used to link a literal reference to a resource whose ARN/URL is not known yet (preview) but whose
    name is. ARN resource parts such as ``function:name`` or ``role/path/name`` keep their last segment.
    """
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) < 6:
            return None
        resource = parts[5]
        if resource.startswith("function:"):  # Lambda: function:name[:qualifier]
            return resource.split(":")[1] or None
        return resource.replace(":", "/").rsplit("/", 1)[-1] or None
    if value.startswith("https://"):
        return value.rstrip("/").rsplit("/", 1)[-1] or None
    return None


def not_known_yet(resource: Resource, attr: str) -> bool:
    """A computed attribute (``arn``, ``url``, ``id``) a preview cannot show yet: unknown, or absent.

    A first ``pulumi preview`` shows a resource it has not created with its computed outputs either
    as unknowns or not at all (only its inputs); after ``pulumi up`` they are always there.
    """
    return attr not in resource.props or resource.props[attr] is UNKNOWN


class Stack:
    """All resources of one stack, indexed, with reference resolution."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources: tuple[Resource, ...] = tuple(resources)
        self.by_urn: dict[str, Resource] = {r.urn: r for r in self.resources}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def get(self, urn: str) -> Resource | None:
        return self.by_urn.get(urn)

    def has_unknown(self, types: Iterable[str], attr: str) -> bool:
        """Whether some resource of ``types`` has ``attr`` not known yet (a preview before it exists)."""
        wanted = tuple(types)
        return any(not_known_yet(r, attr) for r in self.resources if r.type in wanted)

    def matching(self, value: Any, types: Iterable[str], attrs: Iterable[str]) -> list[Resource]:
        """Resources of ``types`` whose (known) attribute in ``attrs`` equals the known ``value``.

        A literal ARN/URL also matches, by name, a resource whose ARN/URL is not known yet (preview:
        unknown or absent): ``"arn:aws:sqs:us-east-1:111122223333:jobs-dlq"`` finds the queue named
        ``jobs-dlq``.
        """
        if isinstance(value, list):
            return [r for item in value for r in self.matching(item, types, attrs)]
        if not isinstance(value, str) or not value:
            return []
        wanted = tuple(types)
        keys = tuple(attrs)
        exact = [r for r in self.resources if r.type in wanted and any(r.get(a) == value for a in keys)]
        if exact:
            return exact
        name = reference_name(value)
        if name is None:
            return []
        return [
            r
            for r in self.resources
            if r.type in wanted and r.get("name") == name and any(not_known_yet(r, a) for a in keys)
        ]

    def unresolvable(self, value: Any, types: Iterable[str], attrs: Iterable[str]) -> bool:
        """A reference that matches nothing, but might once values are known (so: cannot judge yet).

        True for an unknown value, and for a literal while some candidate's ``attrs`` are not known yet.
        """
        if isinstance(value, list):
            return any(self.unresolvable(v, types, attrs) for v in value)
        if value is UNKNOWN:
            return True
        if not isinstance(value, str) or self.matching(value, types, attrs):
            return False
        return any(self.has_unknown(types, a) for a in attrs)

    def resolve(
        self,
        resource: Resource,
        prop: str,
        types: Iterable[str],
        attrs: Iterable[str] = ("arn",),
        value: Any = _FROM_PROP,
    ) -> list[Resource]:
        """The resources of ``types`` that ``resource.props[prop]`` refers to.

        First the property dependencies recorded for ``prop`` (the only thing known during a
        preview, when ARNs/URLs are unknown); then, when there are none, the resources whose
        ``attrs`` equal the property's value (or ``value``, e.g. an ARN parsed out of a JSON
        document; a list value matches each item). Several dependency candidates are narrowed by
        the value when it is known.
        """
        wanted = tuple(types)
        keys = tuple(attrs)
        target = resource.get(prop) if value is _FROM_PROP else value
        deps = [
            dep
            for urn in resource.property_dependencies.get(prop, ())
            if (dep := self.by_urn.get(urn)) is not None and dep.type in wanted
        ]
        if deps:
            if len(deps) > 1 and isinstance(target, str):
                narrowed = [d for d in deps if any(d.get(a) == target for a in keys)]
                if narrowed:
                    return narrowed
            return deps
        return self.matching(target, wanted, keys)
