"""Every pattern component has the same shape: `.queues` and `.consumers`, dicts keyed by consumer name."""

from __future__ import annotations

import pulumi

from components.chain import Chain, ChainArgs
from components.config import ChainPipeline, FanOutPipeline, RetryPipeline, Subscriber
from components.consumer import Consumer
from components.fanout import FanOut, FanOutArgs
from components.queue import DeadLetteredQueue
from components.retry import DelayedRetry, DelayedRetryArgs
from tests.infra.builders import THRESHOLDS, consumer, stack_context


@pulumi.runtime.test
def test_fanout_chain_and_retry_expose_queues_and_consumers_the_same_way(mocks):
    context = stack_context()
    fan = FanOut(
        "orders",
        FanOutArgs(
            FanOutPipeline("orders", (Subscriber(consumer("billing")), Subscriber(consumer("email")))),
            "ap-test",
            context,
            THRESHOLDS,
        ),
    )
    stages = ChainPipeline("media", (consumer("download"), consumer("thumbnail")))
    chain = Chain("media", ChainArgs(stages, "ap-test", context, THRESHOLDS))
    tiers = RetryPipeline("email", consumer("consumer"), (30, 300))
    retry = DelayedRetry("email", DelayedRetryArgs(tiers, "ap-test", context, THRESHOLDS))
    expected: dict[FanOut | Chain | DelayedRetry, list[str]] = {
        fan: ["billing", "email"],
        chain: ["download", "thumbnail"],
        retry: ["consumer"],
    }
    for component, names in expected.items():
        assert list(component.queues) == names, type(component).__name__
        assert list(component.consumers) == names, type(component).__name__
        assert all(isinstance(q, DeadLetteredQueue) for q in component.queues.values())
        assert all(isinstance(c, Consumer) for c in component.consumers.values())
    (tiered,) = retry.queues.values()
    assert list(tiered.sources) == ["main", "retry-1", "retry-2"]
    return pulumi.Output.all(*[q.queue.url for c in expected for q in c.queues.values()]).apply(
        lambda urls: _check(len(set(urls)) == 5)
    )


def _check(condition: bool) -> None:
    assert condition
