"""The stack-config model: parse `async-pipelines:*` once, validate everything, report all errors together.

Components never read `pulumi.Config`; they receive these frozen objects. Parsing is pure Python
(no Pulumi, no Lambda imports), so a bad `Pulumi.<stack>.yaml` fails before any resource is
registered, with every broken key named by its full path, its value and what is allowed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jmespath
import jmespath.exceptions

from components import defaults as d
from components.config_errors import NAME_RE, ConfigError, Errors, did_you_mean
from components.http_config import HttpSettings, parse_http

PatternName = Literal["fanout", "chain", "retry"]
PATTERNS: tuple[PatternName, ...] = ("fanout", "chain", "retry")
HANDLER_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

CONSUMER_KEYS = (
    "handler",
    "timeout",
    "memory",
    "batchSize",
    "batchWindow",
    "maxConcurrency",
    "maxReceiveCount",
    "visibilityTimeout",
    "retention",
    "delay",
    "fifo",
    "idempotency",
    "results",
)
STACK_KEYS = (
    "pipelines",
    "alarmEmail",
    "alarms",
    "logRetentionDays",
    "powertoolsLayerVersion",
    "architecture",
    "apiGatewayCloudWatchRole",
)
ALARM_KEYS = ("oldestMessageAge", "queueDepth")
PIPELINE_KEYS: dict[str, tuple[str, ...]] = {
    "fanout": ("pattern", "enabled", "fifo", "largeMessages", "subscribers", "http"),
    "chain": ("pattern", "enabled", "fifo", "largeMessages", "stages", "http"),
    "retry": ("pattern", "enabled", "largeMessages", "retries", "http", *CONSUMER_KEYS),
}
"""The keys each pattern's pipeline mapping may have (consumer keys of a retry pipeline sit on it)."""


@dataclass(frozen=True)
class ConsumerSettings:
    """One consumer: its Lambda, its event source mapping and the queue(s) it reads."""

    name: str
    handler: str
    timeout: int = d.TIMEOUT
    memory: int = d.MEMORY
    batch_size: int = d.BATCH_SIZE
    batch_window: int = d.BATCH_WINDOW
    max_concurrency: int | None = None
    max_receive_count: int = d.MAX_RECEIVE_COUNT
    visibility_timeout: int = d.default_visibility_timeout(d.TIMEOUT, d.BATCH_WINDOW)
    retention: int = d.RETENTION
    delay: int = d.DELAY
    fifo: bool = False
    idempotency: bool = True
    idempotency_key: str | None = None
    """JMESPath into the JSON body; None keys idempotency by message id."""
    results: bool = False
    """Grant write access to the stack's results bucket under `<pipeline>/<consumer>/`."""


@dataclass(frozen=True)
class Subscriber:
    consumer: ConsumerSettings
    filter_policy: dict[str, Any] | None = None
    filter_scope: str = "MessageAttributes"


@dataclass(frozen=True)
class FanOutPipeline:
    name: str
    subscribers: tuple[Subscriber, ...]
    fifo: bool = False
    large_messages: bool = False
    """`largeMessages`: bodies over the SQS/SNS limit travel through a private S3 bucket (producer + runtime)."""
    enabled: bool = True
    pattern: PatternName = "fanout"
    http: HttpSettings | None = None
    """HTTP ingress in front of the topic; None = none."""


@dataclass(frozen=True)
class ChainPipeline:
    name: str
    stages: tuple[ConsumerSettings, ...]
    large_messages: bool = False
    """`largeMessages`: bodies over the SQS/SNS limit travel through a private S3 bucket (producer + runtime)."""
    enabled: bool = True
    pattern: PatternName = "chain"
    http: HttpSettings | None = None
    """HTTP ingress in front of the first stage's queue; None = none."""


@dataclass(frozen=True)
class RetryPipeline:
    name: str
    consumer: ConsumerSettings
    delays: tuple[int, ...]
    """Delay of each retry tier, in the order a message goes through them."""
    large_messages: bool = False
    """`largeMessages`: bodies over the SQS/SNS limit travel through a private S3 bucket (producer + runtime)."""
    enabled: bool = True
    pattern: PatternName = "retry"
    http: HttpSettings | None = None
    """HTTP ingress in front of the main queue; None = none."""


Pipeline = FanOutPipeline | ChainPipeline | RetryPipeline


