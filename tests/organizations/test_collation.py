"""Names sort as a German clerk expects (DIN 5007-1), on SQLite and on PostgreSQL.

Run once against PostgreSQL too:
DATABASE_URL=postgres://... pytest -p no:xdist tests/organizations/test_collation.py
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from customers.models import Customer
from financing.forms import FinancingForm
from folders.forms import OneOffLineForm
from organizations.collation import din5007_key, german
from tests.catalog.factories import ProductFactory
from tests.customers.factories import CustomerFactory, ProspectFactory
from tests.financing.factories import FinancierFactory
from tests.folders.factories import FolderFactory

# Byte order would give: Abel, Krüger, König, Ostmann, Zander, köhler, Özdemir.
SHUFFLED = [
    "Zander GmbH",
    "Özdemir Elektro",
    "König AG",
    "Abel & Co",
    "köhler OHG",
    "Ostmann KG",
    "Krüger KG",
]
GERMAN = ["Abel & Co", "köhler OHG", "König AG", "Krüger KG", "Ostmann KG", "Özdemir Elektro", "Zander GmbH"]


def _order_in(html: str, names: list[str]) -> list[str]:
    found = sorted((html.find(name.replace("&", "&amp;")), name) for name in names)
    assert all(pos >= 0 for pos, _ in found), [n for p, n in found if p < 0]
    return [name for _, name in found]


def test_it_keys_names_after_din_5007_1():
    assert sorted(SHUFFLED, key=din5007_key) == GERMAN
    assert sorted(["Strauß", "Strausberg", "Strauss"], key=din5007_key) == ["Strausberg", "Strauss", "Strauß"]
    assert sorted(["Müller", "Muller", "muller"], key=din5007_key) == ["muller", "Muller", "Müller"]


@pytest.mark.django_db
def test_it_orders_querysets_in_german_on_this_database(org):
    for name in SHUFFLED:
        CustomerFactory(organization=org, name=name)
    names = list(
        Customer.objects.filter(organization=org).order_by(german("name")).values_list("name", flat=True)
    )
    assert names == GERMAN
    names = list(
        Customer.objects.filter(organization=org)
        .order_by(german("name").desc())
        .values_list("name", flat=True)
    )
    assert names == GERMAN[::-1]


@pytest.mark.django_db
def test_it_lists_customers_and_prospects_in_german_order(org, admin_client):
    for name in SHUFFLED:
        CustomerFactory(organization=org, name=name)
        ProspectFactory(organization=org, name=f"{name} Interessent")
    html = admin_client.get(reverse("customers:list")).content.decode()
    assert _order_in(html, GERMAN) == GERMAN
    html = admin_client.get(reverse("customers:list"), {"sort": "-name"}).content.decode()
    assert _order_in(html, GERMAN) == GERMAN[::-1]
    prospects = [f"{name} Interessent" for name in GERMAN]
    html = admin_client.get(reverse("customers:prospects")).content.decode()
    assert _order_in(html, prospects) == prospects


@pytest.mark.django_db
def test_it_sorts_the_folder_list_by_customer_in_german_order(org, admin_client):
    for name in SHUFFLED:
        FolderFactory(organization=org, customer=CustomerFactory(organization=org, name=name))
    html = admin_client.get(reverse("folders:list"), {"sort": "customer"}).content.decode()
    assert _order_in(html, GERMAN) == GERMAN


@pytest.mark.django_db
def test_it_offers_financiers_and_products_in_german_order(org):
    folder = FolderFactory(organization=org)
    for name in SHUFFLED:
        FinancierFactory(organization=org, name=name)
        ProductFactory(organization=org, name=name, sku=re.sub(r"\W", "", name)[:12])
    form = FinancingForm(organization=org, folder=folder)
    assert [c.name for c in form.fields["financier"].queryset] == GERMAN
    form = OneOffLineForm(organization=org)
    assert [p.name for p in form.fields["product"].queryset] == GERMAN


@pytest.mark.django_db
def test_it_lists_search_hits_in_german_order(org, admin_client):
    for name in SHUFFLED:
        CustomerFactory(organization=org, name=name, city="Kiel")
    html = admin_client.get(reverse("reports:search"), {"q": "Kiel"}).content.decode()
    assert _order_in(html, GERMAN) == GERMAN
