"""Consumer under Pulumi mocks: wiring, least privilege, mappings, logs, idempotency table."""

from __future__ import annotations

import json

import pulumi

from components.consumer import Consumer, ConsumerArgs, RetryTierQueue
from components.queue import DeadLetteredQueue, DeadLetteredQueueArgs
from tests.infra.builders import ALARM_TOPIC, REGION, THRESHOLDS, consumer, stack_context, statements

WILDCARD_ACTIONS = {"*", "sqs:*", "sns:*", "dynamodb:*", "s3:*", "logs:*"}


def _wired(settings=None, *, next_stage: bool = False, delays: tuple[int, ...] = (), **stack_overrides):
    settings = settings or consumer()
    queues = DeadLetteredQueue(
        "q",
        DeadLetteredQueueArgs.for_consumer(
            "ap-test-q", settings, alarm_topic_arn=ALARM_TOPIC, alarms=THRESHOLDS, retry_delays=delays
        ),
    )
    nxt = None
    if next_stage:
        nxt = DeadLetteredQueue(
            "next",
            DeadLetteredQueueArgs.for_consumer(
                "ap-test-next", consumer(), alarm_topic_arn=ALARM_TOPIC, alarms=THRESHOLDS
            ),
        )
    tiers = [RetryTierQueue(queues.sources[f"retry-{i}"], d) for i, d in enumerate(delays, start=1)]
    c = Consumer(
        "c",
        ConsumerArgs(
            pipeline="orders",
            function_name="ap-test-orders-worker",
            settings=settings,
            sources=queues.sources,
            dlq=queues.dlq,
            next_queue=nxt.queue if nxt else None,
            retry_tiers=tiers,
            stack_context=stack_context(**stack_overrides),
        ),
    )
    return c, queues, nxt


@pulumi.runtime.test
def test_function_runs_the_generic_entry_point_with_its_wiring(mocks):
    layer = f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:30"
    c, queues, _ = _wired(consumer(timeout=45, memory=512), powertools_layer_arn=layer, architecture="arm64")

    def check(a: list) -> None:
        handler, runtime, timeout, memory, layers, archs, env, dlq_url, logging = a
        assert handler == "pipeline_runtime.entry.handler"
        assert runtime == "python3.13"
        assert (timeout, memory) == (45, 512)
        assert layers == [layer]
        assert archs == ["arm64"]
        v = env["variables"]
        assert v["AP_HANDLER"] == "handlers.orders:bill"
        assert v["AP_DLQ_URL"] == dlq_url
        assert v["AP_FIFO"] == "false"
        assert v["AP_IDEMPOTENCY_TABLE"] == "ap-test-orders-worker-idempotency"
        assert "AP_NEXT_QUEUE_URL" not in v and "AP_RETRY_TIERS" not in v
        assert logging["log_format"] == "JSON" and logging["log_group"] == "/aws/lambda/ap-test-orders-worker"

    f = c.function
    return pulumi.Output.all(
        f.handler,
        f.runtime,
        f.timeout,
        f.memory_size,
        f.layers,
        f.architectures,
        f.environment,
        queues.dlq.url,
        f.logging_config,
    ).apply(check)


@pulumi.runtime.test
def test_role_is_least_privilege_without_wildcards(mocks):
    c, queues, nxt = _wired(next_stage=True)
    policy = c.role_policy

    def check(a: list) -> None:
        doc, source_arn, dlq_arn, next_arn, table_arn = a
        stmts = {s["Sid"]: s for s in statements(doc)}
        assert json.loads(doc)["Version"] == "2012-10-17"
        assert stmts["ConsumeOwnQueues"]["Resource"] == [source_arn]
        assert set(stmts["ConsumeOwnQueues"]["Action"]) == {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
        }
        assert set(stmts["SendToDlqAndNextQueues"]["Resource"]) == {dlq_arn, next_arn}
        assert stmts["IdempotencyTable"]["Resource"] == table_arn
        assert "WriteResults" not in stmts
        for s in stmts.values():
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            assert not WILDCARD_ACTIONS & set(actions), s
            assert "*" not in resources, s

    assert nxt is not None and c.table is not None
    return pulumi.Output.all(policy.policy, queues.queue.arn, queues.dlq.arn, nxt.queue.arn, c.table.arn).apply(check)


@pulumi.runtime.test
def test_mapping_reports_batch_item_failures_with_configured_batching(mocks):
    c, queues, _ = _wired(consumer(batch_size=100, batch_window=10, max_concurrency=5))
    (m,) = c.mappings

    def check(a: list) -> None:
        types, size, window, scaling, source, fn, queue_arn, fn_arn = a
        assert types == ["ReportBatchItemFailures"]
        assert (size, window) == (100, 10)
        assert scaling == {"maximum_concurrency": 5}
        assert (source, fn) == (queue_arn, fn_arn)

    return pulumi.Output.all(
        m.function_response_types,
        m.batch_size,
        m.maximum_batching_window_in_seconds,
        m.scaling_config,
        m.event_source_arn,
        m.function_name,
        queues.queue.arn,
        c.function.arn,
    ).apply(check)


@pulumi.runtime.test
def test_fifo_mapping_has_no_batching_window(mocks):
    c, _, _ = _wired(consumer(fifo=True))
    (m,) = c.mappings
    return pulumi.Output.all(m.maximum_batching_window_in_seconds, m.function_response_types).apply(
        lambda a: _check(a[0] is None and a[1] == ["ReportBatchItemFailures"])
    )


@pulumi.runtime.test
def test_retry_consumer_reads_every_tier_and_knows_their_order(mocks):
    c, queues, _ = _wired(delays=(30, 300))
    assert len(c.mappings) == 3
    fn = c.function

    def check(a: list) -> None:
        env, u1, u2, sources = a
        tiers = json.loads(env["variables"]["AP_RETRY_TIERS"])
        assert tiers == [{"url": u1, "delay": 30}, {"url": u2, "delay": 300}]
        assert len(set(sources)) == 3

    return pulumi.Output.all(
        fn.environment,
        queues.sources["retry-1"].url,
        queues.sources["retry-2"].url,
        pulumi.Output.all(*[m.event_source_arn for m in c.mappings]),
    ).apply(check)


@pulumi.runtime.test
def test_idempotency_table_keyed_by_id_with_ttl_and_optional(mocks):
    c, _, _ = _wired(consumer(idempotency_key="order_id"))
    assert c.table is not None
    t = c.table

    def check(a: list) -> None:
        hash_key, attrs, ttl, billing, env = a
        assert hash_key == "id"
        assert attrs == [{"name": "id", "type": "S"}]
        assert ttl == {"attribute_name": "expiration", "enabled": True}
        assert billing == "PAY_PER_REQUEST"
        assert env["variables"]["AP_IDEMPOTENCY_KEY"] == "order_id"

    return pulumi.Output.all(t.hash_key, t.attributes, t.ttl, t.billing_mode, c.function.environment).apply(check)


@pulumi.runtime.test
def test_idempotency_off_registers_no_table(mocks):
    c, _, _ = _wired(consumer(idempotency=False))
    assert c.table is None
    return c.function.environment.apply(lambda env: _check("AP_IDEMPOTENCY_TABLE" not in env["variables"]))


def _check(condition: bool) -> None:
    assert condition
