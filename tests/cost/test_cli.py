"""`python -m sandbox cost`: bad input is one line and exit 2; the JSON report; the pull-request diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.__main__ import main
from sandbox.cost.cli import CostInputError, durations_for
from sandbox.cost.model import Durations
from sandbox.cost.report import diff_markdown
from sandbox.messages import load_samples


def one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    try:
        code = main(["cost", *argv])
    except SystemExit as exited:  # argparse's own errors
        code = exited.code  # type: ignore[assignment]
    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--messages-per-month", "-5"], "must be a non-negative"),
        (["--volume", "orders=-1"], "must be a non-negative"),
        (["--volume", "orders"], "is not PIPELINE=MESSAGES"),
        (["--volume", "orders=lots"], "'lots' is not a number"),
        (["--volume", "nope=5"], "no pipeline 'nope' in stack 'dev' (pipelines: orders, media, email)"),
        (["--stack", "prod", "--volume", "media=5"], "pipeline 'media' is disabled in stack 'prod'"),
        (["--stack", "nope"], "unknown stack 'nope'"),
        (["--duration-ms", "0"], "must be positive"),
        (["--fifo-groups", "0"], "must be a whole number"),
    ],
)
def test_bad_input(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    assert expected in one_line_error(capsys, *argv)


def test_diff_of_unreadable_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    head = tmp_path / "head.json"
    head.write_text(json.dumps(report(1.0, orders=1.0)))
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"monthly_usd": 1.0}))
    assert "not readable JSON" in one_line_error(capsys, "--diff", str(bad), str(head))
    assert "not a cost report" in one_line_error(capsys, "--diff", str(partial), str(head))
    assert "does not exist" in one_line_error(capsys, "--diff", str(head), str(tmp_path / "missing.json"))


def report(total: float, **pipelines: float) -> dict[str, object]:
    return {
        "stack": "dev", "volumes": {p: 5e6 for p in pipelines}, "approximate": False, "monthly_usd": total,
        "by_pipeline": {p: {"usd": v} for p, v in pipelines.items()},
        "drivers": [{"service": "DynamoDB", "pipeline": "orders", "consumer": "email", "usd": 9.38,
                     "change": "`idempotency: false` on orders.email", "saves_usd": 9.38}],
        "capacity": [{"pipeline": "orders", "consumer": "email", "warnings": ["FIFO with 1 message group(s)"]}],
    }


def test_diff_markdown() -> None:
    text = diff_markdown(report(10.0, orders=6.0, media=4.0), report(12.5, orders=8.5, email=4.0))
    assert "| orders | $6.00 | $8.50 | +$2.50 |" in text
    assert "| email | — | $4.00 | +$4.00 |" in text
    assert "| media | $4.00 | — | -$4.00 |" in text
    assert "| **total** | $10.00 | **$12.50** | +$2.50 |" in text
    assert "`idempotency: false` on orders.email saves $9.38" in text
    assert "FIFO with 1 message group(s)" in text
    new = diff_markdown(None, report(3.0, orders=3.0))
    assert "| orders | — | $3.00 | new |" in new and "No cost report on the base branch" in new


def test_cost_of_the_dev_stack(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_json = tmp_path / "dev.json"
    code = main(["cost", "--stack", "dev", "--messages-per-month", "5000000", "--volume", "media=200000",
                 "--json", str(out_json)])
    assert code == 0
    out = capsys.readouterr().out
    assert "Monthly cost of stack dev" in out and "Top cost drivers" in out and "Capacity" in out
    data = json.loads(out_json.read_text())
    for key in ("monthly_usd", "fixed_usd", "by_service", "by_pipeline", "assumptions", "drivers", "capacity"):
        assert key in data
    assert data["volumes"] == {"orders": 5e6, "media": 2e5, "email": 5e6}
    assert data["monthly_usd"] == pytest.approx(sum(line["usd"] for line in data["lines"]))
    assert data["monthly_usd"] == pytest.approx(sum(p["usd"] for p in data["by_pipeline"].values()))
    assert data["fixed_usd"] > 0 and set(data["by_pipeline"]) == {"orders", "media", "email", "(stack)"}
    assert len(data["drivers"]) == 3
    # the diff command reads it back
    assert main(["cost", "--diff", str(tmp_path / "none.json"), str(out_json)]) == 0
    assert "#### Cost of stack `dev`" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--duration-ms", "media=5"], "'media=5' is not MS or PIPELINE.CONSUMER=MS"),
        (["--duration-ms", "media.download=fast"], "'fast' is not a number"),
        (["--account-concurrency", "0"], "must be a whole number"),
    ],
)
def test_bad_duration_or_account_concurrency(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert expected in one_line_error(capsys, *argv)


def test_duration_for_an_unknown_consumer_names_the_consumers() -> None:
    with pytest.raises(CostInputError) as info:
        durations_for("dev", [("media", "download"), ("email", "consumer")], [("media.resize", 800.0)])
    assert str(info.value) == (
        "--duration-ms media.resize=800: no consumer 'media.resize' in stack 'dev' "
        "(consumers: media.download, email.consumer)"
    )


def test_durations_per_consumer_and_for_the_rest() -> None:
    durations = durations_for("dev", [("media", "download"), ("email", "consumer")],
                              [("media.download", 800.0), (None, 100.0)])
    assert durations == Durations(100.0, {("media", "download"): 800.0})
    assert (durations.of(("media", "download")), durations.of(("email", "consumer"))) == (800.0, 100.0)


NEW_PIPELINES = """\
config:
  aws:region: us-east-1
  async-pipelines:pipelines:
    email:
      pattern: retry
      handler: handlers.notify:send
      retries: [{delay: 30}]
    audit:
      pattern: fanout
      subscribers:
        archive: {handler: handlers.analytics:record, filter: {type: [order_created]}}
        scan: {handler: handlers.analytics:record, filter: {kind: [{prefix: "doc-"}]}}
    resize:
      pattern: chain
      stages:
        - {name: fetch, handler: handlers.media:download}
        - {name: shrink, handler: handlers.media:thumbnail}
