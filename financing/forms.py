from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.forms import TenantModelForm
from customers.models import Customer
from folders.forms import not_negative
from organizations.collation import german

from .models import ApprovalStatus, Financing


class FinancingForm(TenantModelForm):
    class Meta(TenantModelForm.Meta):
        model = Financing
        fields = [
            "financier",
            "lease_term_months",
            "contract_reference",
            "approval_status",
            "approval_status_on",
            "monthly_rate",
            "residual_value",
            "insurance",
            "insurance_details",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, folder, **kwargs):
        self.folder = folder
        super().__init__(*args, **kwargs)
        # Only this organization's flagged financiers are offered - never another
        # organization's, never the folder's own customer.
        self.fields["financier"].queryset = (
            Customer.objects.filter(organization=self.organization, is_financier=True)
            .exclude(pk=folder.customer_id)
            .order_by(german("name"), "pk")
        )
        self.fields["financier"].empty_label = _("— choose a financier —")
        self.fields["financier"].error_messages["invalid_choice"] = _(
            "Choose a customer of this organization that is flagged as financier."
        )
        not_negative(self.fields["monthly_rate"], _("The lease rate cannot be negative."))
        not_negative(self.fields["residual_value"], _("The residual value cannot be negative."))
        if not self.instance.pk:
            self.initial.setdefault("approval_status", ApprovalStatus.SUBMITTED)

    def clean_financier(self):
        financier = self.cleaned_data.get("financier")
        if financier is not None and financier.pk == self.folder.customer_id:
            raise forms.ValidationError(_("The financier cannot be the folder's own customer."))
        return financier

    def _post_clean(self):
        # Financing.clean() needs the folder (own customer check).
        self.instance.folder = self.folder
        self.instance.organization = self.organization
        super()._post_clean()
