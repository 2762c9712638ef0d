"""The stack-config model (design.md §3): every rule, the exact error it reports, defaults, the stack files.

Every error is `<full.key.path>: <message naming the bad value and what is allowed>`, so most tests
compare the complete error list with `==`: that checks the key path, the value, the allowed values
and that one problem produces exactly one error.

Handlers are resolved against a temporary `functions/` tree (see `stub_handlers`), so these tests do
not depend on the business functions in `functions/handlers/`; only the stack-file tests use the
real tree, through the `real_handlers` fixture.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

import components.config
from components import defaults as d
from components.config import (
    CONSUMER_KEYS,
    PIPELINE_KEYS,
    STACK_KEYS,
    ChainPipeline,
    ConfigError,
    ConsumerSettings,
    FanOutPipeline,
    RetryPipeline,
    StackConfig,
    Subscriber,
    parse_stack_config,
)
from tests.conftest import TEST_STACKS_DIR

REAL_HANDLER_PROBLEM = components.config.handler_problem
DASH = "\N{EN DASH}"
GE = "\N{GREATER-THAN OR EQUAL TO}"
LE = "\N{LESS-THAN OR EQUAL TO}"
TIMES = "\N{MULTIPLICATION SIGN}"
MISSING = object()
"""A setting value meaning: leave the key out of the config."""

HANDLERS = {
    "orders": ("bill",),
    "notify": ("send",),
    "analytics": ("record",),
    "media": ("download", "thumbnail", "publish"),
    "compute": ("transform",),
}
"""The business functions the stack files and design.md refer to (functions/handlers/<module>.py)."""

NAME_RULE = f"use 1{DASH}31 of a-z, 0-9 and '-', starting with a letter"
PATTERN_RULE = "allowed fanout, chain, retry"


def span(lo: int, hi: int, unit: str = "") -> str:
    return f"allowed {lo}{DASH}{hi}{unit}"


def unknown(key: str, *names: str, hint: str | None = None) -> str:
    """The unknown-key message: the key, the closest allowed key when one is close, every allowed key."""
    suggestion = f"; did you mean {hint!r}?" if hint else ";"
    return f"unknown key {key!r}{suggestion} allowed keys: {', '.join(names)}"


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    """A functions/ tree with the business functions the configs below name (and nothing else)."""
    root = tmp_path / "functions"
    (root / "handlers").mkdir(parents=True)
    for module, names in HANDLERS.items():
        body = "".join(f"def {name}(message):\n    return message\n\n\n" for name in names)
        (root / "handlers" / f"{module}.py").write_text(body)
    return root


@pytest.fixture(autouse=True)
def stub_handlers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, functions_dir: Path) -> None:
    """Resolve handlers in the tmp tree: `handler_problem`'s default dir is bound at definition time."""
    if "real_handlers" in request.fixturenames:
        return
    monkeypatch.setattr(
        components.config, "handler_problem", functools.partial(REAL_HANDLER_PROBLEM, functions_dir=functions_dir)
    )


@pytest.fixture
def real_handlers() -> Path:
    """The real functions/ tree; skips while the business functions are still being written."""
    missing = [f"handlers/{m}.py" for m in HANDLERS if not (d.FUNCTIONS_DIR / "handlers" / f"{m}.py").is_file()]
    if missing:
        pytest.skip(f"the stack files name business functions not written yet: functions/{', '.join(missing)}")
    return d.FUNCTIONS_DIR


# --- config builders ----------------------------------------------------------------------


def parse(raw: dict[str, Any], *, stack: str = "dev", region: str | None = "us-east-1") -> StackConfig:
    return parse_stack_config(raw, stack=stack, region=region)


def errors_of(raw: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(raw, **kwargs)
    return info.value.errors


def merged(base: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (base | settings).items() if v is not MISSING}


def pipelines(**bodies: Any) -> dict[str, Any]:
    return {"pipelines": bodies}


def subscriber_config(settings: dict[str, Any], **pipeline: Any) -> dict[str, Any]:
    """Fan-out pipeline `orders` with one subscriber `billing`."""
    sub = merged({"handler": "handlers.orders:bill"}, settings)
    return pipelines(orders={"pattern": "fanout", **pipeline, "subscribers": {"billing": sub}})


def stage_config(settings: dict[str, Any], **pipeline: Any) -> dict[str, Any]:
    """Chain pipeline `media` with one stage `download`."""
    stage = merged({"name": "download", "handler": "handlers.media:download"}, settings)
    return pipelines(media={"pattern": "chain", **pipeline, "stages": [stage]})


def retry_config(settings: dict[str, Any], **pipeline: Any) -> dict[str, Any]:
    """Retry pipeline `email` with one 30 s tier."""
    base = {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}]}
    return pipelines(email=merged(base | pipeline, settings))


def only_consumer(config: StackConfig) -> ConsumerSettings:
    (pipeline,) = config.pipelines
    if isinstance(pipeline, FanOutPipeline):
        return pipeline.subscribers[0].consumer
    if isinstance(pipeline, ChainPipeline):
        return pipeline.stages[0]
    return pipeline.consumer


class Kind(NamedTuple):
    """One place a consumer is configured: its config builder, key path and allowed keys."""

    build: Callable[..., dict[str, Any]]
    path: str
    allowed_keys: tuple[str, ...]


KINDS = {
    "subscriber": Kind(
        subscriber_config, "pipelines.orders.subscribers.billing", ("filter", "filterScope", *CONSUMER_KEYS)
    ),
    "stage": Kind(stage_config, "pipelines.media.stages[0]", ("name", *CONSUMER_KEYS)),
    "retry": Kind(
        retry_config, "pipelines.email", ("pattern", "enabled", "largeMessages", "retries", "http", *CONSUMER_KEYS)
    ),
}
SUB = KINDS["subscriber"].path


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    """Each consumer rule holds for a fan-out subscriber, a chain stage and a retry pipeline alike."""
    return KINDS[request.param]


# --- handler resolution (handler_problem called directly on a tmp functions/ dir) -----------


@pytest.mark.parametrize("handler", [f"handlers.{m}:{f}" for m, fs in HANDLERS.items() for f in fs])
def test_handler_that_exists_has_no_problem(functions_dir: Path, handler: str) -> None:
    assert REAL_HANDLER_PROBLEM(handler, functions_dir=functions_dir) is None


@pytest.mark.parametrize(
    "handler",
    [
        "handlers.orders.bill",
        "handlers/orders:bill",
        "orders",
        ":bill",
        "handlers.orders:",
        "handlers.orders:bill:x",
        "handlers.orders:bill()",
        "1handlers.orders:bill",
        "",
        42,
        None,
        ["handlers.orders:bill"],
    ],
)
def test_handler_not_module_colon_function(functions_dir: Path, handler: Any) -> None:
    assert REAL_HANDLER_PROBLEM(handler, functions_dir=functions_dir) == (
        f"{handler!r} is not `module:function` (e.g. handlers.orders:bill)"
    )


@pytest.mark.parametrize(
    ("handler", "module", "file"),
    [
        ("handlers.billing:bill", "handlers.billing", "billing.py"),
        ("orders:bill", "orders", "orders.py"),
        ("handlers.orders.v2:bill", "handlers.orders.v2", "v2.py"),
    ],
)
def test_handler_module_not_under_functions(functions_dir: Path, handler: str, module: str, file: str) -> None:
    assert REAL_HANDLER_PROBLEM(handler, functions_dir=functions_dir) == (
        f"{handler!r}: module {module!r} not found under functions/ (looked for {file})"
    )


