"""Reads of the ledger: what each receivable still owes, the payer's credit, open items.

Everything here is derived from documents, allocations and charges; nothing is stored
twice. ``open_amounts`` answers for many invoices in a constant number of queries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from documents.models import Document, DocumentKind, DocumentLine, DocumentStatus
from organizations.money import ZERO, money

from .models import Allocation, Charge, DirectDebitItem, ItemStatus, Payment


class InvoiceState:
    OPEN = "open"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    COLLECTION_PENDING = "collection_pending"
    CREDITED = "credited"

    LABELS = {
        OPEN: pgettext_lazy("payment state", "open"),
        PARTLY_PAID: pgettext_lazy("payment state", "partly paid"),
        PAID: pgettext_lazy("payment state", "paid"),
        OVERDUE: pgettext_lazy("payment state", "overdue"),
        COLLECTION_PENDING: pgettext_lazy("payment state", "collection pending"),
        CREDITED: pgettext_lazy("payment state", "credited"),
    }


AGEING_BUCKETS = (
    ("not_due", _("not due"), None, 0),
    ("d1_30", _("1-30 days"), 1, 30),
    ("d31_60", _("31-60 days"), 31, 60),
    ("d61_90", _("61-90 days"), 61, 90),
    ("d90_plus", _("over 90 days"), 91, None),
)


def receivable_invoices() -> QuerySet[Document]:
    """Invoices that can be owed: issued (not drafts)."""
    return Document.objects.filter(kind=DocumentKind.INVOICE).exclude(status=DocumentStatus.DRAFT)


def _issued_credit_notes(as_of: dt.date | None = None) -> QuerySet[Document]:
    notes = Document.objects.filter(kind=DocumentKind.CREDIT_NOTE).exclude(status=DocumentStatus.DRAFT)
    return notes if as_of is None else notes.filter(issue_date__lte=as_of)


def credited_by_invoice(invoice_ids: Iterable[int], *, as_of: dt.date | None = None) -> dict[int, Decimal]:
    """What credit notes (issued on or before ``as_of``, when given) took off each
    invoice, as a negative gross.

    A credit note that names the invoice (``cancels``) takes its whole gross. A billing
    run's credit note may instead reverse lines of several invoices: its gross is shared
    by the net of the lines it reverses on each, the last share taking the rounding cent.
    """
    ids = list(invoice_ids)
    credited: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if not ids:
        return credited
    notes = _issued_credit_notes(as_of)
    for invoice_id, gross in (
        notes.filter(cancels_id__in=ids)
        .values("cancels_id")
        .annotate(g=Sum("total_gross"))
        .values_list("cancels_id", "g")
    ):
        credited[invoice_id] += gross
    by_line = (
        DocumentLine.objects.filter(
            document__in=notes.filter(cancels__isnull=True), reverses__document_id__in=ids
        )
        .values_list("document_id", "reverses__document_id", "net")
        .order_by("document_id", "reverses__document_id")
    )
    shares: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for note_id, invoice_id, net in by_line:
        shares[note_id][invoice_id] += net or ZERO
    for note_id, net_total, gross in Document.objects.filter(pk__in=list(shares)).values_list(
        "pk", "total_net", "total_gross"
    ):
        items = sorted(shares[note_id].items())
        remaining = gross
        for index, (invoice_id, net) in enumerate(items):
            last = index == len(items) - 1
            share = remaining if last or not net_total else money(gross * net / net_total)
            remaining -= share
            credited[invoice_id] += share
    return credited


def _allocations(as_of: dt.date | None = None) -> QuerySet[Allocation]:
    """Payments and returns booked on receivables (on or before ``as_of``, when given)."""
    return Allocation.objects.all() if as_of is None else Allocation.objects.filter(date__lte=as_of)


def allocated_by_document(document_ids: Iterable[int], *, as_of: dt.date | None = None) -> dict[int, Decimal]:
    rows = (
        _allocations(as_of)
        .filter(document_id__in=list(document_ids))
        .values("document_id")
        .annotate(s=Sum("amount"))
        .values_list("document_id", "s")
    )
    return defaultdict(lambda: ZERO, {k: v for k, v in rows})


def open_amounts(invoices: Iterable[Document]) -> dict[int, Decimal]:
    """Gross, plus credit notes (negative), minus allocations, per invoice id."""
    invoices = list(invoices)
    ids = [i.pk for i in invoices]
    credited = credited_by_invoice(ids)
    allocated = allocated_by_document(ids)
    return {i.pk: i.total_gross + credited[i.pk] - allocated[i.pk] for i in invoices}


def open_amount(invoice: Document) -> Decimal:
    return open_amounts([invoice])[invoice.pk]


def charge_open_amounts(charges: Iterable[Charge], *, as_of: dt.date | None = None) -> dict[int, Decimal]:
    charges = list(charges)
    rows = dict(
        _allocations(as_of)
        .filter(charge__in=charges)
        .values("charge_id")
        .annotate(s=Sum("amount"))
        .values_list("charge_id", "s")
    )
    return {c.pk: ZERO if c.waived else c.amount - rows.get(c.pk, ZERO) for c in charges}


def pending_collection_ids(document_ids: Iterable[int] | None = None) -> set[int]:
    """Invoices in a direct-debit collection that has not ended (pending)."""
    items = DirectDebitItem.objects.filter(status=ItemStatus.PENDING)
    if document_ids is not None:
        items = items.filter(document_id__in=list(document_ids))
    return set(items.values_list("document_id", flat=True))


@dataclasses.dataclass(frozen=True)
class InvoiceBalance:
    invoice: Document
    gross: Decimal
    credited: Decimal
    paid: Decimal
    open: Decimal
    state: str

    @property
    def state_label(self) -> str:
        return str(InvoiceState.LABELS[self.state])

    def days_overdue(self, today: dt.date) -> int:
        due = self.invoice.due_date or self.invoice.issue_date
        return max((today - due).days, 0) if due else 0


def invoice_state(*, gross: Decimal, credited: Decimal, paid: Decimal, due_date, today, pending: bool) -> str:
    open_ = gross + credited - paid
    if gross + credited <= ZERO and paid == ZERO:
        return InvoiceState.CREDITED
    if open_ <= ZERO:
        return InvoiceState.PAID
    if pending:
        return InvoiceState.COLLECTION_PENDING
    if due_date and due_date < today:
        return InvoiceState.OVERDUE
    if paid > ZERO:
        return InvoiceState.PARTLY_PAID
    return InvoiceState.OPEN


def invoice_balances(
    invoices: Iterable[Document], *, today: dt.date, as_of: dt.date | None = None
) -> list[InvoiceBalance]:
    """Each invoice's gross, credits, payments and state; with ``as_of``, as they stood at
    the end of that day (credit notes issued and money booked until then)."""
    invoices = list(invoices)
    ids = [i.pk for i in invoices]
    credited = credited_by_invoice(ids, as_of=as_of)
    allocated = allocated_by_document(ids, as_of=as_of)
    pending = pending_collection_ids(ids)
    result = []
    for inv in invoices:
        c, p = credited[inv.pk], allocated[inv.pk]
        result.append(
            InvoiceBalance(
                invoice=inv,
                gross=inv.total_gross,
                credited=c,
                paid=p,
                open=inv.total_gross + c - p,
                state=invoice_state(
                    gross=inv.total_gross,
                    credited=c,
                    paid=p,
                    due_date=inv.due_date,
                    today=today,
                    pending=inv.pk in pending,
                ),
            )
        )
    return result


def invoice_balance(invoice: Document, *, today: dt.date) -> InvoiceBalance:
    return invoice_balances([invoice], today=today)[0]


def customer_credit(payer) -> Decimal:
    """Money received from the payer and not (yet) allocated: never negative."""
    paid = Payment.objects.filter(payer=payer).aggregate(s=Sum("amount"))["s"] or ZERO
    allocated = Allocation.objects.filter(payment__payer=payer).aggregate(s=Sum("amount"))["s"] or ZERO
    return paid - allocated


def payments_with_credit(payer) -> list[tuple[Payment, Decimal]]:
    """The payer's receipts that still hold unallocated money, oldest first."""
    receipts = list(Payment.objects.filter(payer=payer, amount__gt=0).order_by("date", "id"))
    used = dict(
        Allocation.objects.filter(payment__in=receipts)
        .values("payment_id")
        .annotate(s=Sum("amount"))
        .values_list("payment_id", "s")
    )
    refunds = -(Payment.objects.filter(payer=payer, kind="refund").aggregate(s=Sum("amount"))["s"] or ZERO)
    result = []
    for payment in receipts:
        left = payment.amount - used.get(payment.pk, ZERO)
        # Refunds pay out the oldest credit first.
        taken = min(left, refunds)
        refunds -= taken
        left -= taken
        if left > ZERO:
            result.append((payment, left))
    return result


