"""Money arithmetic shared by every app (pure, no ORM).

One home for the rounding rule of DESIGN.md section 4 ("Money"): ``Decimal`` only, two
places, ``ROUND_HALF_UP``. ``decimal`` rounds half *away from zero* with it, so
``-1.125`` becomes ``-1.13`` and a credit note is the exact mirror of its invoice. The
default context rounds half-even (banker's rounding), which differs by a cent on
exactly those half-cent amounts - hence no bare ``quantize(Decimal("0.01"))`` elsewhere.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# Enough digits for quantity x price x discount of any realistic invoice, and independent
# of whatever the global decimal context happens to be in the calling thread.
DECIMAL_CONTEXT = decimal.Context(prec=60, rounding=ROUND_HALF_UP)

MoneyLike = Decimal | int | str


def to_decimal(value: MoneyLike, *, field: str = "value") -> Decimal:
    """``value`` as a ``Decimal``; floats are refused (binary fractions are never money)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        # bool is an int subclass; floats are binary fractions and never money.
        raise TypeError(f"{field} must be a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except decimal.InvalidOperation:
            raise ValueError(f"{field} is not a number: {value!r}")
    raise TypeError(f"{field} must be a Decimal, int or str, not {type(value).__name__}")


def money(x: MoneyLike) -> Decimal:
    """Quantize to cents with ROUND_HALF_UP (half away from zero, symmetric for negatives)."""
    return to_decimal(x).quantize(CENT, rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT)


def line_net(quantity: MoneyLike, unit_price: MoneyLike, discount_percent: MoneyLike = 0) -> Decimal:
    """Quantity x unit price minus the percentage discount, rounded once to cents.

    Rounding once (not after the gross and again after the discount) keeps the printed
    line amount as close as possible to the exact value. The folder's line tables, the
    billing preview and the issued document all show this same amount.
    """
    exact = DECIMAL_CONTEXT.multiply(
        DECIMAL_CONTEXT.multiply(to_decimal(quantity), to_decimal(unit_price)),
        DECIMAL_CONTEXT.divide(HUNDRED - to_decimal(discount_percent), HUNDRED),
    )
    return money(exact)
