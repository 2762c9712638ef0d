"""Orders: billing an ``order_created`` event.

Message::

    {"type": "order_created", "id": "o-1001", "customer": {"id": "c-42", "email": "ana@example.com"},
     "currency": "EUR", "items": [{"sku": "book", "quantity": 2, "amount": 12.50}]}

``amount`` is the unit price (a positive number; sent as a JSON number or a decimal string),
``quantity`` a positive integer (default 1). ``"simulate": "timeout"`` -> payment gateway timeout.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from handlers.common import require_str, simulate
from pipeline_runtime import PermanentError

__all__ = ["CURRENCY_EXPONENTS", "SAMPLE_ORDER", "bill"]

CURRENCY_EXPONENTS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "JPY": 0}
"""Known currencies and their minor-unit digits."""

MAX_ITEMS = 100

SAMPLE_ORDER: dict[str, Any] = {
    "type": "order_created",
    "id": "o-1001",
    "customer": {"id": "c-42", "email": "ana@example.com"},
    "currency": "EUR",
    "items": [{"sku": "book", "quantity": 2, "amount": 12.5}, {"sku": "pen", "amount": "1.99"}],
}


def _amount(item: dict[str, Any], index: int) -> Decimal:
    raw = item.get("amount")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise PermanentError(f"items[{index}].amount must be a number")
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise PermanentError(f"items[{index}].amount {raw!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise PermanentError(f"items[{index}].amount must be positive, got {raw!r}")
    return amount


def bill(message: dict[str, Any]) -> dict[str, Any]:
    """Validate an order and compute its invoice; raises PermanentError on bad input."""
    order_id = require_str(message, "id", token=True)
    customer = message.get("customer")
    if not isinstance(customer, dict):
        raise PermanentError("'customer' is required and must be an object with an 'id'")
    customer_id = require_str(customer, "id")
    currency = message.get("currency")
    if currency not in CURRENCY_EXPONENTS:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise PermanentError(f"unknown currency {currency!r}; known: {known}")
    items = message.get("items")
    if not isinstance(items, list) or not items:
        raise PermanentError("'items' must be a non-empty list")
    if len(items) > MAX_ITEMS:
        raise PermanentError(f"an order has at most {MAX_ITEMS} items, got {len(items)}")

    total = Decimal(0)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PermanentError(f"items[{index}] must be an object")
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise PermanentError(f"items[{index}].quantity must be a positive integer")
        total += _amount(item, index) * quantity

    # Validation first: a bad order is permanent even when the gateway would time out.
    simulate(message, "bill", timeout="payment gateway timed out", throttle="payment gateway throttled")

    exponent = Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])
    return {
        "invoice_id": f"inv-{order_id}",
        "order_id": order_id,
        "customer_id": customer_id,
        "currency": currency,
        "total": str(total.quantize(exponent, rounding=ROUND_HALF_UP)),
        "lines": len(items),
    }
