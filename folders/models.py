"""Folders: one per deal, always owned by the END customer.

A folder holds what was sold (one-off lines, with a piece of equipment per unit), what is
billed periodically (recurring lines, versioned when quantity or price change) and the
contract terms. Who pays a line is not stored here: `financing.payer.payer_for(line)`
decides (DESIGN.md section 2).

Documents and billing build on these models. Folders must not import them, so the
links back from documents are plain id/number fields filled through folder services
(`oneoff_lines_mark_invoiced`, `oneoff_lines_mark_delivered`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Cycle, Product, ServicePackage, TaxRate, Unit
from customers.models import Customer, PaymentMethod
from organizations.models import NamedTenantModel, TenantModel, price_field, user_reference
from organizations.money import line_net

from . import terms

ZERO = Decimal("0")
HUNDRED = Decimal("100")
# An equipment line makes one Equipment row per piece; this keeps a typo (3000 instead of
# 3) from creating thousands of rows.
MAX_EQUIPMENT_PIECES = 500
# Terms, notice and lease periods are capped at 20 years: longer ones are typing errors.
MAX_TERM_MONTHS = 240


class FolderStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    ACTIVE = "active", _("active")
    SUSPENDED = "suspended", _("suspended")
    TERMINATED = "terminated", _("terminated")


class Timing(models.TextChoices):
    ADVANCE = "advance", _("in advance")
    ARREARS = "arrears", _("in arrears")


class Folder(TenantModel):
    """One deal with one end customer: its lines, equipment, contract terms and billing
    settings. A financed folder keeps its customer; the financier is linked through
    `financing.Financing` (never a copy of the customer)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="folders",
        help_text=_("The end customer who uses the equipment and services (never the financier)."),
    )
    number = models.CharField(
        _("folder number"), max_length=30, help_text=_("Sequential per organization (number range “folder”).")
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=12, choices=FolderStatus.choices, default=FolderStatus.DRAFT
    )
    notes = models.TextField(_("internal notes"), blank=True)

    # Delivery address: copied from the customer when the folder is created, then kept
    # per folder (equipment is installed at a site, which may differ from the billing
    # address). Empty street/city = the customer's address.
    delivery_name = models.CharField(_("delivery recipient"), max_length=200, blank=True)
    delivery_street = models.CharField(_("delivery street and number"), max_length=200, blank=True)
    delivery_postal_code = models.CharField(_("delivery postal code"), max_length=10, blank=True)
    delivery_city = models.CharField(_("delivery city"), max_length=100, blank=True)
    delivery_country = models.CharField(_("delivery country"), max_length=2, default="DE", blank=True)
    # The customer's site the address above was taken from (choosing one fills the fields).
    delivery_site = models.ForeignKey(
        "customers.DeliverySite",
        verbose_name=_("delivery site"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="folders",
    )

    # Contract terms (arithmetic in folders/terms.py).
    start_date = models.DateField(
        _("start date"),
        null=True,
        blank=True,
        help_text=_("First day of the contract; set on activation if empty."),
    )
    minimum_term_months = models.PositiveSmallIntegerField(
        _("minimum term (months)"),
        default=0,
        validators=[MaxValueValidator(MAX_TERM_MONTHS)],
        help_text=_("0 = no minimum term."),
    )
    notice_period_months = models.PositiveSmallIntegerField(
        _("notice period (months)"), default=0, validators=[MaxValueValidator(MAX_TERM_MONTHS)]
    )
    auto_renew = models.BooleanField(
        _("automatic renewal"),
        default=False,
        help_text=_("Renews after the minimum term unless notice is given."),
    )
    renewal_term_months = models.PositiveSmallIntegerField(
        _("renewal term (months)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_TERM_MONTHS)],
        help_text=_("Empty: the minimum term, at most 12 months."),
    )
    end_date = models.DateField(
        _("end date"),
        null=True,
        blank=True,
        help_text=_("Last day of the contract (fixed, or computed from a cancellation)."),
    )
    cancellation_received_on = models.DateField(
        _("notice received on"),
        null=True,
        blank=True,
        help_text=_(
            "Date the customer's notice of cancellation arrived; the end date follows from the terms."
        ),
    )
    contract_end = models.DateField(
        _("contract end"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Derived, for lists and alerts: the end date if set, otherwise the end of the term in force. "
            "Kept current by the folder services and folders_refresh_contract_ends()."
        ),
    )

    # Billing settings (read by the billing engine).
    payment_method = models.CharField(
        _("payment method"),
        max_length=20,
        choices=PaymentMethod.choices,
        blank=True,
        help_text=_("Empty: the customer's default payment method."),
    )
    billing_hold = models.BooleanField(
        _("billing hold"),
        default=False,
        help_text=_("Billing runs skip this folder while the hold is active."),
    )
    billing_hold_reason = models.CharField(_("reason for the billing hold"), max_length=200, blank=True)
    billing_hold_until = models.DateField(
        _("billing hold until"),
        null=True,
        blank=True,
        help_text=_("Last day of the hold; empty = until lifted."),
    )
    billing_day = models.PositiveSmallIntegerField(
        _("billing day"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("Day of the month on which periods start (1-28). Empty: the organization's billing day."),
    )
    next_billing_not_before = models.DateField(
        _("next billing not before"),
        null=True,
        blank=True,
        help_text=_("Billing runs before this date skip the folder (e.g. installation not finished)."),
    )
    owner = user_reference(_("account manager"))
    auto_renewal_quote = models.BooleanField(
        _("renewal quote"),
        default=False,
        help_text=_("Create a quote for the renewal automatically before the term ends."),
    )
    alert_days_before_end = models.PositiveSmallIntegerField(
        _("alert days before term end"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(730)],
        help_text=_("Create an action for the account manager this many days before the term ends."),
    )

    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    created_by = user_reference()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("folder")
        verbose_name_plural = _("folders")
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="folder_unique_number"),
            models.CheckConstraint(
                condition=Q(billing_day__isnull=True) | Q(billing_day__gte=1, billing_day__lte=28),
                name="folder_billing_day_range",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="folder_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "id"], name="folder_org_status"),
            models.Index(fields=["organization", "contract_end"], name="folder_org_contract_end"),
            models.Index(fields=["organization", "customer", "id"], name="folder_org_customer"),
            models.Index(fields=["organization", "billing_hold"], name="folder_org_hold"),
            models.Index(fields=["organization", "name"], name="folder_org_name"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def clean(self):
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date cannot be before the start date.")
        if self.billing_day is not None and not 1 <= self.billing_day <= 28:
            errors["billing_day"] = _("Choose a day between 1 and 28.")
        if self.billing_hold and not self.billing_hold_reason.strip():
            errors["billing_hold_reason"] = _("Give a reason for the billing hold.")
        if self.renewal_term_months == 0:
            errors["renewal_term_months"] = _("A renewal term needs at least one month (or leave it empty).")
        if (
            self.cancellation_received_on
            and self.start_date
            and self.cancellation_received_on < self.start_date
        ):
            errors["cancellation_received_on"] = _("Notice cannot be received before the start date.")
        if errors:
            raise ValidationError(errors)

    # --- derived values ----------------------------------------------------------------

    @property
    def is_third_party_paid(self) -> bool:
        """True when a financing is attached ("Drittzahler"): its one-off lines are
        billed to the financier (see financing.payer.payer_for)."""
        try:
            return self.financing is not None
        except models.ObjectDoesNotExist:
            return False

    def billing_hold_active(self, today: dt.date) -> bool:
        return self.billing_hold and (self.billing_hold_until is None or self.billing_hold_until >= today)

    @property
    def has_active_hold(self) -> bool:
        return self.billing_hold_active(timezone.localdate())

    def term_end_on(self, today: dt.date) -> dt.date | None:
        """End of the contract term in force on `today` (ignores a fixed end date)."""
        if self.start_date is None:
            return None
        return terms.current_term_end(
            self.start_date, self.minimum_term_months, self.renewal_term_months, self.auto_renew, today
        )

    def compute_contract_end(self, today: dt.date) -> dt.date | None:
        if self.end_date:
            return self.end_date
        return self.term_end_on(today)

    def notice_deadline_on(self, today: dt.date) -> dt.date | None:
        """Last day to give notice so that the contract ends with the term in force."""
        if self.end_date:
            return None
        end = self.term_end_on(today)
        if end is None:
            return None
        return terms.notice_deadline(end, self.notice_period_months)

    @property
    def delivery_address_lines(self) -> list[str]:
        """Where the equipment goes (delivery note): the folder's site, else the customer's address."""
        if self.delivery_street or self.delivery_city:
            lines = [
                self.delivery_name or self.customer.name,
                self.delivery_street,
                f"{self.delivery_postal_code} {self.delivery_city}".strip(),
            ]
            if self.delivery_country and self.delivery_country != "DE":
                lines.append(self.delivery_country)
            return [line for line in lines if line]
        return [self.customer.name, *self.customer.address_lines]


def quantity_field() -> models.DecimalField:
    """The quantity of a folder line or template item: one by default, up to three decimals
    (hours, metres)."""
    return models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(ZERO)],
    )


def tax_rate_field() -> models.ForeignKey:
    return models.ForeignKey(TaxRate, verbose_name=_("tax rate"), on_delete=models.PROTECT, related_name="+")


# A quantity above zero and a price not below it, per model ("%(class)s": its own names).
QUANTITY_POSITIVE = models.CheckConstraint(condition=Q(quantity__gt=0), name="%(class)s_quantity_positive")
PRICE_NOT_NEGATIVE = models.CheckConstraint(
    condition=Q(unit_price__gte=0), name="%(class)s_price_not_negative"
)


class FolderLine(TenantModel):
    """What a folder's one-off and recurring lines share: their order on the folder, the
    text they show by, and the checks of their `quantity` and `unit_price` (which each
    declares itself, so that its fields keep their own order and labels)."""

    class Meta:
        abstract = True
        ordering = ["position", "id"]
        constraints = [QUANTITY_POSITIVE, PRICE_NOT_NEGATIVE]

    def __str__(self) -> str:
        return self.description.splitlines()[0][:80] if self.description else f"#{self.pk}"

    def amount_errors(self) -> dict[str, str]:
        """clean()'s errors about the quantity and the price, by field."""
        errors = {}
        if self.quantity is not None and self.quantity <= 0:
            errors["quantity"] = _("The quantity must be greater than zero.")
        if self.unit_price is not None and self.unit_price < 0:
            errors["unit_price"] = _("The price cannot be negative.")
        return errors


class OneOffLine(FolderLine):
    """Something sold once (hardware, installation). Its text and price are copied from
    the catalog when added and then belong to the line. Once invoiced the line is frozen.

    Equipment lines (`is_equipment`) have one `Equipment` row per piece.
    """

    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="oneoff_lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Optional: the catalog product this line was taken from."),
    )
    description = models.TextField(_("description"))
    quantity = quantity_field()
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    unit_price = price_field(_("net unit price"))
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(HUNDRED)],
    )
    tax_rate = tax_rate_field()
    is_equipment = models.BooleanField(
        _("equipment"),
        default=False,
        help_text=_("One piece per unit, each with serial number and warranty; listed on delivery notes."),
    )

    # Filled by the documents app through folders.services (folders must not import it).
    invoice_document_id = models.BigIntegerField(
        _("invoice (id)"),
        null=True,
        blank=True,
        help_text=_("Id of the documents.Document that billed this line."),
    )
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True)
    invoiced_on = models.DateField(_("invoiced on"), null=True, blank=True)
    delivery_document_id = models.BigIntegerField(
        _("delivery note (id)"),
        null=True,
        blank=True,
        help_text=_("Id of the delivery note listing this line."),
    )
    delivery_note_number = models.CharField(_("delivery note number"), max_length=40, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(FolderLine.Meta):
        verbose_name = _("one-off line")
        verbose_name_plural = _("one-off lines")
        constraints = [
            *FolderLine.Meta.constraints,
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="oneoffline_discount_range",
            ),
        ]
        indexes = [models.Index(fields=["organization", "invoice_document_id"], name="oneoff_org_invoice")]

    def clean(self):
        errors = self.amount_errors()
        if self.is_equipment and self.quantity is not None and self.quantity > 0:
            if self.quantity != self.quantity.to_integral_value():
                errors["quantity"] = _("Equipment is counted in whole pieces.")
            elif self.quantity > MAX_EQUIPMENT_PIECES:
                errors["quantity"] = _("At most %(max)s pieces per equipment line.") % {
                    "max": MAX_EQUIPMENT_PIECES
                }
        if errors:
            raise ValidationError(errors)

    @property
    def net_amount(self) -> Decimal:
        return line_net(self.quantity, self.unit_price, self.discount_percent)

    @property
    def pieces(self) -> int:
        return int(self.quantity) if self.is_equipment else 0

    @property
    def is_invoiced(self) -> bool:
        return self.invoice_document_id is not None

    @property
    def is_delivered(self) -> bool:
        return self.delivery_document_id is not None or self.delivered_on is not None


