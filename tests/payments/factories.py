"""Issued invoices and credit notes made as rows, for the ledger's tests.

The ledger reads only a document's payer, number, dates, status and gross, so these
skip the folders and the issuing service (which have tests of their own).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from documents.models import Document, DocumentKind, DocumentStatus

_numbers = itertools.count(1)


def issued_invoice(
    org, payer, gross="119.00", *, issue_date=dt.date(2026, 11, 2), due_days=14, **kwargs
) -> Document:
    gross = Decimal(gross)
    net = (gross / Decimal("1.19")).quantize(Decimal("0.01"))
    defaults = {
        "organization": org,
        "kind": DocumentKind.INVOICE,
        "status": DocumentStatus.ISSUED,
        "number": f"RE-2026-{next(_numbers):05}",
        "issue_date": issue_date,
        "due_date": issue_date + dt.timedelta(days=due_days),
        "customer": payer,
        "payer": payer,
        "recipient_name": payer.name,
        "total_net": net,
        "total_tax": gross - net,
        "total_gross": gross,
    }
    defaults.update(kwargs)
    return Document.objects.create(**defaults)


def issued_credit_note(invoice: Document, gross: str, *, cancellation=False, issue_date=None) -> Document:
    gross = -Decimal(gross)
    net = (gross / Decimal("1.19")).quantize(Decimal("0.01"))
    return Document.objects.create(
        organization=invoice.organization,
        kind=DocumentKind.CREDIT_NOTE,
        status=DocumentStatus.ISSUED,
        number=f"GS-2026-{next(_numbers):05}",
        issue_date=issue_date or invoice.issue_date,
        customer=invoice.customer,
        payer=invoice.payer,
        recipient_name=invoice.recipient_name,
        total_net=net,
        total_tax=gross - net,
        total_gross=gross,
        cancels=invoice,
        cancellation=cancellation,
    )


def pay(org, user, payer, amount, *on, date=dt.date(2026, 12, 1), channel="transfer", as_credit=False):
    """Book ``amount`` from ``payer`` through the ledger's service: on the receivables
    named (a receivable alone takes all of it, a ``(receivable, amount)`` pair its part),
    all of it as the payer's credit with ``as_credit``, else on the oldest items first."""
    from payments.services import payment_record

    allocations = None
    if as_credit:
        allocations = []
    elif on:
        allocations = [
            (item[0], Decimal(item[1])) if isinstance(item, tuple) else (item, Decimal(amount)) for item in on
        ]
    return payment_record(
        organization=org,
        payer=payer,
        amount=Decimal(amount),
        date=date,
        channel=channel,
        user=user,
        allocations=allocations,
    )