@dataclasses.dataclass(frozen=True)
class OpenItem:
    """One receivable with money still open: an invoice or a charge (fee)."""

    payer_id: int
    payer_name: str
    kind: str
    number: str
    date: dt.date
    due_date: dt.date | None
    gross: Decimal
    open: Decimal
    days_overdue: int
    bucket: str
    invoice: Document | None = None
    charge: Charge | None = None
    pending_collection: bool = False


def ageing_bucket(days_overdue: int, *, due_date, today) -> str:
    if due_date is None or due_date >= today:
        return "not_due"
    for key, _label, low, high in AGEING_BUCKETS[1:]:
        if days_overdue >= low and (high is None or days_overdue <= high):
            return key
    return "not_due"


def with_open_amount(invoices: QuerySet[Document], *, as_of: dt.date | None = None) -> QuerySet[Document]:
    """The invoices of ``invoices`` that may still be open, decided by the database, so a
    list of open items never loads every invoice ever issued: gross plus the credit notes
    that cancel it minus what was allocated is not zero. An invoice some of whose lines a
    billing run's credit note reversed stays a candidate (that share is worked out per
    line in Python, by credited_by_invoice)."""
    cancelled = (
        _issued_credit_notes(as_of)
        .filter(cancels_id=OuterRef("pk"))
        .order_by()
        .values("cancels_id")
        .annotate(s=Sum("total_gross"))
        .values("s")
    )
    reversed_lines = DocumentLine.objects.filter(
        document__in=_issued_credit_notes(as_of).filter(cancels__isnull=True),
        reverses__document_id=OuterRef("pk"),
    )
    return invoices.annotate(
        open_estimate=F("total_gross")
        + Coalesce(Subquery(cancelled), _ZERO)
        - _allocated_sum("document", as_of)
    ).filter(~Q(open_estimate=ZERO) | Exists(reversed_lines))


