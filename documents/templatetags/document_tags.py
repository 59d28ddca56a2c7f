"""Template helpers for the documents sections on folder and customer pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import get_language

from documents import selectors, services
from documents.engine import format_eur, format_number

register = template.Library()


@register.simple_tag
def folder_documents(folder):
    """{% folder_documents folder as docs %}: every document made from the folder, in order,
    and what the folder's document buttons need to know."""
    refusal = services.invoice_oneoff_refusal(folder)
    return {
        "documents": list(selectors.documents_for_folder(folder)),
        **selectors.folder_document_state(folder),
        # The service's own checks: the button acts only when the service would.
        "oneoff_refusal": refusal.messages[0] if refusal is not None else "",
    }


@register.simple_tag
def customer_documents(customer, limit: int = 50):
    """{% customer_documents customer as docs %}: documents addressed to the customer and
    those of its folders a financier pays."""
    qs = selectors.documents_for_customer(customer)
    return {"documents": list(qs[:limit]), "total": qs.count()}


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
