"""Template helpers for the customer pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's full name, else the user name; empty for None (no nested lookups that
    would fail in filter arguments when the user is missing)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
