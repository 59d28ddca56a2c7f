"""The customer's payment form edits the customer's own SEPA mandate through the mandate
service: mandates are the one truth, the customer row carries a copy of the active one."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from payments.models import MandateStatus, SepaMandate
from tests.conftest import login
from tests.customers.factories import CustomerFactory
from tests.payments.sepa_helpers import IBANS, dd_payer

URL = "customers:payment"


def _post(user, customer, **data):
    form = {
        "payment_method": "direct_debit",
        "iban": customer.iban,
        "bic": "",
        "account_holder": customer.account_holder,
        "mandate_reference": customer.mandate_reference,
        "mandate_signed_on": customer.mandate_signed_on.isoformat() if customer.mandate_signed_on else "",
    }
    form.update(data)
    return login(user).post(reverse(URL, args=[customer.pk]), form)


def test_it_creates_the_mandate_the_form_names(org, billing_user):
    customer = CustomerFactory(organization=org)
    response = _post(
        billing_user, customer, iban=IBANS[0], mandate_reference="M-7", mandate_signed_on="2026-02-01"
    )
    assert response.status_code == 302
    mandate = SepaMandate.objects.get(customer=customer)
    assert (mandate.reference, mandate.iban, mandate.signed_on, mandate.status) == (
        "M-7",
        IBANS[0],
        dt.date(2026, 2, 1),
        MandateStatus.ACTIVE,
    )
    assert mandate.debtor_name == customer.name
    customer.refresh_from_db()
    assert (customer.mandate_reference, customer.bic) == ("M-7", mandate.bic)


def test_a_new_iban_for_a_used_mandate_is_an_amendment(org, billing_user):
    customer, mandate = dd_payer(org, iban=IBANS[0])
    SepaMandate.objects.filter(pk=mandate.pk).update(last_collected_on=dt.date(2026, 3, 2))
    customer.refresh_from_db()
    assert _post(billing_user, customer, iban=IBANS[1]).status_code == 302
    mandate.refresh_from_db()
    assert SepaMandate.objects.filter(customer=customer).count() == 1
    assert (mandate.iban, mandate.original_iban, mandate.status) == (IBANS[1], IBANS[0], MandateStatus.ACTIVE)
    customer.refresh_from_db()
    assert customer.iban == IBANS[1]


def test_a_new_reference_is_a_new_mandate_and_the_old_one_is_kept_ended(org, billing_user):
    customer, old = dd_payer(org, iban=IBANS[0], scheme="B2B")
    customer.refresh_from_db()
    response = _post(
        billing_user, customer, iban=IBANS[2], mandate_reference="M-NEU-1", mandate_signed_on="2026-03-01"
    )
    assert response.status_code == 302
    old.refresh_from_db()
    new = SepaMandate.objects.get(customer=customer, status=MandateStatus.ACTIVE)
    assert old.status == MandateStatus.REVOKED and old.iban == IBANS[0]
    assert (new.reference, new.iban, new.scheme, new.last_collected_on) == ("M-NEU-1", IBANS[2], "B2B", None)
    customer.refresh_from_db()
    assert (customer.mandate_reference, customer.iban) == ("M-NEU-1", IBANS[2])


def test_a_bad_reference_is_refused_at_its_field_and_nothing_changes(org, billing_user):
    customer, mandate = dd_payer(org, iban=IBANS[0])
    customer.refresh_from_db()
    response = _post(billing_user, customer, mandate_reference="M-Ä//1", iban=IBANS[1])
    assert response.status_code == 200
    assert response.context["form"].errors["mandate_reference"]
    mandate.refresh_from_db()
    customer.refresh_from_db()
    assert (mandate.reference, mandate.iban, mandate.status) == (
        customer.mandate_reference,
        IBANS[0],
        "active",
    )
    assert customer.iban == IBANS[0]
    assert SepaMandate.objects.filter(customer=customer).count() == 1


def test_the_signature_date_of_a_used_mandate_stays(org, billing_user):
    customer, mandate = dd_payer(org)
    SepaMandate.objects.filter(pk=mandate.pk).update(last_collected_on=dt.date(2026, 3, 2))
    customer.refresh_from_db()
    response = _post(billing_user, customer, mandate_signed_on="2026-02-20")
    assert response.status_code == 200
    assert response.context["form"].errors["mandate_signed_on"]
    mandate.refresh_from_db()
    assert mandate.signed_on == dt.date(2026, 1, 15)


def test_a_mandate_made_on_the_mandate_page_shows_in_the_customer_form(org, billing_user):
    customer, mandate = dd_payer(org)
    response = login(billing_user).get(reverse(URL, args=[customer.pk]))
    assert response.context["form"]["mandate_reference"].value() == mandate.reference