def test_handler_function_not_in_module(functions_dir: Path) -> None:
    assert REAL_HANDLER_PROBLEM("handlers.media:resize", functions_dir=functions_dir) == (
        "'handlers.media:resize': handlers/media.py defines no function 'resize' "
        "(its functions: download, publish, thumbnail)"
    )


def test_misspelled_handler_suggests_the_closest_function_of_the_module(functions_dir: Path) -> None:
    assert REAL_HANDLER_PROBLEM("handlers.media:thumbnial", functions_dir=functions_dir) == (
        "'handlers.media:thumbnial': handlers/media.py defines no function 'thumbnial'; "
        "did you mean handlers.media:thumbnail?"
    )


def test_misspelled_handler_never_suggests_imported_names(functions_dir: Path) -> None:
    """Names a module imports (helpers, exceptions) are not its handlers: never offered, never listed."""
    (functions_dir / "handlers" / "shipping.py").write_text(
        "from json import dumps\nfrom handlers.common import PermanentError, ship_later\n\n\n"
        "def dispatch(message):\n    return message\n"
    )
    assert REAL_HANDLER_PROBLEM("handlers.shipping:ship_latr", functions_dir=functions_dir) == (
        "'handlers.shipping:ship_latr': handlers/shipping.py defines no function 'ship_latr' (its functions: dispatch)"
    )
    assert REAL_HANDLER_PROBLEM("handlers.shipping:dump", functions_dir=functions_dir) == (
        "'handlers.shipping:dump': handlers/shipping.py defines no function 'dump' (its functions: dispatch)"
    )


def test_handler_in_empty_module_lists_none(functions_dir: Path) -> None:
    (functions_dir / "handlers" / "empty.py").write_text('"""Nothing yet."""\n')
    assert REAL_HANDLER_PROBLEM("handlers.empty:run", functions_dir=functions_dir) == (
        "'handlers.empty:run': handlers/empty.py defines no function 'run' (its functions: none)"
    )


def test_handler_private_names_do_not_count(functions_dir: Path) -> None:
    (functions_dir / "handlers" / "private.py").write_text("def _helper(message):\n    return None\n")
    assert REAL_HANDLER_PROBLEM("handlers.private:_helper", functions_dir=functions_dir) == (
        "'handlers.private:_helper': handlers/private.py defines no function '_helper' (its functions: none)"
    )


def test_handler_found_in_package_assignment_and_import(functions_dir: Path) -> None:
    package = functions_dir / "handlers" / "shop"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from handlers.orders import bill as charge\n\nrefund = charge\n\n\nasync def ship(message):\n    pass\n"
    )
    for function in ("charge", "refund", "ship"):
        assert REAL_HANDLER_PROBLEM(f"handlers.shop:{function}", functions_dir=functions_dir) is None


def test_handler_module_is_read_not_imported(functions_dir: Path) -> None:
    (functions_dir / "handlers" / "boom.py").write_text(
        "raise RuntimeError('imported!')\n\n\ndef run(message):\n    return message\n"
    )
    assert REAL_HANDLER_PROBLEM("handlers.boom:run", functions_dir=functions_dir) is None


def test_handler_module_with_syntax_error_is_a_problem_not_a_crash(functions_dir: Path) -> None:
    (functions_dir / "handlers" / "broken.py").write_text("def run(message)\n    return message\n")
    problem = REAL_HANDLER_PROBLEM("handlers.broken:run", functions_dir=functions_dir)
    assert problem is not None
    assert problem.startswith("'handlers.broken:run': handlers/broken.py cannot be parsed (")
    assert "line 1" in problem


def test_handler_module_with_syntax_error_is_collected_with_other_errors(functions_dir: Path) -> None:
    (functions_dir / "handlers" / "broken.py").write_text("def run(message)\n")
    errors = errors_of(subscriber_config({"handler": "handlers.broken:run", "memory": 1}))
    assert len(errors) == 2
    assert errors[0].startswith(f"{SUB}.handler: 'handlers.broken:run': handlers/broken.py cannot be parsed (")
    assert errors[1] == f"{SUB}.memory: 1 is out of range; {span(128, 10240, ' MB')}"


# --- handler key in the config --------------------------------------------------------------


def test_handler_missing(kind: Kind) -> None:
    assert errors_of(kind.build({"handler": MISSING})) == [
        f"{kind.path}.handler: required; `module:function` under functions/, e.g. handlers.orders:bill"
    ]


@pytest.mark.parametrize(
    ("handler", "problem"),
    [
        ("handlers.orders.bill", "'handlers.orders.bill' is not `module:function` (e.g. handlers.orders:bill)"),
        (7, "7 is not `module:function` (e.g. handlers.orders:bill)"),
        (
            "handlers.payments:bill",
            "'handlers.payments:bill': module 'handlers.payments' not found under functions/ (looked for payments.py)",
        ),
        (
            "handlers.orders:charge",
            "'handlers.orders:charge': handlers/orders.py defines no function 'charge' (its functions: bill)",
        ),
    ],
)
def test_handler_invalid_or_nonexistent(kind: Kind, handler: Any, problem: str) -> None:
    assert errors_of(kind.build({"handler": handler})) == [f"{kind.path}.handler: {problem}"]


# --- unknown keys and patterns ----------------------------------------------------------------


def test_unknown_stack_level_key() -> None:
    raw = subscriber_config({}) | {"alarmEmails": "ops@example.com"}
    assert errors_of(raw) == [f"async-pipelines.alarmEmails: {unknown('alarmEmails', *STACK_KEYS, hint='alarmEmail')}"]


@pytest.mark.parametrize(
    ("body", "key", "allowed", "hint"),
    [
        (
            {"pattern": "fanout", "subscribers": {"billing": {"handler": "handlers.orders:bill"}}, "timeout": 60},
            "timeout",
            ("pattern", "enabled", "fifo", "largeMessages", "subscribers", "http"),
            None,
        ),
        (
            {
                "pattern": "chain",
                "stages": [{"name": "download", "handler": "handlers.media:download"}],
                "handler": "handlers.media:download",
            },
            "handler",
            ("pattern", "enabled", "fifo", "largeMessages", "stages", "http"),
            None,
        ),
        (
            {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}], "delays": [30]},
            "delays",
            ("pattern", "enabled", "largeMessages", "retries", "http", *CONSUMER_KEYS),
            "delay",
        ),
    ],
    ids=["fanout", "chain", "retry"],
)
def test_unknown_pipeline_key(body: dict[str, Any], key: str, allowed: tuple[str, ...], hint: str | None) -> None:
    assert errors_of(pipelines(p=body)) == [f"pipelines.p.{key}: {unknown(key, *allowed, hint=hint)}"]


@pytest.mark.parametrize(
    ("key", "hint"), [("timout", "timeout"), ("batch_size", "batchSize"), ("Handler", "handler"), ("subscribers", None)]
)
def test_unknown_consumer_key_suggests_the_closest(kind: Kind, key: str, hint: str | None) -> None:
    assert errors_of(kind.build({key: 1})) == [f"{kind.path}.{key}: {unknown(key, *kind.allowed_keys, hint=hint)}"]


def test_unknown_retry_tier_key() -> None:
    assert errors_of(retry_config({"retries": [{"delay": 30, "jitter": True}]})) == [
        f"pipelines.email.retries[0].jitter: {unknown('jitter', 'delay')}"
    ]


