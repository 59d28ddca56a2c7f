from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def qty(value):
    """A quantity without trailing zeros, in the user's number format (3 / 2,5)."""
    from decimal import Decimal, InvalidOperation

    from django.utils.formats import number_format

    if value in (None, ""):
        return ""
    try:
        amount = Decimal(value).normalize()
    except (InvalidOperation, TypeError, ValueError):
        return value
    places = max(0, -amount.as_tuple().exponent)
    return number_format(amount, decimal_pos=places, use_l10n=True)


@register.filter
def first_line(text):
    return (text or "").split("\n", 1)[0]


@register.filter
def rest_lines(text):
    parts = (text or "").split("\n", 1)
    return parts[1].strip() if len(parts) > 1 else ""
