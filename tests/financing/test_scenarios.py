"""The seed's three financed scenarios, built the way a clerk builds them (through the
services), checked record by record: one customer per company, the folder stays with the
end customer, and payer_for sends hardware to the financier and services to the customer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from catalog.models import ProductKind
from customers.models import Customer
from financing import services as financing_services
from financing.services import payer_for
from folders import services
from folders.models import Equipment, Folder
from tests.catalog.factories import ProductFactory, RecurringProductFactory, ServicePackageFactory
from tests.customers.factories import CustomerFactory
from tests.financing.factories import FinancierFactory
from tests.folders.factories import add_oneoff, add_recurring

pytestmark = pytest.mark.django_db


@pytest.fixture
def grenke(org):
    return FinancierFactory(organization=org, name="GRENKE Leasing AG")


def _finance(folder, financier, user, months=60):
    return financing_services.financing_set(
        folder=folder,
        user=user,
        data={
            "financier": financier,
            "lease_term_months": months,
            "contract_reference": "GR-4711",
            "approval_status": "approved",
        },
    )


def _serials(line, user, serials):
    pieces = list(line.equipment.order_by("piece"))
    services.equipment_update(
        line=line,
        user=user,
        rows=[{"id": p.pk, "serial_number": s} for p, s in zip(pieces, serials, strict=True)],
    )


def test_it_keeps_one_record_per_company_in_the_office_equipment_lease(org, admin_user, grenke):
    """(a) Three copiers with serial numbers, financed by a leasing company."""
    customer = CustomerFactory(organization=org, name="Kanzlei Dr. Hoffmann & Partner")
    copier = ProductFactory(organization=org, name="Kyocera TASKalfa 3554ci", unit_price=Decimal("6490.00"))
    install = ProductFactory(
        organization=org,
        name="Lieferung und Aufstellung",
        is_equipment=False,
        unit="flat",
        unit_price=Decimal("149.00"),
    )
    customers_before = Customer.objects.filter(organization=org).count()

    folder = services.folder_create(
        organization=org,
        customer=customer,
        user=admin_user,
        data={"name": "Leasing Kopierer", "start_date": dt.date(2026, 3, 1)},
    )
    copiers = add_oneoff(folder, user=admin_user, product=copier, quantity="3")
    setup = add_oneoff(folder, user=admin_user, product=install)
    _serials(copiers, admin_user, ["W8K0001", "W8K0002", "W8K0003"])
    _finance(folder, grenke, admin_user)
    folder = services.folder_activate(folder=folder, user=admin_user)

    assert Customer.objects.filter(organization=org).count() == customers_before
    folder = Folder.objects.get(pk=folder.pk)
    assert folder.customer == customer
    assert folder.is_third_party_paid
    assert folder.financing.financier == grenke
    assert sorted(Equipment.objects.filter(line=copiers).values_list("serial_number", flat=True)) == [
        "W8K0001",
        "W8K0002",
        "W8K0003",
    ]
    assert payer_for(copiers) == grenke
    assert payer_for(setup) == grenke
    assert copiers.net_amount == Decimal("19470.00")


def test_it_bills_pbx_hardware_to_the_financier_and_sip_lines_to_the_customer(org, admin_user, grenke):
    """(b) Financed PBX hardware, and a second folder of the same customer with directly
    billed monthly SIP trunk lines."""
    customer = CustomerFactory(organization=org, name="Autohaus Schneider GmbH & Co. KG")
    pbx = ProductFactory(organization=org, name="Unify OpenScape Business X5", unit_price=Decimal("3480.00"))
    phone = ProductFactory(organization=org, name="OpenScape Desk Phone CP400", unit_price=Decimal("289.00"))
    trunk = RecurringProductFactory(organization=org, name="SIP-Trunk Sprachkanal")
    package = ServicePackageFactory(organization=org, name="Servicevertrag Telefonanlage")
    customers_before = Customer.objects.filter(organization=org).count()

    hardware = services.folder_create(
        organization=org, customer=customer, user=admin_user, data={"name": "TK-Anlage"}
    )
    pbx_line = add_oneoff(hardware, user=admin_user, product=pbx)
    phones = add_oneoff(hardware, user=admin_user, product=phone, quantity="12")
    service = add_recurring(
        hardware, user=admin_user, service_package=package, description=package.name, unit_price="79.00"
    )
    _finance(hardware, grenke, admin_user, months=48)

    sip = services.folder_create(
        organization=org, customer=customer, user=admin_user, data={"name": "SIP-Trunks"}
    )
    channels = add_recurring(sip, user=admin_user, product=trunk, quantity="8", setup_fee=Decimal("49.00"))

    assert Customer.objects.filter(organization=org).count() == customers_before
    assert set(Folder.objects.filter(customer=customer).values_list("name", flat=True)) == {
        "TK-Anlage",
        "SIP-Trunks",
    }
    assert Equipment.objects.filter(line=phones).count() == 12
    assert payer_for(pbx_line) == grenke
    assert payer_for(phones) == grenke
    assert payer_for(service) == customer  # recurring lines: always the end customer
    assert payer_for(channels) == customer
    assert not Folder.objects.get(pk=sip.pk).is_third_party_paid
    assert trunk.kind == ProductKind.RECURRING


def test_it_finances_an_msp_rack_deployment_with_many_serial_numbers(org, admin_user, grenke):
    """(c) Servers, storage, switches and UPS, each piece with its own serial number,
    financed; managed services in the same folder billed to the end customer."""
    customer = CustomerFactory(organization=org, name="Neumann Medizintechnik AG")
    customers_before = Customer.objects.filter(organization=org).count()
    folder = services.folder_create(
        organization=org, customer=customer, user=admin_user, data={"name": "Serverraum"}
    )
    items = {"Dell PowerEdge R750": 3, "Synology RS3621xs+": 2, "Cisco C1000-24P": 2, "APC SRT 3000": 2}
    lines = []
    for name, count in items.items():
        line = add_oneoff(
            folder, user=admin_user, product=ProductFactory(organization=org, name=name), quantity=str(count)
        )
        _serials(line, admin_user, [f"{name[:3].upper()}-{i}" for i in range(count)])
        lines.append(line)
    monitoring = add_recurring(
        folder, user=admin_user, description="Server-Monitoring", quantity="3", unit_price="39.00"
    )
    _finance(folder, grenke, admin_user, months=36)

    assert Customer.objects.filter(organization=org).count() == customers_before
    assert Equipment.objects.filter(line__folder=folder).exclude(serial_number="").count() == 9
    for line in lines:
        assert payer_for(line) == grenke
    assert payer_for(monitoring) == customer
    assert Folder.objects.get(pk=folder.pk).customer == customer


def test_it_sends_everything_to_the_customer_once_the_financing_is_removed(org, admin_user, grenke):
    folder = services.folder_create(
        organization=org,
        customer=CustomerFactory(organization=org),
        user=admin_user,
        data={"name": "Kopierer"},
    )
    line = add_oneoff(folder, user=admin_user)
    _finance(folder, grenke, admin_user)
    assert payer_for(line) == grenke
    financing_services.financing_remove(folder=folder, user=admin_user)
    line.refresh_from_db()
    assert payer_for(line) == folder.customer
