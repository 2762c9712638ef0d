"""`python -m ops.dlq`: list, redrive, purge against moto, and one-line errors with exit status 2."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ops.dlq
from stack_capture import PROJECT_DIR

from .conftest import MoveTasks, Result, create_queues, dead_letter, drain, no_aws_credentials, url, visible

Cli = Callable[..., Result]

BILLING_DLQ, BILLING = "ap-dev-orders-billing-dlq", "ap-dev-orders-billing"
LEDGER_DLQ, LEDGER = "ap-prod-ledger-dlq.fifo", "ap-prod-ledger.fifo"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def one_line_error(result: Result) -> str:
    assert result.code == 2, result
    assert result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("error: "), result.err
    return result.err.strip()


# --- list ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_list_shows_counts_of_every_dlq(cli: Cli) -> None:
    sqs = create_queues("dev")
    for body in ["b1", "b2", "b3"]:
        dead_letter(sqs, BILLING_DLQ, body)
    dead_letter(sqs, "ap-dev-email-dlq", "e1", kind="retries-exhausted")
    result = cli("list", "--stack", "dev")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "stack dev (us-east-1): 7 DLQs"
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:-1]}
    assert rows["orders/billing"] == [BILLING_DLQ, "standard", "3", "0", BILLING]
    assert rows["email/dlq"] == ["ap-dev-email-dlq", "standard", "1", "0", "ap-dev-email"]
    assert rows["media/publish"][2] == "0"
    assert len(rows) == 7
    assert lines[-1] == "total: ~4 messages in 2 of 7 DLQs"


@pytest.mark.usefixtures("aws")
def test_peek_shows_messages_without_deleting_them(cli: Cli) -> None:
    sqs = create_queues("dev")
    ids = [dead_letter(sqs, BILLING_DLQ, f'{{"order": {i}}}', reason=f"reason {i}") for i in range(3)]
    result = cli("list", "--stack", "dev", "--pipeline", "orders", "--consumer", "billing", "--peek", "2")
    assert result.code == 0
    assert "orders/billing (ap-dev-orders-billing-dlq): 2 of ~3 (receive counts now +1)" in result.out
    shown = [i for i in ids if i in result.out]
    assert len(shown) == 2
    assert result.out.count("receives 1  kind permanent") == 2
    assert "reason: reason " in result.out and 'body:   {"order": ' in result.out
    assert visible(sqs, BILLING_DLQ) == 3  # nothing deleted, all visible again at once
    again = cli("list", "--stack", "dev", "--pipeline", "orders", "--consumer", "billing", "--peek", "3")
    assert all(i in again.out for i in ids)
    assert again.out.count("receives 2") == 2 and again.out.count("receives 1") == 1
    assert visible(sqs, BILLING_DLQ) == 3


def test_list_help_says_peeking_increments_the_receive_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        ops.dlq.main(["list", "--help"])
    assert exited.value.code == 0
    assert "every\npeek adds 1 to each peeked message's ApproximateReceiveCount" in capsys.readouterr().out


# --- redrive: standard (StartMessageMoveTask) -----------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_standard_redrive_starts_a_move_task_to_the_consumer_queue(cli: Cli, move_tasks: MoveTasks) -> None:
    sqs = create_queues("dev")
    dead_letter(sqs, BILLING_DLQ, "b1")
    result = cli("redrive", "--stack", "dev", "--pipeline", "orders", "--rate", "250", "--yes")
    assert result.code == 0, result
    assert move_tasks.started == [
        {
            "SourceArn": f"arn:aws:sqs:us-east-1:123456789012:{BILLING_DLQ}",
            "DestinationArn": f"arn:aws:sqs:us-east-1:123456789012:{BILLING}",
            "MaxNumberOfMessagesPerSecond": 250,
        }
    ]
    assert "orders/billing: started move task handle-1" in result.out
    assert (
        "orders/email: ap-dev-orders-email-dlq → ap-dev-orders-email: empty (approximate count 0), skipped"
        in result.out
    )


@pytest.mark.usefixtures("aws")
def test_retry_pipeline_redrives_to_the_main_queue_of_the_live_account(
    cli: Cli, move_tasks: MoveTasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")  # not the captured 123456789012
    sqs = create_queues("dev", redrive=False)
    dead_letter(sqs, "ap-dev-email-dlq", "e1", kind="retries-exhausted")
    result = cli("redrive", "--stack", "dev", "--pipeline", "email", "--yes")
    assert result.code == 0, result
    assert move_tasks.started == [
        {
            "SourceArn": "arn:aws:sqs:us-east-1:111122223333:ap-dev-email-dlq",
            "DestinationArn": "arn:aws:sqs:us-east-1:111122223333:ap-dev-email",
            "MaxNumberOfMessagesPerSecond": 100,
        }
    ]


@pytest.mark.usefixtures("aws")
def test_redrive_refuses_a_dlq_whose_move_task_is_running(cli: Cli, move_tasks: MoveTasks) -> None:
    sqs = create_queues("dev")
    dead_letter(sqs, BILLING_DLQ, "b1")
    dead_letter(sqs, "ap-dev-orders-email-dlq", "e1")
    move_tasks.running[f"arn:aws:sqs:us-east-1:123456789012:{BILLING_DLQ}"] = "busy-1"
    result = cli("redrive", "--stack", "dev", "--pipeline", "orders", "--yes")
    assert result.code == 1
    assert [s["SourceArn"].rsplit(":", 1)[1] for s in move_tasks.started] == ["ap-dev-orders-email-dlq"]
    assert (
        "orders/billing: ap-dev-orders-billing-dlq → ap-dev-orders-billing: refused: a move task is already RUNNING"
        in result.out
    )
    assert "(handle busy-1, 4 of ~9 moved)" in result.out
    assert "aws sqs cancel-message-move-task --task-handle busy-1" in result.out


@pytest.mark.usefixtures("aws")
def test_redrive_dry_run_starts_nothing(cli: Cli, move_tasks: MoveTasks) -> None:
    sqs = create_queues("dev")
    dead_letter(sqs, BILLING_DLQ, "b1")
    result = cli("redrive", "--stack", "dev", "--pipeline", "orders", "--consumer", "billing", "--dry-run")
    assert result.code == 0, result
    assert move_tasks.started == []
    assert (
        "would call StartMessageMoveTask(SourceArn=arn:aws:sqs:us-east-1:123456789012:ap-dev-orders-billing-dlq"
        in result.out
    )
    assert visible(sqs, BILLING_DLQ) == 1


@pytest.mark.usefixtures("aws")
def test_method_client_moves_a_standard_dlq_without_a_move_task(cli: Cli, move_tasks: MoveTasks) -> None:
    sqs = create_queues("dev")
    for body in ["b1", "b2"]:
        dead_letter(sqs, BILLING_DLQ, body)
    result = cli(
        "redrive", "--stack", "dev", "--pipeline", "orders", "--consumer", "billing", "--method", "client", "--yes"
    )
    assert result.code == 0, result
    assert move_tasks.started == [] and move_tasks.listed == []
    assert sorted(m["Body"] for m in drain(sqs, BILLING)) == ["b1", "b2"]
    assert visible(sqs, BILLING_DLQ) == 0


@pytest.mark.usefixtures("aws")
def test_auto_moves_client_side_where_the_endpoint_has_no_move_tasks(cli: Cli) -> None:
    """moto has no ListMessageMoveTasks: the answer, not the URL, tells `auto` to move client-side."""
    sqs = create_queues("dev")
    for body in ["b1", "b2"]:
        dead_letter(sqs, BILLING_DLQ, body)
    result = cli("redrive", "--stack", "dev", "--pipeline", "orders", "--consumer", "billing", "--yes")
    assert result.code == 0, result
    assert "this endpoint does not support message move tasks: moving client-side" in result.out
    assert "orders/billing: moved 2 messages to ap-dev-orders-billing\n  moved 2, failed 0, held 0\n" in result.out
    assert sorted(m["Body"] for m in drain(sqs, BILLING)) == ["b1", "b2"]


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_method_task_where_the_endpoint_has_no_move_tasks_is_one_line_exit_2(cli: Cli, dry_run: list[str]) -> None:
    sqs = create_queues("dev")
    dead_letter(sqs, BILLING_DLQ, "b1")
    result = cli("redrive", "--stack", "dev", "--pipeline", "orders", "--method", "task", "--yes", *dry_run)
    assert result.code == 2
    assert result.err == "error: this endpoint does not support message move tasks; use `--method client`\n"
    assert visible(sqs, BILLING_DLQ) == 1


def test_unsupported_is_told_from_the_answer_not_from_a_refusal() -> None:
    from botocore.exceptions import ClientError

    from ops.redrive import tasks_unsupported

    def answer(code: str, status: int, message: str = "") -> ClientError:
        response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(response, "ListMessageMoveTasks")

    assert tasks_unsupported(answer("500", 500, "<!doctype html><title>500 Internal Server Error</title>"))  # moto
    assert tasks_unsupported(answer("UnsupportedOperation", 400))
    assert tasks_unsupported(answer("404", 404))
    assert not tasks_unsupported(answer("AccessDenied", 403, "not authorized"))
    assert not tasks_unsupported(answer("InternalError", 500, "We encountered an internal error"))


# --- redrive: FIFO (client-side) ------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_fifo_redrive_moves_client_side_to_the_main_queue(cli: Cli, move_tasks: MoveTasks) -> None:
    sqs = create_queues("prod")
    for body, group in [("a1", "A"), ("b1", "B"), ("a2", "A")]:
        dead_letter(sqs, LEDGER_DLQ, body, group=group)
    result = cli("redrive", "--stack", "prod", "--pipeline", "ledger", "--yes")
    assert result.code == 0, result
    assert move_tasks.started == []
    assert "ledger/dlq: moved 3 messages to ap-prod-ledger.fifo" in result.out
    moved = drain(sqs, LEDGER)
    assert [(m["Attributes"]["MessageGroupId"], m["Body"]) for m in moved] == [("A", "a1"), ("B", "b1"), ("A", "a2")]
    assert visible(sqs, "ap-prod-ledger-retry-1.fifo") == 0
    assert visible(sqs, LEDGER_DLQ) == 0


@pytest.mark.usefixtures("aws")
def test_fifo_dry_run_lists_what_would_move(cli: Cli) -> None:
    sqs = create_queues("prod")
    ids = [dead_letter(sqs, LEDGER_DLQ, body, group="A") for body in ["a1", "a2"]]
    result = cli("redrive", "--stack", "prod", "--pipeline", "ledger", "--dry-run")
    assert result.code == 0, result
    assert "ledger/dlq: would move 2 messages" in result.out
    assert f"logical-a1  (sqs {ids[0]})  group A  kind permanent  dedup " in result.out
    assert visible(sqs, LEDGER_DLQ) == 2 and visible(sqs, LEDGER) == 0


# --- confirmation ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_without_yes_and_without_a_terminal_nothing_happens(
    cli: Cli, move_tasks: MoveTasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = create_queues("prod")
    dead_letter(sqs, LEDGER_DLQ, "a1", group="A")
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # piped input is not a confirmation
    result = cli("redrive", "--stack", "prod", "--pipeline", "ledger")
    assert result.code == 2
    assert result.err == "error: refusing to redrive without confirmation: stdin is not a terminal (pass --yes)\n"
    assert visible(sqs, LEDGER_DLQ) == 1 and visible(sqs, LEDGER) == 0


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("answer", "code", "left"), [("n\n", 1, 1), ("\n", 1, 1), ("yes\n", 0, 0)])
def test_the_prompt_decides(cli: Cli, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, left: int) -> None:
    sqs = create_queues("prod")
    dead_letter(sqs, LEDGER_DLQ, "a1", group="A")
    monkeypatch.setattr(sys, "stdin", FakeTty(answer))
    result = cli("redrive", "--stack", "prod", "--pipeline", "ledger")
    assert result.code == code
    assert "Redrive ~1 message from 1 DLQ? [y/N] " in result.out
    assert visible(sqs, LEDGER_DLQ) == left and visible(sqs, LEDGER) == 1 - left


# --- purge ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_purge_empties_the_dlqs_only(cli: Cli) -> None:
    sqs = create_queues("dev")
    dead_letter(sqs, BILLING_DLQ, "b1")
    dead_letter(sqs, "ap-dev-orders-email-dlq", "e1")
    sqs.send_message(QueueUrl=url(sqs, BILLING), MessageBody="live")
    dead_letter(sqs, "ap-dev-email-dlq", "other pipeline")
    result = cli("purge", "--stack", "dev", "--pipeline", "orders", "--yes")
    assert result.code == 0, result
    assert "orders/billing: ap-dev-orders-billing-dlq: purged" in result.out
    assert visible(sqs, BILLING_DLQ) == 0 and visible(sqs, "ap-dev-orders-email-dlq") == 0
    assert visible(sqs, BILLING) == 1 and visible(sqs, "ap-dev-email-dlq") == 1


@pytest.mark.usefixtures("aws")
def test_purge_asks_first(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    sqs = create_queues("dev")
    dead_letter(sqs, BILLING_DLQ, "b1")
    monkeypatch.setattr(sys, "stdin", FakeTty("n\n"))
    result = cli("purge", "--stack", "dev", "--pipeline", "orders", "--consumer", "billing")
    assert result.code == 1
    assert "Purge 1 DLQ (~1 message, deleted for good)? [y/N] aborted: nothing changed" in result.out
    assert visible(sqs, BILLING_DLQ) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert one_line_error(cli("purge", "--stack", "dev", "--pipeline", "orders")).startswith(
        "error: refusing to purge without confirmation"
    )
    assert visible(sqs, BILLING_DLQ) == 1


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["list", "--stack", "nope"],
            "error: unknown stack 'nope': no tests/stacks/Pulumi.nope.yaml (stacks: dev, prod)",
        ),
        (
            ["list", "--stack", "dev", "--pipeline", "x"],
            "error: unknown pipeline 'x' in stack 'dev' (pipelines: email, media, orders)",
        ),
        (
            ["redrive", "--stack", "prod", "--pipeline", "media"],
            "error: pipeline 'media' is disabled in stack 'prod' (enabled: false): it has no queues",
        ),
        (
            ["purge", "--stack", "dev", "--pipeline", "orders", "--consumer", "x"],
            "error: unknown consumer 'x' in pipeline 'orders' (DLQs: billing, email, analytics)",
        ),
        (["list", "--stack", "dev", "--consumer", "billing"], "error: --consumer needs --pipeline"),
        (
            ["redrive", "--stack", "dev", "--pipeline", "orders", "--rate", "0"],
            "error: python -m ops.dlq redrive: argument --rate: 0 is out of range; allowed 1–500",
        ),
        (
            ["redrive", "--stack", "dev", "--pipeline", "orders", "--rate", "501"],
            "error: python -m ops.dlq redrive: argument --rate: 501 is out of range; allowed 1–500",
        ),
        (
            ["list", "--stack", "dev", "--peek", "many"],
            "error: python -m ops.dlq list: argument --peek: 'many' is not an integer",
        ),
        (
            ["redrive", "--stack", "dev"],
            "error: python -m ops.dlq redrive: the following arguments are required: --pipeline",
        ),
        (["list"], "error: python -m ops.dlq list: the following arguments are required: --stack"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Cli, argv: list[str], message: str) -> None:
    assert one_line_error(cli(*argv)) == message


@pytest.mark.usefixtures("aws")
def test_unknown_command(cli: Cli) -> None:
    err = one_line_error(cli("drain", "--stack", "dev"))
    assert err.startswith("error: python -m ops.dlq: argument {list,redrive,purge}: invalid choice: 'drain'")


@pytest.mark.usefixtures("aws")
def test_a_queue_that_is_not_deployed(cli: Cli) -> None:
    err = one_line_error(cli("list", "--stack", "dev", "--pipeline", "orders"))
    assert err == "error: queue 'ap-dev-orders-billing-dlq' not found in us-east-1 (is the stack deployed there?)"


def test_no_credentials(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_aws_credentials(monkeypatch, tmp_path)
    err = one_line_error(cli("list", "--stack", "dev"))
    assert err.startswith("error: no AWS credentials found")


def test_unknown_profile(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_aws_credentials(monkeypatch, tmp_path)
    err = one_line_error(cli("list", "--stack", "dev", "--profile", "ghost"))
    assert err == "error: The config profile (ghost) could not be found"


def test_unreachable_endpoint(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_aws_credentials(monkeypatch, tmp_path)  # an emulator needs none: dummy ones are used
    err = one_line_error(cli("list", "--stack", "dev", "--endpoint-url", "http://127.0.0.1:9"))
    assert err.startswith('error: endpoint unreachable: Could not connect to the endpoint URL: "http://127.0.0.1:9/"')


def test_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ops.dlq", "list", "--stack", "nope"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "error: unknown stack 'nope': no tests/stacks/Pulumi.nope.yaml (stacks: dev, prod)\n"


# --- expected errors only ----------------------------------------------------------------------------


def test_a_refused_redrive_is_one_line_and_exit_2(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import ops.dlq
    import ops.redrive

    def refuse(args: object) -> int:
        raise ops.redrive.RedriveError("ap-a and ap-b.fifo are not the same queue type")

    monkeypatch.setitem(ops.dlq.COMMANDS, "list", refuse)
    assert one_line_error(cli("list", "--stack", "dev")) == "error: ap-a and ap-b.fifo are not the same queue type"


def test_a_bug_raising_value_error_is_not_dressed_up_as_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    import ops.dlq

    def buggy(args: object) -> int:
        return int("not a number")  # a programming error, not the user's input

    monkeypatch.setitem(ops.dlq.COMMANDS, "list", buggy)
    with pytest.raises(ValueError, match="invalid literal for int"):
        ops.dlq.main(["list", "--stack", "dev"])


@pytest.mark.usefixtures("aws")
def test_sigterm_mid_move_stops_after_the_round_releases_the_rest_and_exits_130(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = create_queues("prod")
    for n in range(4):
        dead_letter(sqs, LEDGER_DLQ, f"a{n}", group="A")
    real = ops.dlq.make_sqs_client

    def make(region: str, endpoint_url: str | None, profile: str | None) -> Any:
        client = real(region, endpoint_url, profile)
        send = client.send_message_batch

        def send_then_terminated(**kwargs: Any) -> Any:
            response = send(**kwargs)
            os.kill(os.getpid(), signal.SIGTERM)  # e.g. `kill <pid>` while the first round is in flight
            return response

        client.send_message_batch = send_then_terminated  # type: ignore[method-assign]
        return client

    monkeypatch.setattr(ops.dlq, "make_sqs_client", make)
    previous = signal.getsignal(signal.SIGTERM)
    result = cli("redrive", "--stack", "prod", "--pipeline", "ledger", "--yes")
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler is put back
    assert result.code == 130, result
    assert "ledger/dlq: moved 1 message so far (interrupted)\n  group A: moved 1, failed 0, held 0\n" in result.out
    assert result.err.startswith("interrupted: everything held was released")
    assert visible(sqs, LEDGER_DLQ) == 3  # a1..a3 visible again at once
    assert [m["Body"] for m in drain(sqs, LEDGER)] == ["a0"]