def test_unknown_alarm_key() -> None:
    raw = subscriber_config({}) | {"alarms": {"queueDepth": 10, "dlqDepth": 1}}
    assert errors_of(raw) == [
        f"alarms.dlqDepth: {unknown('dlqDepth', 'oldestMessageAge', 'queueDepth', hint='queueDepth')}"
    ]


@pytest.mark.parametrize(
    ("pattern", "hint"),
    [("fan-out", "fanout"), ("Fanout", "fanout"), ("chian", "chain"), ("pipeline", None), ("", None), (1, None)],
)
def test_unknown_pattern_suggests_the_closest(pattern: Any, hint: str | None) -> None:
    body = {"pattern": pattern, "handler": "handlers.notify:send"}
    also = f"; did you mean {hint!r}?" if hint else ";"
    expected = f"pipelines.email.pattern: {pattern!r} is not a pattern{also} {PATTERN_RULE}"
    assert errors_of(pipelines(email=body)) == [expected]


def test_missing_pattern_is_required() -> None:
    body = {"handler": "handlers.notify:send", "retries": [{"delay": 30}]}
    assert errors_of(pipelines(email=body)) == [f"pipelines.email.pattern: required; {PATTERN_RULE}"]


ANY_PIPELINE_KEYS = tuple(dict.fromkeys(k for keys in PIPELINE_KEYS.values() for k in keys))


def test_misspelled_pattern_key_is_named_with_its_correction() -> None:
    """`patern: chain` used to say only "None is not a pattern": the key itself is the mistake."""
    body = {"patern": "chain", "stages": [{"name": "download", "handler": "handlers.media:download"}]}
    assert errors_of(pipelines(media=body)) == [
        f"pipelines.media.patern: {unknown('patern', *ANY_PIPELINE_KEYS, hint='pattern')}",
        f"pipelines.media.pattern: required; {PATTERN_RULE}",
    ]


def test_pipeline_without_a_valid_pattern_still_reports_its_unknown_keys() -> None:
    body = {"pattern": "chian", "stages": [], "subscriber": {}}
    assert errors_of(pipelines(media=body)) == [
        f"pipelines.media.subscriber: {unknown('subscriber', *ANY_PIPELINE_KEYS, hint='subscribers')}",
        f"pipelines.media.pattern: 'chian' is not a pattern; did you mean 'chain'? {PATTERN_RULE}",
    ]


# --- the pipelines mapping and each pipeline ------------------------------------------------------


def test_missing_pipelines() -> None:
    assert errors_of({"alarmEmail": "ops@example.com"}) == [
        "pipelines: required; a mapping of pipeline name to its settings"
    ]


@pytest.mark.parametrize("value", [["orders"], "orders", 3])
def test_pipelines_not_a_mapping(value: Any) -> None:
    assert errors_of({"pipelines": value}) == [
        f"pipelines: expected a mapping of settings, got {type(value).__name__} {value!r}"
    ]


@pytest.mark.parametrize("body", ["fanout", None, ["pattern", "fanout"], 1])
def test_pipeline_not_a_mapping(body: Any) -> None:
    assert errors_of(pipelines(orders=body)) == [
        f"pipelines.orders: expected a mapping of settings, got {type(body).__name__} {body!r}"
    ]


@pytest.mark.parametrize("key", ["enabled", "fifo", "largeMessages"])
@pytest.mark.parametrize("value", ["yes", 1, None])
def test_pipeline_boolean_switch_not_a_boolean(key: str, value: Any) -> None:
    assert errors_of(stage_config({}, **{key: value})) == [
        f"pipelines.media.{key}: {value!r} is not a boolean; allowed true, false"
    ]


@pytest.mark.parametrize("key", ["fifo", "results"])
def test_consumer_boolean_not_a_boolean(kind: Kind, key: str) -> None:
    """One error per bad value: a retry pipeline's `fifo` is also the pipeline's, a subscriber's is compared."""
    assert errors_of(kind.build({key: "no"})) == [f"{kind.path}.{key}: 'no' is not a boolean; allowed true, false"]


def test_fanout_subscribers_missing_or_empty() -> None:
    assert errors_of(pipelines(orders={"pattern": "fanout"})) == [
        "pipelines.orders.subscribers: expected a mapping of settings, got NoneType None"
    ]
    assert errors_of(pipelines(orders={"pattern": "fanout", "subscribers": {}})) == [
        "pipelines.orders.subscribers: needs at least one subscriber"
    ]
    assert errors_of(pipelines(orders={"pattern": "fanout", "subscribers": ["billing"]})) == [
        "pipelines.orders.subscribers: expected a mapping of settings, got list ['billing']"
    ]


def test_fanout_subscriber_not_a_mapping() -> None:
    raw = pipelines(orders={"pattern": "fanout", "subscribers": {"billing": "handlers.orders:bill"}})
    assert errors_of(raw) == [f"{SUB}: expected a mapping of settings, got str 'handlers.orders:bill'"]


# --- chain stages -------------------------------------------------------------------------


@pytest.mark.parametrize("stages", [[], None, {"download": {"handler": "handlers.media:download"}}, "download"])
def test_chain_stages_empty_or_not_a_list(stages: Any) -> None:
    raw = pipelines(media={"pattern": "chain"} | ({} if stages is None else {"stages": stages}))
    assert errors_of(raw) == [f"pipelines.media.stages: {stages!r}: needs a list of at least one stage"]


def test_chain_stage_not_a_mapping() -> None:
    raw = pipelines(media={"pattern": "chain", "stages": ["handlers.media:download"]})
    assert errors_of(raw) == [
        "pipelines.media.stages[0]: expected a mapping of settings, got str 'handlers.media:download'"
    ]


@pytest.mark.parametrize("name", [MISSING, None, 3])
def test_chain_stage_missing_name(name: Any) -> None:
    value = None if name is MISSING else name
    assert errors_of(stage_config({"name": name})) == [f"pipelines.media.stages[0].name: required; got {value!r}"]


def test_chain_stage_names_unique() -> None:
    stages = [
        {"name": "download", "handler": "handlers.media:download"},
        {"name": "thumbnail", "handler": "handlers.media:thumbnail"},
        {"name": "download", "handler": "handlers.media:publish"},
    ]
    assert errors_of(pipelines(media={"pattern": "chain", "stages": stages})) == [
        "pipelines.media.stages[2].name: 'download' is used by an earlier stage; names must be unique"
    ]


def test_chain_stage_errors_are_indexed() -> None:
    stages = [
        {"name": "download", "handler": "handlers.media:download"},
        {"name": "thumbnail", "handler": "handlers.media:thumbnail", "timeout": 901},
    ]
    assert errors_of(pipelines(media={"pattern": "chain", "stages": stages})) == [
        f"pipelines.media.stages[1].timeout: 901 is out of range; {span(1, 900, ' s')}"
    ]


# --- retry tiers ----------------------------------------------------------------------------


RETRIES_RULE = f"needs a list of 1{DASH}9 tiers like [{{delay: 30}}, {{delay: 300}}]"


@pytest.mark.parametrize(
    "retries",
    [[], [{"delay": 30}] * 10, MISSING, None, {"delay": 30}, 30],
    ids=["empty", "ten-tiers", "missing", "null", "mapping", "number"],
)
def test_retries_empty_too_many_or_not_a_list(retries: Any) -> None:
    value = None if retries is MISSING else retries
    assert errors_of(retry_config({"retries": retries})) == [f"pipelines.email.retries: {value!r}: {RETRIES_RULE}"]


