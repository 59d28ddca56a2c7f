"""Demo payments: some invoices paid by transfer, one in part, one overpaid (credit), and
one bank statement imported (matched credits, one to review, a bank fee).

Runs once per organization (after billing, which issues the invoices it pays). A further
statement for the invoices still open is written by ``manage.py demo_camt``.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_scopes import scope

from payments import services
from payments.models import BankStatement, DirectDebitItem, DunningNotice, PaymentChannel
from payments.selectors import open_amounts, receivable_invoices
from payments.statements import statement_import

from .camt_sample import SampleEntry, camt_xml
from .records import DemoRecords


def open_invoices(organization):
    """Issued invoices with money open, oldest first; not those dunned or collected by
    direct debit (their story is told by the dunning and the collections)."""
    invoices = list(
        receivable_invoices()
        .filter(status__in=["issued", "sent"])
        .exclude(Exists(DunningNotice.objects.filter(invoice=OuterRef("pk"))))
        .exclude(Exists(DirectDebitItem.objects.filter(document=OuterRef("pk"))))
        .order_by("issue_date", "pk")
    )
    opens = open_amounts(invoices)
    return [(invoice, opens[invoice.pk]) for invoice in invoices if opens[invoice.pk] > 0]


def statement_for(organization, items, *, rng: random.Random, today: dt.date, statement_id: str) -> bytes:
    """A camt.053 statement paying ``items`` as customers do: most name the invoice,
    one pays part, one forgets the number, plus a stranger's transfer and a bank fee."""
    entries = []
    for index, (invoice, amount) in enumerate(items):
        payer = invoice.payer
        text = f"Rechnung {invoice.number} {payer.number}"
        if index == 1:
            amount = (amount / 2).quantize(Decimal("0.01"))
            text = f"Teilzahlung {invoice.number}"
        elif index == 2:
            text = "Zahlung lt. Rechnung"
        entries.append(
            SampleEntry(
                amount,
                booking_date=today,
                remittance=text,
                name=payer.name[:70],
                iban=payer.iban,
                bank_reference=f"{statement_id}-{index + 1:04d}",
            )
        )
    entries.append(
        SampleEntry(
            Decimal(rng.randrange(2_000, 20_000)) / 100,
            booking_date=today,
            remittance="Spende Sommerfest",
            name="Förderverein Nord e.V.",
            bank_reference=f"{statement_id}-9001",
        )
    )
    entries.append(
        SampleEntry(
            Decimal("12.90"),
            credit=False,
            booking_date=today,
            remittance="Kontoführung",
            bank_reference=f"{statement_id}-9002",
        )
    )
    return camt_xml(
        entries,
        account_iban=organization.iban or "DE02120300000000202051",
        version="camt.053.001.08",
        statement_id=statement_id,
        created=timezone.now().replace(microsecond=0),
    )


def seed(organization, *, rng: random.Random, users: dict) -> None:
    with scope(organization=organization):
        records = DemoRecords(organization, "payments_ledger")
        items = open_invoices(organization)
        if len(items) < 8 or not records.once(
            "payments_ledger:payments", done_before=BankStatement.objects.filter(organization=organization)
        ):
            return
        today = timezone.localdate()
        user = users.get("billing") or users.get("admin")
        # Paid in full by transfer, a few days after the invoice.
        for invoice, amount in items[:-6][: max(len(items) // 3, 1)]:
            services.payment_record(
                organization=organization,
                payer=invoice.payer,
                amount=amount,
                date=min(today, invoice.issue_date + dt.timedelta(days=rng.randrange(3, 12))),
                channel=PaymentChannel.TRANSFER,
                user=user,
                allocations=[(invoice, amount)],
                reference=f"Rechnung {invoice.number}",
            )
        rest = items[-6:]
        invoice, amount = rest[0]
        # Paid in part.
        services.payment_record(
            organization=organization,
            payer=invoice.payer,
            amount=(amount * Decimal("0.4")).quantize(Decimal("0.01")),
            date=today,
            channel=PaymentChannel.TRANSFER,
            user=user,
            allocations=[(invoice, (amount * Decimal("0.4")).quantize(Decimal("0.01")))],
            reference=f"Teilzahlung {invoice.number}",
        )
        # Paid twice over by mistake: the rest stays as the customer's credit.
        invoice, amount = rest[1]
        services.payment_record(
            organization=organization,
            payer=invoice.payer,
            amount=amount + Decimal("50.00"),
            date=today,
            channel=PaymentChannel.CASH,
            user=user,
            allocations=[(invoice, amount)],
            reference="Barzahlung",
        )
        data = statement_for(
            organization, rest[2:], rng=rng, today=today, statement_id=f"DEMO-{today:%Y%m%d}"
        )
        statement_import(
            organization=organization, data=data, file_name="demo-kontoauszug.xml", user=user, today=today
        )
