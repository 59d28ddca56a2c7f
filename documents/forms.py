from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from documents import texts
from organizations.forms import StyledFormMixin

from .models import Document
from .selectors import credit_notes_of


class QuoteCreateForm(StyledFormMixin, forms.Form):
    valid_until = forms.DateField(label=_("valid until"))
    intro_text = forms.CharField(
        label=_("introduction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Empty: the standard greeting in the customer's language."),
    )
    terms = forms.CharField(
        label=_("additional terms"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Printed after the validity and price terms."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_until"].initial = timezone.localdate() + dt.timedelta(days=30)

    def clean_valid_until(self):
        value = self.cleaned_data["valid_until"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The validity date cannot be in the past."))
        if value > timezone.localdate() + dt.timedelta(days=366):
            raise forms.ValidationError(_("A quote can be valid for at most one year."))
        return value


class EquipmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        title = (
            (obj.line.description or "").strip().splitlines()[0] if obj.line.description else str(obj.line)
        )
        serial = obj.serial_number or _("no serial number")
        return f"{title} · {serial}"


class DeliveryNoteForm(StyledFormMixin, forms.Form):
    equipment = EquipmentChoiceField(
        label=_("delivered pieces"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one piece of equipment to deliver.")},
    )
    delivery_date = forms.DateField(label=_("delivery date"))

    def __init__(self, *args, equipment_qs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment"].queryset = equipment_qs
        self.fields["equipment"].widget.attrs["class"] = "form-check-input"
        self.fields["delivery_date"].initial = timezone.localdate()

    def clean_delivery_date(self):
        value = self.cleaned_data["delivery_date"]
        if value > timezone.localdate() + dt.timedelta(days=60):
            raise forms.ValidationError(_("The delivery date is too far in the future."))
        return value


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Printed on the credit note and kept in the history."),
    )


class DeclineForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)


class CreditNoteForm(StyledFormMixin, forms.Form):
    MODE_LINES = "lines"
    MODE_AMOUNT = "amount"

    mode = forms.ChoiceField(
        label=_("credit"),
        choices=[(MODE_LINES, _("chosen lines in full")), (MODE_AMOUNT, _("an amount"))],
        widget=forms.RadioSelect,
        initial=MODE_LINES,
    )
    lines = forms.TypedMultipleChoiceField(
        label=_("lines"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    amount = forms.DecimalField(
        label=_("net amount"), required=False, max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    tax_rate = forms.TypedChoiceField(label=_("VAT rate"), coerce=Decimal, required=False)
    reason = forms.CharField(
        label=_("reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Printed on the credit note and kept in the history."),
    )

    def __init__(self, *args, invoice: Document, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        lang = texts.lang_of((get_language() or "de")[:2])
        credited = {
            line.reverses_id
            for credit in credit_notes_of(invoice)
            for line in credit.lines.all()
            if line.reverses_id
        }
        self.fields["lines"].choices = [
            (line.pk, f"{line.position}. {line.description} – {texts.eur(lang, line.net or 0)}")
            for line in invoice.lines.all()
            if line.unit_price is not None and line.pk not in credited
        ]
        rates = [Decimal(g["rate"]) for g in invoice.tax_breakdown]
        self.fields["tax_rate"].choices = [(str(rate), texts.percent(lang, rate)) for rate in rates]
        if rates:
            self.fields["tax_rate"].initial = str(rates[0])
        self.fields["mode"].widget.attrs["class"] = "form-check-input"
        self.fields["lines"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        if data.get("mode") == self.MODE_LINES:
            if not data.get("lines"):
                self.add_error("lines", _("Choose the lines to credit."))
        elif data.get("mode") == self.MODE_AMOUNT:
            if data.get("amount") is None:
                self.add_error("amount", _("Enter the net amount to credit."))
            if data.get("tax_rate") in (None, ""):
                self.add_error("tax_rate", _("Choose the VAT rate of the amount."))
        return data