def test_retries_nine_tiers_allowed() -> None:
    config = parse(retry_config({"retries": [{"delay": 60 * i} for i in range(1, 10)]}))
    (pipeline,) = config.pipelines
    assert isinstance(pipeline, RetryPipeline)
    assert pipeline.delays == (60, 120, 180, 240, 300, 360, 420, 480, 540)


def test_retry_tier_missing_delay() -> None:
    assert errors_of(retry_config({"retries": [{"delay": 30}, {}]})) == [
        f"pipelines.email.retries[1].delay: required; seconds 0{DASH}900"
    ]


def test_retry_tier_not_a_mapping() -> None:
    assert errors_of(retry_config({"retries": [30, {"delay": 300}]})) == [
        "pipelines.email.retries[0]: expected a mapping of settings, got int 30"
    ]


@pytest.mark.parametrize(
    ("delay", "message"),
    [
        (-1, "-1 is out of range"),
        (901, "901 is out of range"),
        ("30", "'30' is not an integer"),
        (30.0, "30.0 is not an integer"),
        (True, "True is not an integer"),
        (None, "None is not an integer"),
    ],
)
def test_retry_tier_delay_out_of_range_or_not_integer(delay: Any, message: str) -> None:
    assert errors_of(retry_config({"retries": [{"delay": 30}, {"delay": delay}]})) == [
        f"pipelines.email.retries[1].delay: {message}; {span(0, 900, ' s')}"
    ]


@pytest.mark.parametrize("delay", [0, 900])
def test_retry_tier_delay_bounds_allowed(delay: int) -> None:
    (pipeline,) = parse(retry_config({"retries": [{"delay": delay}]})).pipelines
    assert isinstance(pipeline, RetryPipeline)
    assert pipeline.delays == (delay,)


# --- numeric ranges ---------------------------------------------------------------------------


class Range(NamedTuple):
    key: str
    attr: str
    lo: int
    hi: int
    unit: str


RANGES = [
    Range("timeout", "timeout", 1, 900, " s"),
    Range("memory", "memory", 128, 10_240, " MB"),
    Range("batchWindow", "batch_window", 0, 300, " s"),
    Range("maxConcurrency", "max_concurrency", 2, 1000, ""),
    Range("maxReceiveCount", "max_receive_count", 1, 1000, ""),
    Range("visibilityTimeout", "visibility_timeout", 0, 43_200, " s"),
    Range("retention", "retention", 60, 1_209_600, " s"),
    Range("delay", "delay", 0, 900, " s"),
    Range("batchSize", "batch_size", 1, 10_000, " for a standard queue"),
]
RANGE_IDS = [r.key for r in RANGES]


@pytest.mark.parametrize("rule", RANGES, ids=RANGE_IDS)
@pytest.mark.parametrize("side", ["below", "above"])
def test_consumer_setting_out_of_range(kind: Kind, rule: Range, side: str) -> None:
    bad = rule.lo - 1 if side == "below" else rule.hi + 1
    assert errors_of(kind.build({rule.key: bad})) == [
        f"{kind.path}.{rule.key}: {bad} is out of range; {span(rule.lo, rule.hi, rule.unit)}"
    ]


@pytest.mark.parametrize("rule", RANGES, ids=RANGE_IDS)
@pytest.mark.parametrize("side", ["lo", "hi"])
def test_consumer_setting_bounds_allowed(kind: Kind, rule: Range, side: str) -> None:
    value = rule.lo if side == "lo" else rule.hi
    settings: dict[str, Any] = {rule.key: value}
    if rule.key == "visibilityTimeout" and side == "lo":
        # 0 is a legal SQS value but always below the function timeout (≥ 1): the lowest usable one is 1.
        value = 1
        settings |= {"timeout": 1, rule.key: value}
    if rule.key == "batchSize" and value > 10:
        settings["batchWindow"] = 1
    if rule.key == "maxConcurrency" and side == "lo" and kind is KINDS["retry"]:
        value = 4  # main queue + one tier: two mappings of at least 2 each
        settings[rule.key] = value
    assert getattr(only_consumer(parse(kind.build(settings))), rule.attr) == value


@pytest.mark.parametrize("rule", RANGES, ids=RANGE_IDS)
@pytest.mark.parametrize("bad", ["30", 30.0, 2.5, True, False, None, [30]], ids=repr)
def test_consumer_setting_not_an_integer(rule: Range, bad: Any) -> None:
    """Booleans are ints in Python but not integers here; YAML floats and strings are rejected too."""
    assert errors_of(subscriber_config({rule.key: bad})) == [
        f"{SUB}.{rule.key}: {bad!r} is not an integer; {span(rule.lo, rule.hi, rule.unit)}"
    ]


@pytest.mark.parametrize(("tiers", "too_small", "smallest"), [(1, 3, 4), (3, 7, 8), (9, 19, 20)])
def test_retry_max_concurrency_must_split_over_every_mapping(tiers: int, too_small: int, smallest: int) -> None:
    """A retry consumer reads main + each tier: AWS caps every mapping at ≥ 2, so the total needs 2 each."""
    retries = [{"delay": 30}] * tiers
    assert errors_of(retry_config({"maxConcurrency": too_small, "retries": retries})) == [
        f"pipelines.email.maxConcurrency: {too_small} cannot be split over the {tiers + 1} queues this consumer "
        f"reads (main + {tiers} retry tiers, an event source mapping each, each needing ≥ 2); "
        f"{span(smallest, 1000)}"
    ]
    consumer = only_consumer(parse(retry_config({"maxConcurrency": smallest, "retries": retries})))
    assert consumer.max_concurrency == smallest


def test_max_concurrency_out_of_range_is_one_error_on_a_retry_consumer() -> None:
    assert errors_of(retry_config({"maxConcurrency": 1})) == [
        f"pipelines.email.maxConcurrency: 1 is out of range; {span(2, 1000)}"
    ]


def test_fifo_batch_size_range(kind: Kind) -> None:
    assert errors_of(kind.build({"batchSize": 11}, fifo=True)) == [
        f"{kind.path}.batchSize: 11 is out of range; {span(1, 10, ' for a FIFO queue')}"
    ]
    assert errors_of(kind.build({"batchSize": 0}, fifo=True)) == [
        f"{kind.path}.batchSize: 0 is out of range; {span(1, 10, ' for a FIFO queue')}"
    ]
    assert only_consumer(parse(kind.build({"batchSize": 10}, fifo=True))).batch_size == 10


def test_fifo_chain_stage_uses_fifo_batch_limit() -> None:
    assert errors_of(stage_config({"batchSize": 20, "batchWindow": 5}, fifo=True)) == [
        f"pipelines.media.stages[0].batchSize: 20 is out of range; {span(1, 10, ' for a FIFO queue')}",
        "pipelines.media.stages[0].batchWindow: 5 is not allowed on a FIFO queue; allowed 0 (omit it)",
    ]


def test_chain_stage_type_must_match_the_pipeline() -> None:
    assert errors_of(stage_config({"fifo": True})) == [
        "pipelines.media.stages[0].fifo: True differs from the pipeline's fifo (False); "
        "the queues of a chain share one type: set `fifo` on the pipeline"
    ]


