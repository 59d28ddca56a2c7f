"""`{{ line.unit|unit:line.quantity }}`: a stored unit code as the reader's word for the quantity."""

from __future__ import annotations

from django import template

from catalog.units import unit_label

register = template.Library()


@register.filter
def unit(code: str, quantity=1) -> str:
    return unit_label(code, quantity)
