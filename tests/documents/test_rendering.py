"""PDF rendering, checked through what an independent reader extracts from the PDF.

No database: documents are rendered from plain snapshots (``PdfDocument``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal

import pdfplumber
import pytest
from pypdf import PdfReader

from bench.samples import benchmark, priced_lines, sample_document, sample_issuer
from documents.engine import LineInput, compute_totals
from documents.rendering import (
    CycleTotals,
    Issuer,
    LeasedObject,
    Party,
    PdfDocument,
    PdfLine,
    _LocalOnlyFetcher,
    _prepared_logo,
    format_date,
    format_iban,
    render_pdf,
)

D = Decimal
MM = 72 / 25.4  # PDF points per millimetre


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_pages(pdf))


@pytest.fixture(scope="module")
def invoice_pdf() -> bytes:
    return render_pdf(sample_document())


def long_invoice() -> PdfDocument:
    berlin, _ = priced_lines(
        [
            (
                f"Rufnummer 030 5550{i:03d} – Flatrate Business",
                "Leistungszeitraum 01.11.2026 – 30.11.2026",
                "1",
                "Monat",
                "19.90",
                "0",
                "19.00",
            )
            for i in range(14)
        ],
        group_title="Standort Berlin",
    )
    potsdam, _ = priced_lines(
        [
            (f"Rufnummer 0331 7770{i:03d} – Flatrate Business", "", "1", "Monat", "19.90", "0", "19.00")
            for i in range(10)
        ],
        group_title="Standort Potsdam",
    )
    lines = tuple(replace(line, position=i) for i, line in enumerate(berlin + potsdam, start=1))
    totals = compute_totals(
        LineInput(quantity=line.quantity, unit_price=line.unit_price, tax_rate=line.tax_rate)
        for line in lines
    )
    return replace(sample_document(), number="RE-2026-000124", lines=lines, totals=totals)


# --- A German invoice ---------------------------------------------------------------------


def test_it_renders_a_one_page_german_invoice(invoice_pdf):
    assert invoice_pdf.startswith(b"%PDF-")
    pages = pdf_pages(invoice_pdf)
    assert len(pages) == 1
    text = pages[0]
    assert "Rechnung Nr. RE-2026-000123" in text
    assert "Kanzlei Weber & Partner mbB" in text
    assert "Friedrichstraße 123" in text
    assert "Bürotechnik Brandt GmbH · Hauptstraße 1 · 10115 Berlin" in text  # sender line
    assert "Datum 24.11.2026" in text
    assert "Fällig am 08.12.2026" in text
    assert "Leistungszeitraum 01.11.2026 – 30.11.2026" in text
    assert "Kundennr. K-10023" in text
    assert "Seite 1 von 1" in text


def test_it_prints_the_lines_table_with_german_numbers(invoice_pdf):
    text = pdf_text(invoice_pdf)
    assert "Pos. Bezeichnung Menge Einheit Einzelpreis Rabatt USt Gesamt" in text
    assert "1 Stück 4.290,00 € 5 % 19 % 4.075,50 €" in text
    assert "2,5 Std. 95,00 € 19 % 237,50 €" in text
    # A click price keeps its third decimal: 3.433 x 0,045 € = 154,49 €, not 3.433 x 0,05 €.
    assert "3.433 Seiten 0,045 € 19 % 154,49 €" in text
    assert "Seriennummer: A7PU021012345" in text


def test_it_prints_vat_per_rate_and_the_totals_in_german_format(invoice_pdf):
    text = pdf_text(invoice_pdf)
    assert "Nettobetrag 5.221,54 €" in text
    assert "zzgl. 19 % USt auf 5.171,94 € 982,67 €" in text
    assert "zzgl. 7 % USt auf 49,60 € 3,47 €" in text
    assert "Gesamtbetrag 6.207,68 €" in text


def test_it_prints_the_issuer_legal_data_in_the_footer(invoice_pdf):
    text = pdf_text(invoice_pdf)
    assert "Geschäftsführer: Petra Brandt, Jonas Keller" in text
    assert "Sitz der Gesellschaft: Berlin" in text  # § 35a GmbHG
    assert "Amtsgericht Charlottenburg" in text
    assert "HRB 123456 B" in text
    assert "USt-IdNr.: DE123456789" in text
    assert "Steuernr.: 37/123/45678" in text
    assert "IBAN: DE02 1203 0000 0000 2020 51" in text
    assert "BIC: BYLADEM1001" in text


def test_the_seat_is_printed_only_with_register_data():
    unregistered = replace(sample_issuer(), register_court="", register_number="")
    text = pdf_text(render_pdf(replace(sample_document(), issuer=unregistered)))
    assert "Sitz der Gesellschaft" not in text
    english = pdf_text(render_pdf(replace(sample_document(), language="en")))
    assert "Registered office: Berlin" in english


def test_it_prints_a_quotes_one_off_total_and_each_cycle_apart():
    lines, oneoff_totals = priced_lines(
        [("Einrichtung: SIP-Trunk", "", "1", "pauschal", "49.00", "0", "19.00")]
    )
    monthly = compute_totals([LineInput(quantity=D("4"), unit_price=D("9.90"), tax_rate=D("19.00"))])
    yearly = compute_totals([LineInput(quantity=D("1"), unit_price=D("249.00"), tax_rate=D("19.00"))])
    doc = replace(
        sample_document(),
        kind="quote",
        number="AN-2026-000078",
        lines=lines,
        totals=oneoff_totals,
        recurring_totals=(
            CycleTotals(cycle="monatlich", totals=monthly),
            CycleTotals(cycle="jährlich", totals=yearly),
        ),
        payment_text="",
    )
    text = pdf_text(render_pdf(doc))
    assert "Einmalige Kosten\nNettobetrag 49,00 €" in text and "Gesamtbetrag einmalig 58,31 €" in text
    assert "Laufende Kosten monatlich\nNettobetrag 39,60 €" in text
    assert "zzgl. 19 % USt auf 39,60 € 7,52 €" in text and "Gesamtbetrag monatlich 47,12 €" in text
    assert (
        "Laufende Kosten jährlich\nNettobetrag 249,00 €" in text and "Gesamtbetrag jährlich 296,31 €" in text
    )
    assert "Gesamtbetrag 3" not in text and "Gesamtbetrag 4" not in text
    recurring_only = pdf_text(render_pdf(replace(doc, totals=compute_totals([]))))
    assert "Einmalige Kosten" not in recurring_only and "einmalig" not in recurring_only


def test_it_places_the_address_and_info_block_where_din_5008_form_b_wants_them(invoice_pdf):
    with pdfplumber.open(io.BytesIO(invoice_pdf)) as pdf:
        page = pdf.pages[0]
        assert round(page.width / MM) == 210 and round(page.height / MM) == 297
        words = page.extract_words()

    def first(text):
        return next(w for w in words if w["text"] == text)

    recipient = first("Kanzlei")
    # Window: 20 mm from the left, 45 mm from the top, 85 x 45 mm; address zone from 62.7 mm.
    assert 20 <= recipient["x0"] / MM <= 30
    assert 62 <= recipient["top"] / MM <= 90
    city = first("10117")
    assert city["bottom"] / MM <= 90
    sender = first("Hauptstraße")
    assert 45 <= sender["top"] / MM <= 62.7
    # Information block from 125 mm; title after the window.
    assert 124 <= first("Rechnungsnr.")["x0"] / MM <= 130
    title = first("Nr.")  # "Rechnung Nr. RE-..."; the info block says "Rechnungsnr."
    assert title["top"] / MM >= 90
    # Footer at the bottom of the page.
    assert first("Geschäftsführer:")["top"] / MM >= 265


def test_it_renders_the_same_bytes_for_the_same_document(invoice_pdf):
    # The stored SHA-256 of an issued document must be reproducible.
    assert render_pdf(sample_document()) == invoice_pdf


def test_it_embeds_only_the_shipped_latin_subset_font(invoice_pdf):
    reader = PdfReader(io.BytesIO(invoice_pdf))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    # Regular and bold of our @font-face family; no fallback to a system font, so every
    # character was found in static/fonts (and subsetting stays cheap).
    assert len(fonts) == 2
    assert all(re.fullmatch(r"/[A-Z]{6}\+Document-Sans-(Bold-)?Semi-Condensed", name) for name in fonts), (
        fonts
    )


def test_it_sets_pdf_metadata(invoice_pdf):
    metadata = PdfReader(io.BytesIO(invoice_pdf)).metadata
    assert metadata.title == "Rechnung Nr. RE-2026-000123"
    assert metadata.author == "Bürotechnik Brandt GmbH"


# --- Long documents -----------------------------------------------------------------------


def test_it_flows_a_long_invoice_over_pages_with_header_and_footer_on_each():
    pages = pdf_pages(render_pdf(long_invoice()))
    assert len(pages) == 2
    for number, text in enumerate(pages, start=1):
        assert f"Seite {number} von 2" in text
        assert "Pos. Bezeichnung Menge Einheit Einzelpreis USt Gesamt" in text  # repeated header
        assert "Geschäftsführer: Petra Brandt, Jonas Keller" in text
        assert "IBAN: DE02 1203 0000 0000 2020 51" in text
    assert "Rechnung Nr. RE-2026-000124" in pages[1]  # running title on continuation pages
    assert "Gesamtbetrag 568,34 €" in pages[1]  # 24 x 19,90 € = 477,60 € + 90,74 € USt
    assert "Standort Berlin" in pages[0] and "Standort Potsdam" in pages[1]


# --- Other languages, kinds and tax treatments -------------------------------------------


def english_reverse_charge_invoice() -> PdfDocument:
    lines, totals = priced_lines(
        [
            (
                "Managed firewall service",
                "Service period 1-30 Nov 2026",
                "3",
                "pcs",
                "1129.00",
                "10",
                "19.00",
            ),
            ("On-site installation", "", "4", "h", "95.00", "0", "19.00"),
        ],
        reverse_charge=True,
    )
    return replace(
        sample_document(),
        language="en",
        number="RE-2026-000125",
        recipient=Party(
            name="Nordic Print Solutions AB",
            address_lines=("Kungsgatan 12", "111 43 Stockholm", "SWEDEN"),
            vat_id="SE556677889901",
            customer_number="K-20411",
        ),
        info=(("due_date", dt.date(2026, 12, 8)),),
        intro_text="Dear Sir or Madam,\nwe invoice you as follows:",
        lines=lines,
        totals=totals,
        tax_note="Reverse charge – Steuerschuldnerschaft des Leistungsempfängers (§ 13b UStG).",
        payment_text="Please transfer the total by 8 Dec 2026.",
        closing_text="Kind regards",
    )


def test_it_uses_english_labels_and_formats_for_an_english_customer():
    text = pdf_text(render_pdf(english_reverse_charge_invoice()))
    assert "Invoice No. RE-2026-000125" in text
    assert "Item Description Qty Unit Unit price Discount VAT Amount" in text
    assert "3 pcs €1,129.00 10% 0% €3,048.30" in text
    assert "Net amount €3,428.30" in text
    assert "0% VAT on €3,428.30 €0.00" in text
    assert "Total amount €3,428.30" in text
    assert "Date 24 Nov 2026" in text and "Due date 8 Dec 2026" in text
    assert "Your VAT ID SE556677889901" in text
    assert "Page 1 of 1" in text
    assert "Managing directors: Petra Brandt, Jonas Keller" in text
    for german in ("Rechnung", "Seite", "Gesamtbetrag", "Nettobetrag", "Fällig"):
        assert german not in text


def test_it_prints_the_reverse_charge_note():
    text = pdf_text(render_pdf(english_reverse_charge_invoice()))
    assert "Steuerschuldnerschaft des Leistungsempfängers (§ 13b UStG)" in text


def test_it_renders_a_delivery_note_with_serial_numbers_and_no_prices():
    lines = (
        PdfLine(
            position=1,
            description="Multifunktionssystem Konica Minolta bizhub C300i",
            detail="Seriennummer: A7PU021012345",
            quantity=D("1"),
            unit="Stk.",
        ),
        PdfLine(
            position=2,
            description="Thin Client Dell Wyse 5070",
            detail="Seriennummern: 8KJ2Q13, 8KJ2Q14, 8KJ2Q15",
            quantity=D("3"),
            unit="Stk.",
        ),
    )
    doc = replace(
        sample_document(),
        kind="delivery_note",
        number="LS-2026-000051",
        lines=lines,
        totals=None,
        info=(("delivery_date", dt.date(2026, 11, 20)),),
        delivery_address=(
            "Kanzlei Weber & Partner mbB",
            "Empfang 3. OG",
            "Unter den Linden 40",
            "10117 Berlin",
        ),
        payment_text="",
    )
    text = pdf_text(render_pdf(doc))
    assert "Lieferschein Nr. LS-2026-000051" in text
    assert "Lieferscheinnr. LS-2026-000051" in text
    assert "Lieferdatum 20.11.2026" in text
    assert "Seriennummer: A7PU021012345" in text
    assert "Seriennummern: 8KJ2Q13, 8KJ2Q14, 8KJ2Q15" in text
    assert "Lieferanschrift" in text and "Unter den Linden 40" in text
    assert "Pos. Bezeichnung Menge Einheit" in text
    assert "Einzelpreis" not in text and "Gesamtbetrag" not in text and "€" not in text
    assert "Unterschrift" in text


def test_it_renders_a_cancellation_credit_note_with_its_reference_and_negative_amounts():
    lines, totals = priced_lines(
        [
            ("Multifunktionssystem Konica Minolta bizhub C300i", "", "-1", "Stk.", "4290.00", "5", "19.00"),
            ("Handbuch", "", "-2", "Stk.", "24.80", "0", "7.00"),
        ]
    )
    doc = replace(
        sample_document(),
        kind="credit_note",
        number="GS-2026-000004",
        lines=lines,
        totals=totals,
        references=("Storno zu Rechnung RE-2026-000123 vom 24.11.2026",),
        payment_text="",
        cancellation=True,
    )
    text = pdf_text(render_pdf(doc))
    assert "Stornorechnung Nr. GS-2026-000004" in text
    assert "Belegnr. GS-2026-000004" in text
    assert "Gutschrift" not in text
    partial = pdf_text(render_pdf(replace(doc, cancellation=False)))
    assert "Rechnungskorrektur Nr. GS-2026-000004" in partial and "Stornorechnung Nr." not in partial
    english = pdf_text(render_pdf(replace(doc, language="en", cancellation=False)))
    assert "Credit note (invoice correction) No. GS-2026-000004" in english
    assert "Storno zu Rechnung RE-2026-000123 vom 24.11.2026" in text
    assert "-1 Stk. 4.290,00 € 5 % 19 % -4.075,50 €" in text
    assert "zzgl. 19 % USt auf -4.075,50 € -774,35 €" in text
    assert "Gesamtbetrag -4.902,92 €" in text


def test_it_renders_a_quote_with_its_validity_and_a_wordmark_without_logo():
    lines, totals = priced_lines(
        [("Servicevertrag Farbe, 60 Monate", "", "60", "Monat", "49.90", "0", "19.00")]
    )
    doc = replace(
        sample_document(),
        kind="quote",
        number="AN-2026-000077",
        issuer=replace(sample_issuer(), logo_bytes=None),
        info=(("valid_until", dt.date(2026, 12, 24)),),
        lines=lines,
        totals=totals,
        payment_text="",
    )
    text = pdf_text(render_pdf(doc))
    assert "Angebot Nr. AN-2026-000077" in text
    assert "Angebotsnr. AN-2026-000077" in text
    assert "Gültig bis 24.12.2026" in text
    assert "Gesamtbetrag 3.562,86 €" in text
    assert text.count("Bürotechnik Brandt GmbH") >= 3  # wordmark, sender line, footer


def test_it_names_the_leased_object_on_a_financier_invoice():
    doc = replace(
        sample_document(),
        recipient=Party(name="GRENKE Leasing AG", address_lines=("Neuer Markt 2", "76532 Baden-Baden")),
        leased_object=LeasedObject(
            end_customer="Kanzlei Weber & Partner mbB",
            folder="ORD-0815",
            delivery_address=("Unter den Linden 40", "10117 Berlin"),
            contract_reference="061-2210987",
            serial_numbers=("A7PU021012345", "A7PW021099871"),
        ),
    )
    text = pdf_text(render_pdf(doc))
    assert "Angaben zum Leasingobjekt" in text
    assert "Nutzer (Leasingnehmer) Kanzlei Weber & Partner mbB" in text
    assert "Standort Unter den Linden 40, 10117 Berlin" in text
    assert "Vertrag / Referenz 061-2210987" in text
    assert "Seriennummern A7PU021012345, A7PW021099871" in text


def test_it_prints_user_text_literally_and_loads_nothing_from_it():
    doc = replace(
        sample_document(),
        recipient=Party(name="<b>Evil</b> & Co", address_lines=("x",)),
        intro_text='<img src="file:///etc/passwd"><link rel="stylesheet" href="http://example.invalid/x.css">',
    )
    text = pdf_text(render_pdf(doc))
    assert "<b>Evil</b> & Co" in text
    assert '<img src="file:///etc/passwd">' in text
    assert '<link rel="stylesheet"' in text


def test_the_fetcher_refuses_anything_but_our_fonts_and_inline_data():
    fetcher = _LocalOnlyFetcher()
    with pytest.raises(ValueError):
        fetcher("file:///etc/passwd")
    with pytest.raises(ValueError):
        fetcher("http://169.254.169.254/latest/meta-data/")
    assert fetcher("data:text/plain;base64,aGk=").read() == b"hi"


# --- Validation and helpers ---------------------------------------------------------------


def test_it_refuses_documents_that_cannot_be_printed():
    doc = sample_document()
    with pytest.raises(ValueError):
        replace(doc, kind="dunning")
    with pytest.raises(ValueError):
        replace(doc, language="fr")
    with pytest.raises(ValueError):
        replace(doc, totals=None)
    with pytest.raises(ValueError):  # § 14 (4) Nr. 2 UStG
        replace(doc, issuer=replace(doc.issuer, vat_id="", tax_number=""))


def test_it_formats_dates_and_ibans():
    assert format_date(dt.date(2026, 11, 4), "de") == "04.11.2026"
    assert format_date(dt.date(2026, 11, 4), "en") == "4 Nov 2026"
    assert format_iban("de02120300000000202051") == "DE02 1203 0000 0000 2020 51"


def test_it_scales_down_huge_raster_logos_once():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (3000, 800), (31, 78, 121)).save(buffer, "PNG")
    uri = _prepared_logo(buffer.getvalue(), "image/png")
    import base64

    data = base64.b64decode(uri.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        assert max(image.size) == 1200
    doc = replace(
        sample_document(),
        issuer=replace(sample_issuer(), logo_bytes=buffer.getvalue(), logo_mime="image/png"),
    )
    assert "Rechnung Nr. RE-2026-000123" in pdf_text(render_pdf(doc))


def test_benchmark_reports_timings():
    result = benchmark(n=3)
    assert result["n"] == 3
    assert 0 < result["min_ms"] <= result["median_ms"] <= result["p95_ms"] <= result["max_ms"]
    assert result["bytes"] > 1000


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (Debian poppler-utils) not installed")
def test_poppler_rasterizes_every_page(tmp_path):
    path = tmp_path / "long.pdf"
    path.write_bytes(render_pdf(long_invoice()))
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 2
    for png in pngs:
        header = png.read_bytes()[:24]
        width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
        assert re.match(rb"\x89PNG", header)
        assert abs(width - 248) <= 1 and abs(height - 351) <= 1  # A4 at 30 dpi


def test_it_accepts_a_snapshot_as_stored_in_json():
    # The model layer keeps issuer, address and lines as JSON: lists, strings, ISO dates.
    issuer = {k: v for k, v in vars(sample_issuer()).items() if k not in ("logo_bytes", "logo_mime")}
    issuer = {k: list(v) if isinstance(v, tuple) else v for k, v in issuer.items()}
    doc = PdfDocument(
        kind="invoice",
        number="RE-2026-000200",
        issue_date=dt.date(2026, 11, 24),
        issuer=Issuer(**issuer),
        recipient=Party(
            name="Kanzlei Weber & Partner mbB", address_lines=["Friedrichstraße 123", "10117 Berlin"]
        ),
        info=[["due_date", "2026-12-08"], ["service_period", ["2026-11-01", "2026-11-30"]]],
        lines=[
            PdfLine(
                position=1,
                description="Servicepauschale",
                quantity="2",
                unit="Monat",
                unit_price="49.90",
                discount_percent="0.00",
                tax_rate="19.00",
                net="99.80",
            )
        ],
        totals=compute_totals([LineInput(quantity=2, unit_price="49.90", tax_rate="19.00")]),
    )
    assert doc.recipient.address_lines == ("Friedrichstraße 123", "10117 Berlin")
    assert doc.lines[0].quantity == D("2") and doc.lines[0].discount_percent == 0
    text = pdf_text(render_pdf(doc))
    assert "Fällig am 08.12.2026" in text
    assert "Leistungszeitraum 01.11.2026 – 30.11.2026" in text
    assert "2 Monat 49,90 € 19 % 99,80 €" in text  # no "0 %" discount column for "0.00"
    assert "Gesamtbetrag 118,76 €" in text
    with pytest.raises(TypeError):
        PdfLine(position=1, description="x", quantity=1.5)


def test_the_closing_never_stands_alone_on_a_page():
    base = sample_document()
    for count in range(8, 18):
        lines, totals = priced_lines(
            [
                (
                    "Servicepauschale Farbe",
                    "Leistungszeitraum 01.11.2026 – 30.11.2026",
                    "1",
                    "Monat",
                    "49.90",
                    "0",
                    "19.00",
                )
            ]
            * count
        )
        pages = pdf_pages(render_pdf(replace(base, lines=lines, totals=totals)))
        [last] = [page for page in pages if "Mit freundlichen Grüßen" in page]
        assert "Bitte überweisen" in last, count


def test_it_prints_units_for_the_quantity_in_the_documents_language():
    lines, totals = priced_lines(
        [
            ("Toner schwarz", "", "3", "piece", "40.00", "0", "19.00"),
            ("Servicepauschale", "", "1", "month", "49.90", "0", "19.00"),
            ("Wartungsvertrag", "", "3", "month", "49.90", "0", "19.00"),
            ("Einweisung", "", "2.5", "hour", "95.00", "0", "19.00"),
            ("Altgerät abholen", "", "1", "Karton", "10.00", "0", "19.00"),  # typed by hand: as stored
        ]
    )
    doc = replace(sample_document(), lines=lines, totals=totals)
    german = " ".join(pdf_text(render_pdf(doc)).split())
    assert "Toner schwarz 3 Stück" in german
    assert "Servicepauschale 1 Monat" in german and "Wartungsvertrag 3 Monate" in german
    assert "Einweisung 2,5 Std." in german
    assert "1 Karton" in german
    english = " ".join(pdf_text(render_pdf(replace(doc, language="en"))).split())
    assert "3 pieces" in english and "1 month" in english and "3 months" in english
    assert "2.5 hours" in english
