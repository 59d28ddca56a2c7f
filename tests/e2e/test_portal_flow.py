"""In a real browser, the whole way of a customer's contact through the portal: staff open the
portal for the contact, the contact sets a password from the invitation's link, logs in,
downloads an invoice, opens a ticket with an attachment; staff reply and the contact reads
it; a contact of another customer cannot open that ticket by its address."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from pypdf import PdfReader

from tests.customers.factories import ContactFactory, CustomerFactory
from tests.documents.factories import FolderFactory, deliver, oneoff
from tests.e2e.conftest import login
from tests.portal.conftest import PORTAL_PASSWORD, portal_account
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "Kaffeemaschine-Blau-42"


def _portal_login(page, email: str, password: str) -> None:
    page.goto(f"{page.base_url}/portal/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("form[action$='/portal/login/'] button[type=submit]")


def test_a_contact_is_invited_downloads_an_invoice_and_works_a_ticket(
    page, browser, org, admin_user, tmp_path
):
    from documents import services

    folder = FolderFactory(
        organization=org, customer__name="Bäckerei Schulz KG", customer__email="info@schulz.example"
    )
    customer = folder.customer
    contact = ContactFactory(
        customer=customer, first_name="Petra", last_name="Schulz", email="petra@schulz.example"
    )
    oneoff(folder, quantity="1", unit_price="250.00")
    deliver(folder)
    invoice = services.invoice_oneoff_now(folder=folder, user=admin_user)

    # Staff tick "portal access" on the contact: the invitation goes out.
    login(page, "admin")
    page.goto(f"{page.base_url}/customers/{customer.pk}/contacts/{contact.pk}/edit/")
    page.check("#id_has_portal_access")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("form:has(#id_has_portal_access) button[type=submit]")
    [invitation] = [m for m in mail.outbox if "petra@schulz.example" in m.to]
    link = re.search(r"https?://[^/\s]+(/portal/invitation/\S+/)", invitation.body).group(1)

    # The contact, in a browser of its own, sets a password and logs in.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
    contact_page = context.new_page()
    contact_page.base_url = page.base_url
    contact_page.goto(f"{page.base_url}{link}")
    contact_page.fill("input[name=new_password1]", NEW_PASSWORD)
    contact_page.fill("input[name=new_password2]", NEW_PASSWORD)
    with contact_page.expect_navigation(wait_until="domcontentloaded"):
        contact_page.click("form:has(input[name=new_password1]) button[type=submit]")
    contact_page.goto(f"{page.base_url}/portal/documents/")
    # Setting the password logged the contact in.
    assert "/portal/login/" not in contact_page.url
    assert invoice.number in contact_page.content()

    # On a phone the list keeps number and amount; the download is on the document's page.
    contact_page.click(f"a[href='/portal/documents/{invoice.pk}/']")
    with contact_page.expect_download() as download:
        contact_page.click(f"main a[href='/portal/documents/{invoice.pk}/pdf/']")
    reader = PdfReader(download.value.path())
    assert invoice.number in "".join(p.extract_text() for p in reader.pages)

    # A ticket with a PDF attachment.
    attachment = tmp_path / "fehlerbild.pdf"
    attachment.write_bytes(download.value.path().read_bytes())
    contact_page.goto(f"{page.base_url}/portal/tickets/new/")
    contact_page.fill("#id_subject", "Kopierer zieht schief ein")
    contact_page.fill("#id_description", "Seit Montag kommt jedes zweite Blatt schief heraus.")
    contact_page.set_input_files("#id_attachments", str(attachment))
    with contact_page.expect_navigation(wait_until="domcontentloaded"):
        contact_page.click("form:has(#id_subject) button[type=submit]")
    ticket = Ticket.objects.get(customer=customer)
    assert ticket.attachments.count() == 1

    # Staff reply in the back office; the contact reads it.
    page.goto(f"{page.base_url}/tickets/{ticket.pk}/")
    page.fill("#reply textarea[name=body]", "Wir schicken morgen einen Techniker vorbei.")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#reply button[type=submit]")
    contact_page.goto(f"{page.base_url}/portal/tickets/{ticket.pk}/")
    assert "Wir schicken morgen einen Techniker vorbei." in contact_page.content()
    context.close()

    # A contact of another customer gets nothing at that address.
    stranger = ContactFactory(
        customer=CustomerFactory(organization=org), email="fremd@example.de", has_portal_access=True
    )
    portal_account(stranger)
    other = browser.new_context(locale="de-DE")
    other_page = other.new_page()
    other_page.base_url = page.base_url
    _portal_login(other_page, stranger.email, PORTAL_PASSWORD)
    response = other_page.goto(f"{page.base_url}/portal/tickets/{ticket.pk}/")
    assert response.status == 404
    assert "Kopierer zieht schief ein" not in other_page.content()
    other.close()
