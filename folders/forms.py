from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MinValueValidator
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from catalog.models import Product, ProductKind, ServicePackage, TaxRate
from customers.models import COUNTRIES, DeliverySite
from organizations.collation import german
from organizations.forms import (
    ContactDataFormMixin,
    KeyedRowMixin,
    StyledFormMixin,
    TenantModelForm,
    not_negative,
)
from organizations.templatetags.ui import money

from .lines import ONEOFF_FIELDS
from .models import Equipment, Folder, FolderTemplate, FolderTemplateItem, OneOffLine, RecurringLine

User = get_user_model()
ZERO = Decimal("0")

NEGATIVE_PRICE = _("The price cannot be negative.")
QUANTITY_POSITIVE = _("The quantity must be greater than zero.")


def _positive(field: forms.Field) -> None:
    field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator)]
    field.validators.append(MinValueValidator(Decimal("0.001"), message=QUANTITY_POSITIVE))


def _with_current(qs, current_id):
    """Active choices plus the one already selected (an inactive product stays visible
    on the line that uses it)."""
    if current_id:
        return (qs | qs.model.objects.filter(pk=current_id)).distinct()
    return qs


def member_choices(organization):
    return User.objects.filter(memberships__organization=organization, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class FolderForm(ContactDataFormMixin, TenantModelForm):
    postal_code_field = "delivery_postal_code"
    country_field = "delivery_country"

    class Meta(TenantModelForm.Meta):
        model = Folder
        fields = [
            "name",
            "owner",
            "start_date",
            "minimum_term_months",
            "notice_period_months",
            "auto_renew",
            "renewal_term_months",
            "end_date",
            "delivery_site",
            "delivery_name",
            "delivery_street",
            "delivery_postal_code",
            "delivery_city",
            "delivery_country",
            "payment_method",
            "billing_day",
            "next_billing_not_before",
            "billing_hold",
            "billing_hold_reason",
            "billing_hold_until",
            "auto_renewal_quote",
            "alert_days_before_end",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"owner": UserChoiceField}

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = member_choices(self.organization)
        self.fields["delivery_country"] = forms.ChoiceField(
            label=Folder._meta.get_field("delivery_country").verbose_name,
            choices=COUNTRIES,
            required=False,
            initial="DE",
        )
        self.fields["payment_method"].choices = [("", _("as the customer (default)"))] + [
            c for c in self.fields["payment_method"].choices if c[0]
        ]
        self.fields["payment_method"].widget.attrs["class"] = "form-select"
        self.fields["delivery_country"].widget.attrs["class"] = "form-select"
        # Only the folder's customer's sites; choosing one fills the address below (on save).
        owner_customer = customer if customer is not None else getattr(self.instance, "customer", None)
        sites = DeliverySite.objects.filter(organization=self.organization, customer=owner_customer)
        self.fields["delivery_site"].queryset = sites
        self.fields["delivery_site"].widget.attrs["class"] = "form-select"
        self.fields["delivery_site"].empty_label = _("— own address for this folder —")
        self.fields["delivery_site"].help_text = _(
            "Choosing a delivery address of the customer takes over its address when saving."
        )
        if customer is not None and not self.instance.pk:
            default_site = next((site for site in sites if site.is_default), None)
            if default_site is not None:
                self.initial.setdefault("delivery_site", default_site.pk)
                for name, value in default_site.folder_address().items():
                    self.initial.setdefault(name, value)
            self.initial.setdefault("delivery_name", customer.name)
            self.initial.setdefault("delivery_street", customer.street)
            self.initial.setdefault("delivery_postal_code", customer.postal_code)
            self.initial.setdefault("delivery_city", customer.city)
            self.initial.setdefault("delivery_country", customer.country or "DE")
            if customer.owner_id:
                self.initial.setdefault("owner", customer.owner_id)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        if data.get("billing_hold") and not (data.get("billing_hold_reason") or "").strip():
            self.add_error("billing_hold_reason", _("Give a reason for the billing hold."))
        day = data.get("billing_day")
        if day is not None and not 1 <= day <= 28:
            self.add_error("billing_day", _("Choose a day between 1 and 28."))
        return data

    def clean_delivery_country(self):
        return self.cleaned_data.get("delivery_country") or "DE"


class FolderCancelForm(StyledFormMixin, forms.Form):
    notice_received_on = forms.DateField(label=_("notice received on"))


class FolderTerminateForm(StyledFormMixin, forms.Form):
    end_date = forms.DateField(
        label=_("end date"),
        required=False,
        help_text=_("Last day of service. Empty: today (or the end date already set)."),
    )


class FolderSuspendForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class FolderFromTemplateForm(StyledFormMixin, forms.Form):
    template = forms.ModelChoiceField(
        label=_("standard installation"), queryset=FolderTemplate.objects.none()
    )
    name = forms.CharField(
        label=_("folder name"), max_length=200, required=False, help_text=_("Empty: the template's name.")
    )
    start_date = forms.DateField(label=_("start date"), required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = FolderTemplate.objects.filter(
            organization=organization, is_active=True
        )
        self.fields["template"].widget.attrs["class"] = "form-select"


# --- lines ---------------------------------------------------------------------------


class _LineForm(TenantModelForm):
    """Shared set-up: catalog choices of the organization, clear money messages."""

    product_kind = ProductKind.ONE_OFF

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        products = Product.objects.filter(
            organization=self.organization, is_active=True, kind=self.product_kind
        )
        self.fields["product"].queryset = _with_current(
            products.order_by(german("name"), "pk"), self.instance.product_id
        )
        self.fields["product"].label_from_instance = lambda p: f"{p.name} ({p.sku})"
        self.fields["product"].required = False
        self.fields["product"].help_text = ""
        rates = TaxRate.objects.filter(organization=self.organization, is_active=True)
        self.fields["tax_rate"].queryset = _with_current(rates, self.instance.tax_rate_id)
        self.fields["tax_rate"].empty_label = None
        if not self.instance.pk and not self.initial.get("tax_rate"):
            from catalog.services import tax_rate_default

            default = tax_rate_default(organization=self.organization)
            if default:
                self.initial["tax_rate"] = default.pk
        self.fields["description"].widget.attrs["rows"] = 2
        _positive(self.fields["quantity"])
        not_negative(self.fields["unit_price"], NEGATIVE_PRICE)


class OneOffLineForm(_LineForm):
    add_service_package = forms.BooleanField(required=False)

    class Meta(TenantModelForm.Meta):
        model = OneOffLine
        fields = ONEOFF_FIELDS  # exactly what the line service writes
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        not_negative(self.fields["discount_percent"], _("The discount cannot be negative."))
        self.offered_package = None
        product = self._selected_product()
        if product is not None and product.service_package_id and not self.instance.pk:
            package = product.service_package
            if package.is_active:
                self.offered_package = package
                self.fields["add_service_package"].label = _("Add maintenance package “%(name)s”") % {
                    "name": package.name
                }
                self.fields["add_service_package"].help_text = _(
                    "Offered with this product: %(price)s %(cycle)s, as a recurring line of this folder."
                ) % {"price": money(package.price), "cycle": package.get_cycle_display()}
                self.fields["add_service_package"].widget.attrs["class"] = "form-check-input"
        if self.offered_package is None:
            del self.fields["add_service_package"]

    def _selected_product(self):
        raw = (self.data.get(self.add_prefix("product")) if self.is_bound else None) or self.initial.get(
            "product"
        )
        if hasattr(raw, "pk"):
            raw = raw.pk
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            return None
        return (
            Product.objects.filter(organization=self.organization, pk=pk)
            .select_related("service_package")
            .first()
        )

    def clean_discount_percent(self):
        value = self.cleaned_data.get("discount_percent")
        if value is None:
            return ZERO
        if value > 100:
            raise forms.ValidationError(_("A discount cannot exceed 100 %."))
        return value


class RecurringLineForm(_LineForm):
    product_kind = ProductKind.RECURRING
    effective_from = forms.DateField(
        label=_("change applies from"),
        required=False,
        help_text=_(
            "For a new quantity or price: the first day it applies. Billing prorates the rest of the period."
        ),
    )

    class Meta(TenantModelForm.Meta):
        model = RecurringLine
        fields = [
            "product",
            "service_package",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "cycle",
            "timing",
            "tax_rate",
            "start_date",
            "end_date",
            "trial_end",
            "setup_fee",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        packages = ServicePackage.objects.filter(organization=self.organization, is_active=True)
        self.fields["service_package"].queryset = _with_current(packages, self.instance.service_package_id)
        self.fields["service_package"].required = False
        self.fields["service_package"].help_text = _("Or: sell a maintenance contract as this line.")
        not_negative(self.fields["setup_fee"], _("The setup fee cannot be negative."))
        if not self.instance.pk:
            del self.fields["effective_from"]
        elif self.instance.billed_through:
            for name in (
                "start_date",
                "cycle",
                "timing",
                "trial_end",
                "setup_fee",
                "product",
                "service_package",
            ):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed: the line is billed through %(date)s.") % {
                    "date": date_format(self.instance.billed_through, "SHORT_DATE_FORMAT")
                }

    def clean(self):
        data = super().clean()
        if data.get("product") and data.get("service_package"):
            self.add_error(
                "service_package", _("A line sells either a product or a service package, not both.")
            )
        start, end, trial = data.get("start_date"), data.get("end_date"), data.get("trial_end")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        if start and trial and trial < start:
            self.add_error("trial_end", _("The trial cannot end before the start date."))
        return data


class RecurringChangeForm(StyledFormMixin, forms.Form):
    effective_from = forms.DateField(label=_("effective from"))
    quantity = forms.DecimalField(label=_("quantity"), max_digits=12, decimal_places=3)
    unit_price = forms.DecimalField(label=_("price per cycle"), max_digits=12, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _positive(self.fields["quantity"])
        not_negative(self.fields["unit_price"], NEGATIVE_PRICE)


# --- equipment -----------------------------------------------------------------------


class EquipmentForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Equipment
        fields = ["serial_number", "model_number", "warranty_end", "delivered_on"]

    def __init__(self, *args, may_record_delivery: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] += " form-control-sm"
        if not may_record_delivery:
            # Shown, not editable: the delivery note records it (roles "equipment.deliver").
            self.fields["delivered_on"].disabled = True

    def clean(self):
        data = super().clean()
        if (
            data.get("warranty_end")
            and data.get("delivered_on")
            and data["warranty_end"] < data["delivered_on"]
        ):
            self.add_error("warranty_end", _("The warranty cannot end before delivery."))
        return data


EquipmentFormSet = forms.modelformset_factory(Equipment, form=EquipmentForm, extra=0, can_delete=False)


class SerialPasteForm(StyledFormMixin, forms.Form):
    serials = forms.CharField(
        label=_("paste serial numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "SN-0001\nSN-0002"}),
        help_text=_(
            "One per line (e.g. from a scanner); filled into the pieces without a serial number, in order."
        ),
    )
    confirm_duplicates = forms.BooleanField(label=_("save anyway"), required=False)

    def serial_list(self) -> list[str]:
        text = self.cleaned_data.get("serials") or ""
        return [s.strip() for s in text.replace(",", "\n").replace(";", "\n").splitlines() if s.strip()]


# --- templates -----------------------------------------------------------------------


class FolderTemplateForm(TenantModelForm):
    class Meta(TenantModelForm.Meta):
        model = FolderTemplate
        fields = ["name", "description", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        qs = FolderTemplate.objects.filter(organization=self.organization, name__iexact=name)
        if self.instance.pk:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise forms.ValidationError(
                _("A standard installation named “%(name)s” already exists.") % {"name": name}
            )
        return name


class FolderTemplateItemForm(KeyedRowMixin, TenantModelForm):
    row_key = "product"

    class Meta(TenantModelForm.Meta):
        model = FolderTemplateItem
        fields = ["product", "quantity", "include_service_package"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = _with_current(
            Product.objects.filter(organization=self.organization, is_active=True).order_by(
                "kind", german("name"), "pk"
            ),
            self.instance.product_id,
        )
        self.fields["product"].label_from_instance = lambda p: f"{p.name} ({p.sku})"
        _positive(self.fields["quantity"])


class _TemplateItemFormSet(forms.BaseInlineFormSet):
    """Instantiate with form_kwargs={"organization": ...} (product choices)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not self.rows():
            raise forms.ValidationError(_("Add at least one product."))

    def rows(self) -> list[dict]:
        return [
            {
                "product": f.cleaned_data["product"],
                "quantity": f.cleaned_data.get("quantity"),
                "include_service_package": f.cleaned_data.get("include_service_package", False),
            }
            for f in self.forms
            if getattr(f, "cleaned_data", None)
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("product")
        ]


FolderTemplateItemFormSet = forms.inlineformset_factory(
    FolderTemplate,
    FolderTemplateItem,
    form=FolderTemplateItemForm,
    formset=_TemplateItemFormSet,
    extra=3,
    can_delete=True,
)
