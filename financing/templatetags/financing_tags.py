"""Template access to the payer decision, so pages of other apps can show who pays a
line without importing financing (it builds on them)."""

from __future__ import annotations

from django import template

from financing.payer import payer_for

register = template.Library()


@register.simple_tag
def payer(line):
    """{% payer line as customer %}: the customer invoiced for `line` (payer_for)."""
    return payer_for(line)
