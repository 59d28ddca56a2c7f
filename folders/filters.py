from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from organizations.collation import german
from organizations.filters import YES_NO, StyledFilterSet

from .models import Folder, FolderStatus
from .selectors import folder_search, folders_ending_within

ENDING_CHOICES = [
    ("30", _("30 days")),
    ("60", _("60 days")),
    ("90", _("90 days")),
    ("180", _("6 months")),
    ("365", _("12 months")),
]


def _financiers(request):
    if request is None or getattr(request, "organization", None) is None:
        return Customer.objects.none()
    return Customer.objects.filter(organization=request.organization, is_financier=True).order_by(
        german("name"), "pk"
    )


class FolderFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=FolderStatus.choices, empty_label=_("all")
    )
    third_party = django_filters.ChoiceFilter(
        label=_("Third-party payer"), choices=YES_NO, method="filter_third_party", empty_label=_("all")
    )
    financier = django_filters.ModelChoiceFilter(
        label=_("Financier"), queryset=_financiers, field_name="financing__financier", empty_label=_("all")
    )
    hold = django_filters.ChoiceFilter(
        label=_("Billing hold"), choices=YES_NO, method="filter_hold", empty_label=_("all")
    )
    ending = django_filters.ChoiceFilter(
        label=_("Contract ends within"),
        choices=ENDING_CHOICES,
        method="filter_ending",
        empty_label=_("any time"),
    )
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput)

    class Meta:
        model = Folder
        fields = ["q", "status", "third_party", "financier", "hold", "ending", "customer"]

    def search(self, queryset, name, value):
        return folder_search(queryset, value)

    def filter_third_party(self, queryset, name, value):
        if value == "1":
            return queryset.filter(financing__isnull=False)
        if value == "0":
            # On the join column, which PostgreSQL turns into an anti-join (`financing__isnull`
            # tests financing.id, which it cannot, and then misjudges the row count).
            return queryset.filter(financing__folder__isnull=True)
        return queryset

    def filter_hold(self, queryset, name, value):
        # Active hold: billing_hold set and not expired (no end date, or ending today or later).
        today = timezone.localdate()
        if value == "1":
            return queryset.filter(billing_hold=True).exclude(billing_hold_until__lt=today)
        if value == "0":
            return queryset.filter(Q(billing_hold=False) | Q(billing_hold_until__lt=today))
        return queryset

    def filter_ending(self, queryset, name, value):
        try:
            days = int(value)
        except (TypeError, ValueError):
            return queryset
        return folders_ending_within(queryset, days)
