from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from organizations.filters import StyledFilterSet

from .models import BillingRun, RunStatus


class BillingRunFilter(StyledFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RunStatus.choices, empty_label=_("all"))
    year = django_filters.NumberFilter(label=_("Year"), field_name="period", lookup_expr="year")

    class Meta:
        model = BillingRun
        fields = ["status", "year"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["year"].widget.attrs.update({"min": 2000, "max": 2100})
