"""Messages (samples, cycling, poison), the `plan` hand-off, and a run against a moto server endpoint."""

from __future__ import annotations

import json
import logging
import random
import socket
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from sandbox.__main__ import main
from sandbox.engine import RunOptions, SandboxError, run
from sandbox.messages import SAMPLES_DIR, build, load_samples, message_attributes
from tests.sandbox.conftest import ORDER, message, run_stack, stack


def test_samples_exist_for_every_dev_and_prod_pipeline_and_include_bad_ones() -> None:
    specs = load_samples(["orders", "media", "email", "ledger"])
    by_pipeline = {p: [s for s in specs if s.pipeline == p] for p in ("orders", "media", "email", "ledger")}
    assert all(len(v) >= 4 for v in by_pipeline.values())
    raw_bodies = [s for s in specs if isinstance(s.body, str)]
    assert {s.pipeline for s in raw_bodies} >= {"orders", "media", "email"}  # malformed samples
    assert all(s.group for s in by_pipeline["ledger"])  # FIFO groups
    assert sorted(p.stem for p in SAMPLES_DIR.glob("*.jsonl")) == ["email", "ledger", "media", "orders"]


def test_count_cycles_the_samples_with_unique_ids_and_poisons_at_the_given_rate() -> None:
    specs = load_samples(["orders"])
    messages = build(specs, run_id="r", count=400, poison_rate=0.1, rng=random.Random(1))
    assert len(messages) == 400 and len({m.logical_id for m in messages}) == 400
    ids = [json.loads(m.body)["id"] for m in messages if not m.poison and m.body.startswith("{") and m.where[-1] != "6"]
    assert len(ids) == len(set(ids))  # business ids made unique too
    poisoned = [m for m in messages if m.poison]
    assert 20 <= len(poisoned) <= 60
    for m in poisoned:
        with pytest.raises(json.JSONDecodeError):
            json.loads(m.body)


def test_attributes_become_sns_or_sqs_message_attributes() -> None:
    (m,) = build([message("orders", ORDER, {"type": "order_created", "n": 2, "tags": ["a", "b"]})], run_id="r")
    sns = message_attributes(m, sns=True)
    assert sns["type"] == {"DataType": "String", "StringValue": "order_created"}
    assert sns["n"] == {"DataType": "Number", "StringValue": "2"}
    assert sns["tags"] == {"DataType": "String.Array", "StringValue": '["a", "b"]'}
    assert sns["ap-message-id"]["StringValue"] == m.logical_id
    assert message_attributes(m, sns=False)["tags"]["DataType"] == "String"  # SQS has no String.Array


def test_a_stack_without_samples_needs_a_messages_file() -> None:
    s = stack({"zz": {"pattern": "chain", "stages": [{"name": "a", "handler": "handlers.analytics:record"}]}})
    with pytest.raises(SandboxError, match=r"no built-in samples for the pipelines of stack 'sbx' \(zz\)"):
        run(RunOptions(stack="sbx", capture=s.capture, config=s.config))


def test_plan_subcommand_is_handed_to_sandbox_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "dev", "--format", "text"]) == 0
    assert capsys.readouterr().out.startswith("stack dev")


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_run_against_an_endpoint_uses_real_time_and_accounts_for_everything(moto_server: str) -> None:
    s = stack(
        {
            "shop": {
                "pattern": "fanout",
                "subscribers": {
                    "billing": {"handler": "handlers.orders:bill", "filter": {"type": ["order_created"]}},
                    "audit": {"handler": "handlers.analytics:record"},
                },
            },
            "media": {"pattern": "chain", "stages": [{"name": "download", "handler": "handlers.media:download"}]},
        },
        name="ep",
    )
    messages = [
        message("shop", ORDER, {"type": "order_created"}),
        message("shop", {"type": "order_shipped", "id": "o-1"}, {"type": "order_shipped"}),
        message("shop", {**ORDER, "currency": "XYZ"}, {"type": "order_created"}),
        message("media", "not json"),
    ]
    for _ in range(2):  # a second run against the same emulator starts clean and gets fresh ids
        result = run_stack(s, messages, endpoint_url=moto_server)
        report = result.report
        assert report["mode"] == "endpoint" and report["clock"] == "real"
        assert report["ok"] and report["totals"]["lost"] == 0
        assert (report["totals"]["processed"], report["totals"]["dlq"], report["totals"]["filtered"]) == (4, 2, 1)
        assert report["virtual_seconds"] == pytest.approx(report["wall_seconds"], abs=5)
