from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.filters import YES_NO, StyledFilterSet

from .models import Product, ProductKind


def _bool_choice(queryset, name, value):
    if value in ("1", "0"):
        return queryset.filter(**{name: value == "1"})
    return queryset


class ProductFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ProductKind.choices, empty_label=_("all"))
    is_equipment = django_filters.ChoiceFilter(
        label=_("Equipment"), choices=YES_NO, method=_bool_choice, empty_label=_("all")
    )
    is_active = django_filters.ChoiceFilter(
        label=_("Active"), choices=YES_NO, method=_bool_choice, empty_label=_("all")
    )

    class Meta:
        model = Product
        fields = ["q", "kind", "is_equipment", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(sku__icontains=value)
            | Q(name__icontains=value)
            | Q(model_number__icontains=value)
            | Q(description__icontains=value)
        )
