"""Forms of the payments app: mandates, the collection date, returns, settings."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from folders.models import Folder
from organizations.forms import StyledFormMixin

from .batches import RETURN_REASONS
from .mail import PLACEHOLDERS
from .models import MandateScheme, PaymentChannel, PaymentMailSettings, PaymentSettings


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


MAX_AMOUNT = Decimal("999999999.99")
MONEY_FIELD = {"max_digits": 12, "decimal_places": 2}


def _money(label, *, required=True, minimum=Decimal("0.01")) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        validators=[MinValueValidator(minimum), MaxValueValidator(MAX_AMOUNT)],
        **MONEY_FIELD,
    )


def item_key(item) -> str:
    """ "d<pk>" for an invoice (document), "c<pk>" for a charge."""
    return f"{'c' if item.charge is not None else 'd'}{(item.charge or item.invoice).pk}"


def item_field_name(item) -> str:
    return f"apply_{item_key(item)}"


class PaymentForm(StyledFormMixin, forms.Form):
    """Money received from one payer, with what it pays: one amount field per open item."""

    date = forms.DateField(label=_("Date"))
    amount = _money(_("Amount"))
    channel = forms.ChoiceField(
        label=_("Channel"), choices=PaymentChannel.choices, initial=PaymentChannel.TRANSFER
    )
    reference = forms.CharField(label=_("Reference"), max_length=140, required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, items=(), fixed_amount: bool = False, **kwargs):
        self.items = list(items)
        # Added before the form copies its fields, so the mixin styles them like the others.
        self.base_fields = {
            **self.base_fields,
            **{
                item_field_name(i): _money(i.number, required=False, minimum=Decimal("0")) for i in self.items
            },
        }
        super().__init__(*args, **kwargs)
        for item in self.items:
            field = self.fields[item_field_name(item)]
            field.widget.attrs.update(
                {
                    "class": "form-control form-control-sm num",
                    "data-open": "0" if item.pending_collection else str(item.open),
                }
            )
        if fixed_amount:
            for name in ("amount", "date", "channel", "reference"):
                self.fields[name].disabled = True

    def item_rows(self):
        return [(item, self[item_field_name(item)]) for item in self.items]

    def allocations(self) -> list[tuple[object, Decimal]]:
        result = []
        for item in self.items:
            value = self.cleaned_data.get(item_field_name(item))
            if value:
                result.append((item.invoice or item.charge, value))
        return result

    def clean(self):
        data = super().clean()
        amount = data.get("amount")
        applied = sum((value for _item, value in self.allocations()), Decimal("0"))
        if amount is not None and applied > amount:
            raise forms.ValidationError(_("The amounts applied are more than the payment."))
        return data


class CreditApplyForm(StyledFormMixin, forms.Form):
    item = forms.ChoiceField(label=_("Open item"), choices=())
    amount = _money(_("Amount"))
    date = forms.DateField(label=_("Date"))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = {item_key(i): i for i in items if i.open > 0}
        self.fields["item"].choices = [(key, f"{i.number} ({i.open})") for key, i in self.items.items()]

    def receivable(self):
        item = self.items[self.cleaned_data["item"]]
        return item.invoice or item.charge


class RefundForm(StyledFormMixin, forms.Form):
    amount = _money(_("Amount"))
    date = forms.DateField(label=_("Date"))
    reference = forms.CharField(label=_("Reference"), max_length=140, required=False)


class StatementUploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CAMT file"),
        help_text=_("camt.053 account statement or camt.054 notification (XML), as your bank provides it."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,text/xml,application/xml"}),
    )


class PaymentMailSettingsForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = PaymentMailSettings
        fields = ["enabled", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 9})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        self.fields["subject"].help_text = _(
            "Empty: the standard text in the payer's language. Placeholders: %(names)s"
        ) % {"names": names}
        self.fields["body"].help_text = self.fields["subject"].help_text
