"""The filter bar of the document lists; its state lives in the URL."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.filters import YES_NO, StyledFilterSet
from organizations.forms import DateInput

from .models import Document, DocumentKind
from .selectors import STATUSES_BY_KIND


def _issued(lookup: str, label) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        label=label, field_name="issue_date", lookup_expr=lookup, widget=DateInput()
    )


def _payer_search() -> django_filters.CharFilter:
    return django_filters.CharFilter(
        label=_("Payer"),
        method="filter_payer",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or number")}),
    )


def _filter_payer(queryset, value: str):
    value = value.strip()
    return queryset.filter(
        Q(payer__name__icontains=value)
        | Q(payer__number__icontains=value)
        | Q(recipient_name__icontains=value)
    )


class DocumentFilter(StyledFilterSet):
    number = django_filters.CharFilter(
        label=_("Number"), lookup_expr="icontains", widget=forms.TextInput(attrs={"type": "search"})
    )
    date_from = _issued("gte", _("Date from"))
    date_to = _issued("lte", _("Date to"))
    customer = django_filters.CharFilter(
        label=_("Customer"),
        method="filter_customer",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or number")}),
    )
    payer = _payer_search()
    status = django_filters.ChoiceFilter(label=_("Status"), choices=[], empty_label=_("all"))
    third_party = django_filters.ChoiceFilter(
        label=_("Third-party payer"), choices=YES_NO, method="filter_third_party", empty_label=_("all")
    )

    class Meta:
        model = Document
        fields = ["number", "date_from", "date_to", "customer", "payer", "status", "third_party"]

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["status"].extra["choices"] = [(s.value, s.label) for s in STATUSES_BY_KIND[kind]]
        if kind in (DocumentKind.QUOTE, DocumentKind.DELIVERY_NOTE):
            # Always addressed to the end customer: there is no other payer to filter by.
            for name in ("payer", "third_party"):
                del self.filters[name]

    def filter_customer(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(customer__name__icontains=value) | Q(customer__number__icontains=value))

    def filter_payer(self, queryset, name, value):
        return _filter_payer(queryset, value)

    def filter_third_party(self, queryset, name, value):
        if value in ("1", "0"):
            return queryset.filter(third_party=value == "1")
        return queryset


class ChorusFilter(StyledFilterSet):
    """The period and export state of the Chorus Pro page; unfiltered it shows what has
    not been exported yet."""

    date_from = _issued("gte", _("Date from"))
    date_to = _issued("lte", _("Date to"))
    payer = _payer_search()
    exported = django_filters.ChoiceFilter(
        label=_("Exported"),
        choices=[("0", _("not yet")), ("1", _("already exported"))],
        method="filter_exported",
        empty_label=_("all"),
    )

    class Meta:
        model = Document
        fields = ["date_from", "date_to", "payer", "exported"]

    def __init__(self, data=None, *args, **kwargs):
        if not data:
            data = {"exported": "0"}
        super().__init__(data, *args, **kwargs)

    def filter_payer(self, queryset, name, value):
        return _filter_payer(queryset, value)

    def filter_exported(self, queryset, name, value):
        if value in ("1", "0"):
            return queryset.filter(chorus_exported_at__isnull=value == "0")
        return queryset
