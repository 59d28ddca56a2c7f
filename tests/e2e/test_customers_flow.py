"""A clerk's first morning, in a real browser: create a customer, fix a wrong IBAN, add a
contact and an action, and convert a prospect."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import Action, Contact, Customer, CustomerKind
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clerk_creates_a_customer_and_converts_a_prospect(page, org, admin_user):
    prospect = Customer.objects.create(
        organization=org,
        number="K09001",
        kind=CustomerKind.PROSPECT,
        name="Hafenkontor Meyer KG",
        city="Bremen",
    )
    login(page, "admin")
    base = page.base_url

    # A customer with a mistyped IBAN: the error is shown at the field, in German.
    page.goto(f"{base}/customers/new/")
    page.fill("[name=name]", "Elbe Druckzentrum GmbH")
    page.fill("[name=city]", "Hamburg")
    page.fill("[name=postal_code]", "20095")
    page.fill("[name=iban]", "DE89 3704 0044 0532 0130 01")
    page.click("#content form button[type=submit].btn-primary")
    page.wait_for_load_state("networkidle")
    error = page.locator(".invalid-feedback", has_text="keine gültige IBAN")
    assert error.count() == 1
    assert not Customer.objects.filter(organization=org, name="Elbe Druckzentrum GmbH").exists()

    page.fill("[name=iban]", "DE89 3704 0044 0532 0130 00")
    page.click("#content form button[type=submit].btn-primary")
    page.wait_for_load_state("networkidle")
    customer = Customer.objects.get(organization=org, name="Elbe Druckzentrum GmbH")
    assert customer.iban == "DE89370400440532013000"
    assert page.url.rstrip("/").endswith(f"/customers/{customer.pk}")
    assert "Elbe Druckzentrum GmbH" in page.locator("h1").inner_text()

    # A contact.
    page.goto(f"{base}/customers/{customer.pk}/contacts/new/")
    page.fill("[name=first_name]", "Jana")
    page.fill("[name=last_name]", "Krüger")
    page.fill("[name=email]", "jana.krueger@elbe-druck.example")
    page.check("[name=is_invoice_recipient]")
    page.click("#content form button[type=submit].btn-primary")
    page.wait_for_load_state("networkidle")
    contact = Contact.objects.get(customer=customer)
    assert (contact.last_name, contact.is_invoice_recipient) == ("Krüger", True)

    # An action, through the dialog on the customer page.
    page.goto(f"{base}/customers/{customer.pk}/")
    page.locator(".page-actions a", has_text="Aktion hinzufügen").click()
    modal = page.locator("#action-modal")
    modal.wait_for(state="visible")
    due = dt.date.today() + dt.timedelta(days=3)
    modal.locator("[name=due_on]").fill(due.isoformat())
    modal.locator("[name=assignee]").select_option(str(admin_user.pk))
    modal.locator("[name=description]").fill("Rückruf wegen Kopierer-Angebot")
    modal.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    action = Action.objects.get(customer=customer)
    assert (action.due_on, action.assignee_id) == (due, admin_user.pk)

    # Convert the prospect: the same record becomes a customer.
    page.goto(f"{base}/customers/{prospect.pk}/")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(".page-actions button", has_text="In Kunden umwandeln").click()
    page.wait_for_load_state("networkidle")
    prospect.refresh_from_db()
    assert prospect.kind == CustomerKind.CUSTOMER
    assert Customer.objects.filter(organization=org, name="Hafenkontor Meyer KG").count() == 1
    assert "umgewandelt" in page.locator(".messages").inner_text()
