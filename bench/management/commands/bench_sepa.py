"""Time a SEPA direct-debit batch of many collections.

    .venv/bin/python manage.py bench_sepa --n 10000
    DATABASE_URL=postgres://... .venv/bin/python manage.py bench_sepa --n 10000

Creates a throwaway organization with N direct-debit payers, their mandates and one open
invoice each (bulk inserts), then times what the "create batch" button does: finding
the collectable invoices, and creating the batch (row locks, items, the pain.008.001.08
file built with sepaxml, validated against the ISO schema and the German rules, stored).
Everything runs in one transaction that is rolled back at the end; the stored file is
deleted.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_scopes import scope
from schwifty import IBAN

from customers.models import Customer, CustomerKind, PaymentMethod
from documents.models import Document, DocumentKind, DocumentStatus
from organizations.models import Organization
from payments import batches
from payments.models import SepaMandate


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time candidates and creation of a SEPA batch with N collections (rolled back afterwards)."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=10000, help="Number of collections (default 10,000).")

    def handle(self, *args, **options):
        n = options["n"]
        try:
            with transaction.atomic():
                self._run(n)
                raise _Rollback
        except _Rollback:
            pass

    def _run(self, n: int) -> None:
        slug = f"bench-sepa-{uuid.uuid4().hex[:8]}"
        org = Organization.objects.create(
            slug=slug,
            name="Bench Lastschrift GmbH",
            iban="DE89370400440532013000",
            bic="COBADEFFXXX",
            creditor_id="DE98ZZZ09999999999",
        )
        today = timezone.localdate()
        issued = today - dt.timedelta(days=30)
        started = time.perf_counter()
        with scope(organization=org):
            customers = Customer.objects.bulk_create(
                [
                    Customer(
                        organization=org,
                        kind=CustomerKind.CUSTOMER,
                        number=f"B{i:06}",
                        name=f"Bäckerei Nummer {i} GmbH & Co. KG",
                        payment_method=PaymentMethod.DIRECT_DEBIT,
                    )
                    for i in range(n)
                ],
                batch_size=2000,
            )
            SepaMandate.objects.bulk_create(
                [
                    SepaMandate(
                        organization=org,
                        customer=c,
                        reference=f"M-{c.number}",
                        signed_on=issued - dt.timedelta(days=100),
                        debtor_name=c.name[:70],
                        iban=str(
                            IBAN.generate("DE", bank_code="37040044", account_code=f"{1000000 + i:010}")
                        ),
                        last_collected_on=None if i % 3 else issued,
                    )
                    for i, c in enumerate(customers)
                ],
                batch_size=2000,
            )
            Document.objects.bulk_create(
                [
                    Document(
                        organization=org,
                        kind=DocumentKind.INVOICE,
                        status=DocumentStatus.ISSUED,
                        number=f"RE-BENCH-{i:06}",
                        issue_date=issued,
                        due_date=issued + dt.timedelta(days=14),
                        customer=c,
                        payer=c,
                        recipient_name=c.name,
                        total_net=Decimal("100.00") + i % 50,
                        total_tax=Decimal("19.00"),
                        total_gross=Decimal("119.00") + i % 50,
                        payment_method=PaymentMethod.DIRECT_DEBIT,
                    )
                    for i, c in enumerate(customers)
                ],
                batch_size=2000,
            )
            self.stdout.write(
                f"data: {n} payers, mandates and invoices in {time.perf_counter() - started:.1f} s"
            )
            date = batches.default_collection_date(org, today=today)
            t0 = time.perf_counter()
            found = batches.candidates(organization=org, collection_date=date)
            t1 = time.perf_counter()
            ids = [c.invoice.pk for c in found if c.collectable]
            batch = batches.batch_create(
                organization=org, collection_date=date, invoice_ids=ids, user=None, today=today
            )
            t2 = time.perf_counter()
            size = batch.file.size
            batch.file.delete(save=False)
        self.stdout.write(f"candidates: {len(ids)} collectable of {len(found)} in {t1 - t0:.2f} s")
        self.stdout.write(
            f"batch: {batch.count} collections, {batch.total} EUR, file {size / 1e6:.1f} MB "
            f"(built, validated, stored) in {t2 - t1:.2f} s"
        )
        self.stdout.write(self.style.SUCCESS(f"total (candidates + batch): {t2 - t0:.2f} s"))
