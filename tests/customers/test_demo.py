from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.utils import timezone
from schwifty import IBAN
from stdnum.eu import vat as eu_vat

from customers.models import (
    Action,
    Contact,
    ContactFunction,
    Customer,
    CustomerKind,
    Note,
    PaymentMethod,
    TaxTreatment,
)
from demo import customers as demo

pytestmark = pytest.mark.slow


def _seed(org, users):
    demo.seed(org, rng=random.Random(42), users=users)


def _counts():
    return tuple(m.objects.count() for m in (Customer, Contact, ContactFunction, Note, Action))


def test_it_seeds_realistic_valid_data_idempotently(org, admin_user, sales_user, billing_user):
    users = {"admin": admin_user, "sales": sales_user, "billing": billing_user}
    _seed(org, users)
    first = _counts()
    _seed(org, users)
    assert _counts() == first

    customers = Customer.objects.filter(organization=org)
    assert 55 <= customers.count() <= 65
    assert customers.filter(kind=CustomerKind.PROSPECT).count() >= 10
    numbers = sorted(customers.filter(kind=CustomerKind.CUSTOMER).values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) and "" not in numbers
    assert not customers.filter(kind=CustomerKind.PROSPECT).exclude(number="").exists()

    financiers = customers.filter(is_financier=True)
    assert sorted(financiers.values_list("name", flat=True)) == [
        "Hanse Leasing AG",
        "Rheinland Mobilien-Leasing GmbH",
    ]
    for financier in financiers:
        assert financier.has_billing_address and financier.vat_id and financier.payment_terms_days

    for customer in customers:
        customer.full_clean()  # every seeded record passes the same rules as a form
        if customer.country == "DE":
            assert re.fullmatch(r"\d{5}", customer.postal_code), customer
        if customer.vat_id:
            assert eu_vat.is_valid(customer.vat_id), customer.vat_id
        if customer.iban:
            IBAN(customer.iban)

    debit = customers.filter(payment_method=PaymentMethod.DIRECT_DEBIT)
    assert debit.count() >= 3
    assert all(c.mandate_reference and c.mandate_signed_on for c in debit)
    assert customers.filter(consolidate_invoices=True).count() >= 3
    assert customers.filter(language="en").count() >= 2
    reverse_charge = customers.get(tax_treatment=TaxTreatment.EU_REVERSE_CHARGE, country="AT")
    assert reverse_charge.vat_id.startswith("ATU")

    assert set(ContactFunction.objects.values_list("name", flat=True)) >= {
        "Technik",
        "Buchhaltung",
        "Geschäftsführung",
        "Einkauf",
    }
    assert Contact.objects.filter(is_invoice_recipient=True).exists()
    assert Contact.objects.filter(is_active=False).exists()

    today = timezone.localdate()
    open_actions = Action.objects.filter(done_at__isnull=True)
    assert open_actions.filter(due_on__lt=today).exists()
    monday = today - dt.timedelta(days=today.weekday())
    assert open_actions.filter(due_on__gte=monday, due_on__lte=monday + dt.timedelta(days=6)).exists()
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert open_actions.filter(due_on__year=next_month.year, due_on__month=next_month.month).exists()
    assert Action.objects.filter(done_at__isnull=False).exists()
    assignees = set(Action.objects.exclude(assignee=None).values_list("assignee", flat=True))
    assert assignees <= {admin_user.pk, sales_user.pk, billing_user.pk}
    assert Note.objects.exists()


def test_each_organization_gets_its_own_demo_records(org, other_org, admin_user, outsider):
    # seed() opens the organization's scope itself (as a management command must).
    _seed(org, {"admin": admin_user})
    _seed(other_org, {"admin": outsider})
    ours = Customer.objects.filter(organization=org)
    theirs = Customer.objects.filter(organization=other_org)
    assert ours.count() == theirs.count()
    assert ours.filter(number="K00001").exists() and theirs.filter(number="K00001").exists()
    assert not Contact.objects.filter(organization=org, function__organization=other_org).exists()
    assert not Action.objects.filter(organization=org, assignee=outsider).exists()


def test_the_demo_stores_valid_phone_numbers_in_e164_and_websites_with_https(
    org, admin_user, sales_user, billing_user
):
    _seed(org, {"admin": admin_user, "sales": sales_user, "billing": billing_user})
    phones = [p for p in Customer.objects.filter(organization=org).values_list("phone", flat=True) if p]
    for phone, mobile in Contact.objects.filter(organization=org).values_list("phone", "mobile"):
        phones += [n for n in (phone, mobile) if n]
    assert phones and all(re.fullmatch(r"\+49\d{6,13}", p) for p in phones), phones
    websites = [w for w in Customer.objects.filter(organization=org).values_list("website", flat=True) if w]
    assert websites and all(w.startswith("https://www.") for w in websites)
