"""API Gateway mapping templates (VTL) and JSON schema for the HTTP ingress: the contract of docs/http.md in AWS.

Kept apart from the component so that the templates can be read (and tested) as the text API Gateway runs.
References: API Gateway developer guide, "Mapping template reference" ($input, $util, $context) and
"Override your API's request and response parameters and status codes" ($context.responseOverride).
"""

from __future__ import annotations

import json

from components import defaults as d
from components.http_config import HttpSettings
from contract.aws import FIFO_ID_LENGTH_MAX
from contract.runtime import MESSAGE_ID as MESSAGE_ID_ATTRIBUTE

TOO_LARGE_MARKERS = ("DelaySeconds", "Empty message", "shorter than", "Message too long")
"""What the entry says when it refuses the request the template sends for an oversized body (SQS: an invalid
`DelaySeconds`, which ingress requests never carry; SNS: an empty message, which a JSON object never is),
or refuses an oversized message itself (SQS: "Message must be shorter than ... bytes"; SNS: "Invalid
parameter: Message too long"). Texts from the SQS and SNS API references; only AWS can confirm them."""

KEY_PATTERN = rf"[\p{{Alnum}}\p{{Punct}}]{{1,{d.IDEMPOTENCY_KEY_MAX}}}"
"""A valid `Idempotency-Key` as a Java regex (`String.matches`, whole string): 1–128 ASCII letters, digits
or punctuation, the SQS `MessageDeduplicationId` rule; the same set as `sandbox.ingress.IDEMPOTENCY_KEY_RE`."""

KEY_RULE = f"{d.IDEMPOTENCY_KEY_HEADER} must be 1–{d.IDEMPOTENCY_KEY_MAX} letters, digits or punctuation"
"""The 400's message for a key that breaks `KEY_PATTERN` (the local server's words)."""

REFUSAL_GROUP = "ap-refused"
"""FIFO group and deduplication id of a refusal request: it must be valid but for the one parameter that
makes the entry refuse it, so that the entry answers for that reason and no other."""
KEY_REFUSAL_ACTION = "RefuseInvalidIdempotencyKey"
"""The `Action` sent for a bad `Idempotency-Key`: no such action exists, so SQS and SNS answer 4xx (400)."""

MESSAGE_ID = (
    f"#set($key = $input.params('{d.IDEMPOTENCY_KEY_HEADER}'))"
    '#if("$!key" == "")#set($key = $context.requestId)#end'
)
"""`ap-message-id`: the Idempotency-Key header, else API Gateway's request id (the same in every template).

Directives only, no text: a newline here would be part of the output (the form body or the JSON)."""


def body_schema(settings: HttpSettings) -> str:
    """JSON schema (draft-04, API Gateway's dialect) for the request body: an object, with the FIFO group path."""
    schema: dict[str, object] = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}
    path = settings.group_path
    if path:
        node = schema
        for i, name in enumerate(path):
            last = i == len(path) - 1
            child: dict[str, object] = {"type": ["string", "number"], "minLength": 1} if last else {"type": "object"}
            node["required"] = [name]
            node["properties"] = {name: child}
            node = child
    return json.dumps(schema)


def _group(settings: HttpSettings) -> str:
    """`$group`: the header's value or the body's value at the JSONPath, as text, cut to 128 characters
    (the FIFO limit; the local server cuts it too).

    The JSONPath value is quoted ("$input.path(...)") so that a number becomes its text: `$util.urlEncode`
    takes a string, and given a number Velocity leaves the whole call in the output as literal text.
    """
    if settings.group_header:
        value = f"$input.params('{settings.group_header}')"
    else:
        value = f"\"$input.path('{settings.group_from}')\""
    limit = FIFO_ID_LENGTH_MAX
    return f"#set($group = {value})#if($group.length() > {limit})#set($group = $group.substring(0, {limit}))#end"


