"""Getting paid: what the payer owes, what came in, what was collected and returned.

The ledger is kept in signed amounts so that one sum answers every question:

- a ``Payment`` is money that moved: a receipt (bank transfer, cash, a settled direct
  debit, a GoCardless payout) is positive; a refund of a credit balance and a returned
  direct debit are negative;
- an ``Allocation`` ties part of a payment to one receivable (an invoice, or a ``Charge``
  such as a dunning or return fee); a return allocates its negative amount to the invoice
  it reopens;
- a receivable's open amount is its gross, plus its credit notes (negative), minus its
  allocations; the payer's credit is the sum of its payments minus the sum of their
  allocations, and is never negative.

Issued documents stay frozen: whether an invoice is paid is derived from this ledger,
never written into the invoice.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from organizations.models import TenantModel, user_reference

MONEY = {"max_digits": 14, "decimal_places": 2}


class AuthoredModel(TenantModel):
    """A tenant row that records who made it and when (the audit trail has the details)."""

    created_by = user_reference()
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        abstract = True


class PaymentKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    REFUND = "refund", _("Refund")
    RETURN = "return", _("Direct-debit return")


class PaymentChannel(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    DIRECT_DEBIT = "direct_debit", _("SEPA direct debit")
    GOCARDLESS = "gocardless", _("GoCardless payout")


class Payment(AuthoredModel):
    payer = models.ForeignKey(
        "customers.Customer", verbose_name=_("payer"), on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=PaymentKind.choices, default=PaymentKind.RECEIPT
    )
    channel = models.CharField(_("channel"), max_length=20, choices=PaymentChannel.choices)
    # Signed: receipts are positive, refunds and returns negative.
    amount = models.DecimalField(_("amount"), **MONEY)
    date = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    # Where it came from: a bank-statement entry or a direct-debit transaction (free-form
    # key, unique per organization when set, so the same entry is never booked twice).
    source_key = models.CharField(_("source"), max_length=120, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_key"],
                condition=~Q(source_key=""),
                name="payment_unique_source",
            ),
            models.CheckConstraint(
                condition=(Q(kind="receipt") & Q(amount__gt=0)) | (~Q(kind="receipt") & Q(amount__lt=0)),
                name="payment_sign_by_kind",
            ),
        ]
        indexes = [models.Index(fields=["organization", "payer"], name="payment_org_payer")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.date:%d.%m.%Y})"


class ChargeKind(models.TextChoices):
    DUNNING_FEE = "dunning_fee", _("Dunning fee")
    RETURN_FEE = "return_fee", _("Return fee")


class Charge(TenantModel):
    """A receivable of its own beside the invoices: a dunning fee or the fee for a returned
    direct debit. Never mixed into the invoice it concerns."""

    payer = models.ForeignKey(
        "customers.Customer", verbose_name=_("payer"), on_delete=models.PROTECT, related_name="charges"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ChargeKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"))
    text = models.CharField(_("text"), max_length=200)
    # The invoice (or dunning letter) the fee concerns.
    document = models.ForeignKey(
        "documents.Document",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charges",
    )
    waived = models.BooleanField(_("waived"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="charge_positive")]

    def __str__(self) -> str:
        return f"{self.text} {self.amount}"


class Allocation(TenantModel):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    # Signed like the payment: a return allocates a negative amount (it reopens the invoice).
    amount = models.DecimalField(_("amount"), **MONEY)
    date = models.DateField(_("date"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(document__isnull=False) & Q(charge__isnull=True))
                | (Q(document__isnull=True) & Q(charge__isnull=False)),
                name="allocation_one_target",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_not_zero"),
        ]
        indexes = [models.Index(fields=["organization", "document"], name="allocation_org_document")]


class MandateScheme(models.TextChoices):
    CORE = "CORE", _("SEPA Core")
    B2B = "B2B", _("SEPA B2B")


class MandateStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("mandate status", "active")
    REVOKED = "revoked", pgettext_lazy("mandate status", "revoked")
    EXPIRED = "expired", pgettext_lazy("mandate status", "expired")


class SepaMandate(TenantModel):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="mandates"
    )
    # Set when the mandate covers one folder whose payment method differs from the customer's.
    folder = models.ForeignKey(
        "folders.Folder",
        verbose_name=_("folder"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mandates",
    )
    reference = models.CharField(_("mandate reference"), max_length=35)
    signed_on = models.DateField(_("signed on"))
    scheme = models.CharField(
        _("scheme"), max_length=4, choices=MandateScheme.choices, default=MandateScheme.CORE
    )
    debtor_name = models.CharField(_("account holder"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    # The first collection is sent as FRST, every later one as RCUR.
    last_collected_on = models.DateField(_("last collected on"), null=True, blank=True)
    # What the next collection reports as amended (pain.008 AmdmntInfDtls), cleared after it.
    original_reference = models.CharField(_("original mandate reference"), max_length=35, blank=True)
    original_iban = models.CharField(_("original IBAN"), max_length=34, blank=True)
    # Shorter pre-notification agreed with this debtor (empty: the organization's).
    prenotification_days = models.PositiveSmallIntegerField(
        _("agreed pre-notification (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(60)],
        help_text=_("Empty: the organization's pre-notification period."),
    )
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-id"]
        verbose_name = _("SEPA mandate")
        verbose_name_plural = _("SEPA mandates")
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="mandate_unique_reference")
        ]

    def __str__(self) -> str:
        return self.reference


class BatchKind(models.TextChoices):
    SEPA = "sepa", _("SEPA direct debit")
    GOCARDLESS = "gocardless", _("GoCardless")


class BatchStatus(models.TextChoices):
    CREATED = "created", pgettext_lazy("batch status", "created")
    SUBMITTED = "submitted", pgettext_lazy("batch status", "submitted")
    SETTLED = "settled", pgettext_lazy("batch status", "settled")
    CANCELLED = "cancelled", pgettext_lazy("batch status", "cancelled")


class DirectDebitBatch(AuthoredModel):
    kind = models.CharField(_("kind"), max_length=12, choices=BatchKind.choices, default=BatchKind.SEPA)
    # One SEPA scheme per batch and file: the local instrument (CORE or B2B) is stated per
    # payment-information block, and the banks take B2B collections in files of their own.
    scheme = models.CharField(_("scheme"), max_length=4, choices=MandateScheme.choices, blank=True)
    collection_date = models.DateField(_("collection date"))
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.CREATED
    )
    message_id = models.CharField(_("message id"), max_length=35, blank=True)
    file = models.FileField(_("file"), upload_to="payments/batches/", blank=True, max_length=255)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    count = models.PositiveIntegerField(_("transactions"), default=0)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        ordering = ["-collection_date", "-id"]
        verbose_name = _("direct-debit batch")
        verbose_name_plural = _("direct-debit batches")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.collection_date:%d.%m.%Y}"


class ItemStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("collection status", "collection pending")
    SETTLED = "settled", pgettext_lazy("collection status", "settled")
    RETURNED = "returned", pgettext_lazy("collection status", "returned")
    CANCELLED = "cancelled", pgettext_lazy("collection status", "cancelled")


class DirectDebitItem(TenantModel):
    """One collection in a batch: one invoice of one payer."""

    batch = models.ForeignKey(DirectDebitBatch, on_delete=models.CASCADE, related_name="items")
    document = models.ForeignKey("documents.Document", on_delete=models.PROTECT, related_name="collections")
    payer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    mandate = models.ForeignKey(
        SepaMandate, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35)
    sequence_type = models.CharField(_("sequence type"), max_length=4, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING
    )
    return_reason = models.CharField(_("return reason"), max_length=4, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            # An invoice is in at most one collection that has not ended.
            models.UniqueConstraint(
                fields=["organization", "document"],
                condition=Q(status="pending"),
                name="one_pending_collection",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="collection_positive"),
        ]


class PaymentSettings(TenantModel):
    """Per organization: how far ahead direct debits are collected and what a return costs.

    Created with the defaults on first use (``payment_settings_for``)."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="payment_settings"
    )
    # Days (TARGET2 business days) between today and the earliest collection date: the
    # file must reach the bank before its cut-off on the day before the collection.
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (business days)"),
        default=2,
        validators=[MaxValueValidator(30)],
        help_text=_("The earliest collection date is this many TARGET2 business days after today."),
    )
    # The SEPA rulebook asks for the pre-notification 14 calendar days before the
    # collection unless creditor and debtor agreed on a shorter period.
    prenotification_days = models.PositiveSmallIntegerField(
        _("pre-notification (days)"),
        default=14,
        validators=[MaxValueValidator(60)],
        help_text=_("Days between the invoice (the pre-notification) and the collection."),
    )
    return_fee = models.DecimalField(
        _("return fee"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Charged to the payer for each returned direct debit; 0 for none."),
        **MONEY,
    )

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")

    def __str__(self) -> str:
        return str(self.organization)


class PaymentMailSettings(TenantModel):
    """The e-mail a payer gets when money of theirs arrives, one per organization.

    Blank subject and body mean the built-in text in the payer's language. Placeholders:
    {number} (the invoices paid), {amount}, {date}, {open} (what the payer still owes),
    {payer}, {organization}.
    """

    enabled = models.BooleanField(_("send a payment confirmation"), default=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("payment e-mail settings")
        constraints = [models.UniqueConstraint(fields=["organization"], name="payment_mail_settings_one")]


class ImportStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("statement import", "queued")
    RUNNING = "running", pgettext_lazy("statement import", "booking")
    DONE = "done", pgettext_lazy("statement import", "done")
    FAILED = "failed", pgettext_lazy("statement import", "failed")


class BankStatement(AuthoredModel):
    """An imported CAMT file (camt.053 account statement or camt.054 notification).

    The file's SHA-256 is unique per organization: the same file imported again changes
    nothing. Entries are idempotent on their own key as well, so an entry that arrives in
    two files (the day's camt.054 and the month's camt.053) is booked once.
    """

    file_name = models.CharField(_("file"), max_length=255)
    message_type = models.CharField(_("format"), max_length=20)
    statement_id = models.CharField(_("statement"), max_length=35, blank=True)
    account_iban = models.CharField(_("account"), max_length=34, blank=True)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField(_("content"))
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    entry_count = models.PositiveIntegerField(_("entries"), default=0)
    # Entries that an earlier file had already brought (not stored again).
    known_count = models.PositiveIntegerField(_("already imported"), default=0)
    # The upload stores the file; a worker matches and books its entries (pending ->
    # running -> done, or failed with the reason, nothing booked, to be started again).
    import_status = models.CharField(
        _("import"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.DONE
    )
    import_error = models.TextField(_("import error"), blank=True)
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        constraints = [
            models.UniqueConstraint(fields=["organization", "sha256"], name="statement_unique_file")
        ]

    def __str__(self) -> str:
        return self.statement_id or self.file_name


class EntryStatus(models.TextChoices):
    MATCHED = "matched", pgettext_lazy("statement entry", "matched")
    AMBIGUOUS = "ambiguous", pgettext_lazy("statement entry", "to review")
    UNMATCHED = "unmatched", pgettext_lazy("statement entry", "unmatched")
    UNAPPLIED = "unapplied", pgettext_lazy("statement entry", "unapplied cash")
    RETURNED = "returned", pgettext_lazy("statement entry", "return booked")
    IGNORED = "ignored", pgettext_lazy("statement entry", "not a receipt")


# Entries a clerk still has to look at.
OPEN_ENTRY_STATUSES = (EntryStatus.AMBIGUOUS, EntryStatus.UNMATCHED)


class StatementEntry(TenantModel):
    """One booking of a statement (one transaction of a batch booking)."""

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="entries")
    # "camt:<account>:<bank reference or content hash>", unique per organization.
    source_key = models.CharField(max_length=120)
    # Signed: credits positive, debits negative.
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    booking_date = models.DateField(_("booking date"))
    value_date = models.DateField(_("value date"), null=True, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=70, blank=True)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=70, blank=True)
    remittance = models.TextField(_("remittance information"), blank=True)
    counterparty_name = models.CharField(_("counterparty"), max_length=140, blank=True)
    counterparty_iban = models.CharField(_("counterparty IBAN"), max_length=34, blank=True)
    return_reason = models.CharField(_("return reason"), max_length=4, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=EntryStatus.choices)
    # Invoices the matcher proposes for review (ids), and what it found out.
    candidates = models.JSONField(default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    payer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["statement", "position"]
        verbose_name = _("statement entry")
        verbose_name_plural = _("statement entries")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_key"], name="statement_entry_unique_source"
            )
        ]
        indexes = [models.Index(fields=["organization", "status"], name="statement_entry_org_status")]


