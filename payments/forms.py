"""Forms of the payments app: mandates, the collection date, returns, settings."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from folders.models import Folder
from organizations.forms import StyledFormMixin

from .batches import RETURN_REASONS
from .models import MandateScheme, PaymentSettings


class MandateAmendForm(StyledFormMixin, forms.Form):
    reference = forms.CharField(
        label=_("Mandate reference"),
        max_length=35,
        help_text=_("Letters A-Z, digits and + ? / - : ( ) . , ' (at most 35 characters)."),
    )
    debtor_name = forms.CharField(label=_("Account holder"), max_length=70)
    iban = forms.CharField(label=_("IBAN"), max_length=42)
    bic = forms.CharField(
        label=_("BIC"), max_length=11, required=False, help_text=_("Empty: the bank's BIC.")
    )
    prenotification_days = forms.IntegerField(
        label=_("Agreed pre-notification (days)"),
        required=False,
        min_value=1,
        max_value=60,
        help_text=_("Only when agreed with the debtor; empty: the organization's period."),
    )


class MandateForm(MandateAmendForm):
    signed_on = forms.DateField(label=_("Signed on"))
    scheme = forms.ChoiceField(label=_("Scheme"), choices=MandateScheme.choices, initial=MandateScheme.CORE)
    folder = forms.ModelChoiceField(
        label=_("Only for folder"),
        queryset=Folder.objects.none(),
        required=False,
        help_text=_("For a folder whose payment method differs from the customer's."),
    )

    field_order = [
        "reference",
        "signed_on",
        "scheme",
        "debtor_name",
        "iban",
        "bic",
        "folder",
        "prenotification_days",
    ]

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["folder"].queryset = Folder.objects.filter(customer=customer).order_by("number")


class BatchDateForm(StyledFormMixin, forms.Form):
    date = forms.DateField(label=_("Collection date"))


class ReturnForm(StyledFormMixin, forms.Form):
    reason = forms.ChoiceField(label=_("Return reason"), choices=RETURN_REASONS)
    date = forms.DateField(label=_("Returned on"))


class PaymentSettingsForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = PaymentSettings
        fields = ["lead_time_days", "prenotification_days", "return_fee"]