def test_stack_level_integers() -> None:
    raw = subscriber_config({}) | {"powertoolsLayerVersion": 0, "alarms": {"oldestMessageAge": 59, "queueDepth": 0}}
    assert errors_of(raw) == [
        f"alarms.oldestMessageAge: 59 is out of range; {span(60, 1_209_600, ' s')}",
        f"alarms.queueDepth: 0 is out of range; {span(1, 10_000_000)}",
        f"async-pipelines.powertoolsLayerVersion: 0 is out of range; {span(1, 10_000)}",
    ]
    raw = subscriber_config({}) | {
        "powertoolsLayerVersion": True,
        "alarms": {"oldestMessageAge": "600", "queueDepth": 1.5},
    }
    assert errors_of(raw) == [
        f"alarms.oldestMessageAge: '600' is not an integer; {span(60, 1_209_600, ' s')}",
        f"alarms.queueDepth: 1.5 is not an integer; {span(1, 10_000_000)}",
        f"async-pipelines.powertoolsLayerVersion: True is not an integer; {span(1, 10_000)}",
    ]


def test_alarm_thresholds_parsed() -> None:
    raw = subscriber_config({}) | {"alarms": {"oldestMessageAge": 60, "queueDepth": 10_000_000}}
    config = parse(raw)
    assert (config.alarms.oldest_message_age, config.alarms.queue_depth) == (60, 10_000_000)


@pytest.mark.parametrize("alarms", ["yes", [300], None])
def test_alarms_not_a_mapping(alarms: Any) -> None:
    assert errors_of(subscriber_config({}) | {"alarms": alarms}) == [
        f"alarms: expected a mapping of settings, got {type(alarms).__name__} {alarms!r}"
    ]


# --- rules that tie keys together -------------------------------------------------------------


@pytest.mark.parametrize(("timeout", "window", "advised"), [(60, 0, 360), (30, 10, 190)])
def test_visibility_timeout_below_function_timeout(kind: Kind, timeout: int, window: int, advised: int) -> None:
    settings = {"timeout": timeout, "visibilityTimeout": timeout - 1, "batchWindow": window}
    assert errors_of(kind.build(settings)) == [
        f"{kind.path}.visibilityTimeout: {timeout - 1} is below timeout {timeout}; Lambda rejects a queue whose "
        "visibility timeout is shorter than the function timeout "
        f"(AWS advises {GE} 6 {TIMES} timeout + batchWindow = {advised})"
    ]


def test_visibility_timeout_equal_to_function_timeout_allowed(kind: Kind) -> None:
    consumer = only_consumer(parse(kind.build({"timeout": 60, "visibilityTimeout": 60})))
    assert (consumer.timeout, consumer.visibility_timeout) == (60, 60)


BATCH_NEEDS_WINDOW = (
    f"needs batchWindow {GE} 1 s (a batch larger than 10 requires a batching window); "
    "set batchWindow or lower batchSize to 10"
)


@pytest.mark.parametrize("size", [11, 10_000])
def test_batch_size_over_ten_needs_batch_window(kind: Kind, size: int) -> None:
    assert errors_of(kind.build({"batchSize": size})) == [f"{kind.path}.batchSize: {size} {BATCH_NEEDS_WINDOW}"]
    assert errors_of(kind.build({"batchSize": size, "batchWindow": 0})) == [
        f"{kind.path}.batchSize: {size} {BATCH_NEEDS_WINDOW}"
    ]
    assert only_consumer(parse(kind.build({"batchSize": size, "batchWindow": 1}))).batch_size == size


def test_batch_size_over_ten_with_invalid_window_reports_both(kind: Kind) -> None:
    assert errors_of(kind.build({"batchSize": 100, "batchWindow": 301})) == [
        f"{kind.path}.batchWindow: 301 is out of range; {span(0, 300, ' s')}",
        f"{kind.path}.batchSize: 100 {BATCH_NEEDS_WINDOW}",
    ]


@pytest.mark.parametrize("window", [1, 300])
def test_batch_window_not_allowed_on_fifo(kind: Kind, window: int) -> None:
    assert errors_of(kind.build({"batchWindow": window}, fifo=True)) == [
        f"{kind.path}.batchWindow: {window} is not allowed on a FIFO queue; allowed 0 (omit it)"
    ]


def test_batch_window_zero_allowed_on_fifo(kind: Kind) -> None:
    consumer = only_consumer(parse(kind.build({"batchWindow": 0}, fifo=True)))
    assert (consumer.fifo, consumer.batch_window) == (True, 0)


@pytest.mark.parametrize(("pipeline_fifo", "sub_fifo"), [(False, True), (True, False)])
def test_subscriber_fifo_differs_from_pipeline(pipeline_fifo: bool, sub_fifo: bool) -> None:
    assert errors_of(subscriber_config({"fifo": sub_fifo}, fifo=pipeline_fifo)) == [
        f"{SUB}.fifo: {sub_fifo!r} differs from the pipeline's fifo ({pipeline_fifo}); a fan-out topic and its "
        "queues share one type: set `fifo` on the pipeline"
    ]


@pytest.mark.parametrize("fifo", [False, True])
def test_subscriber_fifo_equal_to_pipeline_allowed(fifo: bool) -> None:
    (pipeline,) = parse(subscriber_config({"fifo": fifo}, fifo=fifo)).pipelines
    assert isinstance(pipeline, FanOutPipeline)
    assert pipeline.fifo is fifo
    assert pipeline.subscribers[0].consumer.fifo is fifo


def test_fifo_follows_pipeline(kind: Kind) -> None:
    assert only_consumer(parse(kind.build({}, fifo=True))).fifo is True
    assert only_consumer(parse(kind.build({}))).fifo is False


# --- filter policies ----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [["order_created"], "type=order_created", {}, 1])
def test_filter_policy_not_a_mapping(policy: Any) -> None:
    assert errors_of(subscriber_config({"filter": policy})) == [
        f"{SUB}.filter: {policy!r}: a filter policy is a non-empty mapping of attribute name to a list of matches"
    ]


@pytest.mark.parametrize("value", ["order_created", 3, None, {"prefix": "order"}])
def test_filter_value_must_be_a_list_for_message_attributes(value: Any) -> None:
    assert errors_of(subscriber_config({"filter": {"type": value}})) == [
        f"{SUB}.filter.type: {value!r} is not allowed in a MessageAttributes filter; use a list"
    ]


def test_filter_scope_message_attributes_explicit_rejects_nesting() -> None:
    raw = subscriber_config({"filter": {"order": {"type": ["created"]}}, "filterScope": "MessageAttributes"})
    assert errors_of(raw) == [
        f"{SUB}.filter.order: {{'type': ['created']}} is not allowed in a MessageAttributes filter; use a list"
    ]


def test_filter_nested_allowed_with_message_body_scope() -> None:
    policy = {"order": {"type": ["created"], "total": [{"numeric": [">", 100]}]}, "source": ["shop"]}
    (pipeline,) = parse(subscriber_config({"filter": policy, "filterScope": "MessageBody"})).pipelines
    assert isinstance(pipeline, FanOutPipeline)
    assert pipeline.subscribers[0].filter_policy == policy
    assert pipeline.subscribers[0].filter_scope == "MessageBody"


def test_filter_nested_leaf_must_be_a_list_with_message_body_scope() -> None:
    raw = subscriber_config({"filter": {"order": {"type": "created"}}, "filterScope": "MessageBody"})
    assert errors_of(raw) == [
        f"{SUB}.filter.order.type: 'created' is not allowed in a MessageBody filter; use a list or a nested mapping"
    ]


