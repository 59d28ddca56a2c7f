"""Forms for customers, contacts, functions, notes and actions.

Forms parse and validate; the services write. Every choice list is built in
``__init__`` from the active organization, so no form ever offers another tenant's rows.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.countries import country_choices
from organizations.forms import (
    ContactDataFormMixin,
    ModelErrorsAtFieldsMixin,
    StyledFormMixin,
    bank_account_clean,
)
from organizations.models import Organization
from organizations.validators import normalize_iban, normalize_vat_id

from .models import (
    Action,
    Contact,
    ContactFunction,
    Customer,
    CustomerKind,
    DeliverySite,
    Note,
    PaymentMethod,
    TaxExemption,
    TaxTreatment,
)
from .selectors import organization_members

MASTER_FIELDS = [
    "kind",
    "name",
    "name_addition",
    "street",
    "postal_code",
    "city",
    "country",
    "email",
    "phone",
    "website",
    "language",
    "owner",
]
COMMERCIAL_FIELDS = [
    "consolidate_invoices",
    "is_financier",
    "tax_treatment",
    "tax_exemption",
    "vat_id",
    "tax_number",
    "payment_terms_days",
    "delivery_method",
    "invoice_email",
    "einvoice_format",
    "einvoice_consent_on",
    "buyer_reference",
    "siret",
    "service_code",
    "engagement_number",
]
PAYMENT_FIELDS = [
    "payment_method",
    "iban",
    "bic",
    "account_holder",
    "mandate_reference",
    "mandate_signed_on",
    "gocardless_mandate_id",
]
# What only matters once a record is billed: a prospect's form leaves these out, together
# with the payment section; they are filled in after the conversion into a customer.
BILLING_FIELDS = [
    "consolidate_invoices",
    "payment_terms_days",
    "delivery_method",
    "invoice_email",
    "einvoice_format",
    "einvoice_consent_on",
    "buyer_reference",
    "siret",
    "service_code",
    "engagement_number",
]
# Selects with a sensible default: not starred, an empty submission keeps the default.
DEFAULTED_FIELDS = (
    "country",
    "language",
    "tax_treatment",
    "payment_method",
    "delivery_method",
    "einvoice_format",
)


def _relax_max_length(field: forms.CharField, length: int) -> None:
    field.max_length = length
    field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.validators.append(MaxLengthValidator(length))
    field.widget.attrs["maxlength"] = str(length)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class CustomerForm(ModelErrorsAtFieldsMixin, ContactDataFormMixin, StyledFormMixin, forms.ModelForm):
    """Create or edit a customer; only the company name (and kind, when creating) is required.

    The payment fields are only part of the form for roles with ``customers.payment``;
    the kind only when creating (afterwards a prospect changes kind by conversion).
    """

    phone_fields = ("phone",)
    website_fields = ("website",)
    postal_code_field = "postal_code"
    country_field = "country"

    SECTIONS = (
        ("master", _("Master data"), MASTER_FIELDS),
        ("commercial", _("Commercial information"), COMMERCIAL_FIELDS),
        ("payment", _("Payment"), PAYMENT_FIELDS),
    )

    # Shown with the possible duplicates once the service found some (see the template).
    duplicate_reason = forms.CharField(
        label=_("Reason for another record"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why this is a different company (recorded in the history)."),
    )

    class Meta:
        model = Customer
        fields = MASTER_FIELDS + COMMERCIAL_FIELDS + PAYMENT_FIELDS
        widgets = {
            "website": forms.TextInput(attrs={"placeholder": "www.example.de"}),
            "iban": forms.TextInput(
                attrs={"placeholder": "DE89 3704 0044 0532 0130 00", "autocomplete": "off"}
            ),
        }

    def __init__(
        self,
        *args,
        organization: Organization,
        parts: tuple[str, ...] = ("master", "commercial", "payment"),
        creating: bool = False,
        **kwargs,
    ):
        self.organization = organization
        super().__init__(*args, **kwargs)
        self.instance.organization = organization
        for key, _title, names in self.SECTIONS:
            if key not in parts:
                for name in names:
                    self.fields.pop(name)
        if self._is_prospect(creating):
            for name in PAYMENT_FIELDS + BILLING_FIELDS:
                self.fields.pop(name, None)
        if creating and "name" in self.fields:
            self.fields["name"].widget.attrs["autofocus"] = True
        if not creating:
            self.fields.pop("kind", None)
        elif "kind" in self.fields:
            self.fields["kind"].choices = CustomerKind.choices
        if "country" in self.fields:
            self.fields["country"] = forms.ChoiceField(
                label=Customer._meta.get_field("country").verbose_name,
                choices=country_choices(self.instance.country if self.instance.pk else None),
                required=False,
                initial="DE",
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.fields["owner"] = UserChoiceField(
                label=Customer._meta.get_field("owner").verbose_name,
                queryset=organization_members(organization=organization),
                required=False,
                empty_label="—",
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        for name in DEFAULTED_FIELDS:
            if name in self.fields:
                self.fields[name].required = False
        if "tax_treatment" in self.fields:
            self._setup_tax_fields()
        if "payment_terms_days" in self.fields:
            self.fields["payment_terms_days"].help_text = _(
                "Empty: the organization's default (%(days)s days)."
            ) % {"days": organization.payment_terms_days}
            self.fields["payment_terms_days"].widget.attrs.update({"min": 0, "max": 365})
            self.fields["delivery_method"].help_text = _(
                "E-mail methods send to the invoice e-mail and to every active contact marked as invoice recipient."
            )
        # Pasted identifiers come with spaces and dots; the length is checked after the
        # clean_* methods have normalised them (by the model field's own validator).
        for name, length in (("iban", 42), ("bic", 14), ("vat_id", 26), ("siret", 20)):
            if name in self.fields:
                _relax_max_length(self.fields[name], length)
        if "iban" in self.fields:
            self.fields["bic"].help_text = _("Filled in from a German IBAN when left empty.")
            self.fields["mandate_signed_on"].widget.attrs["max"] = timezone.localdate().isoformat()
            self.fields["mandate_reference"].help_text = _(
                "Another reference or signature date records a newly signed mandate (the old one is "
                "ended and kept); another IBAN for the same mandate is an amendment the next collection reports."
            )

    def _setup_tax_fields(self) -> None:
        # "Needs review" is what the old checkbox left behind; nobody chooses it, but a
        # record that still has it can be saved unchanged until someone knows the answer.
        choices = [
            (value, label)
            for value, label in TaxTreatment.choices
            if value != TaxTreatment.NEEDS_REVIEW or self.instance.tax_treatment == TaxTreatment.NEEDS_REVIEW
        ]
        self.fields["tax_treatment"].choices = choices
        treatment = self.fields["tax_treatment"]
        treatment.widget.attrs["data-tax-treatment"] = ""
        treatment.help_text = _(
            "German VAT is charged unless a legal reason applies; that reason is printed on every invoice."
        )
        exemption = self.fields["tax_exemption"]
        exemption.choices = [("", "—"), *TaxExemption.choices]
        exemption.help_text = _("Only for “Domestic, VAT-exempt”: the provision printed on the invoice.")
        # Shown only with the exempt treatment (static/js/app.js; without script always shown).
        exemption.widget.attrs["data-show-if-tax-treatment"] = TaxTreatment.EXEMPT

    def _is_prospect(self, creating: bool) -> bool:
        if not creating:
            return self.instance.kind == CustomerKind.PROSPECT
        if "kind" not in self.fields:
            return False
        return self["kind"].value() == CustomerKind.PROSPECT

    def sections(self):
        """Fields grouped as on the detail page (Stammdaten, Kaufmännisch, Zahlung)."""
        for key, title, names in self.SECTIONS:
            fields = [self[name] for name in names if name in self.fields]
            if fields:
                yield {"key": key, "title": title, "fields": fields}

    def _default(self, name: str):
        value = self.cleaned_data.get(name)
        if value in (None, ""):
            if self.instance.pk:
                return getattr(self.instance, name)
            return Customer._meta.get_field(name).get_default()
        return value

    def clean_country(self):
        return self._default("country")

    def clean_language(self):
        return self._default("language")

    def clean_tax_treatment(self):
        return self._default("tax_treatment")

    def clean_payment_method(self):
        return self._default("payment_method")

    def clean_delivery_method(self):
        return self._default("delivery_method")

    def clean_einvoice_format(self):
        return self._default("einvoice_format")

    def clean_buyer_reference(self):
        return (self.cleaned_data.get("buyer_reference") or "").strip()

    def clean_siret(self):
        return "".join((self.cleaned_data.get("siret") or "").split())

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_vat_id(self):
        return normalize_vat_id(self.cleaned_data["vat_id"])

    def clean_iban(self):
        return normalize_iban(self.cleaned_data["iban"])

    def clean_bic(self):
        return self.cleaned_data["bic"].replace(" ", "").upper()

    def clean_mandate_reference(self):
        return self.cleaned_data["mandate_reference"].strip()

    def clean(self):
        data = super().clean()
        if "iban" in self.fields:
            self._clean_payment(data)
        return data

    def _clean_payment(self, data):
        iban = data.get("iban")
        bank_account_clean(self, data)
        if data.get("payment_method") == PaymentMethod.DIRECT_DEBIT and not self.organization.creditor_id:
            self.add_error(
                "payment_method",
                _(
                    "Direct debit needs your organization's SEPA creditor identifier first "
                    "(Organization settings → Bank and SEPA)."
                ),
            )
        if iban and not data.get("account_holder"):
            data["account_holder"] = data.get("name") or self.instance.name


class DeliverySiteForm(ContactDataFormMixin, StyledFormMixin, forms.ModelForm):
    postal_code_field = "postal_code"
    country_field = "country"

    class Meta:
        model = DeliverySite
        fields = ["label", "name", "street", "postal_code", "city", "country"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"] = forms.ChoiceField(
            label=DeliverySite._meta.get_field("country").verbose_name,
            choices=country_choices(self.instance.country if self.instance.pk else None),
            required=False,
            initial="DE",
            widget=forms.Select(attrs={"class": "form-select"}),
        )

    def clean_country(self):
        return self.cleaned_data.get("country") or "DE"

    def clean(self):
        data = super().clean()
        for name in ("label", "name", "street", "postal_code", "city"):
            if isinstance(data.get(name), str):
                data[name] = data[name].strip()
        return data


def payment_form(*args, organization: Organization, **kwargs) -> CustomerForm:
    """The payment section alone (the "Zahlung bearbeiten" page)."""
    return CustomerForm(*args, organization=organization, parts=("payment",), **kwargs)


def _unscoped_formfield(db_field, **kwargs):
    """Foreign keys to tenant rows get their queryset in the form's __init__: building
    it at import time would query outside any organization scope."""
    if db_field.name == "function":
        return forms.ModelChoiceField(
            queryset=None, required=False, label=db_field.verbose_name, widget=forms.Select(), empty_label="—"
        )
    return db_field.formfield(**kwargs)


class ContactForm(ModelErrorsAtFieldsMixin, ContactDataFormMixin, StyledFormMixin, forms.ModelForm):
    phone_fields = ("phone", "mobile")

    class Meta:
        model = Contact
        formfield_callback = _unscoped_formfield
        fields = [
            "salutation",
            "first_name",
            "last_name",
            "function",
            "email",
            "phone",
            "mobile",
            "is_active",
            "is_invoice_recipient",
            "has_portal_access",
        ]

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.organization = organization
        functions = ContactFunction.objects.filter(organization=organization)
        self.fields["function"].queryset = functions
        if not functions.exists():
            self.fields["function"].help_text = _(
                "No functions yet: an administrator sets them up under Configuration → Contact functions."
            )
        self.fields["is_invoice_recipient"].help_text = _(
            "Receives the invoices by e-mail; in the customer portal, may change the invoice e-mail "
            "address and the bank account."
        )
        self.fields["has_portal_access"].help_text = _(
            "May log in to the customer portal: ticking it sends an invitation e-mail with a link to set "
            "a password; unticking it ends the access at once."
        )
        self.fields["is_active"].help_text = _(
            "Only active contacts appear in choice lists and receive messages."
        )

    def contact_country(self) -> str:
        # A contact has no address of its own: numbers are read as dialled in the customer's country.
        customer = self.instance.customer if self.instance.customer_id else None
        return (customer.country if customer else "") or "DE"

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip()


class ContactFunctionForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ContactFunction
        fields = ["name"]

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = ContactFunction.objects.filter(organization=self.organization, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("A function with this name already exists."))
        return name


class NoteForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Note
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write a note first."))
        return text


class ActionForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Action
        fields = ["due_on", "assignee", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = self.instance.pk is None
        self.fields["assignee"] = UserChoiceField(
            label=Action._meta.get_field("assignee").verbose_name,
            queryset=organization_members(organization=organization),
            required=False,
            empty_label="—",
            widget=forms.Select(attrs={"class": "form-select"}),
        )
        if self.creating:
            self.fields["due_on"].widget.attrs["min"] = timezone.localdate().isoformat()

    def clean_due_on(self):
        due_on: dt.date = self.cleaned_data["due_on"]
        # Actions plan the future; an existing action may keep its (now past) date.
        unchanged = not self.creating and due_on == self.instance.due_on
        if due_on < timezone.localdate() and not unchanged:
            raise forms.ValidationError(_("The due date cannot be in the past."))
        return due_on

    def clean_description(self):
        return self.cleaned_data["description"].strip()


class ActionCalendarForm(forms.Form):
    """The action calendar's controls; bad values fall back to defaults in the view."""

    VIEWS = (("month", _("Month")), ("week", _("Week")), ("list", _("List")))

    view = forms.ChoiceField(choices=VIEWS, required=False)
    month = forms.CharField(required=False)
    week = forms.CharField(required=False)
    assignee = UserChoiceField(
        label=_("Assigned to"), queryset=None, required=False, empty_label=_("Everyone")
    )
    open = forms.BooleanField(label=_("Only open"), required=False)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = organization_members(organization=organization)
        self.fields["assignee"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["open"].widget.attrs["class"] = "form-check-input"
