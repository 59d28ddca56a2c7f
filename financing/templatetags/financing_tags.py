"""Template access to the payer decision, so pages of other apps can show who pays a
line without importing financing (it builds on them)."""

from __future__ import annotations

from django import template

from financing.payer import financier_invoice_refusal, folder_payer_note, payer_for

register = template.Library()


@register.simple_tag
def payer(line):
    """{% payer line as customer %}: the customer invoiced for `line` (payer_for)."""
    return payer_for(line)


@register.simple_tag
def payer_note(folder):
    """{% payer_note folder as note %}: who is invoiced for the folder's lines, in words."""
    return folder_payer_note(folder)


@register.simple_tag
def financing_refusal(financing):
    """{% financing_refusal financing as refusal %}: why the financier is not invoiced
    yet (the error's message), or None."""
    refusal = financier_invoice_refusal(financing)
    return refusal.messages[0] if refusal is not None else None
