"""The stored PDFs say what the frozen documents say (read back with pypdf)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from documents import services
from documents.models import Document
from tests.documents.conftest import pdf_text
from tests.documents.factories import FolderFactory, oneoff

pytestmark = pytest.mark.django_db


def _normalized(text: str) -> str:
    return " ".join(text.split())


def test_the_financiers_invoice_pdf_names_payer_leased_object_and_totals(
    financed_folder, admin_user, run_on_commit
):
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
    financed_folder, admin_user, run_on_commit
):
    quote = run_on_commit(
        services.quote_issue,
        quote=services.quote_create(
            folder=financed_folder, user=admin_user, valid_until=dt.date(2099, 3, 31)
        ),
        user=admin_user,
    )
    text = _normalized(pdf_text(quote))
    assert f"Angebot Nr. {quote.number}" in text
    assert financed_folder.customer.name in text and "Frau Anna Weber" in text
    assert "GRENKE Leasing AG" in text  # only named in the financing sentence
    assert "Gültig bis 31.03.2099" in text
    assert "Einmalige Kosten" in text and "Laufende Kosten (monatlich)" in text
    assert "Laufende Kosten monatlich: 89,00 € netto zzgl. 16,91 € USt = 105,91 €" in text
    assert "Angaben zum Leasingobjekt" not in text


def test_the_reverse_charge_note_is_printed(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    customer = folder.customer
    customer.country, customer.tax_treatment, customer.vat_id = "AT", "eu_reverse_charge", "ATU13585627"
    customer.save()
    oneoff(folder, unit_price="500.00", equipment=False)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text and "§ 13b UStG" in text
    assert "ATU13585627" in text
    assert "0 % USt auf 500,00 €" in text


def test_the_direct_debit_note_is_printed(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    customer = folder.customer
    customer.payment_method = "direct_debit"
    customer.iban, customer.mandate_reference = "DE89370400440532013000", "MND-2026-0042"
    customer.mandate_signed_on = dt.date(2026, 1, 5)
    customer.save()
    oneoff(folder, unit_price="100.00", equipment=False)
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
    assert "Lieferanschrift" in text and "Lagerweg 5" in text and "20457 Hamburg" in text
    assert "Seriennummer: A7PU021012345" in text and "Seriennummer: A7PU021012346" in text
    assert "Garantie bis: 31.12.2028" in text
    assert "Lieferdatum 20.11.2026" in text
    assert "€" not in text.split("Lieferschein Nr.")[1].split("Ware vollständig")[0]


def test_an_english_customer_gets_an_english_pdf(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    folder.customer.language = "en"
    folder.customer.save()
    oneoff(folder, unit_price="1234.50", equipment=False)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert f"Invoice No. {invoice.number}" in text
    assert "€1,234.50" in text and "Please transfer" in text


def test_the_pdf_task_is_idempotent(direct_folder, admin_user, run_on_commit):
    from documents.tasks import render_document_pdf

    invoice = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    name, digest = invoice.pdf.name, invoice.pdf_sha256
    assert render_document_pdf(invoice.pk, invoice.organization_id) == digest
    invoice = Document.objects.get(pk=invoice.pk)
    assert (invoice.pdf.name, invoice.pdf_sha256) == (name, digest)
