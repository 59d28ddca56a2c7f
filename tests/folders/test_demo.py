from __future__ import annotations

import random

import pytest

from customers.models import Customer
from demo import catalog as catalog_demo
from demo import customers as customers_demo
from demo import financing as financing_demo
from demo import folders as folders_demo
from financing.models import Financing
from financing.payer import payer_for
from folders.models import Equipment, Folder, FolderStatus, RecurringLineChange

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _seed(org, users):
    for module in (customers_demo, catalog_demo, folders_demo, financing_demo):
        module.seed(org, rng=random.Random(42), users=users)


def test_the_demo_seeds_the_financed_scenarios_and_is_idempotent(org, admin_user, sales_user, billing_user):
    users = {"admin": admin_user, "sales": sales_user, "billing": billing_user}
    _seed(org, users)
    counts = (
        Customer.objects.count(),
        Folder.objects.count(),
        Equipment.objects.count(),
        Financing.objects.count(),
    )
    _seed(org, users)
    assert (
        Customer.objects.count(),
        Folder.objects.count(),
        Equipment.objects.count(),
        Financing.objects.count(),
    ) == counts

    assert Financing.objects.count() == 3
    copiers = Folder.objects.get(name=folders_demo.SCENARIO_COPIERS)
    assert Equipment.objects.filter(line__folder=copiers).exclude(serial_number="").count() == 3
    for line in copiers.oneoff_lines.all():
        assert payer_for(line) == copiers.financing.financier
    pbx = Folder.objects.get(name=folders_demo.SCENARIO_PBX)
    sip = Folder.objects.get(name=folders_demo.SCENARIO_SIP)
    assert pbx.customer == sip.customer
    assert not sip.is_third_party_paid
    assert all(payer_for(line) == sip.customer for line in sip.recurring_lines.all())
    rack = Folder.objects.get(name=folders_demo.SCENARIO_RACK)
    assert Equipment.objects.filter(line__folder=rack).exclude(serial_number="").count() >= 10
    assert not Folder.objects.filter(customer__is_financier=True).exists()
    statuses = set(Folder.objects.values_list("status", flat=True))
    assert {
        FolderStatus.ACTIVE,
        FolderStatus.DRAFT,
        FolderStatus.SUSPENDED,
        FolderStatus.TERMINATED,
    } <= statuses
    assert Folder.objects.filter(billing_hold=True).exists()
    assert RecurringLineChange.objects.exists()
    cycles = set(Folder.objects.values_list("recurring_lines__cycle", flat=True))
    assert {1, 3, 12} <= cycles


def test_a_second_run_keeps_to_the_folders_it_made(org, admin_user, sales_user, billing_user):
    from customers import services as customer_services
    from customers.models import CustomerKind
    from tests.customers.factories import CustomerFactory

    users = {"admin": admin_user, "sales": sales_user, "billing": billing_user}
    _seed(org, users)
    deleted = Folder.objects.filter(name="Angebot Telefonanlage").order_by("id").first()
    deleted_customer = deleted.customer
    deleted.delete()
    newcomer = CustomerFactory(organization=org, name="Neukunde GmbH")
    prospect = Customer.objects.filter(kind=CustomerKind.PROSPECT).order_by("number").first()
    customer_services.prospect_convert(customer=prospect, user=admin_user)
    count = Folder.objects.count()

    _seed(org, users)

    assert Folder.objects.count() == count
    assert not Folder.objects.filter(customer=newcomer).exists()
    assert not Folder.objects.filter(customer=deleted_customer, name="Angebot Telefonanlage").exists()
