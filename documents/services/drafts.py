"""Drafts and issuing, for every kind of document: lines, totals, numbers, dates, audit.

The one rule: issuing is one transaction that takes the number (organizations.numbering
locks the sequence row until commit), freezes recipient, issuer, lines and totals, writes
the audit entry (filed under the folder, so the folder's history lists every document)
and only *schedules* the PDF. The PDF is rendered after commit from the frozen data, so
the number lock is never held while WeasyPrint works, and a rolled-back issue gives its
number back (no gaps, GoBD).

Bad input raises ``ValidationError`` with a German (translated) message and a ``code``
*before* anything is written; since numbers are taken inside the same transaction,
a refusal never consumes a number either way.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import PaymentMethod
from documents import einvoice, tax, texts
from documents.composition import (
    LineSpec,
    check_delivery_address,
    check_tax_reasons,
    contact_for,
    default_intro,
    financed_recipient,
    folder_label_of,
    greeting_for,
    issuer_small_business,
    issuer_snapshot,
    payment_method_for,
    payment_text_for,
    recipient_snapshot,
    tax_note_for,
)
from documents.engine import LineInput, compute_totals, line_inputs, line_net
from documents.extensions import mandate_on_file, mandate_use
from documents.models import Document, DocumentKind, DocumentLine, DocumentStatus
from folders.models import Folder
from organizations.audit import audit_log
from organizations.numbering import number_next, sequence_lock
from organizations.system_texts import system_text

logger = logging.getLogger(__name__)


# --- the core: draft, then issue ---------------------------------------------------------


def check_payment_setup(*, organization, payer, method: str, folder=None) -> None:
    if method != PaymentMethod.DIRECT_DEBIT:
        return
    # The copy of the customer's own mandate on its row answers without a query; a folder
    # may have a mandate of its own.
    if not (payer.iban and payer.mandate_reference) and mandate_on_file(payer, folder) is None:
        raise ValidationError(
            _("%(payer)s pays by SEPA direct debit, but no IBAN and mandate reference are on file.")
            % {"payer": payer.name},
            code="no_mandate",
        )
    if not organization.creditor_id:
        raise ValidationError(
            _("SEPA direct debit needs your organization's creditor identifier (organization settings)."),
            code="no_creditor_id",
        )


def document_draft_create(
    *,
    organization,
    kind: str,
    user,
    customer,
    payer,
    lines: Sequence[LineSpec],
    folder: Folder | None = None,
    valid_until: dt.date | None = None,
    delivery_date: dt.date | None = None,
    service_start: dt.date | None = None,
    service_end: dt.date | None = None,
    intro_text: str | None = None,
    closing_text: str | None = None,
    terms_text: str = "",
    reason: str = "",
    delivery_address: Sequence[str] = (),
    recipient_address: Sequence[str] | None = None,
    leased_object: dict | None = None,
    financed_totals: dict | None = None,
    previous_version: Document | None = None,
    cancels: Document | None = None,
    cancellation: bool = False,
    billing_run_id: int | None = None,
    advance_invoice: bool = False,
) -> Document:
    """A draft document with its lines and totals: no number yet (a draft has none).

    Call ``document_issue`` to number and freeze it. Both may run in the caller's
    transaction (the billing run issues each payer's invoice in its own savepoint).
    """
    if kind not in DocumentKind.values:
        raise ValueError(f"unknown document kind {kind!r}")
    if not lines:
        raise ValidationError(_("A document needs at least one line."), code="no_lines")
    is_invoice = kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)
    recipient = recipient_snapshot(payer, invoice=is_invoice)
    if recipient_address is not None:
        # The address window is not the payer's address (a delivery note goes to the site).
        recipient["recipient_address"] = list(recipient_address)
    if cancels is not None:
        # A credit note reverses the invoice's tax exactly as it was charged.
        recipient["tax_treatment"] = cancels.tax_treatment
        recipient["tax_exemption"] = cancels.tax_exemption
        recipient["language"] = cancels.language
    lang = recipient["language"]
    document = Document(
        organization=organization,
        kind=kind,
        status=DocumentStatus.DRAFT,
        folder=folder,
        folder_label=folder_label_of(folder) if folder is not None else "",
        customer=customer,
        payer=payer,
        third_party=payer.pk != customer.pk,
        valid_until=valid_until,
        delivery_date=delivery_date,
        service_start=service_start,
        service_end=service_end,
        terms_text=terms_text,
        reason=reason,
        delivery_address=list(delivery_address),
        leased_object=leased_object or {},
        financed_totals=financed_totals or {},
        previous_version=previous_version,
        cancels=cancels,
        cancellation=cancellation,
        billing_run_id=billing_run_id,
        advance_invoice=advance_invoice,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        **recipient,
    )
    if kind == DocumentKind.INVOICE:
        document.payment_method = payment_method_for(payer, folder)
        if document.payment_method == PaymentMethod.DIRECT_DEBIT:
            mandate_use(document, mandate_on_file(payer, folder))
        document.payment_terms_days = payer.effective_payment_terms()
    if intro_text is None:
        greeting = greeting_for(contact_for(payer, invoice=is_invoice), lang)
        intro_text = default_intro(document, greeting)
        if advance_invoice:
            intro_text = f"{intro_text}\n\n{texts.text(lang, 'advance_note')}"
    document.intro_text = intro_text
    document.closing_text = (
        closing_text
        if closing_text is not None
        else texts.text(lang, "closing", issuer=organization.display_legal_name)
    )
    with transaction.atomic():
        document.full_clean(exclude=["pdf"])
        document.save()
        stored = document_lines_create(document, lines)
        apply_totals(document, stored)
        document.tax_note = tax_note_for(document, stored)
        document.save(
            update_fields=[
                "total_net",
                "total_tax",
                "total_gross",
                "tax_breakdown",
                "recurring_totals",
                "financed_totals",
                "tax_note",
            ]
        )
    return document


def line_values(document: Document, specs: Sequence[LineSpec]) -> list[dict]:
    """The column values of the document's lines (without the document itself): positions
    in order, and each priced line's rate as documents.tax.line_tax decides it for the
    recipient (the tax note says why where it is no German VAT). On a financed quote the
    financier's lines are taxed as the financier's invoice will tax them. Single and bulk
    issuing both build lines here."""
    small_business = issuer_small_business(document)
    own = (document.tax_treatment, document.tax_exemption)
    financier = financed_recipient(document)
    rows = []
    for position, spec in enumerate(specs, start=1):
        tax_rate = spec.tax_rate
        net = None
        if spec.unit_price is not None:
            treatment, exemption = financier if spec.financed else own
            tax_rate = tax.line_tax(
                treatment=treatment,
                rate=spec.tax_rate,
                goods=spec.goods,
                exemption=exemption,
                small_business=small_business,
            ).rate
            net = line_net(
                LineInput(
                    quantity=spec.quantity,
                    unit_price=spec.unit_price,
                    discount_percent=spec.discount_percent,
                    tax_rate=tax_rate,
                )
            )
        rows.append(
            {
                "organization_id": document.organization_id,
                "position": position,
                "source_kind": spec.source_kind,
                "source_line_id": spec.source_line_id,
                "source_folder_id": spec.source_folder_id,
                "reverses_id": spec.reverses_id,
                "sku": spec.sku,
                "description": spec.description,
                "detail": spec.detail,
                "quantity": spec.quantity,
                "unit": spec.unit,
                "unit_price": spec.unit_price,
                "discount_percent": spec.discount_percent,
                "tax_rate": tax_rate,
                "net": net,
                "cycle": spec.cycle,
                "service_start": spec.service_start,
                "service_end": spec.service_end,
                "group_title": spec.group_title,
                "serial_number": spec.serial_number,
                "model_number": spec.model_number,
                "warranty_end": spec.warranty_end,
                "goods": spec.goods,
                "financed": spec.financed,
            }
        )
    return rows


def document_lines_create(document: Document, specs: Sequence[LineSpec]) -> list[DocumentLine]:
    rows = [DocumentLine(document=document, **values) for values in line_values(document, specs)]
    return DocumentLine.objects.bulk_create(rows)


# --- totals ----------------------------------------------------------------------------


def _breakdown(totals) -> list[dict]:
    return [
        {"rate": str(g.rate), "net": str(g.net), "tax": str(g.tax), "gross": str(g.gross)}
        for g in totals.groups
    ]


def apply_totals(document: Document, lines: Sequence[DocumentLine]) -> None:
    """Document totals from its lines (German way: VAT per rate on the sum of its nets).

    On a quote the recurring charges are summed per billing cycle, each cycle on its own
    (a monthly fee plus a yearly fee is no amount anybody pays), and kept apart from the
    one-off total. The document's total is the one-off total only: zero on a quote that
    sells nothing once (setup fees are one-off lines of their own). On the quote of a
    financed folder the financier's lines are summed apart (``financed_totals``), exactly
    as the financier's invoice sums them; the one-off total is then what the end
    customer pays once.
    """
    # The lines carry the rate documents.tax.line_tax gave them (line_values).
    priced = [line for line in lines if line.unit_price is not None]
    counted = priced
    recurring: dict[int, list[DocumentLine]] = defaultdict(list)
    financed: list[DocumentLine] = []
    if document.kind == DocumentKind.QUOTE:
        for line in priced:
            if line.cycle:
                recurring[line.cycle].append(line)
            elif line.financed:
                financed.append(line)
        counted = [line for line in priced if not line.cycle and not line.financed]
    header = {
        k: v
        for k, v in (document.financed_totals or {}).items()
        if k in ("financier", "tax_treatment", "tax_exemption", "vat_id")
    }
    if financed and header:
        sub = compute_totals(line_inputs(financed))
        document.financed_totals = {
            **header,
            "net": str(sub.net),
            "tax": str(sub.tax),
            "gross": str(sub.gross),
            "groups": _breakdown(sub),
        }
    else:
        document.financed_totals = {}
    totals = compute_totals(line_inputs(counted))
    document.total_net = totals.net
    document.total_tax = totals.tax
    document.total_gross = totals.gross
    document.tax_breakdown = _breakdown(totals)
    document.recurring_totals = []
    for cycle in sorted(recurring):
        sub = compute_totals(line_inputs(recurring[cycle]))
        document.recurring_totals.append(
            {
                "cycle": cycle,
                "net": str(sub.net),
                "tax": str(sub.tax),
                "gross": str(sub.gross),
                "groups": _breakdown(sub),
            }
        )


# --- numbers, dates and the audit trail -------------------------------------------------


NUMBER_KINDS = {
    DocumentKind.QUOTE: "quote",
    DocumentKind.INVOICE: "invoice",
    DocumentKind.CREDIT_NOTE: "credit_note",
    DocumentKind.DELIVERY_NOTE: "delivery_note",
}


# Kinds whose numbers and issue dates must ascend together (§ 14 UStG, GoBD: an auditor
# reads a later number with an earlier date as a back-dated invoice).
DATED_IN_ORDER = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)


def issue_date_in_order(*, organization, kind: str, wanted: dt.date) -> dt.date:
    """The issue date for documents of `kind` about to be numbered: `wanted`, unless a
    document of the kind is already dated later; then the day they are issued (today),
    or that later date if it lies ahead. Takes the number range lock first, so the answer
    holds until the caller's transaction has taken its numbers and committed: no other
    issuer can slip a later-dated document in between."""
    if kind not in DATED_IN_ORDER:
        return wanted
    day = wanted
    while True:
        # Again after moving the date: a later year may be a range of its own, with its
        # own lock and its own newest document.
        sequence_lock(organization=organization, kind=NUMBER_KINDS[kind], on=day)
        newest = (
            Document.objects.filter(organization=organization, kind=kind, issue_date__gt=day)
            .exclude(status=DocumentStatus.DRAFT)
            .aggregate(newest=Max("issue_date"))["newest"]
        )
        if newest is None:
            return day
        day = max(timezone.localdate(), newest)


def _audit_targets(document: Document) -> list:
    if document.folder_id:
        return [document.folder]
    folder_ids = sorted(
        {fid for fid in document.lines.values_list("source_folder_id", flat=True) if fid is not None}
    )
    return list(Folder.objects.filter(pk__in=folder_ids)) or [None]


def document_audit(
    document: Document, *, user, action: str, message: str | dict, extra: dict | None = None
) -> None:
    data = {
        "document_id": document.pk,
        "kind": document.kind,
        "number": document.number,
        "message": message,
        **(extra or {}),
    }
    for target in _audit_targets(document):
        audit_log(
            organization=document.organization,
            user=user,
            action=action,
            obj=document,
            target=target,
            data=data,
        )


def document_issue(*, document: Document, user, issue_date: dt.date | None = None) -> Document:
    """Number and freeze a draft: issuer snapshot, dates, payment text, totals, audit, PDF.

    The number is taken inside this transaction and the sequence row stays locked until
    it commits; the PDF task is scheduled on commit, so it never runs under the lock.
    """
    issue_date = issue_date or timezone.localdate()
    organization = document.organization
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if not document.is_draft:
            raise ValidationError(
                _("%(document)s is already issued.") % {"document": document}, code="already_issued"
            )
        if document.kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE) and not (
            organization.vat_id or organization.tax_number
        ):
            # § 14 (4) Nr. 2 UStG.
            raise ValidationError(
                _("Invoices need your organization's VAT ID or tax number (organization settings)."),
                code="no_issuer_tax_id",
            )
        payer = document.payer
        if document.kind == DocumentKind.INVOICE:
            folder = document.folder if document.folder_id else None
            check_payment_setup(
                organization=organization, payer=payer, method=document.payment_method, folder=folder
            )
            # The mandate of the issue date: it may have changed since the draft.
            if document.payment_method == PaymentMethod.DIRECT_DEBIT:
                mandate_use(document, mandate_on_file(payer, folder))
        lines = list(document.lines.all())
        check_tax_reasons(document, lines)
        # A cancellation is never held up by a missing address: the correction comes first,
        # and its mail waits in the outbox until the address is there.
        if document.kind == DocumentKind.INVOICE or (
            document.kind == DocumentKind.CREDIT_NOTE and document.cancels_id is None
        ):
            check_delivery_address(payer)
        einvoice.check_einvoice(document, lines)
        issue_date = issue_date_in_order(organization=organization, kind=document.kind, wanted=issue_date)
        document.number = number_next(
            organization=organization, kind=NUMBER_KINDS[document.kind], on=issue_date
        )
        document.issue_date = issue_date
        document.issued_at = timezone.now()
        document.issuer = issuer_snapshot(organization)
        if document.kind == DocumentKind.INVOICE:
            document.due_date = issue_date + dt.timedelta(days=document.payment_terms_days or 0)
        apply_totals(document, lines)
        # Again on issuing: the VAT IDs printed are those of the issue date.
        document.tax_note = tax_note_for(document, lines)
        document.payment_text = payment_text_for(document, payer)
        document.status = DocumentStatus.ISSUED
        document.full_clean(exclude=["pdf"])
        document.save()
        document_audit(
            document,
            user=user,
            action=f"{document.kind}.issued",
            message=issued_message(document),
            extra={"payer": document.recipient_name, "gross": str(document.total_gross)},
        )
        transaction.on_commit(lambda: schedule_pdf(document.pk, organization.pk))
    return document


def issued_message(document: Document) -> dict:
    """A system text (documents.system_texts): shown in the reader's language."""
    return system_text(
        "documents.issued",
        kind=document.kind,
        cancellation=document.cancellation,
        number=document.number,
        recipient=document.recipient_name,
    )


def schedule_pdf(document_id: int, organization_id: int) -> None:
    """Hand the PDF to the worker. In eager mode (the default) it renders right here; a
    rendering failure must not turn an issued document into a failed request, so it is
    logged and the document page offers to render it again."""
    from documents.tasks import render_document_pdf

    try:
        render_document_pdf.delay(document_id, organization_id)
    except Exception:  # noqa: BLE001
        logger.exception("PDF of document %s could not be rendered", document_id)


def document_discard(*, document: Document, user) -> None:
    """Throw away a draft (it never had a number, so nothing is lost)."""
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if not document.is_draft:
            raise ValidationError(
                _("An issued document is never deleted; cancel an invoice with a credit note."),
                code="issued",
            )
        folder = document.folder
        label = system_text(
            "documents.discarded",
            kind=document.kind,
            cancellation=document.cancellation,
            number=document.number,
        )
        document.lines.all().delete()
        document.delete()
        if folder is not None:
            audit_log(
                organization=folder.organization,
                user=user,
                action=f"{document.kind}.draft_discarded",
                obj=folder,
                data={"message": label},
            )
