"""The payer note of a folder's badge, which folder lists of other apps show without
importing financing (it builds on them). It formats what the list has joined (the folder's
customer and financier) and runs no query of its own; sections that need more data are
panels (financing.panels)."""

from __future__ import annotations

from django import template

from financing.payer import folder_payer_note

register = template.Library()


@register.simple_tag
def payer_note(folder):
    """{% payer_note folder as note %}: who is invoiced for the folder's lines, in words."""
    return folder_payer_note(folder)
