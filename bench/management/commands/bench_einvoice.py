"""Time the e-invoice: ``python manage.py bench_einvoice [--n 50] [--document ID] [--archive 500]``.

Measures, per invoice, (a) building the EN 16931 CII and UBL XML from the frozen
document and checking it against its XSD (target: median < 50 ms), and (b) making the
ZUGFeRD PDF: rendering the PDF/A-3b and embedding the XML (target: median < 200 ms);
then (c) a Chorus Pro archive of ``--archive`` copies of the sample invoice (500, a full
archive), loaded from the database and packed in each syntax (0 skips it).
Without ``--document`` a sample invoice of 12 lines is issued through the real services
inside a transaction that is rolled back, so the database is left as it was. The
schematron rules are not part of the run (they are the tests' job).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_scopes import scopes_disabled


class _Rollback(Exception):
    pass


def _timed(n: int, fn) -> dict[str, float]:
    fn()  # warm-up: schemas, fonts and templates load once per process
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median": round(statistics.median(times), 1),
        "p95": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
    }


def _sample_invoice():
    from bench.samples import sample_organization
    from customers.models import Customer
    from documents import services
    from documents.models import DocumentKind

    org = sample_organization(f"bench-einvoice-{time.time_ns()}", "Bench Bürosysteme GmbH")
    customer = Customer.objects.create(
        organization=org,
        number="K10001",
        name="Musterfirma GmbH",
        street="Königsallee 12",
        postal_code="40212",
        city="Düsseldorf",
        email="info@musterfirma.example",
        siret="21440109300015",
        service_code="SERVICE-FINANCES",
        engagement_number="EJ-2026-004711",
    )
    lines = [
        services.LineSpec(
            description=f"Position {i}\nBeschreibung der Leistung {i}",
            quantity=Decimal(i),
            unit="piece" if i % 2 else "hour",
            unit_price=Decimal("19.90") * i,
            tax_rate=Decimal("7.00") if i % 4 == 0 else Decimal("19.00"),
            discount_percent=Decimal("5") if i % 3 == 0 else Decimal(0),
            service_start=dt.date(2026, 11, 1),
            service_end=dt.date(2026, 11, 30),
        )
        for i in range(1, 13)
    ]
    draft = services.document_draft_create(
        organization=org, kind=DocumentKind.INVOICE, user=None, customer=customer, payer=customer, lines=lines
    )
    return services.document_issue(document=draft, user=None)


class Command(BaseCommand):
    help = "Benchmark e-invoices: XML build + XSD (< 50 ms) and ZUGFeRD PDF (< 200 ms), median in ms."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=50, help="number of timed runs (default 50)")
        parser.add_argument("--document", type=int, help="id of an issued invoice instead of the sample")
        parser.add_argument(
            "--archive",
            type=int,
            default=500,
            help="invoices in the timed Chorus Pro archive (default 500, 0: none)",
        )

    def handle(self, *args, n: int, document: int | None, archive: int, **options):
        if n < 1:
            raise CommandError("--n must be at least 1")
        if not 0 <= archive <= 500:
            raise CommandError("--archive must be between 0 and 500 (one archive)")
        with scopes_disabled():
            if document is not None:
                from documents.models import Document

                record = Document.objects.filter(pk=document).first()
                if record is None or record.is_draft or record.kind not in ("invoice", "credit_note"):
                    raise CommandError(f"no issued invoice or credit note with id {document}")
                self._run(record, n)
                return
            try:
                with transaction.atomic():
                    sample = _sample_invoice()
                    self._run(sample, n)
                    if archive:
                        self._archive(sample, archive)
                    raise _Rollback
            except _Rollback:
                pass

    def _run(self, record, n: int) -> None:
        from documents import einvoice
        from documents.pdf import to_pdf_document
        from documents.rendering import render_pdf

        record.lines.all()  # the lines are read each run, as production does
        xml = _timed(n, lambda: (einvoice.invoice_xml(record, "cii"), einvoice.invoice_xml(record, "ubl")))
        cii = _timed(n, lambda: einvoice.invoice_xml(record, "cii"))
        pdf = _timed(
            n,
            lambda: einvoice.zugferd_pdf(record, render_pdf(to_pdf_document(record), pdf_variant="pdf/a-3b")),
        )
        self.stdout.write(f"{record.title_label} {record.number}, {record.lines.count()} lines, {n} runs")
        self.stdout.write(f"CII XML + XSD:       median {cii['median']} ms, p95 {cii['p95']} ms")
        self.stdout.write(f"CII + UBL XML + XSD: median {xml['median']} ms, p95 {xml['p95']} ms")
        self.stdout.write(f"ZUGFeRD PDF:         median {pdf['median']} ms, p95 {pdf['p95']} ms")
        ok = cii["median"] < 50 and pdf["median"] < 200
        style = self.style.SUCCESS if ok else self.style.WARNING
        self.stdout.write(style("OK" if ok else "SLOW: targets are 50 ms (XML) and 200 ms (PDF)"))

    def _archive(self, sample, count: int) -> None:
        from bench.samples import issued_copies
        from documents.einvoice.chorus import chorus_archives
        from documents.services.chorus import chorus_documents

        org = sample.organization
        ids = [sample.pk] + [copy.pk for copy in issued_copies(sample, count - 1)]
        for syntax in ("cii", "ubl"):
            timing = _timed(
                3,
                lambda syntax=syntax: chorus_archives(
                    chorus_documents(organization=org, document_ids=ids),
                    organization=org,
                    syntax=syntax,
                    moment=dt.datetime.now(dt.UTC),
                ),
            )
            [built] = chorus_archives(
                chorus_documents(organization=org, document_ids=ids),
                organization=org,
                syntax=syntax,
                moment=dt.datetime.now(dt.UTC),
            )
            self.stdout.write(
                f"Chorus Pro archive, {count} invoices, {syntax.upper()}: median {timing['median']} ms "
                f"({len(built.content) // 1024} KiB)"
            )
