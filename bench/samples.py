"""A sample invoice for the PDF renderer, the renderer's benchmark, and the issuing
organization the benchmark commands build their data in.

They live beside the benchmark commands, not in ``documents``: the product never renders
a made-up invoice, only the tests and ``bench_pdf`` do.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Sequence
from decimal import Decimal

from documents.engine import LineInput, compute_totals, line_net
from documents.labels import format_date, format_iban
from documents.rendering import Issuer, Party, PdfDocument, PdfLine, render_pdf
from organizations.models import Organization

_SAMPLE_LOGO = b"""<svg xmlns="http://www.w3.org/2000/svg" width="240" height="64" viewBox="0 0 240 64">
<rect x="0" y="8" width="48" height="48" rx="6" fill="#1f4e79"/>
<path d="M12 44 L24 20 L36 44 Z" fill="#ffffff"/>
<rect x="60" y="14" width="172" height="14" rx="2" fill="#1f4e79"/>
<rect x="60" y="36" width="120" height="8" rx="2" fill="#8aa9c8"/>
</svg>"""


def sample_organization(slug: str, name: str, **fields) -> Organization:
    """An organization with what issuing an invoice needs: legal name, address, VAT id, bank."""
    defaults = {
        "legal_name": name,
        "street": "Hauptstraße 1",
        "postal_code": "10115",
        "city": "Berlin",
        "vat_id": "DE136695976",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
    }
    return Organization.objects.create(slug=slug, name=name, **{**defaults, **fields})


def sample_issuer() -> Issuer:
    return Issuer(
        legal_name="Bürotechnik Brandt GmbH",
        address_lines=("Hauptstraße 1", "10115 Berlin"),
        vat_id="DE123456789",
        tax_number="37/123/45678",
        register_court="Amtsgericht Charlottenburg",
        register_number="HRB 123456 B",
        seat="Berlin",
        managing_directors=("Petra Brandt", "Jonas Keller"),
        iban="DE02120300000000202051",
        bic="BYLADEM1001",
        bank_name="Deutsche Kreditbank AG",
        creditor_id="DE98ZZZ09999999999",
        email="buchhaltung@brandt-buerotechnik.de",
        phone="+49 30 1234567-0",
        website="www.brandt-buerotechnik.de",
        logo_bytes=_SAMPLE_LOGO,
        logo_mime="image/svg+xml",
    )


def priced_lines(specs, *, reverse_charge=False, group_title=""):
    """Printable lines and their totals, computed as the documents engine does.

    specs: (description, detail, quantity, unit, unit_price, discount, tax_rate), numbers as strings.
    """
    inputs, lines = [], []
    for position, (description, detail, qty, unit, price, discount, rate) in enumerate(specs, start=1):
        li = LineInput(
            quantity=Decimal(qty),
            unit_price=Decimal(price),
            discount_percent=Decimal(discount),
            tax_rate=Decimal(rate),
        )
        inputs.append(li)
        lines.append(
            PdfLine(
                position=position,
                description=description,
                detail=detail,
                quantity=li.quantity,
                unit=unit,
                unit_price=li.unit_price,
                discount_percent=li.discount_percent,
                tax_rate=Decimal("0") if reverse_charge else li.tax_rate,
                net=line_net(li),
                group_title=group_title,
            )
        )
    return tuple(lines), compute_totals(inputs, reverse_charge_or_exempt=reverse_charge)


def sample_document() -> PdfDocument:
    """A realistic one-page invoice (two VAT rates, a discount, serial numbers, a period)."""
    specs = [
        (
            "Multifunktionssystem Konica Minolta bizhub C300i",
            "Seriennummer: A7PU021012345",
            "1",
            "piece",
            "4290.00",
            "5",
            "19.00",
        ),
        (
            "Finisher FS-533 mit Heftfunktion",
            "Seriennummer: A7PW021099871",
            "1",
            "piece",
            "689.00",
            "5",
            "19.00",
        ),
        (
            "Installation und Einweisung vor Ort",
            "Techniker: M. Schulz, 12.11.2026",
            "2.5",
            "hour",
            "95.00",
            "0",
            "19.00",
        ),
        (
            "Servicepauschale Farbe (Klick-Vertrag)",
            "Leistungszeitraum 01.11.2026 – 30.11.2026",
            "1",
            "month",
            "49.90",
            "0",
            "19.00",
        ),
        (
            "Farbkopien über Freivolumen",
            "Zählerstand 18.433, Freivolumen 15.000",
            "3433",
            "page",
            "0.0450",
            "0",
            "19.00",
        ),
        ("Handbuch \u201eDokumentenmanagement im Büro\u201c", "", "2", "piece", "24.80", "0", "7.00"),
    ]
    lines, totals = priced_lines(specs)
    issuer = sample_issuer()
    due = dt.date(2026, 12, 8)
    return PdfDocument(
        kind="invoice",
        language="de",
        number="RE-2026-000123",
        issue_date=dt.date(2026, 11, 24),
        issuer=issuer,
        recipient=Party(
            name="Kanzlei Weber & Partner mbB",
            contact_name="Frau Dr. Anna Weber",
            address_lines=("Friedrichstraße 123", "10117 Berlin"),
            customer_number="K-10023",
        ),
        info=(
            ("due_date", due),
            ("service_period", (dt.date(2026, 11, 1), dt.date(2026, 11, 30))),
            ("reference", "Bestellung vom 02.11.2026"),
        ),
        intro_text="Sehr geehrte Frau Dr. Weber,\nvielen Dank für Ihren Auftrag. Wir berechnen Ihnen wie folgt:",
        lines=lines,
        totals=totals,
        payment_text=(
            f"Bitte überweisen Sie den Gesamtbetrag bis zum {format_date(due)} ohne Abzug auf unser Konto "
            f"IBAN {format_iban(issuer.iban)} (BIC {issuer.bic}) unter Angabe der Rechnungsnummer RE-2026-000123."
        ),
        closing_text="Mit freundlichen Grüßen\nBürotechnik Brandt GmbH",
    )


def benchmark(n: int = 50, doc: PdfDocument | None = None) -> dict[str, float | int]:
    """Render ``doc`` (default: ``sample_document()``) ``n`` times; timings in milliseconds.

    One warm-up render is not counted: it loads fonts, stylesheet and templates, which
    happens once per worker process.
    """
    doc = doc or sample_document()
    first_start = time.perf_counter()
    pdf = render_pdf(doc)
    first_ms = (time.perf_counter() - first_start) * 1000
    timings: list[float] = []
    for _ in range(n):
        start = time.perf_counter()
        render_pdf(doc)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {
        "n": n,
        "first_ms": round(first_ms, 1),
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(_percentile(timings, 95), 1),
        "min_ms": round(timings[0], 1),
        "max_ms": round(timings[-1], 1),
        "bytes": len(pdf),
    }


def _percentile(sorted_values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile (no interpolation; honest for small n)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * percent // 100))
    return sorted_values[int(rank) - 1]


def issued_copies(invoice, count: int) -> list:
    """``count`` copies of an issued invoice under new numbers, written in bulk (rows and
    lines, no services): for measuring what depends on the number of documents, such as a
    Chorus Pro archive, without issuing each one."""
    from documents.models import Document, DocumentLine

    def values(row, model, skip: set[str]) -> dict:
        return {
            f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields if f.attname not in skip
        }

    row = values(invoice, Document, {"id", "number"})
    copies = Document.objects.bulk_create(
        Document(**row, number=f"{invoice.number}-C{n:04d}") for n in range(count)
    )
    lines = [values(line, DocumentLine, {"id", "document_id"}) for line in invoice.lines.all()]
    DocumentLine.objects.bulk_create(
        DocumentLine(**line, document_id=copy.pk) for copy in copies for line in lines
    )
    return copies
