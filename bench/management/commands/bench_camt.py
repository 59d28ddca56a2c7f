"""Time the import of a CAMT.053 statement with many entries.

    .venv/bin/python manage.py bench_camt --entries 10000
    DATABASE_URL=postgres://... .venv/bin/python manage.py bench_camt --entries 10000

Creates a throwaway organization with customers and one open invoice per entry (bulk
inserts), writes a camt.053.001.08 file as a bank would (most credits name their invoice
with the exact amount, some pay part, some are known only by the payer's IBAN, some are
unknown, a few are returned direct debits of invoices paid before, a few bank fees), then
imports it through the same service the upload page calls and prints the time, the
outcome per status and the query count. The same file is imported a second time to show
that it changes nothing. The organization is deleted afterwards unless --keep.

Payment e-mails are switched off for the organization: they are sent after commit by a
worker, not in the import.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from customers.models import Customer, CustomerKind
from demo.camt_sample import SampleEntry, camt_xml
from documents.models import Document, DocumentKind, DocumentStatus
from organizations.models import AuditEntry, Organization
from payments import services, statements
from payments.models import Payment, PaymentChannel, PaymentMailSettings

BATCH = 5000
TODAY = dt.date(2026, 12, 2)
ACCOUNT = "DE02120300000000202051"


def _iban(n: int) -> str:
    """A syntactically valid German IBAN for bank code 37040044 and account n."""
    bban = f"37040044{n:010d}"
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


class Command(BaseCommand):
    help = "Import a CAMT.053 file with N entries into a throwaway organization and time it."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=10_000)
        parser.add_argument("--customers", type=int, default=None, help="Default: one per five entries.")
        parser.add_argument("--keep", action="store_true")
        parser.add_argument("--seed", type=int, default=12)

    def handle(self, *args, entries: int, customers: int | None, keep: bool, seed: int, **options):
        rng = random.Random(seed)
        customers = customers or max(entries // 5, 1)
        slug = f"bench-camt-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        with scopes_disabled():
            org = Organization.objects.create(slug=slug, name="Bench CAMT GmbH")
        with scope(organization=org):
            file, prepaid = self._seed(org, rng, entries=entries, customers=customers)
        self.stdout.write(
            f"organization {slug}: {customers} customers, {entries} invoices, "
            f"{len(file) / 1e6:.1f} MB statement ({time.perf_counter() - started:.1f} s to build)"
        )
        with scope(organization=org):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                result = statements.statement_import(
                    organization=org, data=file, file_name="bench.xml", user=None, today=TODAY
                )
                elapsed = time.perf_counter() - t0
            counts = ", ".join(f"{k}: {v}" for k, v in sorted(result.counts.items()))
            self.stdout.write(
                f"import of {result.statement.entry_count} entries: {elapsed:.2f} s "
                f"({len(queries)} queries) - {counts}"
            )
            payments = Payment.objects.count()
            t0 = time.perf_counter()
            again = statements.statement_import(
                organization=org, data=file, file_name="bench.xml", user=None, today=TODAY
            )
            self.stdout.write(
                f"same file again: {time.perf_counter() - t0:.2f} s, created={again.created}, "
                f"payments before {payments} / after {Payment.objects.count()} ({prepaid} paid before the import)"
            )
        if keep:
            self.stdout.write(f"kept {slug}")
            return
        with scopes_disabled(), transaction.atomic(), connection.cursor() as cursor:
            # Payments protect their rows from a plain cascade; the throwaway goes in order.
            for table in (
                "payments_statemententry",
                "payments_bankstatement",
                "payments_allocation",
                "payments_charge",
                "payments_payment",
                "payments_paymentmailsettings",
            ):
                cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [org.pk])  # noqa: S608
            # Issued documents refuse delete(); these were never real.
            cursor.execute("DELETE FROM documents_document WHERE organization_id = %s", [org.pk])
            Customer.objects.filter(organization=org).delete()
            AuditEntry.objects.filter(organization=org).delete()
            Organization.objects.filter(pk=org.pk).delete()

    def _seed(self, org, rng: random.Random, *, entries: int, customers: int) -> tuple[bytes, int]:
        PaymentMailSettings.objects.create(organization=org, enabled=False)
        payers = Customer.objects.bulk_create(
            [
                Customer(
                    organization=org,
                    kind=CustomerKind.CUSTOMER,
                    number=f"B{n:06d}",
                    name=f"Benchkunde {n} GmbH",
                    iban=_iban(n),
                    email="",
                )
                for n in range(customers)
            ],
            batch_size=BATCH,
        )
        invoices = []
        for n in range(entries):
            payer = payers[n % customers]
            gross = Decimal(rng.randrange(1_000, 500_000)) / 100
            net = (gross / Decimal("1.19")).quantize(Decimal("0.01"))
            issue = TODAY - dt.timedelta(days=rng.randrange(1, 120))
            invoices.append(
                Document(
                    organization=org,
                    kind=DocumentKind.INVOICE,
                    status=DocumentStatus.ISSUED,
                    number=f"RE-2026-{n + 1:06d}",
                    issue_date=issue,
                    due_date=issue + dt.timedelta(days=14),
                    customer=payer,
                    payer=payer,
                    recipient_name=payer.name,
                    total_net=net,
                    total_tax=gross - net,
                    total_gross=gross,
                )
            )
        invoices = Document.objects.bulk_create(invoices, batch_size=BATCH)
        # A few invoices were collected by direct debit before; the statement returns them.
        returned = invoices[: max(entries // 100, 1)]
        for invoice in returned:
            services.payment_record(
                organization=org,
                payer=invoice.payer,
                amount=invoice.total_gross,
                date=TODAY - dt.timedelta(days=5),
                channel=PaymentChannel.DIRECT_DEBIT,
                user=None,
                allocations=[(invoice, invoice.total_gross)],
            )
        sample = []
        for index, invoice in enumerate(invoices[len(returned) :]):
            roll = rng.random()
            ref = f"BNK{index:08d}"
            payer = payers[(index + len(returned)) % customers]
            if roll < 0.70:
                sample.append(
                    SampleEntry(
                        invoice.total_gross, remittance=f"Rechnung {invoice.number}", bank_reference=ref
                    )
                )
            elif roll < 0.80:
                part = (invoice.total_gross / 2).quantize(Decimal("0.01"))
                sample.append(
                    SampleEntry(part, remittance=f"Teilzahlung {invoice.number}", bank_reference=ref)
                )
            elif roll < 0.90:
                sample.append(
                    SampleEntry(invoice.total_gross, remittance="Miete", iban=payer.iban, bank_reference=ref)
                )
            elif roll < 0.97:
                sample.append(SampleEntry(Decimal("12.34"), remittance="Spende", bank_reference=ref))
            else:
                sample.append(
                    SampleEntry(Decimal("4.90"), credit=False, remittance="Entgelt", bank_reference=ref)
                )
        for index, invoice in enumerate(returned):
            sample.append(
                SampleEntry(
                    invoice.total_gross,
                    credit=False,
                    end_to_end_id=invoice.number,
                    return_reason="AC04",
                    bank_reference=f"RTN{index:06d}",
                )
            )
        data = camt_xml(sample, account_iban=ACCOUNT, version="camt.053.001.08", statement_id="BENCH-1")
        return data, len(returned)
