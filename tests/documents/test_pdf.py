"""The stored PDFs say what the frozen documents say (read back with pypdf)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pdfplumber
import pytest
from pypdf import PdfReader

from documents import services
from documents.models import Document
from folders.models import Equipment
from tests.documents.conftest import pdf_text
from tests.documents.factories import FolderFactory, deliver, direct_debit, oneoff, recurring

pytestmark = pytest.mark.django_db


def _normalized(text: str) -> str:
    return " ".join(text.split())


def test_the_financiers_invoice_pdf_names_payer_leased_object_and_totals(
    financed_folder, admin_user, run_on_commit
):
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    assert f"/invoice/{invoice.issue_date.year}/{invoice.number}" in invoice.pdf.name
    with invoice.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == invoice.pdf_sha256
    text = _normalized(pdf_text(invoice))
    assert f"Rechnung Nr. {invoice.number}" in text
    assert "GRENKE Leasing AG" in text and "76532 Baden-Baden" in text
    assert "DE143582014" in text  # the financier's VAT ID
    assert "Angaben zum Leasingobjekt" in text
    assert financed_folder.customer.name in text
    assert "GR-2026-4711" in text
    assert "A7PU021012345, A7PU021012346" in text
    # 2 x 4.290,00 + 2,5 x 95,00 = 8.817,50 net; 19 % = 1.675,33; 10.492,83 gross
    assert "8.817,50 €" in text and "1.675,33 €" in text and "10.492,83 €" in text
    assert "Leistungsdatum" in text and "Fällig am" in text
    assert "DE136695976" in text  # the issuer's VAT ID (§ 14 UStG)
    assert "Managed Print" not in text  # the service is the end customer's


def test_the_quote_pdf_is_addressed_to_the_end_customer_with_recurring_costs(
    financed_folder, admin_user, issue_quote
):
    quote = issue_quote(financed_folder, admin_user, valid_until=dt.date(2099, 3, 31))
    text = _normalized(pdf_text(quote))
    assert f"Angebot Nr. {quote.number}" in text
    assert financed_folder.customer.name in text and "Frau Anna Weber" in text
    assert "Gültig bis 31.03.2099" in text
    assert "Finanziert durch GRENKE Leasing AG (wird dort in Rechnung gestellt)" in text
    assert "Von Ihnen laufend zu zahlen (monatlich)" in text
    assert "Gesamtbetrag an GRENKE Leasing AG 10.492,83 €" in text
    assert "Gesamtbetrag einmalig" not in text  # the end customer pays nothing once
    assert (
        "Von Ihnen laufend zu zahlen (monatlich) Nettobetrag 89,00 € zzgl. 19 % USt auf 89,00 € 16,91 €"
        in text
    )
    assert "Gesamtbetrag monatlich 105,91 €" in text
    assert "Angaben zum Leasingobjekt" not in text


def _austrian_company(org, **kwargs):
    folder = FolderFactory(organization=org)
    customer = folder.customer
    customer.country, customer.tax_treatment, customer.vat_id = "AT", "eu_reverse_charge", "ATU13585627"
    for name, value in kwargs.items():
        setattr(customer, name, value)
    customer.save()
    return folder


def _hours(line, unit="hour"):
    line.unit = unit
    line.save()
    return line


def test_a_copier_sold_to_an_eu_company_is_a_tax_free_intra_community_supply(org, admin_user, run_on_commit):
    folder = _austrian_company(org)
    oneoff(folder, unit_price="500.00", serials=("A7PU0001",))
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b i. V. m. § 6a UStG)" in text
    # Both VAT IDs: ours and the customer's.
    assert "Unsere USt-IdNr.: DE136695976, Ihre USt-IdNr.: ATU13585627" in text
    assert "13b" not in text and "Steuerschuldnerschaft" not in text
    assert "0 % USt auf 500,00 €" in text
    assert invoice.lines.get().goods


def test_a_service_sold_to_an_eu_company_keeps_the_reverse_charge_note(org, admin_user, run_on_commit):
    folder = _austrian_company(org)
    _hours(oneoff(folder, description="Einrichtung vor Ort", unit_price="95.00", equipment=False))
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text and "§ 13b UStG" in text
    assert "Art. 196 MwStSystRL" in text
    assert "innergemeinschaftliche Lieferung" not in text
    assert "Unsere USt-IdNr.: DE136695976, Ihre USt-IdNr.: ATU13585627" in text


def test_a_mixed_invoice_names_the_positions_of_goods_and_services(org, admin_user, run_on_commit):
    folder = _austrian_company(org)
    oneoff(folder, unit_price="4290.00", serials=("A7PU0001",))
    _hours(
        oneoff(folder, description="Lieferung und Aufstellung", unit_price="149.00", equipment=False), "flat"
    )
    oneoff(folder, description="Tonerkartusche", unit_price="79.00", equipment=False)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert "Pos. 1, 3: Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b i. V. m. § 6a UStG)" in text
    assert "Pos. 2: Steuerschuldnerschaft des Leistungsempfängers" in text
    assert "Unsere USt-IdNr.: DE136695976, Ihre USt-IdNr.: ATU13585627" in text


def test_an_english_eu_invoice_gets_the_english_notes(org, admin_user, run_on_commit):
    folder = _austrian_company(org, language="en")
    oneoff(folder, unit_price="4290.00", serials=("A7PU0001",))
    _hours(oneoff(folder, description="Installation", unit_price="95.00", equipment=False))
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert (
        "Item 1: Tax-free intra-Community supply of goods (§ 4 No. 1b in conjunction with § 6a UStG" in text
    )
    assert "Item 2: Reverse charge: VAT is payable by the recipient of the supply" in text
    assert "Our VAT ID: DE136695976, your VAT ID: ATU13585627" in text
    assert "Steuerfreie" not in text


def test_a_credit_note_repeats_the_tax_note_of_what_it_reverses(
    org, admin_user, run_on_commit, issue_correction
):
    folder = _austrian_company(org)
    oneoff(folder, unit_price="4290.00", serials=("A7PU0001",))
    _hours(oneoff(folder, description="Installation", unit_price="95.00", equipment=False))
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    copier, installation = invoice.lines.all()
    by_line = issue_correction(invoice, admin_user, "Gerät zurück", line_ids=[copier.pk])
    assert by_line.tax_note.startswith("Steuerfreie innergemeinschaftliche Lieferung")
    assert "13b" not in by_line.tax_note
    by_amount = issue_correction(invoice, admin_user, "Kulanz", amount=Decimal("10.00"))
    assert by_amount.tax_note == invoice.tax_note


def test_the_direct_debit_note_is_printed(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    direct_debit(folder.customer, mandate_reference="MND-2026-0042", signed_on=dt.date(2026, 1, 5))
    oneoff(folder, unit_price="100.00", equipment=False)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert "SEPA-Lastschrift" in text and "MND-2026-0042" in text
    assert "Gläubiger-Identifikationsnummer: DE98ZZZ09999999999" in text
    assert "119,00 €" in text


def test_the_delivery_note_pdf_lists_serials_and_the_site(financed_folder, admin_user, run_on_commit):
    ids = list(financed_folder.oneoff_lines.get(is_equipment=True).equipment.values_list("pk", flat=True))
    note = run_on_commit(
        services.delivery_note_issue,
        folder=financed_folder,
        user=admin_user,
        equipment_ids=ids,
        delivery_date=dt.date(2026, 11, 20),
    )
    text = _normalized(pdf_text(note))
    assert f"Lieferschein Nr. {note.number}" in text
    assert "Lagerweg 5" in text and "20457 Hamburg" in text
    assert "Seriennummer: A7PU021012345" in text and "Seriennummer: A7PU021012346" in text
    assert "Garantie bis: 31.12.2028" in text
    assert "Lieferdatum 20.11.2026" in text
    assert "€" not in text.split("Lieferschein Nr.")[1].split("Ware vollständig")[0]


def test_an_english_customer_gets_an_english_pdf(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    folder.customer.language = "en"
    folder.customer.save()
    oneoff(folder, unit_price="1234.50", equipment=False)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert f"Invoice No. {invoice.number}" in text
    assert "€1,234.50" in text and "Please transfer" in text


def test_the_pdf_task_is_idempotent(direct_folder, admin_user, run_on_commit):
    from documents.tasks import render_document_pdf

    deliver(direct_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    name, digest = invoice.pdf.name, invoice.pdf_sha256
    assert render_document_pdf(invoice.pk, invoice.organization_id) == digest
    invoice = Document.objects.get(pk=invoice.pk)
    assert (invoice.pdf.name, invoice.pdf_sha256) == (name, digest)


def test_a_quote_of_recurring_services_prints_a_total_per_cycle_and_setup_fees_as_lines(
    org, admin_user, issue_quote
):
    folder = FolderFactory(organization=org, name="Telefonie")
    trunk = recurring(folder, description="SIP-Trunk Sprachkanal", quantity="4", unit_price="9.90")
    trunk.setup_fee = Decimal("49.00")
    trunk.save()
    recurring(folder, description="Cloud-Backup 1 TB", unit_price="249.00", cycle=12)
    quote = issue_quote(folder, admin_user)
    setup = quote.lines.get(cycle=None)
    assert (setup.description, setup.quantity, setup.unit_price, setup.net) == (
        "Einrichtung: SIP-Trunk Sprachkanal",
        Decimal("1"),
        Decimal("49.00"),
        Decimal("49.00"),
    )
    # The one-off total is the setup fee; each cycle is summed on its own.
    assert (quote.total_net, quote.total_gross) == (Decimal("49.00"), Decimal("58.31"))
    assert [(r["cycle"], r["net"], r["gross"]) for r in quote.recurring_totals] == [
        (1, "39.60", "47.12"),
        (12, "249.00", "296.31"),
    ]
    text = _normalized(pdf_text(quote))
    assert "Einrichtung: SIP-Trunk Sprachkanal 1 pauschal 49,00 € 19 % 49,00 €" in text
    assert "Gesamtbetrag einmalig 58,31 €" in text
    assert (
        "Laufende Kosten monatlich Nettobetrag 39,60 €" in text and "Gesamtbetrag monatlich 47,12 €" in text
    )
    assert (
        "Laufende Kosten jährlich Nettobetrag 249,00 €" in text and "Gesamtbetrag jährlich 296,31 €" in text
    )
    # Never a sum of monthly and yearly fees (39.60 + 249.00 net, 47.12 + 296.31 gross).
    assert "288,60" not in text and "343,43" not in text and "401,74" not in text
    assert "Gesamtbetrag " not in text.replace("Gesamtbetrag einmalig", "").replace(
        "Gesamtbetrag monatlich", ""
    ).replace("Gesamtbetrag jährlich", "")
    assert "zzgl. einmalige Einrichtung" not in text


def test_a_quote_of_monthly_services_only_has_no_one_off_total(org, admin_user, issue_quote):
    folder = FolderFactory(organization=org)
    folder.customer.language = "en"
    folder.customer.save()
    recurring(folder, description="Managed Firewall", unit_price="59.00")
    quote = issue_quote(folder, admin_user)
    assert quote.total_gross == Decimal("0.00") and quote.tax_breakdown == []
    text = _normalized(pdf_text(quote))
    assert "Recurring charges monthly Net amount €59.00" in text and "Total monthly €70.21" in text
    assert "One-off charges" not in text and "Total amount" not in text


def test_credit_notes_are_titled_cancellation_invoice_or_invoice_correction(
    direct_folder, admin_user, run_on_commit, issue_correction, invoice
):
    correction = issue_correction(invoice, admin_user, "Kulanz", amount=Decimal("5.00"))
    text = _normalized(pdf_text(correction))
    assert f"Rechnungskorrektur Nr. {correction.number}" in text
    assert f"Rechnungskorrektur zu Rechnung {invoice.number}" in text
    assert "Stornorechnung" not in text and "Gutschrift" not in text
    other = FolderFactory(organization=direct_folder.organization)
    other.customer.language = "en"
    other.customer.save()
    oneoff(other, equipment=False, unit_price="100.00")
    deliver(other)
    english = run_on_commit(services.invoice_oneoff_now, folder=other, user=admin_user)
    cancellation = run_on_commit(services.invoice_cancel, invoice=english, user=admin_user, reason="wrong")
    text = _normalized(pdf_text(cancellation))
    assert f"Cancellation invoice No. {cancellation.number}" in text
    assert f"Cancellation of invoice {english.number}" in text
    english_correction = issue_correction(
        run_on_commit(services.invoice_oneoff_now, folder=other, user=admin_user),
        admin_user,
        "goodwill",
        amount=Decimal("5.00"),
    )
    assert f"Credit note (invoice correction) No. {english_correction.number}" in _normalized(
        pdf_text(english_correction)
    )


def test_the_footer_names_the_seat_of_the_company(admin_user, invoice):
    assert invoice.issuer["seat"] == "Berlin"
    text = _normalized(pdf_text(invoice))
    assert "Sitz der Gesellschaft: Berlin" in text
    assert "Amtsgericht Berlin-Charlottenburg" in text and "HRB 123456" in text


def test_a_short_delivery_note_keeps_closing_and_signature_on_its_one_page(
    financed_folder, admin_user, run_on_commit
):
    """Like the demo's: delivery address, leased-object block and three copiers."""
    oneoff(financed_folder, quantity="1", serials=("A7PU021012347",))
    pieces = list(
        Equipment.objects.filter(line__folder=financed_folder)
        .order_by("line__position", "piece")
        .values_list("pk", flat=True)
    )
    assert len(pieces) == 3
    note = run_on_commit(
        services.delivery_note_issue, folder=financed_folder, user=admin_user, equipment_ids=pieces
    )
    note.pdf.open("rb")
    try:
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(note.pdf.read())).pages]
    finally:
        note.pdf.close()
    assert len(pages) == 1
    page = _normalized(pages[0])
    assert "Angaben zum Leasingobjekt" in page and "Lagerweg 5" in page
    assert "Mit freundlichen Grüßen" in page and "Unterschrift / Name in Druckbuchstaben" in page
    assert page.index("Mit freundlichen Grüßen") < page.index("Ware vollständig")


