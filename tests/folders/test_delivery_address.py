"""The folder's delivery address gets the same postal code rule as every other address."""

from __future__ import annotations

import pytest
from django.urls import reverse

from folders.models import Equipment, Folder
from tests.customers.factories import CustomerFactory
from tests.folders.factories import FolderFactory, add_oneoff

pytestmark = pytest.mark.django_db


def _post(admin_client, customer, **delivery):
    data = {
        "name": "Telefonanlage",
        "start_date": "2026-12-01",
        "minimum_term_months": "24",
        "notice_period_months": "3",
        "delivery_name": customer.name,
        "delivery_street": "Jungfernstieg 7",
        "delivery_postal_code": "20354",
        "delivery_city": "Hamburg",
        "delivery_country": "DE",
        **delivery,
    }
    return admin_client.post(reverse("folders:create", args=[customer.pk]), data)


def test_it_refuses_a_german_delivery_postal_code_without_five_digits(org, admin_client):
    response = _post(admin_client, CustomerFactory(organization=org), delivery_postal_code="1234")
    assert response.status_code == 200
    errors = [str(e) for e in response.context["form"].errors["delivery_postal_code"]]
    assert any("genau fünf Ziffern" in e for e in errors), errors
    assert not Folder.objects.exists()


def test_it_takes_a_foreign_delivery_postal_code_by_its_countrys_rules(org, admin_client):
    customer = CustomerFactory(organization=org)
    response = _post(
        admin_client, customer, delivery_postal_code=" 1010 ", delivery_city="Wien", delivery_country="AT"
    )
    assert response.status_code == 302
    assert Folder.objects.get().delivery_postal_code == "1010"


def test_serial_search_shows_the_customers_phone_formatted(org, admin_client):
    folder = FolderFactory(
        organization=org, customer=CustomerFactory(organization=org, phone="+494012345678")
    )
    line = add_oneoff(folder)
    Equipment.objects.filter(line=line).update(serial_number="W8K3X4711")
    content = admin_client.get(reverse("folders:equipment_search"), {"q": "x47"}).content.decode()
    assert 'href="tel:+494012345678">040 12345678</a>' in content