@dataclass(frozen=True)
class AlarmThresholds:
    oldest_message_age: int = d.OLDEST_MESSAGE_AGE_ALARM
    queue_depth: int = d.QUEUE_DEPTH_ALARM


@dataclass(frozen=True)
class StackConfig:
    stack: str
    region: str
    pipelines: tuple[Pipeline, ...]
    alarm_email: str | None = None
    alarms: AlarmThresholds = field(default_factory=AlarmThresholds)
    log_retention_days: int = d.LOG_RETENTION_DAYS
    powertools_layer_version: int | None = None
    """Explicit layer version; None resolves the layer of requirements.txt's release (components.powertools)."""
    architecture: str = d.ARCHITECTURE
    api_gateway_cloudwatch_role: bool = False
    """Manage the region's API Gateway account setting (the CloudWatch Logs role access logs need)."""

    @property
    def enabled_pipelines(self) -> tuple[Pipeline, ...]:
        return tuple(p for p in self.pipelines if p.enabled)

    @property
    def name_prefix(self) -> str:
        return f"{d.NAME_PREFIX}-{self.stack}"


# --- parsing ------------------------------------------------------------------------------


def parse_stack_config(raw: Mapping[str, Any], *, stack: str, region: str | None) -> StackConfig:
    """Parse the `async-pipelines` namespace (keys without the `async-pipelines:` prefix)."""
    errors = Errors()
    if not region:
        errors.add(
            "aws:region", "required (e.g. `pulumi config set aws:region us-east-1`): it picks the Powertools layer"
        )
    errors.unknown_keys("async-pipelines", raw, STACK_KEYS)

    email = raw.get("alarmEmail")
    if email is not None and not (isinstance(email, str) and EMAIL_RE.match(email)):
        errors.add("alarmEmail", f"{email!r} is not an email address")

    alarms = AlarmThresholds()
    raw_alarms = errors.mapping("alarms", raw.get("alarms", {}))
    if raw_alarms is not None:
        errors.unknown_keys("alarms", raw_alarms, ALARM_KEYS)
        alarms = AlarmThresholds(
            oldest_message_age=errors.integer(
                "alarms", raw_alarms, "oldestMessageAge", d.OLDEST_MESSAGE_AGE_ALARM, 60, d.RETENTION_RANGE[1], " s"
            ),
            queue_depth=errors.integer("alarms", raw_alarms, "queueDepth", d.QUEUE_DEPTH_ALARM, 1, 10_000_000),
        )

    retention_days = raw.get("logRetentionDays", d.LOG_RETENTION_DAYS)
    if (
        isinstance(retention_days, bool)
        or not isinstance(retention_days, int)
        or retention_days not in d.LOG_RETENTION_CHOICES
    ):
        allowed = ", ".join(map(str, d.LOG_RETENTION_CHOICES))
        errors.add("logRetentionDays", f"{retention_days!r} is not a CloudWatch Logs retention; allowed {allowed}")
        retention_days = d.LOG_RETENTION_DAYS

    layer_version = None
    if "powertoolsLayerVersion" in raw:
        layer_version = errors.integer("async-pipelines", raw, "powertoolsLayerVersion", 1, 1, 10_000)
    if region and (problem := d.powertools_region_problem(region, explicit_version=layer_version is not None)):
        errors.add("aws:region", problem)
    architecture = raw.get("architecture", d.ARCHITECTURE)
    if architecture not in d.ARCHITECTURES:
        errors.add("architecture", f"{architecture!r} is not allowed; allowed {', '.join(d.ARCHITECTURES)}")
        architecture = d.ARCHITECTURE

    cloudwatch_role = errors.boolean("async-pipelines", raw, "apiGatewayCloudWatchRole", False)

    if not isinstance(stack, str) or not NAME_RE.match(stack):
        errors.add("stack", f"stack name {stack!r} must be 1–31 of a-z, 0-9 and '-' (it prefixes every resource)")

    pipelines: list[Pipeline] = []
    raw_pipelines = raw.get("pipelines")
    if raw_pipelines is None:
        errors.add("pipelines", "required; a mapping of pipeline name to its settings")
    elif (mapping := errors.mapping("pipelines", raw_pipelines)) is not None:
        for name, body in mapping.items():
            pipeline = _parse_pipeline(errors, f"pipelines.{name}", str(name), body, stack)
            if pipeline is not None:
                pipelines.append(pipeline)

    if errors.items:
        raise ConfigError(errors.items)
    return StackConfig(
        stack=stack,
        region=region or "",
        pipelines=tuple(pipelines),
        alarm_email=email,
        alarms=alarms,
        log_retention_days=retention_days,
        powertools_layer_version=layer_version,
        architecture=architecture,
        api_gateway_cloudwatch_role=cloudwatch_role,
    )


