"""Send messages into async-pipelines stacks from your own services (README "Producing messages").

``Producer`` batches (10 entries within the byte limit), retries only the entries AWS did not accept
(backoff with jitter) and raises one ``SendError`` listing whatever still failed (``SendRefused`` at
once, one line, for what no retry can fix: no credentials, access denied, no such queue/topic, invalid
parameters); sets ``ap-message-id`` from your idempotency key; requires a FIFO group; sends bodies over
the limit through S3 when the pipeline has ``largeMessages: true``. The CLI is ``python -m producer send``.
"""

from producer.client import MAX_BATCH_ENTRIES, Producer
from producer.entries import Entry, entries_from_outputs
from producer.errors import FailedEntry, ProducerError, SendError, SendRefused
from producer.outgoing import Message
from producer.retry import RetryPolicy

__all__ = [
    "MAX_BATCH_ENTRIES",
    "Entry",
    "FailedEntry",
    "Message",
    "Producer",
    "ProducerError",
    "RetryPolicy",
    "SendError",
    "SendRefused",
    "entries_from_outputs",
]
