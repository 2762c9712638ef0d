"""The HTTP ingress contract (docs/http.md) against a running `sandbox serve`, over a real socket.

Every status code: 202, 400 (not JSON, not an object, FIFO group missing, bad Idempotency-Key), 403
(apiKey, iam), 404 (pipeline, message), 413, 429; the idempotency key gives one business effect; where
a message is, per consumer, through fan-out, a FIFO pipeline, retry tiers and the DLQ.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from contract import runtime as attrs
from producer import Entry, Producer
from tests.serve.conftest import API_KEY, REGION, Client

ORDER = {"type": "order_created", "id": "o-1", "customer": {"id": "c-1", "email": "ana@example.com"},
         "currency": "EUR", "items": [{"sku": "book", "quantity": 1, "amount": 10}]}
MAIL = {"to": "ana@example.com", "subject": "Hi", "text": "Hello"}


def signed_headers(client: Client, pipeline: str, body: bytes, extra: dict[str, str]) -> dict[str, str]:
    """SigV4 for execute-api, as an IAM caller in AWS would sign (the local server checks its shape)."""
    request = AWSRequest("POST", f"{client.url}/pipelines/{pipeline}", data=body, headers=dict(extra))
    SigV4Auth(Credentials("testing", "testing"), "execute-api", REGION).add_auth(request)
    return dict(request.headers.items())


def test_post_returns_202_with_a_message_id_that_get_follows(server: Client) -> None:
    answer = server.post("email", MAIL)
    assert answer.status == 202
    message_id = answer.body["messageId"]
    assert set(answer.body) == {"messageId"} and uuid.UUID(message_id)
    found = server.settled(message_id)
    assert found["pipeline"] == "email"
    assert found["consumers"] == [{"consumer": "consumer", "state": "processed", "deliveries": 1, "effects": 1}]


def test_fan_out_follows_every_subscriber_with_filters(server: Client) -> None:
    shipped = {**ORDER, "type": "order_shipped"}
    answer = server.post("orders", shipped, {"x-api-key": API_KEY})
    assert answer.status == 202
    found = server.settled(answer.body["messageId"])
    states = {c["consumer"]: c["state"] for c in found["consumers"]}
    # no message attribute `type`, so billing's attribute filter keeps it out; email takes everything
    assert states == {"billing": "filtered", "email": "processed"}


def test_permanent_failure_shows_dlq_with_kind_and_reason(server: Client) -> None:
    answer = server.post("email", {"to": "not-an-address"})
    found = server.settled(answer.body["messageId"])
    (consumer,) = found["consumers"]
    assert consumer["state"] == "dlq"
    assert consumer["ap-error-kind"] == "permanent"
    assert "no valid recipient" in consumer["ap-error-reason"]
    assert consumer["queue"].endswith("-email-dlq")


def test_transient_failures_go_through_retry_tiers_to_the_dlq(server: Client) -> None:
    answer = server.post("email", {**MAIL, "simulate": "throttle"})
    found = server.settled(answer.body["messageId"])
    (consumer,) = found["consumers"]
    assert (consumer["state"], consumer["ap-error-kind"]) == ("dlq", "retries-exhausted")
    assert consumer["deliveries"] == 3  # main queue, tier 1, tier 2


def test_idempotency_key_is_the_message_id_and_gives_one_effect(server: Client) -> None:
    key = f"order-{uuid.uuid4().hex[:8]}"
    first = server.post("email", MAIL, {"Idempotency-Key": key})
    again = server.post("email", MAIL, {"Idempotency-Key": key})
    assert (first.status, again.status) == (202, 202)
    assert first.body == again.body == {"messageId": key}
    deadline = time.monotonic() + 30
    while True:  # settled at the first delivery; the second may be a moment behind
        (consumer,) = server.settled(key)["consumers"]
        if consumer["deliveries"] >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert consumer["state"] == "processed"
    assert consumer["deliveries"] == 2  # both POSTs reached the queue ...
    assert consumer["effects"] == 1  # ... and the runtime applied one


def test_without_a_key_every_post_is_a_new_message(server: Client) -> None:
    ids = {server.post("email", MAIL).body["messageId"] for _ in range(3)}
    assert len(ids) == 3


def test_not_json_is_400(server: Client) -> None:
    answer = server.post("email", b"{not json")
    assert answer.status == 400 and answer.body["message"].startswith("body is not JSON")


def test_not_an_object_is_400(server: Client) -> None:
    answer = server.post("email", [1, 2])
    assert answer.status == 400 and answer.body["message"] == "body must be a JSON object, got list"


def test_bad_idempotency_key_is_400(server: Client) -> None:
    answer = server.post("email", MAIL, {"Idempotency-Key": "x" * 129})
    assert answer.status == 400 and "Idempotency-Key" in answer.body["message"]


def test_over_max_body_bytes_is_413(server: Client) -> None:
    answer = server.post("email", {**MAIL, "text": "x" * 600})
    assert answer.status == 413
    assert answer.body["message"].endswith("accepts at most 512")


def test_unknown_pipeline_is_404(server: Client) -> None:
    answer = server.post("nope", MAIL)
    assert answer.status == 404 and "no pipeline 'nope'" in answer.body["message"]


def test_unknown_message_is_404(server: Client) -> None:
    assert server.request("GET", "/messages/never-sent").status == 404


def test_api_key_missing_or_wrong_is_403(server: Client) -> None:
    assert server.post("orders", ORDER).status == 403
    assert server.post("orders", ORDER, {"x-api-key": "wrong"}).status == 403
    assert server.post("orders", ORDER, {"x-api-key": API_KEY}).status == 202


def test_iam_needs_a_sigv4_signature(server: Client) -> None:
    body = json.dumps({"id": "job-1", "values": [1, 2]}).encode()
    group = {"X-Message-Group-Id": "acct-1", "Content-Type": "application/json"}
    unsigned = server.post("ledger", body, group)
    assert unsigned.status == 403 and "Missing Authentication Token" in unsigned.body["message"]
    signed = server.post("ledger", body, signed_headers(server, "ledger", body, group))
    assert signed.status == 202
    assert server.settled(signed.body["messageId"])["consumers"][0]["state"] == "processed"


def test_fifo_group_header_missing_is_400_naming_it(server: Client) -> None:
    body = json.dumps({"id": "job-2", "values": [1]}).encode()
    headers = {"Content-Type": "application/json"}
    answer = server.post("ledger", body, signed_headers(server, "ledger", body, headers))
    assert answer.status == 400
    assert answer.body["message"] == (
        "missing message group id: header X-Message-Group-Id is required on this FIFO pipeline"
    )


def test_fifo_group_from_the_body(server: Client) -> None:
    missing = server.post("accounts", {"id": "job-3", "values": [1]})
    assert missing.status == 400
    assert missing.body["message"] == "missing message group id: $.account.id is required in the body"
    ok = server.post("accounts", {"id": "job-4", "values": [1], "account": {"id": "a-1"}})
    assert ok.status == 202
    assert server.settled(ok.body["messageId"])["consumers"][0]["state"] == "processed"


def test_fifo_idempotency_key_deduplicates_at_the_entry(server: Client) -> None:
    key = f"job-{uuid.uuid4().hex[:8]}"
    body = {"id": key, "values": [1, 2], "account": {"id": "a-2"}}
    assert server.post("accounts", body, {"Idempotency-Key": key}).status == 202
    assert server.post("accounts", body, {"Idempotency-Key": key}).status == 202
    (consumer,) = server.settled(key)["consumers"]
    assert (consumer["state"], consumer["deliveries"], consumer["effects"]) == ("processed", 1, 1)


def test_over_the_throttle_is_429(server: Client) -> None:
    statuses = [server.post("limited", MAIL).status for _ in range(3)]
    assert statuses == [202, 202, 429]  # burst 2, then 0.001 tokens/s


def test_pipelines_without_http_are_served_too(server: Client) -> None:
    answer = server.post("media", {"id": "m-1", "url": "https://cdn.example.com/a.jpg"})
    assert answer.status == 202


def test_status_json_counts_queues_and_lists_messages(server: Client) -> None:
    sent = server.post("email", {"to": "bad"}).body["messageId"]
    server.settled(sent)
    status = server.request("GET", "/status.json").body
    queues = {q["name"]: q for q in status["queues"]}
    assert queues["ap-srv-email-dlq"]["visible"] >= 1
    assert status["messages"][0]["messageId"] == sent


def test_aws_port_serves_the_same_emulator(served: dict[str, str]) -> None:
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=served["aws"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    names = {url.rsplit("/", 1)[1] for url in sqs.list_queues(QueueNamePrefix="ap-srv-")["QueueUrls"]}
    assert {"ap-srv-email", "ap-srv-email-dlq", "ap-srv-ledger.fifo"} <= names


def test_a_message_sent_through_the_aws_port_can_be_followed(served: dict[str, str]) -> None:
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=served["aws"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    url = sqs.get_queue_url(QueueName="ap-srv-email")["QueueUrl"]
    key = f"sdk-{uuid.uuid4().hex[:8]}"
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(MAIL),
                     MessageAttributes={"ap-message-id": {"DataType": "String", "StringValue": key}})
    found = Client(served["url"]).settled(key)
    assert found["pipeline"] == "email" and found["consumers"][0]["state"] == "processed"


def aws_client(served: dict[str, str], service: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    return session.client(service, region_name=REGION, endpoint_url=served["aws"])  # type: ignore[call-overload]


def test_the_producer_s_id_through_the_aws_port_is_the_id_serve_follows(served: dict[str, str]) -> None:
    topic = next(t["TopicArn"] for t in aws_client(served, "sns").list_topics()["Topics"]
                 if t["TopicArn"].endswith(":ap-srv-orders"))
    producer = Producer([Entry("orders", topic)], clients={"sns": aws_client(served, "sns")}, region=REGION)
    shipped = producer.send("orders", {**ORDER, "type": "order_shipped"}, attributes={"type": "order_shipped"})
    assert uuid.UUID(shipped)  # the generated ap-message-id, not SNS's transport id
    server = Client(served["url"])
    found = server.settled(shipped)
    states = {c["consumer"]: c["state"] for c in found["consumers"]}
    assert (found["pipeline"], states) == ("orders", {"billing": "filtered", "email": "processed"})
    listed = server.request("GET", "/status.json").body["messages"]
    assert shipped in [m["messageId"] for m in listed]


def test_a_stage_after_a_dead_lettered_one_is_not_reached(server: Client) -> None:
    answer = server.post("media", {"id": "m-ftp", "url": "ftp://files.example.com/cat.jpg"})
    found = server.settled(answer.body["messageId"])
    states = [(c["consumer"], c["state"]) for c in found["consumers"]]
    assert states == [("download", "dlq"), ("thumbnail", "not_reached")]


def redrive_one(served: dict[str, str], dlq: str, source: str, message_id: str) -> None:
    """A client-side move of one message, as `ops.dlq redrive` does it: attributes kept, then deleted."""
    sqs = aws_client(served, "sqs")
    dlq_url, source_url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"], sqs.get_queue_url(QueueName=source)["QueueUrl"]
    for _ in range(20):
        for m in sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=5,
                                     MessageAttributeNames=["All"]).get("Messages", []):
            if m["MessageAttributes"][attrs.MESSAGE_ID]["StringValue"] == message_id:
                sqs.send_message(QueueUrl=source_url, MessageBody=m["Body"], MessageAttributes=m["MessageAttributes"])
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
                return
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    raise AssertionError(f"{message_id} is not in {dlq}")


def test_a_redriven_message_that_fails_again_is_in_the_dlq_again(served: dict[str, str]) -> None:
    server = Client(served["url"])
    sent = server.post("email", {"to": "still-not-an-address"}, {"Idempotency-Key": f"redrive-{uuid.uuid4().hex[:8]}"})
    message_id = sent.body["messageId"]
    assert server.settled(message_id)["consumers"][0]["state"] == "dlq"
    redrive_one(served, "ap-srv-email-dlq", "ap-srv-email", message_id)
    deadline = time.monotonic() + 30
    while True:
        (consumer,) = server.request("GET", f"/messages/{message_id}").body["consumers"]
        if (consumer["deliveries"] >= 2 and consumer["state"] != "queued") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (consumer["state"], consumer["deliveries"], consumer["ap-error-kind"]) == ("dlq", 2, "permanent")


def test_the_page_shows_front_doors_dlq_reasons_and_alarms_without_a_script(server: Client) -> None:
    sent = server.post("email", {"to": "nobody-at-all"}).body["messageId"]
    assert server.settled(sent)["consumers"][0]["state"] == "dlq"
    page = server.page()
    doors = page.split("<tbody id='front-doors'>", 1)[1].split("</tbody>", 1)[0]
    assert ("<td>email</td><td>POST /pipelines/email · auth none (anyone who can reach the URL can send) · "
            "public · ") in doors
    assert "<td>orders</td><td>POST /pipelines/orders · auth apiKey · private · " in doors
    assert "<td>media</td><td>no HTTP front door (no API in AWS)</td>" in doors
    messages = page.split("<tbody id='messages'>", 1)[1].split("</tbody>", 1)[0]
    assert f"<td>{sent}</td><td>email</td>" in messages
    assert "consumer: in DLQ (permanent: no valid recipient" in messages
    alarms = page.split("<tbody id='alarms'>", 1)[1].split("</tbody>", 1)[0]
    assert '<tr class="ALARM"><td>email-dlq-visible</td>' in alarms
    status = server.request("GET", "/status.json").body
    assert {a["name"]: a["state"] for a in status["alarms"]}["email-dlq-visible"] == "ALARM"
