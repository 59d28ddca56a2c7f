"""Map a frozen Document onto the renderer's dataclasses and store the PDF.

Only frozen fields are read (the snapshots, the lines, the totals), never the live
customer, folder or organization, so rendering the same document twice gives the same
bytes however the master data changed in between. The one exception is the logo file,
named in the issuer snapshot: it is read once, when the PDF is first rendered.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from documents import einvoice, texts
from documents.engine import TaxGroup, Totals
from documents.models import Document, DocumentKind
from documents.rendering import (
    LABELS,
    CycleTotals,
    DunnedRow,
    Issuer,
    LeasedObject,
    Party,
    PayerTotals,
    PdfDocument,
    PdfLine,
    render_pdf,
)
from organizations.validators import format_phone

# The issuer's texts printed as the snapshot holds them (empty when it has none).
_ISSUER_TEXTS = (
    "legal_name",
    "vat_id",
    "tax_number",
    "register_court",
    "register_number",
    "seat",
    "iban",
    "bic",
    "bank_name",
    "creditor_id",
    "email",
)


def _issuer(snapshot: dict) -> Issuer:
    logo_bytes, logo_mime = None, ""
    logo = snapshot.get("logo") or ""
    if logo and default_storage.exists(logo):
        with default_storage.open(logo, "rb") as handle:
            logo_bytes = handle.read()
        logo_mime = mimetypes.guess_type(logo)[0] or "image/png"
    return Issuer(
        **{name: snapshot.get(name, "") for name in _ISSUER_TEXTS},
        address_lines=tuple(snapshot.get("address_lines") or ()),
        managing_directors=tuple(snapshot.get("managing_directors") or ()),
        # The issuer's own number, so in its national form (the snapshot keeps E.164).
        phone=format_phone(snapshot.get("phone", ""), snapshot.get("country") or "DE"),
        # Stored as a full https address for links; on paper the scheme is noise.
        website=re.sub(r"^https?://", "", snapshot.get("website", "")),
        logo_bytes=logo_bytes,
        logo_mime=logo_mime,
    )


def _groups(breakdown) -> tuple[TaxGroup, ...]:
    return tuple(
        TaxGroup(
            rate=Decimal(g["rate"]),
            net=Decimal(g["net"]),
            tax=Decimal(g["tax"]),
            gross=Decimal(g["gross"]),
        )
        for g in breakdown or ()
    )


def frozen_totals(document: Document) -> Totals:
    return Totals(
        net=document.total_net,
        tax=document.total_tax,
        gross=document.total_gross,
        groups=_groups(document.tax_breakdown),
    )


def _totals(block: dict) -> Totals:
    """Totals as a document stores them apart from its own (net, tax, gross, VAT per rate)."""
    return Totals(
        net=Decimal(block["net"]),
        tax=Decimal(block["tax"]),
        gross=Decimal(block["gross"]),
        groups=_groups(block.get("groups")),
    )


def _recurring_totals(document: Document) -> tuple[CycleTotals, ...]:
    """A quote's per-cycle totals (quotes issued before the breakdown per rate was kept
    print their VAT as one amount)."""
    lang = document.language
    return tuple(
        CycleTotals(cycle=texts.cycle_label(lang, entry["cycle"]), totals=_totals(entry))
        for entry in document.recurring_totals or ()
    )


def _financed_totals(document: Document) -> PayerTotals | None:
    block = document.financed_totals or {}
    if document.kind != DocumentKind.QUOTE or not block.get("financier"):
        return None
    return PayerTotals(payer=block["financier"], totals=_totals(block))


def _info(document: Document) -> tuple:
    info: list[tuple] = []
    if document.kind == DocumentKind.INVOICE and document.due_date:
        info.append(("due_date", document.due_date))
    if document.kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE):
        start, end = document.service_start, document.service_end
        if start and end and start != end:
            info.append(("service_period", (start, end)))
        elif start or end:
            info.append(("service_date", start or end))
        elif document.advance_invoice:
            info.append(("service_date", texts.text(document.language, "advance_supply")))
        else:
            info.append(("service_date", document.issue_date))
    if document.kind == DocumentKind.CREDIT_NOTE and document.cancels_id:
        info.append(("invoice_number", document.cancels.number))
    if document.kind == DocumentKind.QUOTE and document.valid_until:
        info.append(("valid_until", document.valid_until))
    if document.kind == DocumentKind.DELIVERY_NOTE and document.delivery_date:
        info.append(("delivery_date", document.delivery_date))
    if document.kind == DocumentKind.DUNNING_LETTER and document.due_date:
        info.append(("pay_by", document.due_date))
    if document.mandate_reference and document.kind == DocumentKind.INVOICE:
        info.append(("mandate_reference", document.mandate_reference))
    # The leased-object block names the folder already.
    if document.folder_label and not document.leased_object:
        info.append(("folder", document.folder_label))
    return tuple(info)


def _references(document: Document) -> tuple[str, ...]:
    lang = document.language
    refs = []
    if document.cancels_id:
        invoice = document.cancels
        key = "ref_cancels" if document.cancellation else "ref_credits"
        refs.append(texts.text(lang, key, number=invoice.number, date=texts.date(lang, invoice.issue_date)))
    if document.previous_version_id:
        previous = document.previous_version
        refs.append(
            texts.text(
                lang, "ref_supersedes", number=previous.number, date=texts.date(lang, previous.issue_date)
            )
        )
    if document.reason:
        refs.append(texts.text(lang, "ref_reason", reason=document.reason))
    return tuple(refs)


def to_pdf_document(document: Document) -> PdfDocument:
    """The renderer's view of a frozen document."""
    lang = texts.lang_of(document.language)
    lines_of = list(document.lines.all())
    dunning = document.kind == DocumentKind.DUNNING_LETTER
    lines = tuple(
        PdfLine(
            position=line.position,
            description=line.description,
            detail=line.detail,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=None if document.kind == DocumentKind.DELIVERY_NOTE else line.unit_price,
            discount_percent=line.discount_percent or Decimal(0),
            tax_rate=None if document.kind == DocumentKind.DELIVERY_NOTE else line.tax_rate,
            net=None if document.kind == DocumentKind.DELIVERY_NOTE else line.net,
            group_title=line.group_title,
        )
        for line in ([] if dunning else lines_of)
    )
    leased = None
    if document.leased_object:
        lo = document.leased_object
        leased = LeasedObject(
            end_customer=lo.get("end_customer", ""),
            folder=lo.get("folder", ""),
            delivery_address=tuple(lo.get("delivery_address") or ()),
            contract_reference=lo.get("contract_reference", ""),
            serial_numbers=tuple(lo.get("serial_numbers") or ()),
        )
    payment_text = document.payment_text
    if document.kind == DocumentKind.QUOTE:
        payment_text = document.terms_text
    dunned: tuple[DunnedRow, ...] = ()
    title = texts.text(lang, "advance_title", number=document.number) if document.advance_invoice else ""
    if document.kind == DocumentKind.DUNNING_LETTER:
        # The lines are the open items reminded of; the level names the letter.
        dunned = tuple(
            DunnedRow(
                text=line.description, amount=line.net, date=line.service_start, due_date=line.service_end
            )
            for line in lines_of
        )
        labels = LABELS[lang]
        level_title = labels[f"title_dunning_{document.dunning_level or 1}"]
        title = f"{level_title} {labels['number_prefix']} {document.number}"
    return PdfDocument(
        kind=document.kind,
        language=lang,
        number=document.number,
        issue_date=document.issue_date,
        issuer=_issuer(document.issuer),
        recipient=Party(
            name=document.recipient_name,
            address_lines=tuple(document.recipient_address or ()),
            vat_id=document.recipient_vat_id,
            tax_number=document.recipient_tax_number,
            customer_number=document.recipient_customer_number,
            contact_name=document.recipient_contact_name,
        ),
        info=_info(document),
        intro_text=document.intro_text,
        lines=lines,
        totals=None if document.kind == DocumentKind.DELIVERY_NOTE else frozen_totals(document),
        tax_note=document.tax_note,
        payment_text=payment_text,
        closing_text=document.closing_text,
        references=_references(document),
        leased_object=leased,
        delivery_address=tuple(document.delivery_address or ()),
        cancellation=document.cancellation,
        title=title,
        recurring_totals=_recurring_totals(document) if document.kind == DocumentKind.QUOTE else (),
        financed_totals=_financed_totals(document),
        dunned=dunned,
    )


def pdf_filename(document: Document) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in document.number)
    return f"{safe}.pdf"


def render_document_pdf(document: Document) -> bytes:
    """The PDF as stored: for a payer that receives ZUGFeRD, the PDF/A-3b with the
    invoice's EN 16931 XML embedded (documents.einvoice)."""
    if einvoice.wants_zugferd(document):
        return einvoice.zugferd_pdf(document, render_pdf(to_pdf_document(document), pdf_variant="pdf/a-3b"))
    return render_pdf(to_pdf_document(document))


def render_and_store(document: Document) -> Document:
    """Render the frozen document and store the bytes and their SHA-256, once.

    Idempotent: a document that already has its PDF is left alone (GoBD: the stored
    bytes are the record; they are never replaced).
    """
    if document.is_draft or document.pdf:
        return document
    data = render_document_pdf(document)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.pdf:
            return locked
        locked.pdf.save(pdf_filename(locked), ContentFile(data), save=False)
        locked.pdf_sha256 = digest
        locked.pdf_rendered_at = timezone.now()
        locked.save(update_fields=["pdf", "pdf_sha256", "pdf_rendered_at", "updated_at"])
    return locked
