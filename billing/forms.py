from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from organizations.forms import StyledFormMixin

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_choices(around: dt.date, *, back: int = 24, ahead: int = 2) -> list[tuple[str, str]]:
    """The months a clerk picks from, newest first, named in the active language ("Dezember
    2026"): a browser's month picker would name them in the browser's language instead."""
    first = around.replace(day=1)
    months = []
    for offset in range(ahead, -back - 1, -1):
        index = first.year * 12 + first.month - 1 + offset
        month = dt.date(index // 12, index % 12 + 1, 1)
        months.append((month_value(month), date_format(month, "F Y")))
    return months


class PeriodForm(StyledFormMixin, forms.Form):
    """The month of a billing run, picked from a list (sent as YYYY-MM; any valid month is
    accepted, the list only offers the usual ones)."""

    period = forms.CharField(
        label=_("Billing month"),
        widget=forms.Select(),
        help_text=_(
            "In-advance lines are billed for the period starting in this month, in-arrears lines for the one that ended."
        ),
        error_messages={"required": _("Choose the month to bill.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = month_choices(default_period())
        wanted = self.data.get("period") if self.is_bound else None
        if wanted and _MONTH.match(str(wanted)) and wanted not in dict(choices):
            choices.insert(0, (wanted, wanted))
        self.fields["period"].widget.choices = choices

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