class WarrantyStatus(models.TextChoices):
    VALID = "valid", _("valid")
    EXPIRED = "expired", _("expired")
    UNKNOWN = "unknown", _("unknown")


class Equipment(TenantModel):
    """One physical piece of an equipment line (quantity 3 = three rows), so every
    copier, phone or server has its own serial number, warranty and delivery date."""

    line = models.ForeignKey(OneOffLine, on_delete=models.CASCADE, related_name="equipment")
    piece = models.PositiveIntegerField(_("piece"), default=1, help_text=_("1..quantity within the line."))
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    model_number = models.CharField(_("model number"), max_length=80, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["line_id", "piece"]
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        constraints = [
            models.UniqueConstraint(fields=["line", "piece"], name="equipment_unique_piece"),
        ]
        indexes = [models.Index(fields=["organization", "serial_number"], name="equipment_org_serial")]

    def __str__(self) -> str:
        return self.serial_number or f"{self.line} #{self.piece}"

    def warranty_status(self, today: dt.date) -> str:
        if self.warranty_end is None:
            return WarrantyStatus.UNKNOWN
        return WarrantyStatus.VALID if self.warranty_end >= today else WarrantyStatus.EXPIRED


class RecurringLine(FolderLine):
    """A service billed every cycle (SIP trunk, hosting, maintenance package).

    `quantity` and `unit_price` hold the newest version; every mid-term change of either
    is kept as a `RecurringLineChange`, so billing can prorate per version
    (folders.selectors.recurring_line_segments). `billed_through` is moved forward by the
    billing engine only, in the transaction that stores the invoice.
    """

    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="recurring_lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_package = models.ForeignKey(
        ServicePackage,
        verbose_name=_("service package"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A maintenance contract sold as this line (instead of a product)."),
    )
    description = models.TextField(_("description"))
    quantity = quantity_field()
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    unit_price = price_field(
        _("price per cycle"), help_text=_("Net price per unit for one full billing cycle.")
    )
    cycle = models.PositiveSmallIntegerField(_("billing cycle"), choices=Cycle.choices, default=Cycle.MONTHLY)
    timing = models.CharField(
        _("billing timing"), max_length=8, choices=Timing.choices, default=Timing.ADVANCE
    )
    start_date = models.DateField(_("start date"), help_text=_("First day of service."))
    end_date = models.DateField(
        _("end date"), null=True, blank=True, help_text=_("Last day of service (inclusive).")
    )
    trial_end = models.DateField(
        _("trial until"),
        null=True,
        blank=True,
        help_text=_("Last free day (inclusive); billing starts the day after."),
    )
    setup_fee = price_field(
        _("setup fee"), default=ZERO, help_text=_("Charged once with the first billed period.")
    )
    tax_rate = tax_rate_field()
    billed_through = models.DateField(
        _("billed through"),
        null=True,
        blank=True,
        help_text=_("Last day already invoiced; set by the billing run only."),
    )
    billed_elsewhere_through = models.DateField(
        _("billed by an earlier system through"),
        null=True,
        blank=True,
        help_text=_(
            "Set when the line is taken over from an earlier billing system: the days up to the end "
            "of this date's period, and the setup fee, were invoiced there and are never billed here."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(FolderLine.Meta):
        verbose_name = _("recurring line")
        verbose_name_plural = _("recurring lines")
        constraints = [
            *FolderLine.Meta.constraints,
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="recurringline_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(service_package__isnull=True),
                name="recurringline_product_or_package",
            ),
        ]
        indexes = [models.Index(fields=["organization", "start_date"], name="recurring_org_start")]

    def clean(self):
        errors = self.amount_errors()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date cannot be before the start date.")
        if self.start_date and self.trial_end and self.trial_end < self.start_date:
            errors["trial_end"] = _("The trial cannot end before the start date.")
        if self.product_id and self.service_package_id:
            errors["service_package"] = _("A line sells either a product or a service package, not both.")
        if errors:
            raise ValidationError(errors)

    @property
    def net_amount(self) -> Decimal:
        """Net per full cycle at the newest quantity and price."""
        return line_net(self.quantity, self.unit_price)


class RecurringLineChange(TenantModel):
    """A new version of a recurring line's quantity and price from `effective_from` on.

    The previous values are kept too, so the first version is known without a row of its
    own. Billing prorates by these versions; its idempotency key includes the change id.
    """

    line = models.ForeignKey(RecurringLine, on_delete=models.CASCADE, related_name="changes")
    effective_from = models.DateField(_("effective from"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("price per cycle"), max_digits=12, decimal_places=2)
    previous_quantity = models.DecimalField(_("previous quantity"), max_digits=12, decimal_places=3)
    previous_unit_price = models.DecimalField(_("previous price per cycle"), max_digits=12, decimal_places=2)
    created_by = user_reference()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_from", "id"]
        verbose_name = _("recurring line change")
        verbose_name_plural = _("recurring line changes")
        constraints = [QUANTITY_POSITIVE, PRICE_NOT_NEGATIVE]

    def __str__(self) -> str:
        return f"{self.line}: {self.quantity} × {self.unit_price} ab {self.effective_from}"


class FolderTemplate(NamedTenantModel):
    """A "standard installation": a named bundle of products a folder can be created from."""

    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(NamedTenantModel.Meta):
        verbose_name = _("standard installation")
        verbose_name_plural = _("standard installations")


class FolderTemplateItem(TenantModel):
    template = models.ForeignKey(FolderTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = quantity_field()
    include_service_package = models.BooleanField(
        _("with service package"),
        default=True,
        help_text=_("Also add the product's offered service package as a recurring line."),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("standard installation item")
        verbose_name_plural = _("standard installation items")
        constraints = [QUANTITY_POSITIVE]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"