def test_filter_at_most_five_keys() -> None:
    five = {f"k{i}": ["v"] for i in range(5)}
    (pipeline,) = parse(subscriber_config({"filter": five})).pipelines
    assert isinstance(pipeline, FanOutPipeline)
    assert pipeline.subscribers[0].filter_policy == five
    six = five | {"k5": ["v"]}
    assert errors_of(subscriber_config({"filter": six})) == [
        f"{SUB}.filter: 6 attribute keys; SNS allows at most 5 per filter policy"
    ]


def test_filter_nested_keys_count_towards_five() -> None:
    policy = {"order": {"a": ["1"], "b": ["2"], "c": ["3"]}, "d": ["4"], "e": ["5"], "f": ["6"]}
    assert errors_of(subscriber_config({"filter": policy, "filterScope": "MessageBody"})) == [
        f"{SUB}.filter: 6 attribute keys; SNS allows at most 5 per filter policy"
    ]


@pytest.mark.parametrize("scope", ["Body", "messageBody", "MessageAttribute", "", None, 1])
def test_bad_filter_scope(scope: Any) -> None:
    assert errors_of(subscriber_config({"filter": {"type": ["a"]}, "filterScope": scope})) == [
        f"{SUB}.filterScope: {scope!r} is not allowed; allowed MessageAttributes, MessageBody"
    ]


def test_filter_defaults() -> None:
    (pipeline,) = parse(subscriber_config({})).pipelines
    assert isinstance(pipeline, FanOutPipeline)
    assert (pipeline.subscribers[0].filter_policy, pipeline.subscribers[0].filter_scope) == (None, "MessageAttributes")


# --- idempotency --------------------------------------------------------------------------------


@pytest.mark.parametrize("expression", ["order[", "a..b", "foo bar", "`", "detail.[", "a ||"])
def test_idempotency_jmespath_syntax_error(kind: Kind, expression: str) -> None:
    (error,) = errors_of(kind.build({"idempotency": expression}))
    assert error.startswith(f"{kind.path}.idempotency: {expression!r} is not a valid JMESPath expression (")


@pytest.mark.parametrize("value", [1, 0, None, ["order_id"], {"key": "order_id"}, "", "   "])
def test_idempotency_wrong_type(kind: Kind, value: Any) -> None:
    assert errors_of(kind.build({"idempotency": value})) == [
        f"{kind.path}.idempotency: {value!r} is not allowed; "
        "allowed true, false, or a JMESPath into the body (e.g. order_id)"
    ]


@pytest.mark.parametrize(
    ("value", "enabled", "key"),
    [
        (True, True, None),
        (False, False, None),
        ("order_id", True, "order_id"),
        ("detail.order.id", True, "detail.order.id"),
        ("[customer, order_id]", True, "[customer, order_id]"),
    ],
)
def test_idempotency_valid(kind: Kind, value: Any, enabled: bool, key: str | None) -> None:
    consumer = only_consumer(parse(kind.build({"idempotency": value})))
    assert (consumer.idempotency, consumer.idempotency_key) == (enabled, key)


# --- stack-level keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["ops", "ops@example", "@example.com", "ops @example.com", "", 42, ["ops@example.com"]]
)
def test_bad_alarm_email(email: Any) -> None:
    assert errors_of(subscriber_config({}) | {"alarmEmail": email}) == [
        f"alarmEmail: {email!r} is not an email address"
    ]


def test_alarm_email_parsed() -> None:
    assert parse(subscriber_config({}) | {"alarmEmail": "ops+alarms@example.co.uk"}).alarm_email == (
        "ops+alarms@example.co.uk"
    )


AWS_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                          3288, 3653)
"""`retentionInDays` "Possible values", CloudWatch Logs API Reference, PutRetentionPolicy
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)."""
LOG_RETENTIONS = ", ".join(map(str, AWS_LOG_RETENTION_DAYS))


@pytest.mark.parametrize("days", [0, 2, 10, 31, 3654, -1, True, "30", 7.0, None, [7]])
def test_log_retention_not_a_cloudwatch_value(days: Any) -> None:
    assert errors_of(subscriber_config({}) | {"logRetentionDays": days}) == [
        f"logRetentionDays: {days!r} is not a CloudWatch Logs retention; allowed {LOG_RETENTIONS}"
    ]


@pytest.mark.parametrize("days", AWS_LOG_RETENTION_DAYS)
def test_log_retention_cloudwatch_values_allowed(days: int) -> None:
    assert parse(subscriber_config({}) | {"logRetentionDays": days}).log_retention_days == days


@pytest.mark.parametrize("architecture", ["amd64", "ARM64", "aarch64", "", None, 64])
def test_bad_architecture(architecture: Any) -> None:
    assert errors_of(subscriber_config({}) | {"architecture": architecture}) == [
        f"architecture: {architecture!r} is not allowed; allowed x86_64, arm64"
    ]


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_architecture_allowed(architecture: str) -> None:
    assert parse(subscriber_config({}) | {"architecture": architecture}).architecture == architecture


@pytest.mark.parametrize("region", [None, ""])
def test_missing_aws_region(region: str | None) -> None:
    assert errors_of(subscriber_config({}), region=region) == [
        "aws:region: required (e.g. `pulumi config set aws:region us-east-1`): it picks the Powertools layer"
    ]


@pytest.mark.parametrize("stack", ["Dev", "prod_eu", "1prod", "", "s" * 32])
def test_invalid_stack_name(stack: str) -> None:
    assert errors_of(subscriber_config({}), stack=stack) == [
        f"stack: stack name {stack!r} must be 1{DASH}31 of a-z, 0-9 and '-' (it prefixes every resource)"
    ]


# --- names ----------------------------------------------------------------------------------------


BAD_NAMES = ["Orders", "1orders", "or_ders", "or ders", "-orders", "o" * 32, "ordérs"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_pipeline_name(name: str) -> None:
    body = {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}]}
    assert errors_of(pipelines(**{name: body})) == [f"pipelines.{name}: name {name!r} is invalid; {NAME_RULE}"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_subscriber_name(name: str) -> None:
    raw = pipelines(orders={"pattern": "fanout", "subscribers": {name: {"handler": "handlers.orders:bill"}}})
    assert errors_of(raw) == [f"pipelines.orders.subscribers.{name}: name {name!r} is invalid; {NAME_RULE}"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_stage_name(name: str) -> None:
    assert errors_of(stage_config({"name": name})) == [
        f"pipelines.media.stages[0].name: name {name!r} is invalid; {NAME_RULE}"
    ]


def test_longest_valid_names_allowed() -> None:
    name = "a" + "-9" * 15
    assert len(name) == 31
    body = {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}]}
    assert parse(pipelines(**{name: body}), stack="s").pipelines[0].name == name


def too_long(queue_name: str) -> str:
    return (
        f"resource names like {queue_name!r} get too long (queues {LE} 80, functions {LE} 59 characters); "
        "shorten the pipeline or consumer name"
    )


def test_names_too_long_for_aws_subscriber() -> None:
    """The function `ap-<stack>-<pipeline>-<consumer>` and its role (`-role`) must fit IAM's 64 characters."""
    pipeline, ok, bad = "p" * 28, "c" * 23, "c" * 24
    assert len(f"ap-dev-{pipeline}-{ok}") == 59
    fanout = {"pattern": "fanout", "subscribers": {ok: {"handler": "handlers.orders:bill"}}}
    parse(pipelines(**{pipeline: fanout}))
    fanout = {"pattern": "fanout", "subscribers": {bad: {"handler": "handlers.orders:bill"}}}
    assert errors_of(pipelines(**{pipeline: fanout})) == [
        f"pipelines.{pipeline}.subscribers.{bad}: {too_long(f'ap-dev-{pipeline}-{bad}-dlq.fifo')}"
    ]