def _http(errors: Errors, path: str, raw: Mapping[str, Any], *, fifo: bool, topic_entry: bool) -> HttpSettings | None:
    if "http" not in raw:
        return None
    return parse_http(errors, f"{path}.http", raw["http"], fifo=fifo, topic_entry=topic_entry)


def _parse_pipeline(errors: Errors, path: str, name: str, body: Any, stack: str) -> Pipeline | None:
    errors.name(path, name)
    raw = errors.mapping(path, body)
    if raw is None:
        return None
    pattern = raw.get("pattern")
    if pattern not in PATTERNS:
        # Without a pattern the keys cannot be checked against one: check them against every pattern's,
        # so that a misspelled `patern` is named as such rather than reported as a missing pattern only.
        errors.unknown_keys(path, raw, tuple(dict.fromkeys(k for keys in PIPELINE_KEYS.values() for k in keys)))
        if "pattern" not in raw:
            errors.add(f"{path}.pattern", f"required; allowed {', '.join(PATTERNS)}")
        else:
            hint = did_you_mean(pattern, PATTERNS) if isinstance(pattern, str) else None
            also = f"; did you mean {hint!r}?" if hint else ";"
            errors.add(f"{path}.pattern", f"{pattern!r} is not a pattern{also} allowed {', '.join(PATTERNS)}")
        return None
    enabled = errors.boolean(path, raw, "enabled", True)
    fifo = errors.boolean(path, raw, "fifo", False)
    large = errors.boolean(path, raw, "largeMessages", False)
    errors.unknown_keys(path, raw, PIPELINE_KEYS[pattern])
    if pattern == "fanout":
        http = _http(errors, path, raw, fifo=fifo, topic_entry=True)
        subs = errors.mapping(f"{path}.subscribers", raw.get("subscribers"))
        if not subs:
            if subs is not None:
                errors.add(f"{path}.subscribers", "needs at least one subscriber")
            return None
        subscribers = []
        for sub_name, sub_body in subs.items():
            sub_path = f"{path}.subscribers.{sub_name}"
            sub = _parse_subscriber(errors, sub_path, str(sub_name), sub_body, fifo, stack, name)
            if sub is not None:
                subscribers.append(sub)
        return FanOutPipeline(
            name=name, subscribers=tuple(subscribers), fifo=fifo, large_messages=large, enabled=enabled, http=http
        )
    if pattern == "chain":
        http = _http(errors, path, raw, fifo=fifo, topic_entry=False)
        stages_raw = raw.get("stages")
        if not isinstance(stages_raw, list) or not stages_raw:
            errors.add(f"{path}.stages", f"{stages_raw!r}: needs a list of at least one stage")
            return None
        stages: list[ConsumerSettings] = []
        seen: set[str] = set()
        for i, stage_body in enumerate(stages_raw):
            stage_path = f"{path}.stages[{i}]"
            stage_raw = errors.mapping(stage_path, stage_body)
            if stage_raw is None:
                continue
            stage_name = stage_raw.get("name")
            if not isinstance(stage_name, str):
                errors.add(f"{stage_path}.name", f"required; got {stage_name!r}")
                continue
            if stage_name in seen:
                errors.add(f"{stage_path}.name", f"{stage_name!r} is used by an earlier stage; names must be unique")
            seen.add(stage_name)
            errors.unknown_keys(stage_path, stage_raw, ("name", *CONSUMER_KEYS))
            _check_same_type(errors, stage_path, stage_raw, fifo, "the queues of a chain")
            rest = {k: v for k, v in stage_raw.items() if k != "name"}
            stage = _parse_consumer(
                errors, stage_path, stage_name, rest, fifo, stack, name, name_path=f"{stage_path}.name"
            )
            if stage is not None:
                stages.append(stage)
        return ChainPipeline(name=name, stages=tuple(stages), large_messages=large, enabled=enabled, http=http)
    # retry
    http = _http(errors, path, raw, fifo=fifo, topic_entry=False)
    consumer_raw = {k: v for k, v in raw.items() if k in CONSUMER_KEYS and k != "fifo"}
    delays = _parse_retries(errors, f"{path}.retries", raw.get("retries"))
    consumer = _parse_consumer(
        errors, path, "consumer", consumer_raw, fifo, stack, name, retry_tiers=len(delays) if delays else 1
    )
    if consumer is None or delays is None:
        return None
    return RetryPipeline(
        name=name, consumer=consumer, delays=delays, large_messages=large, enabled=enabled, http=http
    )


