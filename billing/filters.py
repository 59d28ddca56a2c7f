from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BillingRun, RunStatus


class BillingRunFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RunStatus.choices, empty_label=_("all"))
    year = django_filters.NumberFilter(label=_("Year"), field_name="period", lookup_expr="year")

    class Meta:
        model = BillingRun
        fields = ["status", "year"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if select else "form-control form-control-sm"
            )
        self.form.fields["year"].widget.attrs.update({"min": 2000, "max": 2100})
