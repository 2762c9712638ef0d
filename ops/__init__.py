"""Operator tools for a deployed stack.

`python -m ops.dlq` lists, redrives and purges the dead-letter queues of a stack (see `ops/README.md`).
The tools read the topology from the program itself (`stack_capture.capture_stack`), never from a
copy, and talk to the live account through plain boto3 clients.
"""