def _parse_retries(errors: Errors, path: str, value: Any) -> tuple[int, ...] | None:
    lo, hi = d.RETRY_TIERS_RANGE
    if not isinstance(value, list) or not lo <= len(value) <= hi:
        errors.add(path, f"{value!r}: needs a list of {lo}–{hi} tiers like [{{delay: 30}}, {{delay: 300}}]")
        return None
    delays = []
    for i, tier in enumerate(value):
        tier_raw = errors.mapping(f"{path}[{i}]", tier)
        if tier_raw is None:
            continue
        errors.unknown_keys(f"{path}[{i}]", tier_raw, ("delay",))
        if "delay" not in tier_raw:
            errors.add(f"{path}[{i}].delay", "required; seconds 0–900")
        delays.append(errors.integer(f"{path}[{i}]", tier_raw, "delay", d.DELAY, *d.DELAY_RANGE, " s"))
    return tuple(delays)


def _check_same_type(errors: Errors, path: str, raw: Mapping[str, Any], fifo: bool, what: str) -> None:
    """Fan-out queues must match their topic, chain stages each other (FIFO needs a group id end to end)."""
    value = raw.get("fifo", fifo)
    if isinstance(value, bool) and value != fifo:
        errors.add(
            f"{path}.fifo",
            f"{value!r} differs from the pipeline's fifo ({fifo}); {what} share one type: set `fifo` on the pipeline",
        )


def _parse_subscriber(
    errors: Errors, path: str, name: str, body: Any, fifo: bool, stack: str, pipeline: str
) -> Subscriber | None:
    raw = errors.mapping(path, body)
    if raw is None:
        return None
    errors.unknown_keys(path, raw, ("filter", "filterScope", *CONSUMER_KEYS))
    _check_same_type(errors, path, raw, fifo, "a fan-out topic and its queues")
    scope = raw.get("filterScope", "MessageAttributes")
    if scope not in d.FILTER_SCOPES:
        errors.add(f"{path}.filterScope", f"{scope!r} is not allowed; allowed {', '.join(d.FILTER_SCOPES)}")
        scope = "MessageAttributes"
    filter_policy = raw.get("filter")
    if filter_policy is not None:
        _check_filter_policy(errors, f"{path}.filter", filter_policy, scope)
    consumer_raw = {k: v for k, v in raw.items() if k in CONSUMER_KEYS}
    consumer = _parse_consumer(errors, path, name, consumer_raw, fifo, stack, pipeline)
    if consumer is None:
        return None
    return Subscriber(consumer=consumer, filter_policy=filter_policy, filter_scope=scope)


def _check_filter_policy(errors: Errors, path: str, policy: Any, scope: str) -> None:
    if not isinstance(policy, Mapping) or not policy:
        errors.add(path, f"{policy!r}: a filter policy is a non-empty mapping of attribute name to a list of matches")
        return
    leaves = 0

    def walk(p: str, node: Mapping[str, Any], depth: int) -> None:
        nonlocal leaves
        for key, value in node.items():
            if key in ("$or",) and isinstance(value, list):
                leaves += 1
                continue
            if isinstance(value, list):
                leaves += 1
            elif isinstance(value, Mapping) and scope == "MessageBody":
                walk(f"{p}.{key}", value, depth + 1)
            else:
                allowed = "a list" + (" or a nested mapping" if scope == "MessageBody" else "")
                errors.add(f"{p}.{key}", f"{value!r} is not allowed in a {scope} filter; use {allowed}")

    walk(path, policy, 0)
    if leaves > d.FILTER_POLICY_MAX_KEYS:
        errors.add(path, f"{leaves} attribute keys; SNS allows at most {d.FILTER_POLICY_MAX_KEYS} per filter policy")


