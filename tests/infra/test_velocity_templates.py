"""The HTTP ingress's mapping templates, executed by Apache Velocity 1.7 (issue 16 item 2).

Every request and integration-response template of both stacks, and of a variant with `http:` on every
pipeline (SQS, SNS, FIFO with a header group, FIFO with a JSONPath group, SNS FIFO, a small
`maxBodyBytes`), is rendered for the requests below, all in one JVM. The rendered form body is decoded as
SQS and SNS decode one (application/x-www-form-urlencoded, strict) and compared field by field with the
message the local server (`sandbox.ingress.accept`) makes of the same request. A small model of the entry
(`entry_answer`: which requests SQS/SNS refuse, with the error texts of their API references) answers each
form, and the integration response templates are rendered with that answer: the final status must be the
local server's, and every body must be JSON.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest

from components import http_templates as t
from contract.runtime import MESSAGE_ID
from sandbox.ingress import IDEMPOTENCY_KEY_RE, Rejected, Route, TokenBucket, accept
from sandbox.messages import Message
from stack_capture import Capture, capture_stack, load_stack_config
from tests.infra.velocity import Rendered, Request, Velocity, missing, velocity_session

# Skipped on a developer machine without Java/Velocity; under CI (`CI=true`, where .ci/run installs them) a
# missing engine fails the run instead of silently skipping the only test that executes the templates.
pytestmark = pytest.mark.skipif(missing() is not None and not os.environ.get("CI"), reason=f"Velocity: {missing()}")

REQUEST_ID = "c0ffee00-1111-4222-8333-444455556666"
CONTEXT = {
    "requestId": REQUEST_ID,
    "requestTimeEpoch": 1765000000000,
    "requestTime": "06/Dec/2025:12:00:00 +0000",
    "httpMethod": "POST",
    "stage": "v1",
    "apiId": "a1b2c3d4e5",
    "accountId": "123456789012",
    "identity": {"sourceIp": "203.0.113.9", "userAgent": "curl/8.5.0", "caller": "AIDAEXAMPLE"},
}
GROUP_HEADER_VALUE = "tenant-7"
PUNCTUATION_KEY = string.punctuation
"""All 32 ASCII punctuation characters, `'`, `"`, `\\` and `/` among them: a valid Idempotency-Key."""


@pytest.fixture(scope="session")
def velocity() -> Iterator[Velocity]:
    yield from velocity_session()


@pytest.fixture(scope="module")
def variant() -> Capture:
    """prod's pipelines, every one enabled and with `http:`, plus the FIFO and size variants."""
    config = load_stack_config("prod")
    pipelines = {name: {**p, "enabled": True, "http": {}} for name, p in config["async-pipelines:pipelines"].items()}
    handler = {"handler": "handlers.compute:transform"}
    retries = {"retries": [{"delay": 30}]}
    pipelines |= {
        "ledger-by-account": {"pattern": "retry", "fifo": True, **handler, **retries,
                              "http": {"groupFrom": "$.account.id"}},
        "orders-fifo": {"pattern": "fanout", "fifo": True, "subscribers": {"audit": handler},
                        "http": {"groupFrom": "X-Tenant"}},
        "small": {"pattern": "retry", **handler, **retries, "http": {"maxBodyBytes": 4096}},
    }
    return capture_stack("prod", {"async-pipelines:pipelines": pipelines})


@dataclass(frozen=True)
class Ingress:
    """One pipeline's ingress as deployed: its templates, and the local server's route for it."""

    stack: str
    route: Route
    request_template: str
    responses: dict[str, str]
    """Integration response status -> its template."""

    @property
    def name(self) -> str:
        return f"{self.stack}/{self.route.pipeline.name}"

    @property
    def topic(self) -> bool:
        return self.route.pipeline.entry_is_topic


