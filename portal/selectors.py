"""What a portal contact sees: reads addressed by its customer, never by a bare pk.

Every function takes the contact's customer; an object that does not belong to it is
simply not in the queryset, so the views answer 404 for another customer's (or another
organization's) documents, folders and equipment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from customers.models import Customer
from documents.models import Document, DocumentKind, DocumentStatus
from folders.models import Equipment, Folder, FolderStatus, RecurringLine
from payments import selectors as payment_selectors

PORTAL_KINDS = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)


def portal_documents(customer: Customer) -> QuerySet[Document]:
    """The issued invoices and credit notes addressed to the customer (it is their payer):
    a financier sees the financed hardware's invoices, never the end customers' service
    invoices; an end customer never sees the financier's."""
    return (
        Document.objects.filter(payer=customer, kind__in=PORTAL_KINDS)
        .exclude(status=DocumentStatus.DRAFT)
        .order_by("-issue_date", "-id")
    )


def portal_document(customer: Customer, pk: int) -> Document:
    return get_object_or_404(portal_documents(customer).select_related("folder"), pk=pk)


@dataclasses.dataclass(frozen=True)
class DocumentRow:
    document: Document
    state: str  # payments' invoice state, or "credit_note"
    state_label: str
    open: Decimal


def document_rows(documents, *, today: dt.date) -> list[DocumentRow]:
    """Each document with its payment state and open amount (the payments app's reading)."""
    documents = list(documents)
    invoices = [d for d in documents if d.kind == DocumentKind.INVOICE]
    balances = {b.invoice.pk: b for b in payment_selectors.invoice_balances(invoices, today=today)}
    rows = []
    for document in documents:
        balance = balances.get(document.pk)
        if balance is None:
            rows.append(DocumentRow(document, "credit_note", str(document.title_label), Decimal("0.00")))
        else:
            rows.append(DocumentRow(document, balance.state, balance.state_label, balance.open))
    return rows


def open_total(customer: Customer, *, today: dt.date) -> Decimal:
    """What the customer owes in total: its open items minus unallocated credit."""
    return payment_selectors.customer_balance(customer, today=today)


def portal_folders(customer: Customer) -> QuerySet[Folder]:
    """The customer's active folders with their recurring services and equipment."""
    return (
        Folder.objects.filter(customer=customer, status=FolderStatus.ACTIVE)
        .select_related("customer", "delivery_site")
        .prefetch_related(
            Prefetch("recurring_lines", queryset=RecurringLine.objects.order_by("position", "id")),
            Prefetch(
                "oneoff_lines__equipment",
                queryset=Equipment.objects.select_related("line").order_by("line__position", "piece"),
            ),
        )
        .order_by("number", "id")
    )


def next_billing_from(line: RecurringLine, today: dt.date) -> dt.date | None:
    """The first day not billed yet: the next period the line will be invoiced for (None
    once the line has ended and everything is billed)."""
    if line.billed_through:
        start = line.billed_through + dt.timedelta(days=1)
    else:
        start = line.start_date
    end = line.end_date or line.folder.end_date
    if end and start > end:
        return None
    return start


def folder_services(folder: Folder, *, today: dt.date) -> dict[str, Any]:
    """What the services page shows of one folder: its services (what, since when, next
    billing, end) and equipment, with the folder's term and notice date."""
    lines = []
    for line in folder.recurring_lines.all():
        line.folder = folder
        if line.end_date and line.end_date < today:
            continue
        lines.append(
            {
                "line": line,
                "title": _first_line(line.description),
                "next_billing": next_billing_from(line, today),
            }
        )
    equipment = [
        {"piece": piece, "title": _first_line(one_off.description)}
        for one_off in folder.oneoff_lines.all()
        for piece in one_off.equipment.all()
    ]
    return {
        "folder": folder,
        "services": lines,
        "equipment": equipment,
        "contract_end": folder.compute_contract_end(today),
        "notice_deadline": folder.notice_deadline_on(today),
        "site": folder.delivery_address_lines,
    }


def _first_line(text: str) -> str:
    """What a line is called: the first line of its description (the rest is detail)."""
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