def _parse_consumer(
    errors: Errors,
    path: str,
    name: str,
    raw: Mapping[str, Any],
    pipeline_fifo: bool,
    stack: str,
    pipeline: str,
    name_path: str | None = None,
    retry_tiers: int = 0,
) -> ConsumerSettings | None:
    """Validate one consumer's settings, including the rules that tie keys together.

    Each step reports its own errors (in the order the keys are documented) and returns the value to use.
    """
    errors.name(name_path or path, name)
    handler = _parse_handler(errors, path, raw)
    fifo = errors.boolean(path, raw, "fifo", pipeline_fifo)
    timeout = errors.integer(path, raw, "timeout", d.TIMEOUT, *d.TIMEOUT_RANGE, " s")
    memory = errors.integer(path, raw, "memory", d.MEMORY, *d.MEMORY_RANGE, " MB")
    batch_size, batch_window = _parse_batching(errors, path, raw, fifo)
    max_concurrency = _parse_max_concurrency(errors, path, raw, retry_tiers)
    max_receive = errors.integer(path, raw, "maxReceiveCount", d.MAX_RECEIVE_COUNT, *d.MAX_RECEIVE_COUNT_RANGE)
    visibility = _parse_visibility(errors, path, raw, timeout, batch_window)
    retention = errors.integer(path, raw, "retention", d.RETENTION, *d.RETENTION_RANGE, " s")
    delay = errors.integer(path, raw, "delay", d.DELAY, *d.DELAY_RANGE, " s")
    idempotency, idempotency_key = _parse_idempotency(errors, path, raw)
    results = errors.boolean(path, raw, "results", False)
    _check_name_lengths(errors, path, d.physical_name(stack, pipeline, None if retry_tiers else name), retry_tiers)
    if not isinstance(handler, str):
        return None
    return ConsumerSettings(
        name=name,
        handler=handler,
        timeout=timeout,
        memory=memory,
        batch_size=batch_size,
        batch_window=batch_window,
        max_concurrency=max_concurrency,
        max_receive_count=max_receive,
        visibility_timeout=visibility,
        retention=retention,
        delay=delay,
        fifo=fifo,
        idempotency=idempotency,
        idempotency_key=idempotency_key,
        results=results,
    )


def _parse_handler(errors: Errors, path: str, raw: Mapping[str, Any]) -> Any:
    """`module:function` defined under functions/ (read, never imported); returned as given."""
    handler = raw.get("handler")
    if handler is None:
        errors.add(f"{path}.handler", "required; `module:function` under functions/, e.g. handlers.orders:bill")
    elif problem := handler_problem(handler):
        errors.add(f"{path}.handler", problem)
    return handler


def _parse_batching(errors: Errors, path: str, raw: Mapping[str, Any], fifo: bool) -> tuple[int, int]:
    """batchSize within the queue type's maximum; batchWindow not on FIFO, and required above 10 records."""
    batch_max = d.BATCH_SIZE_FIFO_MAX if fifo else d.BATCH_SIZE_STANDARD_MAX
    kind = "a FIFO" if fifo else "a standard"
    batch_size = errors.integer(path, raw, "batchSize", d.BATCH_SIZE, 1, batch_max, f" for {kind} queue")
    batch_window = errors.integer(path, raw, "batchWindow", d.BATCH_WINDOW, *d.BATCH_WINDOW_RANGE, " s")
    if fifo and batch_window > 0:
        errors.add(f"{path}.batchWindow", f"{batch_window} is not allowed on a FIFO queue; allowed 0 (omit it)")
        batch_window = 0
    if batch_size > d.BATCH_SIZE_WITHOUT_WINDOW_MAX and batch_window < 1:
        errors.add(
            f"{path}.batchSize",
            f"{batch_size} needs batchWindow ≥ 1 s (a batch larger than 10 requires a batching window); "
            "set batchWindow or lower batchSize to 10",
        )
    return batch_size, batch_window


def _parse_max_concurrency(errors: Errors, path: str, raw: Mapping[str, Any], retry_tiers: int) -> int | None:
    """Unset, or a total that splits over the consumer's mappings (main + tiers) with ≥ 2 each."""
    if "maxConcurrency" not in raw:
        return None
    valid_so_far = len(errors.items)
    max_concurrency = errors.integer(path, raw, "maxConcurrency", 2, *d.MAX_CONCURRENCY_RANGE)
    mappings = 1 + retry_tiers  # the consumer's share is split over its mappings (d.split_max_concurrency)
    if len(errors.items) == valid_so_far and max_concurrency < d.min_max_concurrency(mappings):
        errors.add(
            f"{path}.maxConcurrency",
            f"{max_concurrency} cannot be split over the {mappings} queues this consumer reads (main + "
            f"{retry_tiers} retry tiers, an event source mapping each, each needing ≥ "
            f"{d.MAX_CONCURRENCY_RANGE[0]}); allowed {d.min_max_concurrency(mappings)}–"
            f"{d.MAX_CONCURRENCY_RANGE[1]}",
        )
        return None
    return max_concurrency