def ingresses(capture: Capture) -> list[Ingress]:
    out = []
    for pipeline in capture.config.enabled_pipelines:
        if pipeline.http is None:
            continue
        prefix = f"{pipeline.name}-ingress"
        integration = capture.named("aws:apigateway/integration:Integration", f"{prefix}-integration")
        responses = {
            status: capture.named("aws:apigateway/integrationResponse:IntegrationResponse",
                                  f"{prefix}-integration-response-{status}").inputs["responseTemplates"][
                "application/json"]
            for status in ("202", "400", "500")
        }
        route = Route(capture.pipelines[pipeline.name], pipeline.http, True, TokenBucket(1.0, 1))
        out.append(Ingress(capture.stack, route, integration.inputs["requestTemplates"]["application/json"],
                           responses))
    return out


@dataclass(frozen=True)
class Case:
    label: str
    body: str
    headers: dict[str, str]


def cases(ingress: Ingress) -> list[Case]:
    """The requests every template is rendered for; FIFO ones carry their group (header or JSONPath value)."""
    s = ingress.route.settings
    group_header = {s.group_header: GROUP_HEADER_VALUE} if s.group_header else {}

    def body(fields: dict[str, Any], group: object = "acct-9") -> str:
        node: dict[str, Any] = dict(fields)
        if s.group_path:
            *parents, leaf = s.group_path
            inner: dict[str, Any] = {leaf: group}
            for name in reversed(parents):
                inner = {name: inner}
            node |= inner
        return json.dumps(node, ensure_ascii=False)

    def sized(size: int) -> str:
        """A JSON object of exactly `size` bytes."""
        return body({"pad": "x" * (size - len(body({"pad": ""}).encode()))})

    out = [
        Case("no key", body({"type": "order_created", "id": "o-1"}), {}),
        Case("awkward body", body({"text": "a&b=c+d %20 ü € \n \"q\" 'x' <t> #$!", "n": [1, 2.5, None]}),
             {"Idempotency-Key": "order-1001"}),
        Case("every punctuation in the key", body({"id": 1}), {"Idempotency-Key": PUNCTUATION_KEY}),
        Case("128-character key", body({"id": 2}), {"Idempotency-Key": "k" * 128}),
        Case("empty key", body({"id": 3}), {"Idempotency-Key": ""}),
        Case("129-character key", body({"id": 4}), {"Idempotency-Key": "k" * 129}),
        Case("key with a space", body({"id": 5}), {"Idempotency-Key": "order 1"}),
        Case("body over maxBodyBytes", sized(s.max_body_bytes + 1), {"Idempotency-Key": "big-1"}),
        Case("body of maxBodyBytes", sized(s.max_body_bytes), {"Idempotency-Key": "big-2"}),
    ]
    if s.group_path:
        out.append(Case("numeric group", body({"id": 6}, 42), {}))
    if s.group_header:
        out.append(Case("group over 128 characters", body({"id": 7}), {s.group_header: "g" * 200}))
    return [Case(c.label, c.body, {**group_header, **c.headers}) for c in out]


