"""Forms of the dunning pages: the levels, a dispute, a dunning stop."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerKind
from organizations.forms import StyledFormMixin, not_negative

from .dunning_services import check_letter_text
from .models import DunningLevel


class DunningLevelForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = DunningLevel
        fields = ["enabled", "days", "fee", "payment_days", "text_de", "text_en"]
        widgets = {"text_de": forms.Textarea(attrs={"rows": 3}), "text_en": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        not_negative(self.fields["fee"], _("A fee cannot be negative."))
        self.fields["days"].validators.append(_at_most_a_year)
        self.fields["payment_days"].validators.append(_at_most_a_year)
        hint = _("Placeholders: {customer}, {total}, {deadline}, {fee}, {count}.")
        self.fields["text_de"].help_text = hint
        self.fields["text_en"].help_text = hint

    def clean_text_de(self):
        return _checked(self.cleaned_data["text_de"])

    def clean_text_en(self):
        return _checked(self.cleaned_data["text_en"])


def _at_most_a_year(value):
    if value is not None and value > 365:
        raise ValidationError(_("At most 365 days."))


def _checked(text: str) -> str:
    check_letter_text(text)
    return text


class DisputeForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("note"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the customer disputes. The invoice is not dunned while the dispute is open."),
    )
    since = forms.DateField(label=_("disputed since"))


class DunningStopForm(StyledFormMixin, forms.Form):
    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())
    note = forms.CharField(label=_("note"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    since = forms.DateField(label=_("from"))
    until = forms.DateField(label=_("until"), required=False, help_text=_("Empty: until lifted."))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(
            organization=organization, kind=CustomerKind.CUSTOMER
        ).order_by("name")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The stop cannot end before it begins."))
        return data


class ApproveForm(forms.Form):
    payers = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)

    def __init__(self, *args, payer_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payers"].choices = [(pk, pk) for pk in payer_ids]
        self.fields["payers"].error_messages["required"] = _("Choose at least one customer to dun.")
        self.fields["payers"].error_messages["invalid_choice"] = _(
            "The proposal has changed; please check it again."
        )


__all__ = ["ApproveForm", "DisputeForm", "DunningLevelForm", "DunningStopForm"]
