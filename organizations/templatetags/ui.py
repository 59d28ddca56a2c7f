"""Template helpers shared by every app: form widgets, money, IBAN, phones, links and badges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

from organizations.money import money as money_round
from organizations.system_texts import render_text
from organizations.validators import format_phone, website_href

register = template.Library()


@register.filter
def system_text(value) -> str:
    """A stored system text (code and parameters) in the reader's language; plain text as is."""
    return render_text(value)


@register.filter
def lookup(mapping, key):
    """``{{ panel.line_payers|lookup:line.pk }}``: the value under a variable key; None when
    the mapping or the key is missing."""
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        return None


@register.filter
def with_errors(field):
    """Render a bound field's widget, marked invalid when it has errors."""
    css = field.field.widget.attrs.get("class", "")
    if field.errors:
        css = f"{css} is-invalid"
    return field.as_widget(attrs={"class": css, "aria-invalid": "true"} if field.errors else {"class": css})


@register.filter
def money(value, currency: str = "€"):
    """1.234,56 € in German, €1,234.56 in English; empty for None."""
    if value in (None, ""):
        return ""
    try:
        amount = money_round(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return value
    text = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    if (get_language() or "de").startswith("de"):
        return f"{text}\u00a0{currency}"
    return f"{currency}{text}"


@register.filter
def iban(value: str) -> str:
    """IBAN in groups of four, as printed on bank documents."""
    raw = (value or "").replace(" ", "")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@register.filter
def phone(value: str, home_country: str = "DE") -> str:
    """A stored (E.164) number as the reader dials it: ``{{ customer.phone|phone:organization.country }}``
    shows numbers of the organization's country in national form, all others internationally."""
    return format_phone(value or "", home_country or "DE")


@register.filter(name="website_href")
def website_href_filter(value: str) -> str:
    """A website's link target, "" for anything but http(s) (a ``javascript:`` link would run
    when clicked); bare ``www.…`` addresses entered before the check get https."""
    return website_href(value or "")


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs) -> str:
    """The current query string with some parameters replaced (for pagination, calendars)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()
