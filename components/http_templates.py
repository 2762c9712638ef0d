"""API Gateway mapping templates (VTL) and JSON schema for the HTTP ingress: the contract of docs/http.md in AWS.

Kept apart from the component so that the templates can be read (and tested) as the text API Gateway runs.
References: API Gateway developer guide, "Mapping template reference" ($input, $util, $context) and
"Override your API's request and response parameters and status codes" ($context.responseOverride).
"""

from __future__ import annotations

import json

from components import defaults as d
from components.http_config import HttpSettings
from contract.runtime import MESSAGE_ID as MESSAGE_ID_ATTRIBUTE

TOO_LARGE_MARKERS = ("DelaySeconds", "Empty message", "shorter than")
"""What the entry says when it refuses the request the template sends for an oversized body (SQS: an invalid
`DelaySeconds`, which ingress requests never carry; SNS: an empty message, which a JSON object never is),
or refuses an oversized message itself ("must be shorter than ... bytes")."""

MESSAGE_ID = (
    f"#set($key = $input.params('{d.IDEMPOTENCY_KEY_HEADER}'))\n"
    '#if("$!key" == "")#set($key = $context.requestId)#end\n'
)
"""`ap-message-id`: the Idempotency-Key header, else API Gateway's request id (the same in both templates)."""


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
    if settings.group_header:
        return f"$input.params('{settings.group_header}')"
    return f"$input.path('{settings.group_from}')"


def request_template(settings: HttpSettings, *, topic_arn: str | None) -> str:
    """Form-encoded SNS `Publish` (topic) or SQS `SendMessage` (queue) with `ap-message-id` and, FIFO, the group."""
    fifo = ""
    if settings.fifo:
        fifo = f"&MessageGroupId=$util.urlEncode({_group(settings)})&MessageDeduplicationId=$util.urlEncode($key)"
    if topic_arn is not None:
        target = f"Action=Publish&TopicArn=$util.urlEncode('{topic_arn}')"
        send = (
            f"{target}&Message=$util.urlEncode($input.body)"
            f"&MessageAttributes.entry.1.Name={MESSAGE_ID_ATTRIBUTE}"
            "&MessageAttributes.entry.1.Value.DataType=String"
            "&MessageAttributes.entry.1.Value.StringValue=$util.urlEncode($key)"
            f"{fifo}"
        )
        refuse = f"{target}&Message="
    else:
        send = (
            "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
            f"&MessageAttribute.1.Name={MESSAGE_ID_ATTRIBUTE}"
            "&MessageAttribute.1.Value.DataType=String"
            "&MessageAttribute.1.Value.StringValue=$util.urlEncode($key)"
            f"{fifo}"
        )
        refuse = "Action=SendMessage&MessageBody=x&DelaySeconds=-1"
    return (
        MESSAGE_ID
        + f"#if($input.body.length() > {settings.max_body_bytes})\n{refuse}\n#else\n{send}\n#end\n"
    )


ACCEPTED_TEMPLATE = MESSAGE_ID + '{"messageId": "$util.escapeJavaScript($key)"}\n'
"""202 body: the same id the request template put into `ap-message-id`."""


def rejected_template(settings: HttpSettings) -> str:
    """The entry refused the message (4xx): 413 for our size refusal, else 400."""
    condition = " || ".join(f'$input.body.contains("{m}")' for m in TOO_LARGE_MARKERS)
    return (
        f"#if({condition})\n"
        "#set($context.responseOverride.status = 413)\n"
        f'{{"message": "body over maxBodyBytes ({settings.max_body_bytes}) or the entry\'s limit"}}\n'
        "#else\n"
        '{"message": "the entry refused the message"}\n'
        "#end\n"
    )


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