def decode(form: str) -> dict[str, str]:
    """The form body as SQS and SNS read it: strict `application/x-www-form-urlencoded`, every key once."""
    fields = parse_qs(form, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict")
    assert all(len(values) == 1 for values in fields.values()), f"repeated keys in {form!r}"
    return {k: v[0] for k, v in fields.items()}


def expected_form(ingress: Ingress, message: Message, message_id: str) -> dict[str, str]:
    """What the entry must receive for the local server's message: the same body, id and group."""
    if ingress.topic:
        attribute = "MessageAttributes.entry.1"
        form = {"Action": "Publish", "TopicArn": ingress.route.pipeline.entry, "Message": message.body}
    else:
        attribute = "MessageAttribute.1"
        form = {"Action": "SendMessage", "MessageBody": message.body}
    form |= {f"{attribute}.Name": MESSAGE_ID, f"{attribute}.Value.DataType": "String",
             f"{attribute}.Value.StringValue": message_id}
    if ingress.route.fifo:
        assert message.group is not None
        form |= {"MessageGroupId": message.group, "MessageDeduplicationId": message_id}
    return form


ID_RE = re.compile(r"[\x21-\x7e]{1,128}")
"""SQS/SNS FIFO ids: 1–128 ASCII letters, digits and punctuation."""


def error(code: str, text: str) -> tuple[int, str]:
    """An SQS/SNS query-API error answer (HTTP 400, XML)."""
    return 400, (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{text}</Message>"
                 "</Error><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>")


def entry_answer(ingress: Ingress, form: dict[str, str]) -> tuple[int, str]:
    """SQS `SendMessage` / SNS `Publish` answering a form, as far as the ingress relies on it.

    The checks a refusal must not trip for the wrong reason come first (the action, the FIFO ids); the
    texts are those of the SQS and SNS API references and error guides (only AWS can confirm them).
    """
    action = "Publish" if ingress.topic else "SendMessage"
    if form.get("Action") != action:
        return error("InvalidAction", f"The action {form.get('Action')} is not valid for this endpoint.")
    if ingress.route.fifo:
        for name in ("MessageGroupId", "MessageDeduplicationId"):
            if name not in form:
                return error("MissingParameter", f"The request must contain the parameter {name}.")
            if not ID_RE.fullmatch(form[name]):
                return error("InvalidParameterValue", f"Value {form[name]} for parameter {name} is invalid.")
    body = form.get("Message" if ingress.topic else "MessageBody", "")
    # body + each attribute's name, type and value (not the form's field names)
    size = len(body.encode()) + sum(len(v.encode()) for k, v in form.items() if k.startswith("MessageAttribute"))
    if ingress.topic:
        if form.get("TopicArn") != ingress.route.pipeline.entry:
            return 404, "<ErrorResponse><Error><Code>NotFound</Code></Error></ErrorResponse>"
        if body == "":
            return error("InvalidParameter", "Invalid parameter: Empty message")
        if size > ingress.route.settings.entry_limit:
            return error("InvalidParameter", "Invalid parameter: Message too long")
        return 200, "<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>"
    if "DelaySeconds" in form and not 0 <= int(form["DelaySeconds"]) <= 900:
        return error("InvalidParameterValue", f"Value {form['DelaySeconds']} for parameter DelaySeconds is invalid. "
                     "Reason: must be between 0 and 900, if provided.")
    if size > ingress.route.settings.entry_limit:
        return error("InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter "
                     f"than {ingress.route.settings.entry_limit} bytes.")
    return 200, "<SendMessageResponse><SendMessageResult><MessageId>m-1</MessageId></SendMessageResult>" \
                "</SendMessageResponse>"


def local_answer(ingress: Ingress, case: Case) -> Message | Rejected:
    try:
        return accept(ingress.route, case.body.encode(), case.headers)
    except Rejected as rejected:
        return rejected


@dataclass
class Outcome:
    ingress: Ingress
    case: Case
    output: str
    """The request template's output: the form body."""
    form: dict[str, str]
    entry_status: int
    entry_body: str
    answer_status: str
    """The integration response chosen by the entry's status (`selectionPattern`): 202, 400 or 500."""


def run_all(velocity: Velocity, all_ingresses: list[Ingress]) -> list[tuple[Outcome, Rendered]]:
    """Render every request template, answer it like the entry, render the chosen integration response."""
    work = [(i, c) for i in all_ingresses for c in cases(i)]
    forms = velocity.render(
        [Request(i.request_template, c.body, c.headers, CONTEXT) for i, c in work]
    )
    outcomes = []
    for (ingress, case), rendered in zip(work, forms, strict=True):
        assert rendered.error is None, f"{ingress.name} {case.label}: {rendered.error}"
        form = decode(rendered.output)
        status, body = entry_answer(ingress, form)
        answer = "202" if status < 300 else "400" if status < 500 else "500"
        outcomes.append(Outcome(ingress, case, rendered.output, form, status, body, answer))
    answers = velocity.render(
        [Request(o.ingress.responses[o.answer_status], o.entry_body, o.case.headers, CONTEXT) for o in outcomes]
    )
    return list(zip(outcomes, answers, strict=True))


@pytest.fixture(scope="module")
def rendered(
    velocity: Velocity, project_stacks: dict[str, Capture], variant: Capture
) -> list[tuple[Outcome, Rendered]]:
    found = [i for capture in (*project_stacks.values(), variant) for i in ingresses(capture)]
    assert {i.name for i in found} >= {"dev/orders", "prod/ledger", "prod/ledger-by-account", "prod/orders-fifo"}
    return run_all(velocity, found)


def test_every_form_is_what_the_local_server_sends_and_the_answer_its_status(
    rendered: list[tuple[Outcome, Rendered]],
) -> None:
    for outcome, answer in rendered:
        where = f"{outcome.ingress.name} {outcome.case.label}"
        local = local_answer(outcome.ingress, outcome.case)
        assert answer.error is None, f"{where}: {answer.error}"
        document = json.loads(answer.output)
        status = answer.status or int(outcome.answer_status)
        if isinstance(local, Rejected):
            assert status == local.status, f"{where}: {status} for {outcome.form}; locally {local.reason}"
            assert set(document) == {"message"}, where
            continue
        key = outcome.case.headers.get("Idempotency-Key")
        message_id = key or REQUEST_ID  # locally a fresh UUID instead of API Gateway's request id
        assert not key or local.logical_id == key, where
        assert outcome.form == expected_form(outcome.ingress, local, message_id), where
        assert status == 202, f"{where}: the entry answered {outcome.entry_status} {outcome.entry_body}"
        assert document == {"messageId": message_id}, where


def test_the_cases_reach_every_branch(rendered: list[tuple[Outcome, Rendered]]) -> None:
    """The comparison above saw a 202, a 400 and a 413 on every ingress (each template's three answers)."""
    by_ingress: dict[str, set[int]] = {}
    for outcome, answer in rendered:
        by_ingress.setdefault(outcome.ingress.name, set()).add(answer.status or int(outcome.answer_status))
    assert by_ingress and all(statuses == {202, 400, 413} for statuses in by_ingress.values()), by_ingress


def test_forms_are_one_line_without_whitespace_around_them(rendered: list[tuple[Outcome, Rendered]]) -> None:
    """A newline before `#else`/`#end` would be part of the last form value (`ap-message-id`, the dedup id)."""
    for outcome, _ in rendered:
        assert outcome.output == outcome.output.strip() and "\n" not in outcome.output, (
            f"{outcome.ingress.name} {outcome.case.label}: {outcome.output[-80:]!r}")


def named(rendered: list[tuple[Outcome, Rendered]], ingress: str, label: str) -> tuple[Outcome, Rendered]:
    return next((o, a) for o, a in rendered if o.ingress.name == ingress and o.case.label == label)


def test_last_form_value_has_no_newline_and_fifo_dedup_is_the_key(rendered: list[tuple[Outcome, Rendered]]) -> None:
    outcome, _ = named(rendered, "prod/ledger", "awkward body")
    assert outcome.form["MessageDeduplicationId"] == "order-1001"
    assert outcome.form["MessageAttribute.1.Value.StringValue"] == "order-1001"
    assert outcome.entry_status == 200


def test_a_key_with_a_quote_gives_a_json_202_with_that_key(rendered: list[tuple[Outcome, Rendered]]) -> None:
    for ingress in ("dev/orders", "prod/email", "prod/ledger"):
        _, answer = named(rendered, ingress, "every punctuation in the key")
        assert json.loads(answer.output) == {"messageId": PUNCTUATION_KEY}


def test_a_numeric_group_value_becomes_its_text(rendered: list[tuple[Outcome, Rendered]]) -> None:
    outcome, _ = named(rendered, "prod/ledger-by-account", "numeric group")
    assert outcome.form["MessageGroupId"] == "42"
    assert named(rendered, "prod/ledger-by-account", "no key")[0].form["MessageGroupId"] == "acct-9"


def test_sns_message_too_long_is_413(rendered: list[tuple[Outcome, Rendered]]) -> None:
    """Body at maxBodyBytes = the topic's limit: the template sends it, SNS refuses it as too long -> 413."""
    outcome, answer = named(rendered, "dev/orders", "body of maxBodyBytes")
    assert outcome.form["Action"] == "Publish" and "Message too long" in outcome.entry_body
    assert answer.status == 413


def test_oversized_fifo_refusal_carries_a_group_and_fails_for_its_size(
    rendered: list[tuple[Outcome, Rendered]],
) -> None:
    for ingress in ("prod/ledger", "prod/ledger-by-account", "prod/orders-fifo"):
        outcome, answer = named(rendered, ingress, "body over maxBodyBytes")
        assert outcome.form["MessageGroupId"] and outcome.form["MessageDeduplicationId"], ingress
        assert "DelaySeconds" in outcome.entry_body or "Empty message" in outcome.entry_body, ingress
        assert answer.status == 413, ingress


def test_a_bad_idempotency_key_is_refused_in_aws_too(rendered: list[tuple[Outcome, Rendered]]) -> None:
    for label in ("129-character key", "key with a space"):
        outcome, answer = named(rendered, "prod/email", label)
        assert outcome.form["Action"] == t.KEY_REFUSAL_ACTION and outcome.entry_status == 400
        assert answer.status is None  # the 4xx integration response's own status: 400
        assert "Idempotency-Key" in json.loads(answer.output)["message"]


def test_the_other_templates_render_to_json(velocity: Velocity, project_stacks: dict[str, Capture]) -> None:
    """The 5xx answer, and the 404 routes' MOCK request and response templates."""
    capture = project_stacks["dev"]
    mocks = [r for r in capture.of_type("aws:apigateway/integration:Integration") if r.inputs["type"] == "MOCK"]
    not_found = [r for r in capture.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
                 if r.inputs["statusCode"] == "404"]
    failed = capture.named("aws:apigateway/integrationResponse:IntegrationResponse",
                           "orders-ingress-integration-response-500")
    templates = [r.inputs["requestTemplates"]["application/json"] for r in mocks]
    templates += [r.inputs["responseTemplates"]["application/json"] for r in (*not_found, failed)]
    assert len(mocks) == 2 and len(not_found) == 2
    answers = velocity.render([Request(text, "<InternalError/>", {}, CONTEXT) for text in templates])
    documents = [json.loads(a.output) for a in answers]
    assert documents[:2] == [{"statusCode": 404}] * 2
    assert all(set(d) == {"message"} for d in documents[2:])


def test_the_harness_gives_util_and_context_as_documented(velocity: Velocity) -> None:
    template = (
        "$util.escapeJavaScript($input.params('q'))|$util.urlEncode('a b&c')|$util.urlDecode('a+b%26c')|"
        "$util.base64Encode('hi')|$util.base64Decode('aGk=')|$util.parseJson($input.json('$.o')).k|"
        "$input.path('$.o.k')|$input.params().header.q|$context.identity.sourceIp|$context.requestTimeEpoch|"
        "$input.json('$.o')"
    )
    (answer,) = velocity.render([Request(template, '{"o": {"k": "v"}}', {"q": "it's"}, CONTEXT)])
    assert answer.output.split("|") == [
        "it\\'s", "a+b%26c", "a b&c", "aGk=", "hi", "v", "v", "it's", "203.0.113.9", "1765000000000", '{"k":"v"}'
    ]


def test_the_template_key_rule_is_the_local_servers(velocity: Velocity) -> None:
    """`KEY_PATTERN` (Java, in the templates) and `IDEMPOTENCY_KEY_RE` (the local server) agree, char by char."""
    keys = [chr(c) * 3 for c in range(256)] + ["k" * 128, "k" * 129, "é", "\u2028", "a b"]
    template = f"#if($input.params('k').matches('{t.KEY_PATTERN}'))y#{{else}}n#end"
    answers = velocity.render([Request(template, headers={"k": key}) for key in keys])
    in_aws = {key: a.output == "y" for key, a in zip(keys, answers, strict=True)}
    assert in_aws == {key: IDEMPOTENCY_KEY_RE.fullmatch(key) is not None for key in keys}
    assert sum(in_aws.values()) == 94 + 1  # the 94 printable ASCII characters (tripled), and 128 k's
