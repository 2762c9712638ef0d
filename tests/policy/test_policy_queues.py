"""SQS queue policies: redrive, maxReceiveCount, DLQ retention, SSE, queue policies."""

from __future__ import annotations

import json

import pytest

from policy.guardrails import evaluate
from policy.guardrails.model import QUEUE, QUEUE_POLICY, REDRIVE_POLICY

from .conftest import queue_arn, queue_url, ssl_deny  # noqa: F401  (see module note below)
