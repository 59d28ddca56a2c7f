from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.forms import StyledFormMixin

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthInput(forms.TextInput):
    input_type = "month"


class PeriodForm(StyledFormMixin, forms.Form):
    """The month of a billing run (YYYY-MM, the browser's month picker)."""

    period = forms.CharField(
        label=_("Billing month"),
        widget=MonthInput(attrs={"placeholder": "2026-11"}),
        help_text=_(
            "In-advance lines are billed for the period starting in this month, in-arrears lines for the one that ended."
        ),
        error_messages={"required": _("Choose the month to bill.")},
    )

    def clean_period(self) -> dt.date:
        value = (self.cleaned_data.get("period") or "").strip()
        match = _MONTH.match(value)
        if not match:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-11."), code="invalid")
        year, month = int(match.group(1)), int(match.group(2))
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-11."), code="invalid")
        return dt.date(year, month, 1)


def month_value(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def default_period() -> dt.date:
    return timezone.localdate().replace(day=1)
