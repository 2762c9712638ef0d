"""A correction to moto's FIFO ReceiveMessage: a message group comes back oldest-first.

AWS hands out a FIFO message group strictly in order: while any message of a group is in flight, the
group is locked; when the in-flight messages return (failed batch, ended visibility timeout), the
group's oldest message is the next one delivered (SQS developer guide, "FIFO queue delivery logic in
Amazon SQS": https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html).

moto 5.2.5 breaks this after a visibility timeout ends. `SQSBackend.receive_message` snapshots the
groups of the queue's *pending* (received, not deleted) messages, then walks the visible messages in
order; a visible message still marked pending is un-marked on the way (its consumer timed out), but the
snapshot of locked groups is only refreshed, not emptied, so the group stays "locked" by its later,
still-marked messages. Every pending message of the group is skipped except the last, which goes
first: send g1-0..3, receive all, delete g1-0, let the timeout end -> moto returns g1-3, then g1-1,
g1-2. (`ChangeMessageVisibility` to 0 un-marks at once, so an explicit release is not affected.)

The fix, applied for as long as `fifo_oldest_first()` is open: before moto's own receive runs on a
FIFO queue, un-mark every pending message that is visible again — exactly what moto's loop does on
the way, only done first — so a group is locked only by messages really in flight. Nothing else
changes (receive counts, redrive to the DLQ, visibility, deduplication stay moto's).

Used by the in-process sandbox (`sandbox.engine`) and the ops FIFO redrive tests. Against an emulator
(`--endpoint-url`) the emulator's own behaviour applies: a separate moto server has the defect.
`tests/sandbox/test_fifo_order.py` asserts the defect on plain moto, so it fails once moto is fixed:
then delete this module and its two call sites.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _forget_timed_out_receives(queue: Any) -> None:
    """Un-mark pending messages whose visibility timeout has ended (their consumer gave up)."""
    timed_out = {message for message in queue.pending_messages if message.visible}
    queue.pending_messages.difference_update(timed_out)


@contextmanager
def fifo_oldest_first() -> Iterator[None]:
    """Patch moto's in-process SQS backend so FIFO groups are delivered oldest-first (see module doc)."""
    from moto.sqs.models import SQSBackend

    original: Callable[..., Any] = SQSBackend.receive_message

    def receive_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            _forget_timed_out_receives(queue)
        return original(self, queue_name, *args, **kwargs)

    setattr(SQSBackend, "receive_message", receive_message)  # noqa: B010 - a method of moto's class
    try:
        yield
    finally:
        setattr(SQSBackend, "receive_message", original)  # noqa: B010