def _parse_visibility(errors: Errors, path: str, raw: Mapping[str, Any], timeout: int, batch_window: int) -> int:
    """Default 6 × timeout + batchWindow; an explicit value below the timeout is rejected by Lambda."""
    default_visibility = d.default_visibility_timeout(timeout, batch_window)
    visibility = errors.integer(path, raw, "visibilityTimeout", default_visibility, *d.VISIBILITY_RANGE, " s")
    if "visibilityTimeout" in raw and visibility < timeout:
        errors.add(
            f"{path}.visibilityTimeout",
            f"{visibility} is below timeout {timeout}; Lambda rejects a queue whose visibility timeout is "
            f"shorter than the function timeout (AWS advises ≥ {d.VISIBILITY_FACTOR} × timeout + batchWindow "
            f"= {default_visibility})",
        )
    return visibility


def _parse_idempotency(errors: Errors, path: str, raw: Mapping[str, Any]) -> tuple[bool, str | None]:
    """(on, JMESPath key or None): `true` keys by message id, a string keys by a JMESPath into the body."""
    value = raw.get("idempotency", True)
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.strip():
        try:
            jmespath.compile(value)
        except jmespath.exceptions.JMESPathError as exc:
            errors.add(f"{path}.idempotency", f"{value!r} is not a valid JMESPath expression ({exc})")
            return True, None
        return True, value
    errors.add(
        f"{path}.idempotency",
        f"{value!r} is not allowed; allowed true, false, or a JMESPath into the body (e.g. order_id)",
    )
    return True, None


def _check_name_lengths(errors: Errors, path: str, physical: str, retry_tiers: int) -> None:
    """The longest queue (`-retry-N.fifo` or `-dlq.fifo`) and the function name fit AWS's limits."""
    longest_queue = physical + (f"-retry-{retry_tiers}.fifo" if retry_tiers else "-dlq.fifo")
    if len(longest_queue) > d.QUEUE_NAME_MAX or len(physical) > d.FUNCTION_NAME_MAX:
        errors.add(
            path,
            f"resource names like {longest_queue!r} get too long (queues ≤ {d.QUEUE_NAME_MAX}, functions ≤ "
            f"{d.FUNCTION_NAME_MAX} characters); shorten the pipeline or consumer name",
        )


def handler_problem(handler: Any, functions_dir: Path = d.FUNCTIONS_DIR) -> str | None:
    """Why `handler` does not name a function in functions/, or None. Reads source, never imports it."""
    if not isinstance(handler, str) or not HANDLER_RE.match(handler):
        return f"{handler!r} is not `module:function` (e.g. handlers.orders:bill)"
    module, function = handler.split(":")
    base = functions_dir.joinpath(*module.split("."))
    source = next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)
    if source is None:
        return f"{handler!r}: module {module!r} not found under functions/ (looked for {base.name}.py)"
    try:
        names = _top_level_names(source)
    except (SyntaxError, ValueError) as exc:
        return f"{handler!r}: {source.relative_to(functions_dir)} cannot be parsed ({exc})"
    if function in names.handlers:
        return None
    where = source.relative_to(functions_dir)
    hint = did_you_mean(function, sorted(names.functions))
    if hint:
        return f"{handler!r}: {where} defines no function {function!r}; did you mean {module}:{hint}?"
    known = ", ".join(sorted(names.functions)) or "none"
    return f"{handler!r}: {where} defines no function {function!r} (its functions: {known})"


@dataclass(frozen=True)
class _ModuleNames:
    functions: frozenset[str]
    """Public functions the module defines itself: what a misspelled handler is compared with."""
    handlers: frozenset[str]
    """Every public top-level name a handler may point at (also assignments and imported names)."""


@cache
def _top_level_names(source: Path) -> _ModuleNames:
    tree = ast.parse(source.read_text(), filename=str(source))
    functions: set[str] = set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    public = frozenset(n for n in functions if not n.startswith("_"))
    return _ModuleNames(public, public | frozenset(n for n in names if not n.startswith("_")))
