from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from folders import services
from folders.models import Folder, FolderTemplate
from tests.catalog.factories import (
    EntitlementFactory,
    ProductFactory,
    RecurringProductFactory,
    ServicePackageFactory,
)
from tests.customers.factories import ProspectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(org, admin_user):
    package = ServicePackageFactory(
        organization=org, name="Servicevertrag Telefonanlage", price=Decimal("79.00")
    )
    EntitlementFactory(package=package, scope="per_customer")
    pbx = ProductFactory(organization=org, name="Unify OpenScape Business X5", service_package=package)
    phone = ProductFactory(organization=org, name="OpenScape CP400", unit_price=Decimal("289.00"))
    trunk = RecurringProductFactory(organization=org, name="SIP-Trunk Sprachkanal")
    return services.folder_template_create(
        organization=org,
        user=admin_user,
        data={"name": "Telefonanlage 10 Arbeitsplätze", "description": "", "is_active": True},
        items=[
            {"product": pbx, "quantity": Decimal("1"), "include_service_package": True},
            {"product": phone, "quantity": Decimal("10"), "include_service_package": True},
            {"product": trunk, "quantity": Decimal("4"), "include_service_package": False},
        ],
    )


def test_it_creates_a_complete_folder_from_a_standard_installation(org, admin_user, template):
    prospect = ProspectFactory(organization=org)
    customers_before = Customer.objects.count()
    folder = services.folder_create_from_template(
        organization=org,
        customer=prospect,
        template=template,
        user=admin_user,
        data={"start_date": dt.date(2026, 12, 1)},
    )
    assert folder.name == "Telefonanlage 10 Arbeitsplätze"
    oneoffs = list(folder.oneoff_lines.order_by("position"))
    assert [(line.description.splitlines()[0], line.quantity) for line in oneoffs] == [
        ("Unify OpenScape Business X5", Decimal("1")),
        ("OpenScape CP400", Decimal("10")),
    ]
    assert sum(line.equipment.count() for line in oneoffs) == 11
    recurring = {line.description.splitlines()[0]: line for line in folder.recurring_lines.all()}
    assert recurring["SIP-Trunk Sprachkanal"].quantity == Decimal("4")
    assert recurring["SIP-Trunk Sprachkanal"].start_date == dt.date(2026, 12, 1)
    assert recurring["Servicevertrag Telefonanlage"].quantity == Decimal("1")  # per customer: one
    assert Customer.objects.count() == customers_before

    # Activation converts the prospect in place.
    services.folder_activate(folder=folder, user=admin_user)
    prospect.refresh_from_db()
    assert prospect.kind == "customer"
    assert Customer.objects.count() == customers_before


def test_the_template_views(org, admin_client, template):
    product = ProductFactory(organization=org, name="Serverschrank 42 HE")
    assert template.name in admin_client.get(reverse("folders:templates")).content.decode()
    response = admin_client.post(
        reverse("folders:template_create"),
        {
            "name": "Serverraum Basis",
            "description": "",
            "is_active": "on",
            "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "0",
            "items-0-product": product.pk,
            "items-0-quantity": "2",
            "items-1-product": "",
            "items-1-quantity": "",
        },
    )
    assert response.status_code == 302
    created = FolderTemplate.objects.get(name="Serverraum Basis")
    assert created.items.get().quantity == Decimal("2")


def test_a_template_needs_a_product_and_a_unique_name(org, admin_client, template):
    response = admin_client.post(
        reverse("folders:template_create"),
        {"name": template.name, "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0", "items-0-product": ""},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "existiert bereits" in content
    assert "mindestens ein Produkt" in content


def test_create_from_template_view(org, admin_client, template):
    customer = ProspectFactory(organization=org)
    response = admin_client.post(
        reverse("folders:create_from_template", args=[customer.pk]),
        {"template": template.pk, "name": "", "start_date": "2026-12-01"},
    )
    assert response.status_code == 302
    assert Folder.objects.get(customer=customer).oneoff_lines.count() == 2


def test_another_organizations_template_cannot_be_used(org, other_org, admin_client, template):
    foreign = FolderTemplate.objects.create(organization=other_org, name="Fremd")
    customer = ProspectFactory(organization=org)
    response = admin_client.post(
        reverse("folders:create_from_template", args=[customer.pk]),
        {"template": foreign.pk, "start_date": "2026-12-01"},
    )
    assert response.status_code == 200
    assert not Folder.objects.exists()
