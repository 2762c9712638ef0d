"""The example business functions: validation -> PermanentError, simulate -> transient paths."""

from __future__ import annotations

import copy

import pytest

from handlers import analytics, compute, media, notify, orders
from handlers.common import simulate
from pipeline_runtime import PermanentError, TransientError
from pipeline_runtime.delivery import Delivery, _current


def _with(message, **changes):
    result = copy.deepcopy(message)
    result.update(changes)
    return result


class TestOrders:
    def test_bills_a_valid_order(self):
        assert orders.bill(orders.SAMPLE_ORDER) == {
            "invoice_id": "inv-o-1001",
            "order_id": "o-1001",
            "customer_id": "c-42",
            "currency": "EUR",
            "total": "26.99",
            "lines": 2,
        }

    def test_zero_decimal_currency_rounds_to_whole_units(self):
        order = _with(orders.SAMPLE_ORDER, currency="JPY", items=[{"amount": "100.5", "quantity": 3}])
        assert orders.bill(order)["total"] == "302"

    @pytest.mark.parametrize(
        ("changes", "problem"),
        [
            ({"id": ""}, "'id' is required"),
            ({"id": "a b"}, "'id' must match"),
            ({"customer": "c-42"}, "'customer' is required"),
            ({"customer": {"email": "x@y.z"}}, "'id' is required"),
            ({"currency": "XYZ"}, "unknown currency 'XYZ'"),
            ({"items": []}, "non-empty list"),
            ({"items": [{"amount": 0}]}, "must be positive"),
            ({"items": [{"amount": -3}]}, "must be positive"),
            ({"items": [{"amount": "abc"}]}, "is not a number"),
            ({"items": [{"amount": True}]}, "must be a number"),
            ({"items": [{"amount": 1, "quantity": 0}]}, "quantity must be a positive integer"),
            ({"items": ["x"]}, r"items\[0\] must be an object"),
        ],
    )
    def test_bad_orders_are_permanent(self, changes, problem):
        with pytest.raises(PermanentError, match=problem):
            orders.bill(_with(orders.SAMPLE_ORDER, **changes))

    def test_gateway_timeout_is_transient_but_validation_comes_first(self):
        with pytest.raises(TransientError, match="payment gateway timed out"):
            orders.bill(_with(orders.SAMPLE_ORDER, simulate="timeout"))
        with pytest.raises(PermanentError):
            orders.bill(_with(orders.SAMPLE_ORDER, simulate="timeout", currency="XYZ"))


class TestNotify:
    def test_sends_an_explicit_email_deterministically(self):
        first = notify.send(notify.SAMPLE_EMAIL)
        assert first == notify.send(copy.deepcopy(notify.SAMPLE_EMAIL))
        assert first["to"] == "ana@example.com" and first["status"] == "sent"
        assert first["email_id"].startswith("email-") and len(first["email_id"]) == 22

    def test_derives_recipient_and_subject_from_an_order_event(self):
        receipt = notify.send(orders.SAMPLE_ORDER)
        assert (receipt["to"], receipt["subject"]) == ("ana@example.com", "order created o-1001")

    @pytest.mark.parametrize(
        ("message", "problem"),
        [
            ({"to": "not-an-email", "subject": "s"}, "no valid recipient"),
            ({"subject": "s"}, "no valid recipient"),
            ({"to": "a@b.co"}, "'subject' is required"),
            ({"to": "a@b.co", "subject": "x" * 201}, "longer than 200"),
            ({"to": "a@b.co", "subject": "s", "text": 5}, "'text' must be a string"),
        ],
    )
    def test_invalid_messages_are_permanent(self, message, problem):
        with pytest.raises(PermanentError, match=problem):
            notify.send(message)

    def test_throttle_is_transient(self):
        with pytest.raises(TransientError, match="429"):
            notify.send(_with(notify.SAMPLE_EMAIL, simulate="throttle"))


class TestAnalytics:
    def test_records_a_metric_with_scalar_dimensions(self):
        point = analytics.record({"type": "order_created", "id": "o-1", "nested": {"x": 1}, "simulate": {}})
        assert point == {"metric": "events.order_created", "value": 1, "dimensions": {"id": "o-1"}}

    def test_type_is_required(self):
        with pytest.raises(PermanentError, match="'type' is required"):
            analytics.record({"id": "o-1"})


