"""Template helpers for the customer pages."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's full name, else the user name; empty for None (no nested lookups that
    would fail in filter arguments when the user is missing)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def email_breaks(address: str) -> str:
    """An e-mail address that may wrap after the @ (and before the dots of the domain)
    instead of being cut off or pushing its column wider."""
    local, at, domain = (address or "").partition("@")
    if not at:
        return conditional_escape(address or "")
    parts = [conditional_escape(part) for part in domain.split(".")]
    return mark_safe(f"{conditional_escape(local)}@<wbr>" + "<wbr>.".join(parts))  # noqa: S308 - parts escaped