def test_names_too_long_for_aws_stage_and_long_stack() -> None:
    stack = "s" * 31
    stage = "t" * 31
    raw = pipelines(media={"pattern": "chain", "stages": [{"name": stage, "handler": "handlers.media:download"}]})
    expected = too_long(f"ap-{stack}-media-{stage}-dlq.fifo")
    assert errors_of(raw, stack=stack) == [f"pipelines.media.stages[0]: {expected}"]


def test_retry_pipeline_names_are_measured_without_a_consumer_name() -> None:
    """A retry pipeline's resources are `ap-<stack>-<pipeline>[-retry-N]`: 31-character names fit."""
    retry = {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 30}]}
    name, fits, too_much = "r" * 31, "s" * 24, "s" * 25
    parse(pipelines(**{name: retry}), stack=fits)
    assert errors_of(pipelines(**{name: retry}), stack=too_much) == [
        f"pipelines.{name}: {too_long(f'ap-{too_much}-{name}-retry-1.fifo')}"
    ]


# --- all errors together ----------------------------------------------------------------------


def test_all_errors_collected_in_one_config_error() -> None:
    raw = {
        "pipelines": {
            "orders": {
                "pattern": "fanout",
                "subscribers": {"billing": {"handler": "handlers.orders:bill", "timeout": 0}},
            },
            "media": {"pattern": "pipeline", "stages": []},
            "email": {"pattern": "retry", "retries": [{"delay": 30}]},
        },
        "logRetentionDays": 10,
    }
    expected = [
        f"logRetentionDays: 10 is not a CloudWatch Logs retention; allowed {LOG_RETENTIONS}",
        f"pipelines.orders.subscribers.billing.timeout: 0 is out of range; {span(1, 900, ' s')}",
        f"pipelines.media.pattern: 'pipeline' is not a pattern; {PATTERN_RULE}",
        "pipelines.email.handler: required; `module:function` under functions/, e.g. handlers.orders:bill",
    ]
    with pytest.raises(ConfigError) as info:
        parse(raw)
    assert info.value.errors == expected
    assert str(info.value) == "invalid stack config (4 errors):\n" + "\n".join(f"  - {e}" for e in expected)
    assert isinstance(info.value, ValueError)


def test_errors_from_every_level_reported_together() -> None:
    raw = {
        "pipelines": {
            "orders": {
                "pattern": "fanout",
                "fifo": True,
                "subscribers": {
                    "billing": {"handler": "handlers.orders:charge", "batchWindow": 5, "filter": {"type": "a"}},
                    "email": {"handler": "handlers.notify:send", "fifo": False},
                },
            },
            "media": {"pattern": "chain", "stages": [{"handler": "handlers.media:download"}, {"name": "x", "foo": 1}]},
            "email": {"pattern": "retry", "handler": "handlers.notify:send", "retries": [{"delay": 1000}]},
        },
        "alarms": {"queueDepth": 0},
        "architecture": "sparc",
        "extra": 1,
    }
    errors = errors_of(raw, region=None)
    assert len(errors) == 12, errors
    assert errors[0].startswith("aws:region: required")
    assert errors[1].startswith("async-pipelines.extra: unknown key")
    assert [e.split(":")[0] for e in errors[2:]] == [
        "alarms.queueDepth",
        "architecture",
        "pipelines.orders.subscribers.billing.filter.type",
        "pipelines.orders.subscribers.billing.handler",
        "pipelines.orders.subscribers.billing.batchWindow",
        "pipelines.orders.subscribers.email.fifo",
        "pipelines.media.stages[0].name",
        "pipelines.media.stages[1].foo",
        "pipelines.media.stages[1].handler",
        "pipelines.email.retries[0].delay",
    ]


def test_one_error_message_is_singular() -> None:
    with pytest.raises(ConfigError, match=r"^invalid stack config \(1 error\):\n  - alarmEmail: 'ops' is not"):
        parse(subscriber_config({}) | {"alarmEmail": "ops"})


def test_disabled_pipeline_is_still_validated() -> None:
    assert errors_of(stage_config({"timeout": 0}, enabled=False)) == [
        f"pipelines.media.stages[0].timeout: 0 is out of range; {span(1, 900, ' s')}"
    ]


# --- defaults -----------------------------------------------------------------------------------


def test_consumer_defaults(kind: Kind) -> None:
    consumer = only_consumer(parse(kind.build({})))
    assert consumer.timeout == 30
    assert consumer.memory == 256
    assert consumer.batch_size == 10
    assert consumer.batch_window == 0
    assert consumer.max_concurrency is None
    assert consumer.max_receive_count == 5  # Lambda developer guide: ≥ 5 for queues read by an ESM
    assert consumer.visibility_timeout == 180
    assert consumer.retention == 345_600
    assert consumer.delay == 0
    assert consumer.fifo is False
    assert consumer.idempotency is True
    assert consumer.idempotency_key is None
    assert consumer.results is False


@pytest.mark.parametrize(
    ("settings", "visibility"),
    [
        ({"timeout": 120}, 720),
        ({"batchSize": 100, "batchWindow": 10}, 190),
        ({"timeout": 900, "batchSize": 10_000, "batchWindow": 300}, 5700),
        ({"timeout": 1}, 6),
    ],
)
def test_default_visibility_is_six_times_timeout_plus_window(kind: Kind, settings: dict, visibility: int) -> None:
    assert only_consumer(parse(kind.build(settings))).visibility_timeout == visibility


@pytest.mark.parametrize("count", [1, 2, 4])
def test_max_receive_count_below_the_advised_five_stays_allowed(kind: Kind, count: int) -> None:
    assert only_consumer(parse(kind.build({"maxReceiveCount": count}))).max_receive_count == count


def test_default_visibility_capped_at_sqs_maximum() -> None:
    # Unreachable with timeout ≤ 900 and batchWindow ≤ 300 (max 5700), but the rule caps it anyway.
    assert d.default_visibility_timeout(900, 300) == 5700
    assert d.default_visibility_timeout(7200, 0) == 43_200
    assert d.default_visibility_timeout(7200, 1) == 43_200
    assert d.default_visibility_timeout(7199, 6) == 43_200
    assert d.default_visibility_timeout(7199, 5) == 43_199


def test_explicit_visibility_kept() -> None:
    assert only_consumer(parse(subscriber_config({"visibilityTimeout": 43_200}))).visibility_timeout == 43_200


def test_stack_defaults() -> None:
    config = parse(subscriber_config({}), stack="qa", region="eu-central-1")
    assert (config.stack, config.region, config.name_prefix) == ("qa", "eu-central-1", "ap-qa")
    assert config.alarm_email is None
    assert (config.alarms.oldest_message_age, config.alarms.queue_depth) == (600, 1000)
    assert config.log_retention_days == 30
    assert config.powertools_layer_version is None  # resolved from requirements.txt's release
    assert config.architecture == "x86_64"
    (pipeline,) = config.pipelines
    assert (pipeline.enabled, pipeline.pattern) == (True, "fanout")


# --- a valid full config ----------------------------------------------------------------------