class TestMedia:
    def test_download_thumbnail_chain_is_deterministic(self):
        downloaded = media.download(media.SAMPLE_MEDIA)
        assert downloaded == media.download(media.SAMPLE_MEDIA)
        assert downloaded["content_type"] == "image/jpeg"
        assert downloaded["media_id"].startswith("m-")
        thumb = media.thumbnail(downloaded)
        expected_height = max(1, round(downloaded["height"] * 128 / downloaded["width"]))
        assert thumb["thumbnail"] == {"width": 128, "height": expected_height, "format": "image/webp"}
        assert thumb["media_id"] == downloaded["media_id"]

    @pytest.mark.parametrize(
        ("function", "message", "problem"),
        [
            (media.download, {"url": "ftp://x/y.jpg"}, "http"),
            (media.download, {"url": "https://x/y.exe"}, "unsupported media type 'exe'"),
            (media.download, {"url": "https://x/folder.d/file"}, "unsupported media type '\\(none\\)'"),
            (media.thumbnail, {"media_id": "m-1", "content_type": "application/pdf"}, "cannot make a thumbnail"),
            (media.thumbnail, {"media_id": "m-1", "content_type": "image/png", "width": 0, "height": 5}, "positive"),
            (media.publish, {"media_id": "m-1"}, "'thumbnail' is required"),
        ],
    )
    def test_invalid_input_is_permanent(self, function, message, problem):
        with pytest.raises(PermanentError, match=problem):
            function(message)

    def test_simulate_can_target_a_later_stage(self):
        message = {"url": "https://cdn.example.com/a.png", "simulate": {"thumbnail": "crash"}}
        downloaded = media.download(message)  # not targeted: succeeds and carries the field on
        assert downloaded["simulate"] == {"thumbnail": "crash"}
        with pytest.raises(RuntimeError, match="simulated crash in thumbnail"):
            media.thumbnail(downloaded)


class TestCompute:
    def test_summary_statistics(self):
        assert compute.summarize([2, 4, 4, 4, 5, 5, 7, 9]) == {
            "count": 8,
            "sum": 40.0,
            "mean": 5.0,
            "median": 4.5,
            "min": 2.0,
            "max": 9.0,
            "stdev": 2.0,
            "p90": 9.0,
        }

    @pytest.mark.parametrize(
        ("message", "problem"),
        [
            ({"values": [1]}, "'id' is required"),
            ({"id": "j", "values": "1,2"}, "non-empty list"),
            ({"id": "j", "values": [1, "2"]}, r"values\[1\] must be a finite number"),
            ({"id": "j", "values": [1, True]}, r"values\[1\]"),
            ({"id": "j", "values": [1], "precision": 13}, "'precision'"),
        ],
    )
    def test_invalid_jobs_are_permanent(self, message, problem):
        with pytest.raises(PermanentError, match=problem):
            compute.transform(message)


class TestSimulate:
    @pytest.mark.parametrize(
        ("value", "error"),
        [("timeout", TransientError), ("throttle", TransientError), ("crash", RuntimeError), ("typo", PermanentError)],
    )
    def test_values(self, value, error):
        with pytest.raises(error):
            simulate({"simulate": value}, "f", timeout="t", throttle="th")

    def test_absent_or_aimed_elsewhere_does_nothing(self):
        simulate({}, "f", timeout="t", throttle="th")
        simulate({"simulate": {"other": "crash"}}, "f", timeout="t", throttle="th")

    def test_simulate_failures_counts_tries_across_redeliveries_and_tiers(self):
        message = {"simulate": "timeout", "simulate_failures": 2}

        def at(attempt, receive_count):
            delivery = Delivery(
                message_id="id",
                key="k",
                logical_id="k",
                attempt=attempt,
                receive_count=receive_count,
                group_id=None,
                source_arn="arn",
                redrive=False,
            )
            token = _current.set(delivery)
            try:
                simulate(message, "f", timeout="t", throttle="th")
            finally:
                _current.reset(token)

        with pytest.raises(TransientError):
            at(0, 1)  # first delivery
        with pytest.raises(TransientError):
            at(1, 1)  # first delivery on retry tier 1
        at(1, 2)  # third try: succeeds
        at(0, 3)  # third receive of a plain consumer: succeeds

    def test_bad_simulate_failures_is_permanent(self):
        with pytest.raises(PermanentError, match="simulate_failures"):
            simulate({"simulate": "crash", "simulate_failures": -1}, "f", timeout="t", throttle="th")
