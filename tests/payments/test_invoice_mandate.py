"""An invoice names the mandate its collection uses: the folder's own before the
customer's, on the printed pre-notification and in the e-invoice, issued one by one or by
the billing run."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from documents import einvoice, services
from payments import mandates
from tests.billing.helpers import bill, invoices
from tests.documents.conftest import pdf_text
from tests.documents.factories import FolderFactory, deliver, oneoff, recurring
from tests.payments.sepa_helpers import IBANS, TODAY, dd_payer

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """run_on_commit(fn, ...) calls a service and runs its on-commit callbacks (PDF)."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = fn(*args, **kwargs)
        result.refresh_from_db()
        return result

    return call


RAM = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def _folder_mandate(org, folder, *, reference="M-ORDNER-1", iban=IBANS[2]):
    return mandates.mandate_create(
        organization=org,
        customer=folder.customer,
        folder=folder,
        reference=reference,
        signed_on=dt.date(2026, 2, 1),
        iban=iban,
        debtor_name=folder.customer.name,
        user=None,
        today=TODAY,
    )


def _assert_names(invoice, reference: str, iban: str):
    assert (invoice.mandate_reference, invoice.mandate_iban) == (reference, iban)
    assert reference in invoice.payment_text and f"**** {iban[-4:]}" in invoice.payment_text
    tree = etree.fromstring(einvoice.invoice_xml(invoice, "cii"))
    assert tree.xpath("//ram:DirectDebitMandateID/text()", namespaces=RAM) == [reference]
    assert tree.xpath("//ram:PayerPartyDebtorFinancialAccount/ram:IBANID/text()", namespaces=RAM) == [iban]


def test_an_invoice_of_a_folder_with_its_own_mandate_names_that_mandate(org, admin_user, run_on_commit):
    customer, own = dd_payer(org, iban=IBANS[0])
    folder = FolderFactory(organization=org, customer=customer)
    _folder_mandate(org, folder)
    oneoff(folder, equipment=False, unit_price="100.00")
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    _assert_names(invoice, "M-ORDNER-1", IBANS[2])
    printed = pdf_text(invoice)
    assert "M-ORDNER-1" in printed and own.reference not in printed
    other = FolderFactory(organization=org, customer=customer)
    oneoff(other, equipment=False, unit_price="50.00")
    deliver(other)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=other, user=admin_user)
    _assert_names(invoice, own.reference, IBANS[0])


def test_a_folder_paying_by_direct_debit_needs_only_its_own_mandate(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org, payment_method="direct_debit")
    _folder_mandate(org, folder, reference="M-NUR-ORDNER")
    oneoff(folder, equipment=False, unit_price="100.00")
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    _assert_names(invoice, "M-NUR-ORDNER", IBANS[2])


def test_the_billing_run_names_the_folders_mandate(org):
    customer, own = dd_payer(org, iban=IBANS[0])
    with_own = FolderFactory(organization=org, customer=customer, name="Filiale")
    _folder_mandate(org, with_own)
    plain = FolderFactory(organization=org, customer=customer, name="Zentrale")
    recurring(with_own, unit_price="89.00")
    recurring(plain, unit_price="29.00")
    run = bill(org, dt.date(2026, 12, 1))
    by_folder = {invoice.folder_id: invoice for invoice in invoices(org, run)}
    _assert_names(by_folder[with_own.pk], "M-ORDNER-1", IBANS[2])
    _assert_names(by_folder[plain.pk], own.reference, IBANS[0])