# --- dunning -------------------------------------------------------------------------------


class DunningLevelPosition(models.IntegerChoices):
    REMINDER = 1, _("Payment reminder")
    FIRST = 2, _("First dunning notice")
    SECOND = 3, _("Second dunning notice")


class DunningLevel(TenantModel):
    """One step of the organization's dunning: when it is reached, what it costs, what the
    letter says. Level 1 counts its days from the invoice's due date, levels 2 and 3 from
    the letter of the level before (a debtor must have had the time to react)."""

    position = models.PositiveSmallIntegerField(_("level"), choices=DunningLevelPosition.choices)
    enabled = models.BooleanField(_("in use"), default=True)
    days = models.PositiveSmallIntegerField(
        _("days"),
        help_text=_("Level 1: days past the due date; later levels: days after the previous letter."),
    )
    fee = models.DecimalField(
        _("fee"), default=0, help_text=_("Booked as a receivable of its own; 0 for none."), **MONEY
    )
    payment_days = models.PositiveSmallIntegerField(
        _("payment deadline (days)"), default=10, help_text=_("The letter asks for payment within this time.")
    )
    text_de = models.TextField(_("letter text (German)"))
    text_en = models.TextField(_("letter text (English)"))

    class Meta:
        ordering = ["position"]
        verbose_name = _("dunning level")
        verbose_name_plural = _("dunning levels")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "position"], name="dunning_level_unique_position"
            ),
            models.CheckConstraint(condition=Q(fee__gte=0), name="dunning_level_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return str(self.get_position_display())


class InvoiceDispute(AuthoredModel):
    """The payer disputes an invoice (wrong amount, goods not received ...): it is never
    dunned while the dispute is open. Resolving keeps the row as the record of it."""

    invoice = models.ForeignKey(
        "documents.Document", verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="disputes"
    )
    note = models.TextField(_("note"))
    since = models.DateField(_("disputed since"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    class Meta:
        ordering = ["-since", "-id"]
        verbose_name = _("invoice dispute")
        verbose_name_plural = _("invoice disputes")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "invoice"],
                condition=Q(resolved_on__isnull=True),
                name="one_open_dispute_per_invoice",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice} ({self.since:%d.%m.%Y})"


class DunningStop(AuthoredModel):
    """No dunning letter for this customer (as payer) while the stop applies: from
    ``since``, up to and including ``until`` when set, unless lifted earlier."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="dunning_stops",
    )
    note = models.TextField(_("note"))
    since = models.DateField(_("from"))
    until = models.DateField(_("until"), null=True, blank=True, help_text=_("Empty: until lifted."))
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)

    class Meta:
        ordering = ["-since", "-id"]
        verbose_name = _("dunning stop")
        verbose_name_plural = _("dunning stops")
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="dunning_stop_until_after_since",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.since:%d.%m.%Y})"

    def applies_on(self, day) -> bool:
        if self.lifted_on is not None and self.lifted_on <= day:
            return False
        return self.since <= day and (self.until is None or day <= self.until)


class DunningRun(AuthoredModel):
    """One approved dunning run: the letters it made, as of its date."""

    date = models.DateField(_("date"))
    letters = models.PositiveIntegerField(_("letters"), default=0)
    total = models.DecimalField(_("total dunned"), default=0, **MONEY)
    fees = models.DecimalField(_("fees"), default=0, **MONEY)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("dunning run")
        verbose_name_plural = _("dunning runs")

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.date:%d.%m.%Y}"


class LetterDelivery(models.TextChoices):
    EMAIL = "email", _("E-mail")
    POST = "post", _("Post (print)")


class DunningLetter(TenantModel):
    """A dunning letter document of a run, the fee it booked and how it goes out."""

    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="dunning_letters")
    document = models.OneToOneField(
        "documents.Document", on_delete=models.PROTECT, related_name="dunning_letter_record"
    )
    payer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), choices=DunningLevelPosition.choices)
    fee = models.ForeignKey(Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    delivery = models.CharField(_("delivery"), max_length=10, choices=LetterDelivery.choices)
    printed_at = models.DateTimeField(_("printed at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("dunning letter")
        verbose_name_plural = _("dunning letters")


class DunningNotice(TenantModel):
    """An invoice dunned at a level by a letter on a date: the next level is due only the
    configured days after it. Never changed afterwards."""

    letter = models.ForeignKey(DunningLetter, on_delete=models.PROTECT, related_name="notices")
    invoice = models.ForeignKey(
        "documents.Document",
        verbose_name=_("invoice"),
        on_delete=models.PROTECT,
        related_name="dunning_notices",
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=DunningLevelPosition.choices)
    date = models.DateField(_("date"))
    open_amount = models.DecimalField(_("open amount"), **MONEY)

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("dunning notice")
        verbose_name_plural = _("dunning notices")
        constraints = [
            # An invoice reaches each level once.
            models.UniqueConstraint(
                fields=["organization", "invoice", "level"], name="dunning_notice_once_per_level"
            )
        ]
        indexes = [models.Index(fields=["organization", "invoice"], name="dunning_notice_org_invoice")]
