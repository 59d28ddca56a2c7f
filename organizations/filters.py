"""The filter kit every list shares: Bootstrap widgets and bounded parameters.

A filter bar is a plain GET form, so its values come from anyone's URL. A value the form
refuses is left out of the filtering (django-filter drops invalid fields), which is why
every number and date is bounded here: an unbounded `?year=0` or `?customer=10**20`
would otherwise reach the database and fail there.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from .forms import FIRST_YEAR, LAST_YEAR, MAX_PK, DateInput, validate_business_date

YES_NO_VALUES = ("1", "0")
# The choices of a yes/no filter that also offers "all" (its empty label).
YES_NO = [("1", _("yes")), ("0", _("no"))]


def _bound(field: forms.Field, low: int, high: int) -> None:
    field.validators += [MinValueValidator(low), MaxValueValidator(high)]
    field.widget.attrs.setdefault("min", low)
    field.widget.attrs.setdefault("max", high)


class StyledFilterSet(django_filters.FilterSet):
    """Bootstrap classes on the filter widgets; numbers and dates bounded to sane values."""

    @property
    def form(self):
        # Styled when the form is first built, so subclasses can still change their filters
        # in __init__ (django-filter builds the form lazily from them).
        form = super().form
        if not getattr(form, "_styled", False):
            form._styled = True
            self._style(form)
        return form

    def _style(self, form) -> None:
        for name, field in form.fields.items():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            if isinstance(field, forms.DateField) and not isinstance(field.widget, DateInput):
                # The same German date field as in the forms, not the browser's format.
                field.widget = DateInput(attrs=field.widget.attrs)
            field.widget.attrs["class"] = css
            lookup = getattr(self.filters.get(name), "lookup_expr", "")
            if isinstance(field, forms.DateField):
                field.validators.append(validate_business_date)
            elif isinstance(field, forms.DecimalField | forms.IntegerField | forms.FloatField):
                if lookup == "year":
                    _bound(field, FIRST_YEAR, LAST_YEAR)
                else:
                    _bound(field, 0, MAX_PK)
