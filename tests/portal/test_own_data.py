"""A contact with billing rights (an invoice recipient) changes its company's invoice
e-mail and direct-debit account in the portal: recorded, staff told, a new IBAN amends
the SEPA mandate; bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from customers.models import Action
from organizations.models import AuditEntry
from payments.models import MandateStatus, SepaMandate
from tests.customers.factories import ContactFactory
from tests.payments.sepa_helpers import IBANS, dd_payer
from tests.portal.conftest import portal_account, portal_client

URL = "portal:profile"


@pytest.fixture
def payer(org, admin_user):
    org.email = "buero@nordtek.example"
    org.save()
    customer, mandate = dd_payer(org, iban=IBANS[0])
    SepaMandate.objects.filter(pk=mandate.pk).update(last_collected_on=dt.date(2026, 3, 2))
    customer.refresh_from_db()  # the mandate service wrote its copy onto the row
    customer.owner = admin_user
    customer.invoice_email = "rechnung@alt.example"
    customer.save()
    customer.refresh_from_db()
    return customer


def client_of(customer, *, billing: bool):
    contact = ContactFactory(
        customer=customer,
        has_portal_access=True,
        is_invoice_recipient=billing,
        email="buchhaltung@kunde.example",
    )
    return portal_client(portal_account(contact).user), contact


def form(customer, **data):
    values = {
        "invoice_email": customer.invoice_email,
        "account_holder": customer.account_holder,
        "iban": customer.iban,
        "bic": customer.bic,
    }
    values.update(data)
    return values


def test_a_new_iban_becomes_a_mandate_amendment_and_staff_are_told(
    payer, admin_user, django_capture_on_commit_callbacks
):
    client, contact = client_of(payer, billing=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(URL), form(payer, iban=IBANS[1], bic="", invoice_email="ap@neu.example")
        )
    assert response.status_code == 302
    payer.refresh_from_db()
    assert payer.iban == IBANS[1] and payer.invoice_email == "ap@neu.example"
    mandate = SepaMandate.objects.get(customer=payer)
    assert (mandate.iban, mandate.original_iban, mandate.status) == (IBANS[1], IBANS[0], MandateStatus.ACTIVE)
    # Recorded ...
    entry = AuditEntry.objects.filter(action="portal.billing_data_changed").get()
    assert entry.data["changes"]["invoice_email"] == ["rechnung@alt.example", "ap@neu.example"]
    assert AuditEntry.objects.filter(action="payment.mandate_amended").exists()
    # ... and the staff are told: an action for the account manager and a mail to the office.
    action = Action.objects.get(customer=payer)
    assert action.assignee == admin_user and str(contact) in action.description
    assert IBANS[0] not in action.description  # only the end of an account number is shown
    notice = [m for m in mail.outbox if m.to == ["buero@nordtek.example"]]
    assert len(notice) == 1 and payer.name in notice[0].subject and "ap@neu.example" in notice[0].body


def test_a_bad_iban_gets_a_message_and_changes_nothing(payer):
    client, _contact = client_of(payer, billing=True)
    response = client.post(reverse(URL), form(payer, iban="DE00 1234 5678", invoice_email="ap@neu.example"))
    assert response.status_code == 200
    assert "keine gültige IBAN" in response.content.decode()
    payer.refresh_from_db()
    assert payer.iban == IBANS[0] and payer.invoice_email == "rechnung@alt.example"
    assert SepaMandate.objects.get(customer=payer).original_iban == ""
    assert not Action.objects.filter(customer=payer).exists()
    assert not AuditEntry.objects.filter(action="portal.billing_data_changed").exists()


def test_a_contact_without_billing_rights_cannot_change_anything(payer):
    client, _contact = client_of(payer, billing=False)
    page = client.get(reverse(URL)).content.decode()
    assert 'name="iban"' not in page and "Rechnungsempfänger" in page
    response = client.post(reverse(URL), form(payer, iban=IBANS[1]))
    assert response.status_code == 302
    payer.refresh_from_db()
    assert payer.iban == IBANS[0]


def test_an_unchanged_form_records_nothing(payer):
    client, _contact = client_of(payer, billing=True)
    assert client.post(reverse(URL), form(payer)).status_code == 302
    assert not AuditEntry.objects.filter(action="portal.billing_data_changed").exists()
