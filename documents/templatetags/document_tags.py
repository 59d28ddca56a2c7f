"""Template filters that format quantities and prices of documents."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import get_language

from documents.engine import format_eur, format_number

register = template.Library()


@register.filter
def qty(value):
    """A quantity without trailing zeros, in the UI language (1,5 / 2)."""
    if value in (None, ""):
        return ""
    try:
        return format_number(Decimal(value), (get_language() or "de")[:2], places=None)
    except (InvalidOperation, TypeError, ValueError):
        return value


@register.filter
def price(value):
    """A unit price with up to four decimals (click charges), never fewer than two."""
    if value in (None, ""):
        return ""
    try:
        return format_eur(Decimal(value), (get_language() or "de")[:2], max_places=4).replace(" €", "\u00a0€")
    except (InvalidOperation, TypeError, ValueError):
        return value
