from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from organizations.countries import COUNTRIES, EU_COUNTRIES, country_name
from organizations.models import NamedTenantModel, TenantModel, user_reference
from organizations.system_texts import render_text
from organizations.validators import (
    validate_bic,
    validate_iban,
    validate_reverse_charge_vat_id,
    validate_vat_id_for_country,
)


class CustomerKind(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")


class TaxTreatment(models.TextChoices):
    """How VAT applies to what this customer is billed. German VAT exemption depends on the
    supply and a named provision, never on a checkbox: every treatment but the first has a
    printed reason (documents.tax.line_tax decides the rate and the reason of each line)."""

    DOMESTIC = "domestic", _("Domestic, taxable (German VAT)")
    EXEMPT = "exempt", _("Domestic, VAT-exempt (§ 4 UStG)")
    EU_REVERSE_CHARGE = "eu_reverse_charge", _("EU business (reverse charge / intra-EU supply)")
    NON_EU = "non_eu", _("Third country (export / not taxable in Germany)")
    # Left by the old "VAT liable" tick, which never said why: no invoice until someone
    # chooses one of the above.
    NEEDS_REVIEW = "needs_review", _("Needs review")


class TaxExemption(models.TextChoices):
    """The § 4 UStG provision that exempts a domestic customer's supplies (printed on the
    invoice, § 14 (4) Nr. 8 UStG)."""

    FINANCIAL = "4_8", _("§ 4 Nr. 8 UStG – financial services")
    INSURANCE_AGENT = "4_11", _("§ 4 Nr. 11 UStG – insurance agents and brokers")
    REAL_ESTATE = "4_12", _("§ 4 Nr. 12 UStG – letting of land and buildings")
    MEDICAL = "4_14", _("§ 4 Nr. 14 UStG – medical care")
    EDUCATION = "4_21", _("§ 4 Nr. 21 UStG – school and educational services")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("SEPA direct debit")
    GOCARDLESS = "gocardless", _("GoCardless")


class EInvoiceFormat(models.TextChoices):
    """The structured invoice the payer receives (EN 16931; German businesses must be able
    to receive one since 2025). A PDF alone needs the payer's consent, kept with its date."""

    ZUGFERD = "zugferd", _("ZUGFeRD / Factur-X (PDF with embedded XML)")
    XRECHNUNG_CII = "xrechnung_cii", _("XRechnung (CII)")
    XRECHNUNG_UBL = "xrechnung_ubl", _("XRechnung (UBL)")
    PDF_ONLY = "pdf_only", _("PDF only (with the customer's consent)")


class DeliveryMethod(models.TextChoices):
    EMAIL_PDF = "email_pdf", _("E-mail with PDF attached")
    EMAIL_NOTIFICATION = "email_notification", _("E-mail notification only (portal)")
    CHORUS_PRO = "chorus_pro", _("Chorus Pro archive")
    GOCARDLESS_EXPORT = "gocardless_export", _("GoCardless export")
    POST = "post", _("Post")


# Methods that send the invoice (or a notice of it) by e-mail, so they need a recipient.
EMAIL_DELIVERY_METHODS = frozenset({DeliveryMethod.EMAIL_PDF, DeliveryMethod.EMAIL_NOTIFICATION})


class Language(models.TextChoices):
    DE = "de", _("German")
    EN = "en", _("English")


class Customer(TenantModel):
    """One record per real company: prospects become customers in place, financiers are
    customers with a flag. Nothing in the product ever copies a customer."""

    # Empty for a prospect: the number of the customer range is only given on conversion
    # (prospects that never buy must not use up customer numbers).
    number = models.CharField(_("customer number"), max_length=30, blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.CUSTOMER
    )
    name = models.CharField(_("company name"), max_length=200)
    name_addition = models.CharField(_("name addition"), max_length=200, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE", help_text=_("ISO code, e.g. DE"))
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    language = models.CharField(_("document language"), max_length=2, choices=Language.choices, default="de")

    # Commercial information
    consolidate_invoices = models.BooleanField(
        _("consolidate invoices"),
        default=False,
        help_text=_("One invoice per billing period across all folders of this customer."),
    )
    tax_treatment = models.CharField(
        _("tax treatment"), max_length=20, choices=TaxTreatment.choices, default=TaxTreatment.DOMESTIC
    )
    # Only with the "domestic, exempt" treatment, which has no printed reason without it.
    tax_exemption = models.CharField(
        _("tax exemption"), max_length=10, choices=TaxExemption.choices, blank=True
    )
    # Checked in clean(): which numbers are valid depends on the customer's country.
    vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=30, blank=True)
    is_financier = models.BooleanField(
        _("financier"),
        default=False,
        help_text=_("A leasing company that pays for other customers' equipment."),
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(365)],
        help_text=_("Empty: the organization's default."),
    )

    # Payment
    payment_method = models.CharField(
        _("default payment method"),
        max_length=20,
        choices=PaymentMethod.choices,
        default=PaymentMethod.BANK_TRANSFER,
    )
    iban = models.CharField(_("IBAN"), max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField(_("BIC"), max_length=11, blank=True, validators=[validate_bic])
    account_holder = models.CharField(_("account holder"), max_length=200, blank=True)
    mandate_reference = models.CharField(_("SEPA mandate reference"), max_length=35, blank=True)
    mandate_signed_on = models.DateField(_("mandate signed on"), null=True, blank=True)
    gocardless_mandate_id = models.CharField(_("GoCardless mandate ID"), max_length=50, blank=True)

    # Invoice delivery
    delivery_method = models.CharField(
        _("invoice delivery"), max_length=20, choices=DeliveryMethod.choices, default=DeliveryMethod.EMAIL_PDF
    )
    invoice_email = models.EmailField(_("invoice e-mail"), blank=True)
    einvoice_format = models.CharField(
        _("e-invoice format"),
        max_length=20,
        choices=EInvoiceFormat.choices,
        default=EInvoiceFormat.ZUGFERD,
        db_default=EInvoiceFormat.ZUGFERD,
    )
    einvoice_consent_on = models.DateField(
        _("consent to PDF invoices on"),
        null=True,
        blank=True,
        help_text=_("The date the customer agreed to receive PDF invoices without structured data."),
    )
    # BT-10 of EN 16931; for public bodies the Leitweg-ID, which XRechnung requires.
    buyer_reference = models.CharField(
        _("buyer reference / Leitweg-ID"),
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text=_("Printed as the buyer reference of e-invoices; public bodies give their Leitweg-ID."),
    )
    # French public buyers (Chorus Pro).
    # Database defaults too: rows written by code that predates these fields stay valid.
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, default="", db_default="")
    service_code = models.CharField(_("service code"), max_length=100, blank=True, default="", db_default="")
    engagement_number = models.CharField(
        _("engagement number"), max_length=50, blank=True, default="", db_default=""
    )

    owner = user_reference(_("account manager"))
    converted_at = models.DateTimeField(_("converted to customer"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], condition=~Q(number=""), name="customer_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(kind=CustomerKind.PROSPECT) | ~Q(number=""), name="customer_has_number"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "kind", "name"]),
            models.Index(fields=["organization", "is_financier"]),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        country = (self.country or "DE").upper()
        errors: dict[str, list] = {}
        if self.tax_treatment != TaxTreatment.EXEMPT:
            # The provision belongs to the exempt treatment only (the form hides it otherwise).
            self.tax_exemption = ""
        elif not self.tax_exemption:
            errors.setdefault("tax_exemption", []).append(
                _("Choose the provision of § 4 UStG that exempts this customer's supplies.")
            )
        vat_id_valid = False
        if self.vat_id:
            try:
                validate_vat_id_for_country(self.vat_id, country)
                vat_id_valid = True
            except ValidationError as exc:
                errors.setdefault("vat_id", []).append(exc)
        if self.tax_treatment == TaxTreatment.EU_REVERSE_CHARGE:
            # §13b UStG / Art. 196 VAT directive: the invoice must name the recipient's VAT ID.
            if not self.vat_id:
                errors.setdefault("vat_id", []).append(_("EU reverse charge needs the customer's VAT ID."))
            if country == "DE" or country not in EU_COUNTRIES:
                errors.setdefault("tax_treatment", []).append(
                    _("EU reverse charge only applies to customers in another EU country.")
                )
            elif vat_id_valid:
                try:
                    validate_reverse_charge_vat_id(self.vat_id, country)
                except ValidationError as exc:
                    errors.setdefault("vat_id", []).append(exc)
        if self.tax_treatment == TaxTreatment.NON_EU and country in EU_COUNTRIES:
            errors.setdefault("tax_treatment", []).append(
                _("“Outside the EU” does not fit a customer in an EU country.")
            )
        if self.payment_method == PaymentMethod.DIRECT_DEBIT:
            # A SEPA core direct debit needs the debtor's IBAN and a signed mandate
            # (reference and date of signature are part of every collection).
            if not self.iban:
                errors.setdefault("iban", []).append(_("SEPA direct debit needs the customer's IBAN."))
            if not self.mandate_reference:
                errors.setdefault("mandate_reference", []).append(
                    _("SEPA direct debit needs the mandate reference.")
                )
            if not self.mandate_signed_on:
                errors.setdefault("mandate_signed_on", []).append(
                    _("SEPA direct debit needs the date the mandate was signed.")
                )
        if self.mandate_signed_on and self.mandate_signed_on > timezone.localdate():
            errors.setdefault("mandate_signed_on", []).append(
                _("The mandate cannot be signed in the future.")
            )
        if self.payment_method == PaymentMethod.GOCARDLESS and not self.gocardless_mandate_id:
            errors.setdefault("gocardless_mandate_id", []).append(_("GoCardless needs the mandate ID."))
        for name, message in einvoice_errors(self):
            errors.setdefault(name, []).append(message)
        if self.is_financier and self.kind == CustomerKind.PROSPECT:
            # A financier receives invoices, so it has to be a customer.
            errors.setdefault("is_financier", []).append(_("A financier must be a customer, not a prospect."))
        if errors:
            raise ValidationError(errors)

    @property
    def is_prospect(self) -> bool:
        return self.kind == CustomerKind.PROSPECT

    @property
    def address_lines(self) -> list[str]:
        return self.postal_address(translation.get_language() or "de")

    def postal_address(self, language: str) -> list[str]:
        """The address as a letter to this customer prints it: a foreign country by its name
        in the letter's language ("Österreich"), never as a code."""
        lines = [self.name_addition, self.street, f"{self.postal_code} {self.city}".strip()]
        if self.country and self.country != "DE":
            lines.append(country_name(self.country, language))
        return [line for line in lines if line]

    @property
    def country_name(self) -> str:
        return str(dict(COUNTRIES).get(self.country, self.country))

    @property
    def has_billing_address(self) -> bool:
        return bool(self.street and self.postal_code and self.city)

    def effective_payment_terms(self) -> int:
        if self.payment_terms_days is not None:
            return self.payment_terms_days
        return self.organization.payment_terms_days


def is_leitweg_id(value: str) -> bool:
    from stdnum.de import leitweg

    return leitweg.is_valid(value)


def einvoice_errors(customer: Customer) -> list[tuple[str, str]]:
    """What keeps the chosen e-invoice format from being sent: XRechnung (the format of
    German public bodies) needs their Leitweg-ID as buyer reference, with valid check
    digits; PDF only needs the recorded consent; a SIRET must be one."""
    from stdnum.fr import siret

    errors: list[tuple[str, str]] = []
    reference = (customer.buyer_reference or "").strip()
    if customer.einvoice_format in (EInvoiceFormat.XRECHNUNG_CII, EInvoiceFormat.XRECHNUNG_UBL):
        if not reference:
            errors.append(("buyer_reference", _("XRechnung needs the buyer reference (the Leitweg-ID).")))
        elif not is_leitweg_id(reference):
            errors.append(("buyer_reference", _("This is not a valid Leitweg-ID (check digits).")))
    if customer.einvoice_format == EInvoiceFormat.PDF_ONLY and not customer.einvoice_consent_on:
        errors.append(
            ("einvoice_consent_on", _("PDF-only invoices need the date the customer consented to them."))
        )
    if customer.siret and not siret.is_valid(customer.siret):
        errors.append(("siret", _("This is not a valid SIRET number.")))
    return errors


class ContactFunction(NamedTenantModel):
    """Configurable per organization: Technical, Billing, Management..."""

    name = models.CharField(_("name"), max_length=80)

    class Meta(NamedTenantModel.Meta):
        verbose_name = _("contact function")
        verbose_name_plural = _("contact functions")


class Salutation(models.TextChoices):
    NONE = "", _("—")
    MR = "mr", _("Mr")
    MS = "ms", _("Ms")


class Contact(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    salutation = models.CharField(_("salutation"), max_length=5, choices=Salutation.choices, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    function = models.ForeignKey(
        ContactFunction, verbose_name=_("function"), null=True, blank=True, on_delete=models.SET_NULL
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_invoice_recipient = models.BooleanField(_("invoice recipient"), default=False)
    has_portal_access = models.BooleanField(_("customer portal access"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self):
        if (self.is_invoice_recipient or self.has_portal_access) and not self.email:
            raise ValidationError({"email": _("Invoice recipients and portal users need an e-mail address.")})


class Note(TenantModel):
    """Permanent notes, always shown at the top of the customer page."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(_("note"))
    author = user_reference()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.text[:50]


class Action(TenantModel):
    """A future-dated task for a colleague (call back, send a document, chase a decision)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="actions")
    due_on = models.DateField(_("due on"))
    assignee = user_reference(_("assigned to"))
    description = models.TextField(_("description"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = user_reference()
    # Set when the action was created by the system (e.g. a contract-end alert), so it is
    # created once and can be traced back.
    source = models.CharField(max_length=80, blank=True)
    # A system-written description as code and parameters (organizations.system_texts),
    # so each reader sees it in their language; `description` holds it in the default
    # language, for search, and for the user to edit.
    system_text = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [models.Index(fields=["organization", "due_on"])]

    def __str__(self) -> str:
        return self.description[:50]

    @property
    def text(self) -> str:
        """The description in the reader's language: a system text is rendered, unless
        someone has edited the description since (then their words stand)."""
        if self.system_text:
            with translation.override(settings.LANGUAGE_CODE):
                unchanged = render_text(self.system_text) == self.description
            if unchanged:
                return render_text(self.system_text)
        return self.description

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_on < timezone.localdate()


class DeliverySite(TenantModel):
    """A place where the customer receives equipment (a branch, a warehouse).

    Sites belong to the customer, so the second deal picks one instead of retyping it;
    a folder links the site it was chosen from and keeps its own copy of the address
    (documents print the folder's copy). One site per customer is the default.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="delivery_sites")
    label = models.CharField(
        _("label"), max_length=100, blank=True, help_text=_("E.g. “Head office” or “Warehouse Nord”.")
    )
    name = models.CharField(_("delivery recipient"), max_length=200)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="DE")
    is_default = models.BooleanField(_("default delivery address"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "label", "city", "id"]
        verbose_name = _("delivery address")
        verbose_name_plural = _("delivery addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(is_default=True), name="deliverysite_one_default"
            ),
        ]

    def __str__(self) -> str:
        return ", ".join(part for part in (self.label, self.name, self.street, self.city) if part)

    @property
    def address_lines(self) -> list[str]:
        lines = [self.name, self.street, f"{self.postal_code} {self.city}".strip()]
        if self.country and self.country != "DE":
            lines.append(self.country)
        return [line for line in lines if line]

    # The folder's delivery fields a site fills in (folder field -> site field).
    FOLDER_FIELDS = {
        "delivery_name": "name",
        "delivery_street": "street",
        "delivery_postal_code": "postal_code",
        "delivery_city": "city",
        "delivery_country": "country",
    }

    def folder_address(self) -> dict[str, str]:
        return {folder_field: getattr(self, field) for folder_field, field in self.FOLDER_FIELDS.items()}
