from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.filters import StyledFilterSet

from .models import Customer, CustomerKind, PaymentMethod, TaxTreatment
from .selectors import customer_search


class CustomerFilter(StyledFilterSet):
    """The list's filter bar. Its state lives in the URL; invalid values are ignored."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(
            attrs={"placeholder": _("Name, number, city, e-mail, contact…"), "type": "search"}
        ),
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=CustomerKind.choices, empty_label=_("All"))
    financier = django_filters.ChoiceFilter(
        label=_("Financier"),
        method="filter_financier",
        choices=[("yes", _("Only financiers")), ("no", _("Without financiers"))],
        empty_label=_("All"),
    )
    city = django_filters.CharFilter(label=_("City"), lookup_expr="icontains")
    email = django_filters.CharFilter(label=_("E-mail"), method="filter_email")
    payment_method = django_filters.ChoiceFilter(
        label=_("Payment"), choices=PaymentMethod.choices, empty_label=_("All")
    )
    tax_treatment = django_filters.ChoiceFilter(
        label=_("Tax treatment"), choices=TaxTreatment.choices, empty_label=_("All")
    )

    class Meta:
        model = Customer
        fields = ["q", "kind", "financier", "city", "email", "payment_method", "tax_treatment"]

    def __init__(self, *args, with_kind: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_kind:
            self.filters.pop("kind")
            self.form.fields.pop("kind", None)
        for name, field in self.form.fields.items():
            field.widget.attrs.setdefault("id", f"filter-{name}")

    def search(self, queryset, name, value):
        return customer_search(queryset, value)

    def filter_financier(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(is_financier=True)
        if value == "no":
            return queryset.filter(is_financier=False)
        return queryset

    def filter_email(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(email__icontains=value) | Q(invoice_email__icontains=value))