def _address_window(document) -> str:
    """The text inside the DIN 5008 address window (20 mm left, 45 mm down, 85 x 45 mm)."""
    mm = 72 / 25.4
    with document.pdf.open("rb") as handle, pdfplumber.open(io.BytesIO(handle.read())) as pdf:
        return pdf.pages[0].crop((20 * mm, 45 * mm, 105 * mm, 90 * mm)).extract_text()


def test_the_delivery_note_is_addressed_to_the_site_under_the_end_customers_name(
    financed_folder, admin_user, run_on_commit
):
    financed_folder.delivery_name = "Lager Nord"
    financed_folder.save()
    ids = list(financed_folder.oneoff_lines.get(is_equipment=True).equipment.values_list("pk", flat=True))
    note = run_on_commit(
        services.delivery_note_issue, folder=financed_folder, user=admin_user, equipment_ids=ids
    )
    window = _address_window(note).splitlines()
    customer = financed_folder.customer
    assert window[1:] == [customer.name, "Frau Anna Weber", "Lager Nord", "Lagerweg 5", "20457 Hamburg"]
    assert note.recipient_address == ["Lager Nord", "Lagerweg 5", "20457 Hamburg"]
    # The billing address is not where the goods go; the site is not printed twice.
    text = _normalized(pdf_text(note))
    assert "Königsallee" not in text and "Lieferanschrift" not in text


def test_a_delivery_note_without_a_site_goes_to_the_customers_address(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org, delivery_street="", delivery_postal_code="", delivery_city="")
    ids = list(oneoff(folder, serials=("S1",)).equipment.values_list("pk", flat=True))
    note = run_on_commit(services.delivery_note_issue, folder=folder, user=admin_user, equipment_ids=ids)
    window = _address_window(note).splitlines()
    assert window[1:] == [folder.customer.name, *folder.customer.address_lines]
