"""Reads of documents shared by views, template tags and other apps."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from customers.models import Customer, DeliveryMethod
from folders.models import Equipment, Folder, OneOffLine
from folders.selectors import action_title
from organizations.models import AuditEntry

from .engine import compute_totals, line_inputs
from .models import (
    SENDING_STALE_AFTER,
    Dispatch,
    DispatchChannel,
    DispatchStatus,
    Document,
    DocumentKind,
    DocumentLine,
    DocumentStatus,
    LineSource,
)

ZERO = Decimal("0.00")

KIND_SLUGS = {
    "quotes": DocumentKind.QUOTE,
    "invoices": DocumentKind.INVOICE,
    "credit-notes": DocumentKind.CREDIT_NOTE,
    "delivery-notes": DocumentKind.DELIVERY_NOTE,
    "dunning-letters": DocumentKind.DUNNING_LETTER,
}
LIST_URL_NAMES = {
    DocumentKind.QUOTE: "documents:quotes",
    DocumentKind.INVOICE: "documents:invoices",
    DocumentKind.CREDIT_NOTE: "documents:credit_notes",
    DocumentKind.DELIVERY_NOTE: "documents:delivery_notes",
    DocumentKind.DUNNING_LETTER: "documents:dunning_letters",
}

# The statuses a document of each kind can have (for filters and badges).
STATUSES_BY_KIND = {
    DocumentKind.QUOTE: [
        DocumentStatus.DRAFT,
        DocumentStatus.ISSUED,
        DocumentStatus.SENT,
        DocumentStatus.ACCEPTED,
        DocumentStatus.DECLINED,
        DocumentStatus.SUPERSEDED,
    ],
    DocumentKind.INVOICE: [
        DocumentStatus.DRAFT,
        DocumentStatus.ISSUED,
        DocumentStatus.SENT,
        DocumentStatus.CANCELLED,
    ],
    DocumentKind.CREDIT_NOTE: [DocumentStatus.ISSUED, DocumentStatus.SENT],
    DocumentKind.DELIVERY_NOTE: [DocumentStatus.ISSUED, DocumentStatus.SENT],
    DocumentKind.DUNNING_LETTER: [DocumentStatus.ISSUED, DocumentStatus.SENT],
}


def document_list(*, kind: str) -> QuerySet[Document]:
    """One kind's documents with everything a list row shows (constant query count)."""
    return (
        Document.objects.filter(kind=kind)
        .select_related("customer", "payer", "cancels")
        .order_by("-issue_date", "-id")
    )


# Rows that are listed but not counted in the sums: drafts (no number, nothing owed),
# cancelled invoices (their cancellation credit notes net them to zero) and superseded
# quote versions (the newer version is the offer).
NOT_SUMMED = (DocumentStatus.DRAFT, DocumentStatus.CANCELLED, DocumentStatus.SUPERSEDED)


def list_totals(qs: QuerySet[Document]) -> dict:
    """Count and net/gross sums of the (filtered) rows, without drafts, cancelled
    invoices and superseded quote versions."""
    sums = qs.exclude(status__in=NOT_SUMMED).aggregate(
        net=Sum("total_net"), gross=Sum("total_gross"), issued=Count("id")
    )
    return {
        "net": sums["net"] or ZERO,
        "gross": sums["gross"] or ZERO,
        "issued": sums["issued"],
    }


def documents_for_folder(folder: Folder) -> QuerySet[Document]:
    """Every document made from the folder, oldest first (the folder's paper trail),
    including consolidated invoices that only list some of its lines."""
    return (
        Document.objects.filter(Q(folder=folder) | Q(lines__source_folder_id=folder.pk))
        .distinct()
        .select_related("payer", "customer")
        .order_by("created_at", "id")
    )


def documents_for_customer(customer: Customer) -> QuerySet[Document]:
    """Documents addressed to the customer, plus those of its folders that a financier
    pays (the customer is the end customer there, the financier the payer)."""
    return (
        Document.objects.filter(Q(payer=customer) | Q(customer=customer))
        .select_related("payer", "customer", "folder")
        .order_by("-issue_date", "-id")
    )