"""


def test_pipelines_without_samples_are_measured_with_smoke_probes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Pipelines a user adds have no samples: `sandbox cost` measures them with probes and says so."""
    (tmp_path / "Pulumi.new.yaml").write_text(NEW_PIPELINES)
    out_json = tmp_path / "new.json"
    code = main(["cost", "--stack", "new", "--project-dir", str(tmp_path), "--json", str(out_json),
                 "--duration-ms", "resize.fetch=800", "--duration-ms", "100"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "measured with smoke probes (no sample messages): audit, resize" in out
    data = json.loads(out_json.read_text())
    assert data["measured"]["probed"] == ["audit", "resize"]
    samples = len(load_samples(["email"]))
    assert data["measured"]["published"] == {"email": samples, "audit": 2, "resize": 1}  # a probe per filter
    assert any(a.startswith("Measured with smoke probes (no sample messages): audit, resize") for a in
               data["assumptions"])
    usage = {(line["pipeline"], line["consumer"]) for line in data["lines"] if not line["fixed"] and line["usd"] > 0}
    assert {("audit", "archive"), ("audit", "scan"), ("resize", "fetch"), ("resize", "shrink")} <= usage
    assert data["rates"]["resize.fetch"]["ms_per_invocation"] == 800
    assert data["rates"]["resize.shrink"]["ms_per_invocation"] == 100
    assert data["duration_ms"] == {"resize.fetch": 800, "*": 100}
    assert data["account_concurrency"]["limit"] == 1000 and data["account_concurrency"]["consumers"] == 5


def test_messages_file_adds_to_the_samples(tmp_path: Path) -> None:
    from sandbox.cost.workload import workload
    from sandbox.topology import topology_from_capture
    from stack_capture import cached_capture

    capture = cached_capture("dev")
    topology = topology_from_capture(capture)
    extra = tmp_path / "extra.jsonl"
    extra.write_text("".join(
        json.dumps({"pipeline": "email", "body": {"to": f"u{n}@example.com", "subject": "s", "text": "t"}}) + "\n"
        for n in range(3)
    ))
    samples = load_samples(topology.pipelines)
    work = workload(topology, capture.disabled_pipelines, extra)
    assert work.messages[: len(samples)] == samples
    assert [m.pipeline for m in work.messages[len(samples):]] == ["email"] * 3
    assert work.probed == ()
