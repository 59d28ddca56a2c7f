from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import NamedTenantModel, TenantModel, price_field

ZERO = Decimal("0")


class Cycle(models.IntegerChoices):
    """Billing cycle, stored as the number of months per period."""

    MONTHLY = 1, _("monthly")
    QUARTERLY = 3, _("quarterly")
    YEARLY = 12, _("yearly")


class TaxRate(NamedTenantModel):
    """A VAT rate the organization uses (19 %, 7 %, 0 %)."""

    name = models.CharField(_("name"), max_length=60)
    rate = models.DecimalField(
        _("rate (%)"), max_digits=5, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    is_default = models.BooleanField(_("default rate"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(NamedTenantModel.Meta):
        ordering = ["-rate", "name"]
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        constraints = [
            *NamedTenantModel.Meta.constraints,
            # One default per organization: new lines and products start with it.
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(is_default=True), name="taxrate_one_default"
            ),
        ]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.rate.normalize():f} %)"


class ProductKind(models.TextChoices):
    ONE_OFF = "one_off", _("one-off")
    RECURRING = "recurring", _("recurring")


class Unit(models.TextChoices):
    """Stored as a code; catalog.units.unit_label gives the word for a quantity and language."""

    PIECE = "piece", _("piece")
    HOUR = "hour", _("hour")
    MONTH = "month", _("month")
    YEAR = "year", _("year")
    PAGE = "page", _("page")
    LICENCE = "licence", _("licence")
    LINE = "line", _("line")
    FLAT = "flat", _("flat rate")


class Product(TenantModel):
    sku = models.CharField(_("SKU"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=ProductKind.choices, default=ProductKind.ONE_OFF
    )
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    unit_price = price_field(
        _("net unit price"),
        help_text=_("Net, per unit. For recurring products: the price per billing cycle."),
    )
    cycle = models.PositiveSmallIntegerField(
        _("billing cycle"),
        choices=Cycle.choices,
        null=True,
        blank=True,
        help_text=_("Only for recurring products."),
    )
    setup_fee = price_field(
        _("setup fee"),
        default=ZERO,
        help_text=_("Charged once with the first period of a recurring product."),
    )
    tax_rate = models.ForeignKey(TaxRate, verbose_name=_("tax rate"), on_delete=models.PROTECT)
    is_equipment = models.BooleanField(
        _("equipment"),
        default=False,
        help_text=_("Goods that carry serial numbers and appear on delivery notes."),
    )
    model_number = models.CharField(_("model number"), max_length=80, blank=True)
    warranty_months = models.PositiveSmallIntegerField(_("warranty (months)"), null=True, blank=True)
    service_package = models.ForeignKey(
        "ServicePackage",
        verbose_name=_("offered service package"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
        help_text=_("Selling this product offers this maintenance package."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["organization", "sku"], name="product_unique_sku"),
        ]
        indexes = [models.Index(fields=["organization", "is_active", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def clean(self):
        errors = {}
        if self.kind == ProductKind.RECURRING and not self.cycle:
            errors["cycle"] = _("A recurring product needs a billing cycle.")
        if self.kind == ProductKind.ONE_OFF:
            self.cycle = None
            # Folder lines bill a setup fee only with a recurring line's first period; on
            # a one-off product it would be kept but never invoiced.
            if self.setup_fee:
                errors["setup_fee"] = _(
                    "A one-off product has no setup fee: include the amount in its price, "
                    "or make the product recurring."
                )
        if errors:
            raise ValidationError(errors)


class ServicePackage(TenantModel):
    """A maintenance contract: a set of entitlements sold at a price per period."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=50)
    description = models.TextField(_("description"), blank=True)
    price = price_field(_("price per period"))
    cycle = models.PositiveSmallIntegerField(_("billing cycle"), choices=Cycle.choices, default=Cycle.MONTHLY)
    tax_rate = models.ForeignKey(TaxRate, verbose_name=_("tax rate"), on_delete=models.PROTECT)
    is_active = models.BooleanField(_("active"), default=True)
    # The support promise of the contract: support tickets of a folder that carries this
    # package are measured against these (calendar hours, see tickets/engine.py).
    response_hours = models.PositiveSmallIntegerField(
        _("guaranteed first response (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8760)],
        help_text=_(
            "Calendar hours from a support ticket's opening to the first reply. Empty = no guarantee."
        ),
    )
    resolution_hours = models.PositiveSmallIntegerField(
        _("guaranteed resolution (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8760)],
        help_text=_(
            "Calendar hours from a support ticket's opening to its resolution. Empty = no guarantee."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("service package")
        verbose_name_plural = _("service packages")
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="servicepackage_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class EntitlementKind(models.TextChoices):
    LABOUR = "labour", _("labour")
    TRAVEL = "travel", _("travel")
    SPARE_PARTS = "spare_parts", _("spare parts")
    HOTLINE = "hotline", _("hotline")
    REPLACEMENT = "replacement", _("replacement device")
    SHIPPING = "shipping", _("shipping")


class Coverage(models.TextChoices):
    INCLUDED = "included", _("included")
    DISCOUNTED = "discounted", _("discounted")
    BILLABLE = "billable", _("billable")


class Scope(models.TextChoices):
    PER_DEVICE = "per_device", _("per device")
    ACROSS_DEVICES = "across_devices", _("across devices")
    PER_CUSTOMER = "per_customer", _("per customer")


class Entitlement(TenantModel):
    package = models.ForeignKey(ServicePackage, on_delete=models.CASCADE, related_name="entitlements")
    kind = models.CharField(_("kind"), max_length=20, choices=EntitlementKind.choices)
    coverage = models.CharField(
        _("coverage"), max_length=12, choices=Coverage.choices, default=Coverage.INCLUDED
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
    )
    response_hours = models.PositiveSmallIntegerField(
        _("guaranteed response time (hours)"), null=True, blank=True
    )
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices, default=Scope.PER_DEVICE)
    service_partner = models.CharField(_("external service partner"), max_length=200, blank=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_coverage_display()})"

    def clean(self):
        if self.coverage == Coverage.DISCOUNTED and not self.discount_percent:
            raise ValidationError(
                {"discount_percent": _("A discounted entitlement needs a discount percentage.")}
            )
        if self.coverage != Coverage.DISCOUNTED and self.discount_percent:
            # Included costs nothing and billable costs the list price: a percentage
            # would be shown on the package but change no price.
            raise ValidationError(
                {
                    "discount_percent": _(
                        "Only a discounted entitlement takes a discount; clear the percentage "
                        "or set the coverage to “discounted”."
                    )
                }
            )
        if self.discount_percent is not None and self.discount_percent > 100:
            raise ValidationError({"discount_percent": _("A discount cannot exceed 100 %.")})
