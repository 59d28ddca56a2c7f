"""What a contact sees in the portal: its company's invoices (never another's), a
financier's invoices only to the financier, services and equipment, downloads of the
stored PDF and the e-invoice XML, in German and in English."""

from __future__ import annotations

import datetime as dt
import io

from django.urls import reverse
from lxml import etree
from pypdf import PdfReader

from folders.models import FolderStatus
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.documents.factories import FolderFactory, finance, financier, oneoff, recurring
from tests.payments.factories import issued_invoice, pay
from tests.portal.conftest import portal_account, portal_client


def test_it_lists_only_the_own_companys_issued_invoices(portal, portal_contact, org):
    own = issued_invoice(org, portal_contact.customer, "119.00")
    other = issued_invoice(org, CustomerFactory(organization=org), "238.00")
    draft = issued_invoice(org, portal_contact.customer, "357.00", status="draft", number="")
    page = portal.get(reverse("portal:documents")).content.decode()
    assert own.number in page
    assert other.number not in page
    assert "357,00" not in page and f"/portal/documents/{draft.pk}/" not in page


def test_it_shows_state_due_date_and_the_total_open(portal, portal_contact, org, admin_user):
    customer = portal_contact.customer
    paid = issued_invoice(org, customer, "100.00", issue_date=dt.date(2026, 11, 2))
    partly = issued_invoice(org, customer, "200.00", issue_date=dt.date(2026, 11, 3), due_days=365)
    overdue = issued_invoice(org, customer, "50.00", issue_date=dt.date(2026, 1, 5), due_days=14)
    pay(org, admin_user, customer, "100.00", paid)
    pay(org, admin_user, customer, "80.00", partly)
    page = portal.get(reverse("portal:documents")).content.decode()
    assert ">bezahlt<" in page and ">teilbezahlt<" in page and ">überfällig<" in page
    assert overdue.due_date.strftime("%d.%m.%Y") in page
    # open: 120 + 50
    assert '<strong id="open-total">170,00' in page
    detail = portal.get(reverse("portal:document", args=[partly.pk])).content.decode()
    assert 'id="open-amount">120,00' in detail


def test_a_financier_contact_sees_only_the_financiers_invoices(org):
    grenke = financier(org)
    end_customer = CustomerFactory(organization=org, name="Praxis Dr. Lang")
    folder = FolderFactory(organization=org, customer=end_customer)
    finance(folder, grenke)
    hardware = issued_invoice(org, grenke, "4290.00", customer=end_customer, folder=folder, third_party=True)
    service = issued_invoice(org, end_customer, "105.91", folder=folder)
    financier_contact = ContactFactory(
        customer=grenke, has_portal_access=True, email="leasing@grenke.example"
    )
    end_contact = ContactFactory(customer=end_customer, has_portal_access=True, email="lang@praxis.example")
    as_financier = portal_client(portal_account(financier_contact).user)
    as_end_customer = portal_client(portal_account(end_contact).user)
    page = as_financier.get(reverse("portal:documents")).content.decode()
    assert hardware.number in page and service.number not in page
    assert as_financier.get(reverse("portal:document", args=[service.pk])).status_code == 404
    page = as_end_customer.get(reverse("portal:documents")).content.decode()
    assert service.number in page and hardware.number not in page
    assert as_end_customer.get(reverse("portal:document", args=[hardware.pk])).status_code == 404


def test_the_pdf_download_is_the_stored_pdf(portal, issued_invoice_with_pdf):
    invoice = issued_invoice_with_pdf
    response = portal.get(reverse("portal:document_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    with invoice.pdf.open("rb") as handle:
        assert body == handle.read()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert invoice.number in text and "Yealink" in text


def test_the_xml_download_is_the_invoices_e_invoice(portal, issued_invoice_with_pdf):
    invoice = issued_invoice_with_pdf
    response = portal.get(reverse("portal:document_xml", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.xml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    tree = etree.fromstring(b"".join(response.streaming_content))
    ids = tree.xpath("//*[local-name()='ExchangedDocument']/*[local-name()='ID']/text()")
    assert ids == [invoice.number]
    # The document page offers both.
    page = portal.get(reverse("portal:document", args=[invoice.pk])).content.decode()
    assert reverse("portal:document_pdf", args=[invoice.pk]) in page
    assert reverse("portal:document_xml", args=[invoice.pk]) in page


def test_the_services_page_shows_active_folders_services_and_equipment(portal, portal_contact, org):
    folder = FolderFactory(
        organization=org,
        customer=portal_contact.customer,
        name="Kopierer Empfang",
        status=FolderStatus.ACTIVE,
        start_date=dt.date(2026, 1, 1),
        minimum_term_months=36,
        notice_period_months=3,
    )
    oneoff(folder, description="Konica Minolta bizhub C300i", serials=("A7PU0210999",))
    line = recurring(folder, description="Managed Print Service", start=dt.date(2026, 1, 1))
    line.billed_through = dt.date(2026, 11, 30)
    line.save()
    FolderFactory(
        organization=org, customer=portal_contact.customer, name="Altvertrag", status=FolderStatus.TERMINATED
    )
    FolderFactory(organization=org, name="Fremder Ordner", status=FolderStatus.ACTIVE)
    page = portal.get(reverse("portal:services")).content.decode()
    assert "Kopierer Empfang" in page and "Altvertrag" not in page and "Fremder Ordner" not in page
    assert "Managed Print Service" in page and "01.12.2026" in page  # the next billing
    assert "A7PU0210999" in page and "31.12.2028" in page  # serial and warranty end
    assert "31.12.2028" in page  # term end of 36 months from 2026-01-01
    assert "30.09.2028" in page  # notice three months before


def test_the_pages_speak_german_by_default_and_english_on_request(portal, portal_contact, org):
    issued_invoice(org, portal_contact.customer, "119.00")
    german = portal.get(reverse("portal:documents")).content.decode()
    assert "Rechnungen und Gutschriften" in german and 'lang="de"' in german
    portal.post(reverse("set_language"), {"language": "en", "next": reverse("portal:documents")})
    english = portal.get(reverse("portal:documents")).content.decode()
    assert "Invoices and credit notes" in english and 'lang="en"' in english
    assert "€119.00" in english or "119.00" in english
    for name in ("portal:home", "portal:services", "portal:profile"):
        assert portal.get(reverse(name)).status_code == 200


def test_the_menu_works_without_the_tickets_and_security_pages(portal):
    page = portal.get(reverse("portal:home")).content.decode()
    assert reverse("portal:documents") in page and reverse("portal:services") in page
    assert reverse("portal:profile") in page


def test_the_home_page_shows_the_open_total(portal, portal_contact, org):
    issued_invoice(org, portal_contact.customer, "59.50")
    assert "59,50" in portal.get(reverse("portal:home")).content.decode()
