from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from .roles import Role
from .validators import (
    validate_bic,
    validate_creditor_id,
    validate_iban,
    validate_time_zone,
    validate_vat_id,
)


def price_field(verbose_name, **options) -> models.DecimalField:
    """A price, fee or value in euros and cents (net), never negative."""
    return models.DecimalField(
        verbose_name, max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))], **options
    )


def user_reference(verbose_name=None) -> models.ForeignKey:
    """An optional staff user a row names (who made it, who looks after it). The row
    keeps its place when the user is deleted; users have no reverse accessor, as they
    are shared by all organizations."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class Organization(models.Model):
    """The tenant. Its legal data is printed on every document it issues (§14 UStG)."""

    slug = models.SlugField(_("short name"), unique=True)
    name = models.CharField(_("display name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True, validators=[validate_vat_id])
    tax_number = models.CharField(_("tax number"), max_length=30, blank=True)
    # The issuer's own status, not a customer's: a small business (Kleinunternehmer) charges
    # no VAT to anybody and every document says so (§ 19 (1) UStG, § 34a UStDV).
    # The database defaults let rows be written by code that predates a column (a data
    # migration of another app runs with the historical model of its time).
    small_business = models.BooleanField(
        _("small business (§ 19 UStG)"),
        default=False,
        db_default=False,
        help_text=_("No VAT is charged on any document; each one prints the § 19 UStG note."),
    )
    register_court = models.CharField(_("register court"), max_length=100, blank=True)
    register_number = models.CharField(_("register number"), max_length=50, blank=True)
    managing_directors = models.CharField(_("managing directors"), max_length=300, blank=True)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField(_("BIC"), max_length=11, blank=True, validators=[validate_bic])
    creditor_id = models.CharField(
        _("SEPA creditor identifier"), max_length=35, blank=True, validators=[validate_creditor_id]
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("default payment terms (days)"), default=14, validators=[MaxValueValidator(365)]
    )
    billing_day = models.PositiveSmallIntegerField(
        _("billing day"), default=1, help_text=_("Day of the month on which the billing run starts (1-28).")
    )
    advance_invoices = models.BooleanField(
        _("advance invoices before delivery"),
        default=False,
        db_default=False,
        help_text=_(
            "Allow “invoice one-off now” before the goods are delivered (advance invoice, “Vorausrechnung”) "
            "for customers who pay themselves. Hardware paid by a financier is always invoiced after delivery."
        ),
    )
    logo = models.FileField(_("logo"), upload_to="logos/", blank=True)
    # Every time shown to the organization's staff and printed on its documents is local
    # to this zone; stored datetimes stay UTC.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Berlin",
        db_default="Europe/Berlin",
        validators=[validate_time_zone],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def display_legal_name(self) -> str:
        return self.legal_name or self.name

    @property
    def address_lines(self) -> list[str]:
        return [line for line in (self.street, f"{self.postal_code} {self.city}".strip()) if line]


class Membership(models.Model):
    """A user's seat in one organization, with the role that decides what they may do."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.READONLY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user"),
        ]
        ordering = ["organization__name"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class TenantModel(models.Model):
    """Base for every tenant-owned row: the organization column and a scoped manager.

    Queries through `objects` without an active organization scope raise ScopeError, so
    a forgotten filter is an error instead of a leak.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True


class NamedTenantModel(TenantModel):
    """Base for a tenant row known by its name (a tax rate, a contact function, a standard
    installation): the name is unique per organization, lists are sorted by it and the
    record shows as it. A subclass may redeclare `name` with its own length."""

    name = models.CharField(_("name"), max_length=200)

    class Meta:
        abstract = True
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="%(class)s_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class AuditEntry(TenantModel):
    """Who did what, when, to which record: an append-only trail for auditors."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = user_reference()
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.BigIntegerField(null=True)
    object_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"


class NumberSequence(TenantModel):
    """The counter behind one number range (per organization, kind and year).

    Rows are locked with select_for_update inside the transaction that uses the number,
    so a rolled-back issue gives its number back and the range stays gap-free (GoBD).
    `year` is 0 for ranges that never restart.
    """

    kind = models.CharField(max_length=30)
    year = models.PositiveSmallIntegerField(default=0)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "year"], name="numbersequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.year}: {self.last_number}"


class NumberFormat(TenantModel):
    """How the numbers of one kind look, e.g. ``RE-{year}-{counter:06}``.

    A pattern containing ``{year}`` restarts its counter every year.
    """

    kind = models.CharField(_("kind"), max_length=30)
    pattern = models.CharField(
        _("pattern"),
        max_length=60,
        help_text=_("Placeholders: {year} and {counter:06} (zero-padded counter with 6 digits)."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind"], name="numberformat_unique_kind"),
        ]
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.pattern}"
