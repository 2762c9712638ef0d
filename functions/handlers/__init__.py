"""Example business functions, one module per domain: ``def f(message: dict) -> dict | None``.

Each validates its input and raises ``PermanentError`` for messages that can never succeed. All are
deterministic (no randomness, clocks or sleeps). A message field ``"simulate"`` makes them fail on
purpose so demos can exercise the transient paths - see :mod:`handlers.common`.
"""