def _on_delivery_notes(folder: Folder):
    return (
        DocumentLine.objects.filter(
            source_kind=LineSource.EQUIPMENT,
            source_folder_id=folder.pk,
            document__kind=DocumentKind.DELIVERY_NOTE,
        )
        .exclude(document__status=DocumentStatus.DRAFT)
        .values("source_line_id")
    )


def folder_document_state(folder: Folder) -> dict:
    """What the folder's document buttons need: open one-off lines, pieces that are on
    no delivery note yet."""
    open_lines = OneOffLine.objects.filter(folder=folder, invoice_document_id__isnull=True)
    return {
        "has_lines": folder.oneoff_lines.exists() or folder.recurring_lines.exists(),
        # Invoices follow the accepted quote (which turns the prospect into a customer).
        "customer_is_prospect": folder.customer.is_prospect,
        "open_oneoff_count": open_lines.count(),
        "undelivered_count": undelivered_equipment(folder).count(),
        "open_quote": Document.objects.filter(
            folder=folder, kind=DocumentKind.QUOTE, status__in=[DocumentStatus.ISSUED, DocumentStatus.SENT]
        )
        .order_by("-id")
        .first(),
    }


def undelivered_equipment(folder: Folder) -> QuerySet[Equipment]:
    """Pieces of the folder that are on no delivery note yet (choices of a new one)."""
    return (
        Equipment.objects.filter(line__folder=folder)
        .exclude(pk__in=_on_delivery_notes(folder))
        .select_related("line", "line__product")
        .order_by("line__position", "line_id", "piece")
    )


def delivery_proof_for(invoice: Document) -> list[Document]:
    """The issued delivery notes that go with a financier's invoice as proof of delivery:
    those of every folder the invoice bills (financiers pay once the object is delivered)."""
    if invoice.kind != DocumentKind.INVOICE or not invoice.third_party:
        return []
    folder_ids = {invoice.folder_id} if invoice.folder_id else set()
    folder_ids |= {fid for fid in invoice.lines.values_list("source_folder_id", flat=True) if fid is not None}
    return list(
        Document.objects.filter(kind=DocumentKind.DELIVERY_NOTE, folder_id__in=folder_ids)
        .exclude(status__in=[DocumentStatus.DRAFT, DocumentStatus.CANCELLED])
        .order_by("issue_date", "id")
    )


def financing_of(folder: Folder | None):
    """The folder's financing (None for no folder or an unfinanced one)."""
    if folder is None:
        return None
    try:
        return folder.financing
    except ObjectDoesNotExist:
        return None


def financier_of(document: Document) -> Customer | None:
    """The financier of the document's folder today (None for an unfinanced folder)."""
    financing = financing_of(document.folder)
    return financing.financier if financing is not None else None


def document_detail(pk: int) -> Document:
    return Document.objects.select_related(
        "customer", "payer", "folder", "cancels", "previous_version", "created_by"
    ).get(pk=pk)


def document_history(document: Document, limit: int = 50) -> list[dict]:
    """The audit entries about this document (filed under its folder), newest first,
    each with its readable title."""
    entries = (
        AuditEntry.objects.filter(data__document_id=document.pk)
        .select_related("user")
        .order_by("-created_at", "-id")[:limit]
    )
    seen: set[tuple] = set()
    rows = []
    for entry in entries:
        # A consolidated invoice is filed under each of its folders: show it once.
        key = (entry.action, entry.created_at, str(entry.data.get("message")))
        if key in seen:
            continue
        seen.add(key)
        rows.append({"entry": entry, "title": action_title(entry.action)})
    return rows