def request_template(settings: HttpSettings, *, topic_arn: str | None) -> str:
    """Form-encoded SNS `Publish` (topic) or SQS `SendMessage` (queue) with `ap-message-id` and, FIFO, the group.

    One line of directives and form text, no whitespace: whatever the template outputs is the form body, and a
    newline before `#else`/`#end` would end up inside the last value. Checks in the local server's order: a
    body over `maxBodyBytes` gets a request the entry refuses in a way the 4xx answer maps to 413, an invalid
    `Idempotency-Key` one it refuses in a way that maps to 400, anything else is sent.
    """
    fifo = refusal_fifo = ""
    if settings.fifo:
        fifo = "&MessageGroupId=$util.urlEncode($group)&MessageDeduplicationId=$util.urlEncode($key)"
        refusal_fifo = f"&MessageGroupId={REFUSAL_GROUP}&MessageDeduplicationId={REFUSAL_GROUP}"
    if topic_arn is not None:
        target = f"TopicArn=$util.urlEncode('{topic_arn}')"
        send = (
            f"Action=Publish&{target}&Message=$util.urlEncode($input.body)"
            f"&MessageAttributes.entry.1.Name={MESSAGE_ID_ATTRIBUTE}"
            "&MessageAttributes.entry.1.Value.DataType=String"
            "&MessageAttributes.entry.1.Value.StringValue=$util.urlEncode($key)"
        )
        too_large = f"Action=Publish&{target}&Message="
        bad_key = f"Action={KEY_REFUSAL_ACTION}&{target}&Message=x"
    else:
        send = (
            "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
            f"&MessageAttribute.1.Name={MESSAGE_ID_ATTRIBUTE}"
            "&MessageAttribute.1.Value.DataType=String"
            "&MessageAttribute.1.Value.StringValue=$util.urlEncode($key)"
        )
        too_large = "Action=SendMessage&MessageBody=x&DelaySeconds=-1"
        bad_key = f"Action={KEY_REFUSAL_ACTION}&MessageBody=x"
    group = _group(settings) if settings.fifo else ""
    return (
        MESSAGE_ID
        + group
        + f"#if($input.body.length() > {settings.max_body_bytes}){too_large}{refusal_fifo}"
        + f"#elseif(!$key.matches('{KEY_PATTERN}')){bad_key}{refusal_fifo}"
        + f"#{{else}}{send}{fifo}#end"
    )


ACCEPTED_TEMPLATE = MESSAGE_ID + r"""{"messageId": "$util.escapeJavaScript($key).replaceAll("\\'","'")"}""" + "\n"
"""202 body: the same id the request template put into `ap-message-id`. `escapeJavaScript` turns `'` into
`\\'`, which JSON does not allow: the `replaceAll` turns it back (API Gateway developer guide, `$util`)."""


def rejected_template(settings: HttpSettings) -> str:
    """The entry refused the message (4xx): 400 for a bad `Idempotency-Key`, 413 for our size refusal, else 400.

    `$input.params` is the method request's here too, so the key is checked again to name the reason.
    """
    condition = " || ".join(f'$input.body.contains("{m}")' for m in TOO_LARGE_MARKERS)
    return (
        MESSAGE_ID
        + f"#if(!$key.matches('{KEY_PATTERN}'))\n"
        f'{{"message": "{KEY_RULE}"}}\n'
        f"#elseif({condition})\n"
        "#set($context.responseOverride.status = 413)\n"
        f'{{"message": "body over maxBodyBytes ({settings.max_body_bytes}) or the entry\'s limit"}}\n'
        "#else\n"
        '{"message": "the entry refused the message"}\n'
        "#end\n"
    )


NOT_FOUND_REQUEST_TEMPLATE = '{"statusCode": 404}'
"""The 404 routes' MOCK integration: the status the mock answers with."""
FAILED_TEMPLATE = '{"message": "the entry failed; retry with the same Idempotency-Key"}\n'
NOT_FOUND_TEMPLATE = '{"message": "no such pipeline or path: POST /pipelines/{name}"}\n'
ERROR_TEMPLATE = '{"message": $context.error.messageString}\n'
VALIDATION_TEMPLATE = '{"message": "$context.error.validationErrorString"}\n'
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationStatus": "$context.integration.status",
        "integrationLatency": "$context.integration.latency",
        "error": "$context.error.message",
        "apiKeyId": "$context.identity.apiKeyId",
    }
)
"""One JSON object per request (API Gateway developer guide, "$context variables for access logging")."""


def gateway_responses() -> tuple[tuple[str, str, str], ...]:
    """API Gateway's own answers (response type, status, template) as `{"message": ...}`; the validation
    errors with `validationErrorString`, which names the missing group header or field."""
    return (
        ("BAD_REQUEST_BODY", "400", VALIDATION_TEMPLATE),
        ("BAD_REQUEST_PARAMETERS", "400", VALIDATION_TEMPLATE),
        ("REQUEST_TOO_LARGE", "413", ERROR_TEMPLATE),
        ("THROTTLED", "429", ERROR_TEMPLATE),
        ("MISSING_AUTHENTICATION_TOKEN", "403", ERROR_TEMPLATE),
    )
