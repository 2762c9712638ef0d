"""Deterministic identifiers (FIFO deduplication ids): same input, same id, on every retry."""

from __future__ import annotations

import hashlib

__all__ = ["deterministic_id"]


def deterministic_id(scope: str, key: str, purpose: str) -> str:
    """sha256 over (consumer scope, message key, purpose): 64 hex chars, valid as a FIFO dedup id."""
    return hashlib.sha256(f"{scope}\n{key}\n{purpose}".encode()).hexdigest()
