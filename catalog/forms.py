from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from organizations.forms import KeyedRowMixin, StyledFormMixin, TenantModelForm

from .models import Entitlement, Product, ProductKind, ServicePackage, TaxRate


class TaxRateForm(TenantModelForm):
    class Meta(TenantModelForm.Meta):
        model = TaxRate
        fields = ["name", "rate", "is_default", "is_active"]
        help_texts = {
            "is_default": _("Pre-selected for new products and folder lines."),
            "is_active": _("Inactive rates are no longer offered for new products and lines."),
        }

    def clean_name(self):
        return self._unique("name", _("A tax rate named “%(value)s” already exists."))

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        if rate is not None and rate > 100:
            raise ValidationError(_("A tax rate cannot exceed 100 %."))
        return rate


def _tax_rates(organization, current=None):
    qs = TaxRate.objects.filter(organization=organization, is_active=True)
    if current is not None:
        qs = qs | TaxRate.objects.filter(organization=organization, pk=current)
    return qs.distinct()


class ProductForm(TenantModelForm):
    class Meta(TenantModelForm.Meta):
        model = Product
        fields = [
            "sku",
            "name",
            "description",
            "kind",
            "unit",
            "unit_price",
            "cycle",
            "setup_fee",
            "tax_rate",
            "is_equipment",
            "model_number",
            "warranty_months",
            "service_package",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].queryset = _tax_rates(self.organization, self.instance.tax_rate_id)
        self.fields["tax_rate"].empty_label = None
        packages = ServicePackage.objects.filter(organization=self.organization, is_active=True)
        if self.instance.service_package_id:
            packages = packages | ServicePackage.objects.filter(pk=self.instance.service_package_id)
        self.fields["service_package"].queryset = packages.distinct()
        if not self.instance.pk:
            from .services import tax_rate_default

            default = tax_rate_default(organization=self.organization)
            if default:
                self.initial.setdefault("tax_rate", default.pk)

    def clean_sku(self):
        return self._unique("sku", _("A product with SKU “%(value)s” already exists."))

    def clean(self):
        # The kind's rules (a cycle for recurring products, no setup fee for one-off ones)
        # are Product.clean()'s, which the form runs after this: adding them here as well
        # would show each message twice.
        data = super().clean()
        if data.get("kind") == ProductKind.ONE_OFF:
            data["cycle"] = None
        return data


class ServicePackageForm(TenantModelForm):
    class Meta(TenantModelForm.Meta):
        model = ServicePackage
        fields = [
            "name",
            "code",
            "description",
            "price",
            "cycle",
            "tax_rate",
            "is_active",
            "response_hours",
            "resolution_hours",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"price": _("Net price per unit and billing cycle.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].queryset = _tax_rates(self.organization, self.instance.tax_rate_id)
        self.fields["tax_rate"].empty_label = None
        if not self.instance.pk:
            from .services import tax_rate_default

            default = tax_rate_default(organization=self.organization)
            if default:
                self.initial.setdefault("tax_rate", default.pk)

    def clean_code(self):
        return self._unique("code", _("A service package with code “%(value)s” already exists."))


class EntitlementForm(KeyedRowMixin, StyledFormMixin, forms.ModelForm):
    row_key = "kind"

    class Meta:
        model = Entitlement
        fields = ["kind", "coverage", "discount_percent", "response_hours", "scope", "service_partner"]


class _EntitlementFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kinds = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            kind = form.cleaned_data.get("kind")
            if kind in kinds:
                form.add_error("kind", _("Each kind of entitlement can appear only once per package."))
            kinds.append(kind)

    def rows(self) -> list[dict]:
        return [
            {k: v for k, v in form.cleaned_data.items() if k not in ("DELETE", "id", "package")}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


EntitlementFormSet = forms.inlineformset_factory(
    ServicePackage,
    Entitlement,
    form=EntitlementForm,
    formset=_EntitlementFormSet,
    extra=2,
    can_delete=True,
)
