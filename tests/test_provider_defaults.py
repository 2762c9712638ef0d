"""contract.aws.PROVIDER_DEFAULTS against pulumi_aws's own docstrings (the provider version requirements.txt pins).

An argument the program leaves unset gets what the provider sends, not what moto would pick (design.md §5).
The table quotes the docstring sentence that states each default; this test re-reads the installed
pulumi_aws args classes, so a provider upgrade that changes a default fails here, naming the argument.
"""

from __future__ import annotations

import importlib
import re

import pytest

from contract import aws

_TOKEN = re.compile(r"^aws:(?P<module>[a-zA-Z0-9]+)/[a-zA-Z0-9]+:(?P<resource>[A-Za-z0-9]+)$")


def _param_doc(resource: str, argument: str) -> str:
    """The `:param ... <argument>:` paragraph of the resource's args class (pulumi_aws.<module>.<Resource>Args)."""
    match = _TOKEN.match(resource)
    assert match, f"{resource}: not a pulumi_aws type token"
    module_name = match["module"] + ("_" if match["module"] == "lambda" else "")
    args_class = getattr(importlib.import_module(f"pulumi_aws.{module_name}"), f"{match['resource']}Args")
    doc = args_class.__init__.__doc__ or ""
    found = re.search(rf":param [^:]*\b{re.escape(argument)}:(.*?)(?=\n\s*:param |\Z)", doc, re.DOTALL)
    assert found, f"{args_class.__name__} documents no argument {argument!r}"
    return " ".join(found.group(1).split())


def _spelled(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return str(value)


@pytest.mark.parametrize(
    "entry", aws.PROVIDER_DEFAULTS, ids=[f"{e.resource}.{e.argument}" for e in aws.PROVIDER_DEFAULTS]
)
def test_each_provider_default_is_the_one_pulumi_aws_documents(entry: aws.ProviderDefault) -> None:
    doc = _param_doc(entry.resource, entry.argument)
    assert entry.stated in doc, f"{entry.resource}.{entry.argument}: pulumi_aws now says: {doc}"
    assert _spelled(entry.value) in entry.stated, f"{entry.argument}: the table's value is not the one quoted"


def test_the_queue_size_default_is_the_provider_s_256_kib_not_moto_s() -> None:
    assert aws.provider_default("aws:sqs/queue:Queue", "max_message_size") == 262_144
    assert aws.QUEUE_MAX_MESSAGE_BYTES == aws.SQS_MESSAGE_BYTES_MAX  # what components/queue.py sets instead


def test_an_argument_without_a_table_entry_is_an_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"aws:sqs/queue:Queue\.policy"):
        aws.provider_default("aws:sqs/queue:Queue", "policy")


def test_every_sqs_size_limit_is_the_size_the_program_creates_its_queues_with() -> None:
    """Chain forwarding, the producer and HTTP ingress refuse (or divert to S3) above the queue's own size."""
    from components.http_config import local_defaults
    from pipeline_runtime import large_messages
    from producer.entries import Entry

    queue = Entry("media", "https://sqs.us-east-1.amazonaws.com/123456789012/ap-dev-media-download")
    http = local_defaults(fifo=False, topic_entry=False)
    limits = [queue.max_message_bytes, http.entry_limit, http.max_body_bytes, large_messages.SQS_MAX_MESSAGE_BYTES]
    assert limits == [aws.QUEUE_MAX_MESSAGE_BYTES] * 4
    topic = Entry("orders", "arn:aws-cn:sns:cn-north-1:123456789012:ap-dev-orders")  # any partition is a topic
    assert topic.is_topic and topic.max_message_bytes == aws.SNS_MESSAGE_BYTES_MAX