DESIGN_EXAMPLE = """
config:
  aws:region: us-east-1
  async-pipelines:alarmEmail: ops@example.com            # optional
  async-pipelines:pipelines:
    orders:
      pattern: fanout
      enabled: true                                      # default true; false = no resources at all
      subscribers:
        billing:   {handler: "handlers.orders:bill", filter: {type: [order_created]}}
        email:     {handler: "handlers.notify:send", maxReceiveCount: 5}
        analytics: {handler: "handlers.analytics:record", maxReceiveCount: 2, batchSize: 100, batchWindow: 10}
    media:
      pattern: chain
      stages:
        - {name: download,  handler: "handlers.media:download", timeout: 120}
        - {name: thumbnail, handler: "handlers.media:thumbnail"}
    email:
      pattern: retry
      handler: "handlers.notify:send"
      retries: [{delay: 30}, {delay: 300}]
"""
"""The example of design.md §3, verbatim."""


def stack_config_block(text: str) -> tuple[dict[str, Any], str | None]:
    """A stack file's `config:` block as __main__ sees it: namespace keys without prefix, aws:region apart.

    Pulumi hands every value over as a string (objects as JSON) and __main__ `json.loads` it back, so
    the values take the same round trip here.
    """
    block = yaml.safe_load(text)["config"]
    region = block.pop("aws:region", None)
    raw: dict[str, Any] = {}
    for key, value in block.items():
        namespace, _, name = key.partition(":")
        assert namespace == d.PROJECT, f"unexpected config namespace in {key!r}"
        text_value = value if isinstance(value, str) else json.dumps(value)
        try:
            raw[name] = json.loads(text_value)
        except ValueError:
            raw[name] = text_value
    return raw, region


def consumer(name: str, handler: str, **settings: Any) -> ConsumerSettings:
    settings.setdefault("visibility_timeout", 6 * settings.get("timeout", 30) + settings.get("batch_window", 0))
    return ConsumerSettings(name=name, handler=handler, **settings)


def test_design_example_parses_into_typed_pipelines() -> None:
    raw, region = stack_config_block(DESIGN_EXAMPLE)
    config = parse_stack_config(raw, stack="dev", region=region)
    assert (config.stack, config.region, config.alarm_email) == ("dev", "us-east-1", "ops@example.com")
    assert [p.name for p in config.pipelines] == ["orders", "media", "email"]
    assert config.enabled_pipelines == config.pipelines
    orders, media, email = config.pipelines
    assert orders == FanOutPipeline(
        name="orders",
        subscribers=(
            Subscriber(consumer("billing", "handlers.orders:bill"), filter_policy={"type": ["order_created"]}),
            Subscriber(consumer("email", "handlers.notify:send", max_receive_count=5)),
            Subscriber(
                consumer("analytics", "handlers.analytics:record", max_receive_count=2, batch_size=100, batch_window=10)
            ),
        ),
    )
    assert orders.subscribers[2].consumer.visibility_timeout == 190
    assert media == ChainPipeline(
        name="media",
        stages=(
            consumer("download", "handlers.media:download", timeout=120),
            consumer("thumbnail", "handlers.media:thumbnail"),
        ),
    )
    assert media.stages[0].visibility_timeout == 720
    assert email == RetryPipeline(name="email", consumer=consumer("consumer", "handlers.notify:send"), delays=(30, 300))
    assert [p.pattern for p in config.pipelines] == ["fanout", "chain", "retry"]


def test_fanout_fifo_pipeline_parses() -> None:
    (pipeline,) = parse(subscriber_config({"batchSize": 5}, fifo=True)).pipelines
    assert pipeline == FanOutPipeline(
        name="orders",
        fifo=True,
        subscribers=(Subscriber(consumer("billing", "handlers.orders:bill", batch_size=5, fifo=True)),),
    )


def test_disabled_pipeline_kept_but_not_enabled() -> None:
    raw, region = stack_config_block(DESIGN_EXAMPLE)
    raw["pipelines"]["media"]["enabled"] = False
    config = parse_stack_config(raw, stack="dev", region=region)
    assert [p.name for p in config.pipelines] == ["orders", "media", "email"]
    assert [p.name for p in config.enabled_pipelines] == ["orders", "email"]
    media = config.pipelines[1]
    assert isinstance(media, ChainPipeline)
    assert media.enabled is False
    assert [s.name for s in media.stages] == ["download", "thumbnail"]


def test_all_pipelines_disabled() -> None:
    config = parse(retry_config({}, enabled=False))
    assert len(config.pipelines) == 1
    assert config.enabled_pipelines == ()


# --- the stack files --------------------------------------------------------------------------------


def test_dev_stack_file_parses(real_handlers: Path) -> None:
    raw, region = stack_config_block((TEST_STACKS_DIR / "Pulumi.dev.yaml").read_text())
    config = parse_stack_config(raw, stack="dev", region=region)
    assert (config.region, config.log_retention_days, config.alarm_email) == ("us-east-1", 7, None)
    assert (config.alarms.oldest_message_age, config.alarms.queue_depth) == (300, 100)
    assert [(p.name, p.pattern) for p in config.enabled_pipelines] == [
        ("orders", "fanout"),
        ("media", "chain"),
        ("email", "retry"),
    ]
    orders, media, email = config.pipelines
    assert isinstance(orders, FanOutPipeline)
    assert isinstance(media, ChainPipeline)
    assert isinstance(email, RetryPipeline)
    assert [s.consumer.name for s in orders.subscribers] == ["billing", "email", "analytics"]
    assert [s.name for s in media.stages] == ["download", "thumbnail", "publish"]
    assert media.stages[2].results is True
    assert email.delays == (30, 300)


def test_prod_stack_file_parses(real_handlers: Path) -> None:
    raw, region = stack_config_block((TEST_STACKS_DIR / "Pulumi.prod.yaml").read_text())
    config = parse_stack_config(raw, stack="prod", region=region)
    assert (config.region, config.architecture, config.alarm_email) == ("eu-west-1", "arm64", "oncall@example.com")
    assert (config.log_retention_days, config.alarms.oldest_message_age, config.alarms.queue_depth) == (90, 900, 5000)
    assert [p.name for p in config.pipelines] == ["orders", "media", "email", "ledger"]
    assert [p.name for p in config.enabled_pipelines] == ["orders", "email", "ledger"]
    orders, _, email, ledger = config.pipelines
    assert isinstance(orders, FanOutPipeline)
    billing, _, analytics = orders.subscribers
    assert (billing.consumer.idempotency, billing.consumer.idempotency_key) == (True, "order_id")
    assert (billing.consumer.memory, billing.consumer.max_concurrency) == (512, 50)
    assert billing.filter_policy == {"type": ["order_created", "order_amended"]}
    assert (analytics.consumer.idempotency, analytics.consumer.batch_size) == (False, 500)
    assert isinstance(email, RetryPipeline)
    assert email.delays == (60, 300, 900)
    assert isinstance(ledger, RetryPipeline)
    assert ledger.consumer.fifo is True
    assert ledger.consumer.results is True
    assert ledger.delays == (60, 600)


@pytest.mark.parametrize("build", [subscriber_config, stage_config, retry_config], ids=["fanout", "chain", "retry"])
def test_large_messages_is_a_pipeline_switch_off_by_default(build: Callable[..., dict[str, Any]]) -> None:
    assert parse(build({})).pipelines[0].large_messages is False
    assert parse(build({}, largeMessages=True)).pipelines[0].large_messages is True
