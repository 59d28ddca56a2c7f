from __future__ import annotations

from django import template

from folders import selectors

register = template.Library()


@register.simple_tag
def customer_folders(customer):
    """{% customer_folders customer as folders %}: the customer's own folders."""
    return list(selectors.customer_folders(customer))


@register.simple_tag
def financed_folders(customer):
    """{% financed_folders customer as folders %}: folders of others this financier pays for."""
    if not getattr(customer, "is_financier", False):
        return []
    return list(selectors.financier_folders(customer))


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