_ZERO = Value(ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))


def _allocated_sum(receivable: str, as_of: dt.date | None):
    """What was booked on each row of the outer query (a document or a charge), or zero."""
    rows = (
        _allocations(as_of)
        .filter(**{f"{receivable}_id": OuterRef("pk")})
        .order_by()
        .values(f"{receivable}_id")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(Subquery(rows), _ZERO)


def open_items(
    *,
    today: dt.date,
    payer=None,
    invoices: QuerySet[Document] | None = None,
    as_of: dt.date | None = None,
) -> list[OpenItem]:
    """Every receivable with an open amount other than zero, oldest due first.

    With ``as_of`` the list is a true cut-off at the end of that day: only invoices and
    fees dated until then, and only the payments, returns and credit notes booked until
    then count (what was paid the day after is still open on the list of that day).
    """
    qs = invoices if invoices is not None else receivable_invoices()
    if payer is not None:
        qs = qs.filter(payer=payer)
    if as_of is not None:
        qs = qs.filter(issue_date__lte=as_of)
    qs = with_open_amount(qs, as_of=as_of).select_related("payer")
    items: list[OpenItem] = []
    for b in invoice_balances(qs, today=today, as_of=as_of):
        if b.open == ZERO:
            continue
        inv = b.invoice
        days = b.days_overdue(today)
        items.append(
            OpenItem(
                payer_id=inv.payer_id,
                payer_name=inv.payer.name,
                kind="invoice",
                number=inv.number,
                date=inv.issue_date,
                due_date=inv.due_date,
                gross=b.gross,
                open=b.open,
                days_overdue=days,
                bucket=ageing_bucket(days, due_date=inv.due_date, today=today),
                invoice=inv,
                pending_collection=b.state == InvoiceState.COLLECTION_PENDING,
            )
        )
    charges = Charge.objects.filter(waived=False).select_related("payer")
    if payer is not None:
        charges = charges.filter(payer=payer)
    if as_of is not None:
        charges = charges.filter(date__lte=as_of)
    # Fees paid in full stay in the database, as invoices do.
    charges = list(charges.annotate(paid=_allocated_sum("charge", as_of)).exclude(amount=F("paid")))
    opens = charge_open_amounts(charges, as_of=as_of)
    for charge in charges:
        if opens[charge.pk] == ZERO:
            continue
        days = max((today - charge.due_date).days, 0)
        items.append(
            OpenItem(
                payer_id=charge.payer_id,
                payer_name=charge.payer.name,
                kind=charge.kind,
                number=charge.text,
                date=charge.date,
                due_date=charge.due_date,
                gross=charge.amount,
                open=opens[charge.pk],
                days_overdue=days,
                bucket=ageing_bucket(days, due_date=charge.due_date, today=today),
                charge=charge,
            )
        )
    items.sort(key=lambda i: (i.due_date or i.date, i.number))
    return items


def customer_balance(payer, *, today: dt.date) -> Decimal:
    """What the payer owes in total: open items minus its unallocated credit."""
    return sum((i.open for i in open_items(today=today, payer=payer)), ZERO) - customer_credit(payer)


def ageing_by_payer(items: Iterable[OpenItem]) -> tuple[list[dict], dict]:
    """Open items summed per payer and ageing bucket, and the total of all payers."""
    keys = [key for key, *_rest in AGEING_BUCKETS]
    rows: dict[int, dict] = {}
    total = {key: ZERO for key in keys} | {"total": ZERO, "count": 0}
    for item in items:
        row = rows.setdefault(
            item.payer_id,
            {"payer_id": item.payer_id, "payer_name": item.payer_name, "count": 0, "total": ZERO}
            | {key: ZERO for key in keys},
        )
        for target in (row, total):
            target[item.bucket] += item.open
            target["total"] += item.open
            target["count"] += 1
    return sorted(rows.values(), key=lambda r: (r["payer_name"].casefold(), r["payer_id"])), total


def payment_list() -> QuerySet[Payment]:
    return Payment.objects.select_related("payer", "created_by").prefetch_related(
        "allocations__document", "allocations__charge"
    )


def invoice_payments(invoice: Document) -> list[Allocation]:
    """The payments (and returns) booked on one invoice, oldest first."""
    return list(Allocation.objects.filter(document=invoice).select_related("payment").order_by("date", "id"))
