"""Filter bars of the payments lists; their state lives in the URL."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from organizations.filters import StyledFilterSet
from organizations.forms import DateInput, StyledFormMixin

from .models import BankStatement, Payment, PaymentChannel, PaymentKind
from .selectors import AGEING_BUCKETS


class PaymentFilter(StyledFilterSet):
    payer = django_filters.CharFilter(
        label=_("Payer"),
        method="filter_payer",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or number")}),
    )
    date_from = django_filters.DateFilter(
        label=_("Date from"), field_name="date", lookup_expr="gte", widget=DateInput()
    )
    date_to = django_filters.DateFilter(
        label=_("Date to"), field_name="date", lookup_expr="lte", widget=DateInput()
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PaymentKind.choices, empty_label=_("all"))
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=PaymentChannel.choices, empty_label=_("all")
    )
    reference = django_filters.CharFilter(
        label=_("Reference"), lookup_expr="icontains", widget=forms.TextInput(attrs={"type": "search"})
    )

    class Meta:
        model = Payment
        fields = ["payer", "date_from", "date_to", "kind", "channel", "reference"]

    def filter_payer(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(payer__name__icontains=value) | Q(payer__number__icontains=value))


class StatementFilter(StyledFilterSet):
    statement_id = django_filters.CharFilter(
        label=_("Statement"), lookup_expr="icontains", widget=forms.TextInput(attrs={"type": "search"})
    )
    date_from = django_filters.DateFilter(
        label=_("Date from"), field_name="date_to", lookup_expr="gte", widget=DateInput()
    )
    date_to = django_filters.DateFilter(
        label=_("Date to"), field_name="date_from", lookup_expr="lte", widget=DateInput()
    )

    class Meta:
        model = BankStatement
        fields = ["statement_id", "date_from", "date_to"]


class OpenItemsFilterForm(StyledFormMixin, forms.Form):
    """The open-items filter: a plain GET form, since open items are computed, not a table."""

    customer = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or number")}),
    )
    bucket = forms.ChoiceField(
        label=_("Overdue"),
        required=False,
        choices=[("", _("all")), ("overdue", _("all overdue"))]
        + [(k, label) for k, label, *_r in AGEING_BUCKETS],
    )
    as_of = forms.DateField(
        label=_("Ageing on"),
        required=False,
        help_text=_(
            "The open items as they stood at the end of this day: invoices, payments and credit notes until then."
        ),
    )
    payment_method = forms.ChoiceField(label=_("Payment method"), required=False, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_method"].choices = [
            ("", _("all")),
            *Customer._meta.get_field("payment_method").choices,
        ]
        for field in self.fields.values():
            css = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = css.replace("form-control", "form-control form-control-sm").replace(
                "form-select", "form-select form-select-sm"
            )