def credit_notes_of(invoice: Document) -> QuerySet[Document]:
    """Issued credit notes that reference the invoice or reverse one of its lines (a
    billing run's credit note may correct several invoices, line by line)."""
    return (
        Document.objects.filter(kind=DocumentKind.CREDIT_NOTE)
        .exclude(status=DocumentStatus.DRAFT)
        .filter(Q(cancels=invoice) | Q(lines__reverses__document=invoice))
        .distinct()
    )


def _belongs_to(line: DocumentLine, credit: Document, invoice: Document) -> bool:
    if line.reverses_id is not None:
        return line.reverses.document_id == invoice.pk
    return credit.cancels_id == invoice.pk


def credited_total(invoice: Document) -> Decimal:
    """Gross amount already credited on an invoice (a positive number): whole credit notes
    that correct only it, and of one that corrects several the lines that concern it."""
    total = ZERO
    for credit in credit_notes_of(invoice).prefetch_related("lines__reverses"):
        lines = [line for line in credit.lines.all() if line.unit_price is not None]
        own = [line for line in lines if _belongs_to(line, credit, invoice)]
        if len(own) == len(lines):
            total += credit.total_gross
            continue
        total += compute_totals(line_inputs(own)).gross
    return -total


def dunning_items(letter: Document, lines) -> list[tuple[DocumentLine, int | None]]:
    """The lines of a dunning letter, each with the invoice it names (its lines hold the
    invoice number as their text and its due date; fee lines name none), so the letter's
    page links them in one query."""
    if letter.kind != DocumentKind.DUNNING_LETTER:
        return []
    numbers = {line.description for line in lines if line.service_end}
    found = dict(
        Document.objects.filter(payer_id=letter.payer_id, kind=DocumentKind.INVOICE, number__in=numbers)
        .exclude(status=DocumentStatus.DRAFT)
        .values_list("number", "pk")
    )
    return [(line, found.get(line.description) if line.service_end else None) for line in lines]


def chorus_candidates() -> QuerySet[Document]:
    """Issued invoices and credit notes of payers who receive them through Chorus Pro,
    newest first, each with the moment it was last exported (``chorus_exported_at``)."""
    return (
        Document.objects.filter(
            kind__in=[DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE],
            payer__delivery_method=DeliveryMethod.CHORUS_PRO,
        )
        .exclude(status=DocumentStatus.DRAFT)
        .select_related("payer")
        .annotate(chorus_exported_at=Max("chorus_export_items__export__created_at"))
        .order_by("-issue_date", "-number", "-pk")
    )


# --- the outbox (documents.models.Dispatch) --------------------------------------------------


def dispatches_of(document: Document) -> list:
    """Every outbox row of the document, newest first."""
    return list(Dispatch.objects.filter(document=document).select_related("created_by").order_by("-id"))


def dispatches_needing_attention(*, now=None) -> QuerySet:
    """Mails that did not go out: failed (with the reason), or stuck "sending" because
    their worker was lost - those may have gone out and are for a person to check."""
    stale_before = (now or timezone.now()) - SENDING_STALE_AFTER
    return (
        Dispatch.objects.filter(
            Q(status=DispatchStatus.FAILED) | Q(status=DispatchStatus.SENDING, tried_at__lt=stale_before)
        )
        .exclude(document__status__in=[DocumentStatus.CANCELLED, DocumentStatus.SUPERSEDED])
        .select_related("document")
        .order_by("-updated_at", "-id")
    )


def dispatches_waiting(channel: str) -> QuerySet:
    """Rows of a channel that wait for a person: post to print, Chorus Pro to export."""
    return (
        Dispatch.objects.filter(channel=channel, status=DispatchStatus.QUEUED)
        .select_related("document")
        .order_by("created_at", "id")
    )


def dispatches_all() -> QuerySet:
    """Every outbox row, newest first."""
    return Dispatch.objects.select_related("document").order_by("-id")


def outbox_counts() -> dict[str, int]:
    return {
        "failed": dispatches_needing_attention().count(),
        "print": dispatches_waiting(DispatchChannel.POST).count(),
        "chorus": dispatches_waiting(DispatchChannel.CHORUS).count(),
    }
