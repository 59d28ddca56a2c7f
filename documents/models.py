"""Documents are records, not views (DESIGN.md section 4, GoBD).

Issuing a document takes its number and freezes everything it prints: the recipient and
issuer as they were on the issue date, the lines and the totals. After that only the
status (sent, accepted, superseded, cancelled ...) may change, and the PDF fields are
written once, right after the issuing transaction committed. An issued document is never
edited or deleted; an invoice is corrected by a credit note that references it.

The models guard this themselves (``save()`` compares the frozen fields with the stored
row, ``delete()`` refuses), so no service, admin action or shell session can rewrite an
issued invoice by accident.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

from organizations.models import TenantModel, user_reference

ZERO = Decimal("0.00")


class DocumentKind(models.TextChoices):
    QUOTE = "quote", _("Quote")
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")
    DELIVERY_NOTE = "delivery_note", _("Delivery note")
    DUNNING_LETTER = "dunning_letter", _("Dunning letter")


class DocumentStatus(models.TextChoices):
    # Contextual: "cancelled" is "storniert" for an invoice, not "gekündigt" (a contract).
    DRAFT = "draft", pgettext_lazy("document status", "draft")
    ISSUED = "issued", pgettext_lazy("document status", "issued")
    SENT = "sent", pgettext_lazy("document status", "sent")
    ACCEPTED = "accepted", pgettext_lazy("document status", "accepted")
    DECLINED = "declined", pgettext_lazy("document status", "declined")
    SUPERSEDED = "superseded", pgettext_lazy("document status", "superseded")
    CANCELLED = "cancelled", pgettext_lazy("document status", "cancelled")


class LineSource(models.TextChoices):
    """Where a document line came from; the id points into the folders app."""

    ONEOFF = "oneoff", _("one-off line")
    RECURRING = "recurring", _("recurring line")
    EQUIPMENT = "equipment", _("equipment")
    MANUAL = "manual", _("manual")


class DocumentFrozenError(Exception):
    """An issued document (or one of its lines) was about to be changed or deleted."""


# Fields that may still change after issuing: the life of the document, not its content.
MUTABLE_AFTER_ISSUE = frozenset({"status", "sent_at", "decided_at", "updated_at"})
# Written once after the issuing transaction (the PDF is rendered on commit) or linked
# later by the billing run; once set, frozen like the rest.
SET_ONCE_AFTER_ISSUE = frozenset({"pdf", "pdf_sha256", "pdf_rendered_at", "billing_run_id"})


class FrozenOnIssueQuerySet(models.QuerySet):
    """Bulk writes bypass save() and delete(), so the querysets refuse them themselves
    where a row is, or belongs to, an issued document."""

    status_lookup = "status"  # the lookup of the document's status from a row
    rows = "issued documents"  # what the refusal calls the rows

    def touches_issued(self) -> bool:
        return self.exclude(**{self.status_lookup: DocumentStatus.DRAFT}).exists()

    def delete(self):
        if self.touches_issued():
            raise DocumentFrozenError(f"{self.rows} cannot be deleted")
        return super().delete()


class DocumentQuerySet(FrozenOnIssueQuerySet):
    def issued(self):
        return self.exclude(status=DocumentStatus.DRAFT)

    def update(self, **kwargs):
        # Allowed only for the fields that may change after issuing.
        frozen = set(kwargs) - MUTABLE_AFTER_ISSUE - SET_ONCE_AFTER_ISSUE
        if frozen and self.touches_issued():
            raise DocumentFrozenError(f"{self.rows} cannot be updated ({', '.join(sorted(frozen))})")
        return super().update(**kwargs)


DocumentManager = models.Manager.from_queryset(DocumentQuerySet)


def document_pdf_path(instance: Document, filename: str) -> str:
    year = instance.issue_date.year if instance.issue_date else "draft"
    return f"documents/{instance.organization_id}/{instance.kind}/{year}/{filename}"


class Document(TenantModel):
    """A quote, invoice, credit note or delivery note, made from one folder (or, for a
    consolidated invoice, from several: see ``DocumentLine.source_folder_id``).

    ``customer`` is the end customer the deal belongs to; ``payer`` is who the document
    is addressed to (the financier for a financed folder's hardware invoice). The
    ``recipient_*`` and ``issuer`` fields are copies taken on the issue date, because
    §14 UStG asks for the name and address *as invoiced*, not as they are today.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    # Blank while a draft: a number exists only once the document is issued (gap-free).
    number = models.CharField(_("number"), max_length=40, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    # Date or period of supply (§14 (4) Nr. 6 UStG); lines carry their own periods.
    service_start = models.DateField(_("service period from"), null=True, blank=True)
    service_end = models.DateField(_("service period until"), null=True, blank=True)
    # Issued before delivery (organization setting, never to a financier): prints as a
    # "Vorausrechnung" whose date of supply is the coming delivery.
    advance_invoice = models.BooleanField(_("advance invoice"), default=False)

    folder = models.ForeignKey(
        "folders.Folder",
        verbose_name=_("folder"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="documents",
        help_text=_("The end customer the deal belongs to."),
    )
    payer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("payer"),
        on_delete=models.PROTECT,
        related_name="paid_documents",
        help_text=_("Who the document is addressed to (the financier for financed hardware)."),
    )
    folder_label = models.CharField(_("folder"), max_length=240, blank=True)
    third_party = models.BooleanField(
        _("third-party payer"),
        default=False,
        help_text=_("Addressed to someone other than the end customer."),
    )

    # Recipient snapshot (frozen on issue).
    recipient_name = models.CharField(_("recipient"), max_length=200)
    recipient_address = models.JSONField(_("recipient address"), default=list, blank=True)
    recipient_vat_id = models.CharField(_("recipient VAT ID"), max_length=20, blank=True)
    recipient_tax_number = models.CharField(_("recipient tax number"), max_length=30, blank=True)
    recipient_customer_number = models.CharField(_("customer number"), max_length=30, blank=True)
    recipient_contact_name = models.CharField(_("contact"), max_length=200, blank=True)
    recipient_email = models.CharField(_("recipient e-mail"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=2, default="de")
    tax_treatment = models.CharField(_("tax treatment"), max_length=20, default="domestic")
    # The § 4 UStG provision of an exempt recipient, whose text the tax note prints.
    tax_exemption = models.CharField(_("tax exemption"), max_length=10, blank=True)

    # Issuer snapshot: the organization's legal data, bank and register on the issue date.
    issuer = models.JSONField(_("issuer"), default=dict, blank=True)

    # What the structured invoice (EN 16931) needs beyond the printed snapshot, taken on
    # issue: the format, buyer reference, structured addresses, the debtor's IBAN.
    einvoice = models.JSONField(_("e-invoice data"), default=dict, blank=True)

    # Delivery site and the financier's leased-object block (frozen too).
    delivery_address = models.JSONField(_("delivery address"), default=list, blank=True)
    leased_object = models.JSONField(_("leased object"), default=dict, blank=True)

    # Totals (frozen): net, tax and gross plus the breakdown per tax rate.
    total_net = models.DecimalField(_("net"), max_digits=14, decimal_places=2, default=ZERO)
    total_tax = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2, default=ZERO)
    total_gross = models.DecimalField(_("gross"), max_digits=14, decimal_places=2, default=ZERO)
    tax_breakdown = models.JSONField(_("VAT per rate"), default=list, blank=True)
    # Quotes: the recurring services per billing cycle, summed separately from the
    # one-off total (a monthly fee added to a purchase price means nothing).
    recurring_totals = models.JSONField(_("recurring totals"), default=list, blank=True)
    # Quotes of a financed folder: what the financier will be invoiced (its name, tax
    # treatment, net, tax, gross and VAT per rate), apart from what the end customer pays.
    # The quote must say per payer what each pays, and this block equals the financier's
    # invoice to the cent; the total fields above then hold the end customer's one-off part.
    financed_totals = models.JSONField(_("financed totals"), default=dict, blank=True)

    payment_method = models.CharField(_("payment method"), max_length=20, blank=True)
    mandate_reference = models.CharField(_("SEPA mandate reference"), max_length=35, blank=True)
    # The debtor account of that mandate (a folder's own mandate may name another account
    # than the customer's), frozen with the pre-notification the invoice prints.
    mandate_iban = models.CharField(_("debtor IBAN"), max_length=34, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), null=True, blank=True)
    payment_text = models.TextField(_("payment text"), blank=True)
    tax_note = models.TextField(_("tax note"), blank=True)
    intro_text = models.TextField(_("introduction"), blank=True)
    closing_text = models.TextField(_("closing text"), blank=True)
    terms_text = models.TextField(_("terms"), blank=True)
    reason = models.TextField(_("reason"), blank=True)

    previous_version = models.ForeignKey(
        "self",
        verbose_name=_("previous version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
    )
    # A credit note that reverses the referenced invoice in full ("Stornorechnung").
    cancellation = models.BooleanField(_("cancellation"), default=False)
    cancels = models.ForeignKey(
        "self",
        verbose_name=_("corrected invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
    )
    # Set by the billing app for invoices made by a billing run (no FK: documents must
    # not import billing).
    billing_run_id = models.BigIntegerField(_("billing run"), null=True, blank=True)
    # Dunning letters: 1 payment reminder, 2 first and 3 second dunning notice (its title).
    dunning_level = models.PositiveSmallIntegerField(_("dunning level"), null=True, blank=True)

    pdf = models.FileField(_("PDF"), upload_to=document_pdf_path, blank=True, max_length=255)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered at"), null=True, blank=True)

    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization", _manager_class=DocumentManager)

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "number"],
                condition=~Q(number=""),
                name="document_unique_number",
            ),
            # A draft has no number; an issued document always has one.
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(number="")) | (~Q(status="draft") & ~Q(number="")),
                name="document_number_iff_issued",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "kind", "issue_date"], name="document_org_kind_date"),
            models.Index(fields=["organization", "customer"], name="document_org_customer"),
            models.Index(fields=["organization", "payer"], name="document_org_payer"),
            models.Index(fields=["organization", "folder"], name="document_org_folder"),
            models.Index(fields=["organization", "billing_run_id"], name="document_org_run"),
        ]

    def __str__(self) -> str:
        number = self.number or _("(draft)")
        return f"{self.title_label} {number}"

    # --- integrity -------------------------------------------------------------------

    @property
    def is_draft(self) -> bool:
        return self.status == DocumentStatus.DRAFT

    @property
    def is_issued(self) -> bool:
        return self.status != DocumentStatus.DRAFT

    def _stored_values(self) -> dict | None:
        names = [f.attname for f in self._meta.concrete_fields]
        return type(self).objects.with_scopes_disabled().filter(pk=self.pk).values(*names).first()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = self._stored_values()
            if stored is not None and stored["status"] != DocumentStatus.DRAFT:
                self._check_frozen(stored, kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def _check_frozen(self, stored: dict, update_fields) -> None:
        changed = []
        for field in self._meta.concrete_fields:
            if (
                update_fields is not None
                and field.name not in update_fields
                and field.attname not in update_fields
            ):
                continue
            if field.name in MUTABLE_AFTER_ISSUE:
                continue
            old = stored[field.attname]
            new = field.get_prep_value(getattr(self, field.attname))
            if isinstance(field, models.FileField):
                new = getattr(self, field.attname).name or ""
                old = old or ""
            if old == new:
                continue
            if field.name in SET_ONCE_AFTER_ISSUE and old in (None, ""):
                continue
            changed.append(field.name)
        if changed:
            raise DocumentFrozenError(
                f"{self} is issued; its {', '.join(changed)} cannot change (correct it with a credit note)"
            )

    def delete(self, *args, **kwargs):
        stored = self._stored_values() if self.pk is not None else None
        if self.is_issued or (stored is not None and stored["status"] != DocumentStatus.DRAFT):
            raise DocumentFrozenError(f"{self} is issued and cannot be deleted")
        return super().delete(*args, **kwargs)

    # --- presentation ------------------------------------------------------------------

    @property
    def display_number(self) -> str:
        return self.number or str(_("Draft"))

    @property
    def title_label(self) -> str:
        """What the document is called on screen, as on its PDF: a credit note that
        reverses an invoice in full is a "Stornorechnung", a partial one corrects the
        invoice ("Rechnungskorrektur"; "Gutschrift" would mean self-billing, § 14 (2) UStG)."""
        if self.kind == DocumentKind.CREDIT_NOTE:
            return str(
                _("Cancellation invoice") if self.cancellation else _("Credit note (invoice correction)")
            )
        return str(self.get_kind_display())

    @property
    def has_pdf(self) -> bool:
        return bool(self.pdf)


class DocumentLineQuerySet(FrozenOnIssueQuerySet):
    status_lookup = "document__status"
    rows = "lines of issued documents"

    def update(self, **kwargs):
        if self.touches_issued():
            raise DocumentFrozenError(f"{self.rows} cannot be updated")
        return super().update(**kwargs)


DocumentLineManager = models.Manager.from_queryset(DocumentLineQuerySet)


class DocumentLine(TenantModel):
    """One printed line, copied from the folder when the document was made.

    The source (folder line or piece of equipment) is referenced by plain ids, so the
    line survives any later change to the folder and the folder never needs to import
    documents. Service periods are kept per line for deferred-revenue reports.
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("position"))
    source_kind = models.CharField(
        _("source"), max_length=12, choices=LineSource.choices, default=LineSource.MANUAL
    )
    source_line_id = models.BigIntegerField(_("source line"), null=True, blank=True)
    source_folder_id = models.BigIntegerField(_("source folder"), null=True, blank=True)
    # A credit note line names the invoice line it reverses (partial credit by line).
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    sku = models.CharField(_("SKU"), max_length=50, blank=True)
    description = models.TextField(_("description"))
    detail = models.TextField(_("detail"), blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(
        _("net unit price"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    tax_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    net = models.DecimalField(_("net"), max_digits=14, decimal_places=2, null=True, blank=True)
    cycle = models.PositiveSmallIntegerField(_("billing cycle"), null=True, blank=True)
    service_start = models.DateField(_("service from"), null=True, blank=True)
    service_end = models.DateField(_("service until"), null=True, blank=True)
    group_title = models.CharField(_("group"), max_length=200, blank=True)
    # A supply of goods (equipment, products sold by the piece) rather than a service:
    # decides the tax note for EU business customers (intra-community supply under
    # § 4 Nr. 1b / § 6a UStG for goods, reverse charge under § 13b UStG for services).
    goods = models.BooleanField(_("goods"), default=False)
    # Quotes: a line the financier pays (payer_for at quoting time), summed into the
    # quote's financed block instead of the end customer's one-off total.
    financed = models.BooleanField(_("financed"), default=False)
    # Delivery notes: the piece's identity as delivered.
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    model_number = models.CharField(_("model number"), max_length=80, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)

    objects = ScopedManager(organization="organization", _manager_class=DocumentLineManager)

    class Meta:
        ordering = ["document_id", "position", "id"]
        verbose_name = _("document line")
        verbose_name_plural = _("document lines")
        indexes = [
            models.Index(fields=["organization", "source_kind", "source_line_id"], name="docline_org_source"),
            models.Index(fields=["organization", "serial_number"], name="docline_org_serial"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.description[:60]}"

    def _document_is_issued(self) -> bool:
        status = (
            Document.objects.with_scopes_disabled()
            .filter(pk=self.document_id)
            .values_list("status", flat=True)
            .first()
        )
        return status is not None and status != DocumentStatus.DRAFT

    def save(self, *args, **kwargs):
        # Lines are written while the document is a draft; issuing freezes the set.
        if self._document_is_issued():
            raise DocumentFrozenError(f"line {self} belongs to an issued document and cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._document_is_issued():
            raise DocumentFrozenError(f"line {self} belongs to an issued document and cannot be deleted")
        return super().delete(*args, **kwargs)


class ChorusSyntax(models.TextChoices):
    CII = "cii", _("CII D16B")
    UBL = "ubl", _("UBL 2.1")


class ChorusExport(TenantModel):
    """One Chorus Pro archive handed out for upload: who exported which invoices, when and
    in which syntax. Kept as the record of delivery to French public buyers, so the list
    can say which invoices were exported already."""

    created_at = models.DateTimeField(_("exported at"), auto_now_add=True, db_index=True)
    user = user_reference(_("exported by"))
    syntax = models.CharField(_("syntax"), max_length=3, choices=ChorusSyntax.choices)
    filename = models.CharField(_("file name"), max_length=200)
    count = models.PositiveIntegerField(_("invoices"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Chorus Pro export")
        verbose_name_plural = _("Chorus Pro exports")

    def __str__(self) -> str:
        return self.filename


class ChorusExportItem(TenantModel):
    """A document in an export (the organization repeated so the row is scoped itself)."""

    export = models.ForeignKey(ChorusExport, on_delete=models.CASCADE, related_name="items")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="chorus_export_items")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["export", "document"], name="chorus_export_item_unique"),
        ]
        indexes = [models.Index(fields=["organization", "document"], name="chorus_item_org_document")]


class DispatchChannel(models.TextChoices):
    """How an issued document reaches its payer (the payer's delivery method decides)."""

    EMAIL = "email", _("E-mail with attachment")
    NOTIFY = "notify", _("E-mail notification (portal link)")
    CHORUS = "chorus", _("Chorus Pro")
    POST = "post", _("Post")
    # A delivery note to the folder's financier, as proof that the leased object arrived.
    FINANCIER = "financier", _("E-mail to the financier (proof of delivery)")


# Channels whose row a worker sends; the others wait for a person (print, Chorus export).
MAIL_CHANNELS = frozenset({DispatchChannel.EMAIL, DispatchChannel.NOTIFY, DispatchChannel.FINANCIER})


# A row "sending" for longer than this lost its worker (a send takes seconds; the SMTP
# timeout is 30 s): it is listed as interrupted, for a person to check and send again.
SENDING_STALE_AFTER = dt.timedelta(minutes=15)


class DispatchStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("dispatch status", "queued")
    SENDING = "sending", pgettext_lazy("dispatch status", "sending")
    SENT = "sent", pgettext_lazy("dispatch status", "sent")
    FAILED = "failed", pgettext_lazy("dispatch status", "failed")


class Dispatch(TenantModel):
    """One delivery of an issued document through one channel: a row of the outbox.

    A mail must never be lost and never go out twice. The row is written in the same
    transaction that decides to send; the worker claims it under a row lock (queued or
    failed -> sending), sends, and marks it sent, so a task delivered twice, or retried
    after the mail left, finds it sent or sending and sends nothing. A worker that dies
    between sending and marking leaves it "sending": it is then listed as interrupted
    for a person to check, never sent again by itself. ``attempt`` counts the deliberate
    sends of the same document through the same channel ("send" pressed again);
    (document, channel, attempt) is unique and ``key`` spells it, also as the mail's
    Message-ID, so a receiving system can recognise a copy.
    """

    document = models.ForeignKey(
        Document, verbose_name=_("document"), on_delete=models.PROTECT, related_name="dispatches"
    )
    channel = models.CharField(
        pgettext_lazy("dispatch", "channel"), max_length=10, choices=DispatchChannel.choices
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DispatchStatus.choices, default=DispatchStatus.QUEUED
    )
    # Sends tried for this row: the worker's retries and "send again" after a failure.
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    # Why the last try failed, or what the channel reported when it was sent.
    result = models.TextField(_("result"), blank=True)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    tried_at = models.DateTimeField(_("last try"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "channel", "attempt"], name="dispatch_unique_attempt"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "channel"], name="dispatch_org_status"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"

    @staticmethod
    def key_for(document_id: int, channel: str, attempt: int) -> str:
        return f"doc{document_id}-{channel}-{attempt}"


class DispatchMailTemplate(TenantModel):
    """The organization's text of a document e-mail in one language and channel (with the
    document attached, or the notification with the portal link). Blank subject or body
    means the built-in text. Placeholders: see documents.dispatch_mail.PLACEHOLDERS."""

    channel = models.CharField(
        pgettext_lazy("dispatch", "channel"),
        max_length=10,
        choices=[
            (DispatchChannel.EMAIL, DispatchChannel.EMAIL.label),
            (DispatchChannel.NOTIFY, DispatchChannel.NOTIFY.label),
        ],
    )
    language = models.CharField(_("language"), max_length=2)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("document e-mail template")
        verbose_name_plural = _("document e-mail templates")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel", "language"], name="dispatch_mail_template_unique"
            ),
        ]
