"""Delivery sites belong to the customer: several per customer, one default."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from customers import services
from customers.models import DeliverySite
from organizations.audit import history_for

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db

SITE = {"name": "Brandt GmbH", "street": "Lagerweg 5", "postal_code": "20457", "city": "Hamburg"}


def _site(customer, user=None, **data):
    return services.delivery_site_create(customer=customer, user=user, data={**SITE, **data})


def test_the_first_site_is_the_default_and_later_ones_are_not(org, admin_user):
    customer = CustomerFactory(organization=org)
    first = _site(customer, admin_user, label="Zentrale")
    second = _site(customer, admin_user, label="Lager", city="Bremen", postal_code="28195")
    assert first.is_default and not second.is_default


def test_setting_a_default_moves_it(org, admin_user):
    customer = CustomerFactory(organization=org)
    first = _site(customer, admin_user)
    second = _site(customer, admin_user, city="Bremen", postal_code="28195")
    services.delivery_site_set_default(site=second, user=admin_user)
    assert list(DeliverySite.objects.filter(customer=customer, is_default=True)) == [second]
    first.refresh_from_db()
    assert not first.is_default
    assert history_for(customer).filter(action="delivery_site.default_set").exists()


def test_the_database_allows_one_default_per_customer(org):
    customer = CustomerFactory(organization=org)
    DeliverySite.objects.create(organization=org, customer=customer, is_default=True, **SITE)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliverySite.objects.create(organization=org, customer=customer, is_default=True, **SITE)


def test_the_customer_page_lists_sites_and_adds_one(admin_client, org):
    customer = CustomerFactory(organization=org, street="Königsallee 12", city="Düsseldorf")
    add = reverse("customers:delivery_site_add", args=[customer.pk])
    # The first site is offered with the customer's own address.
    assert admin_client.get(add).context["form"].initial["street"] == "Königsallee 12"
    response = admin_client.post(add, {**SITE, "label": "Lager Nord", "country": "DE"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lieferadressen" in page and "Lager Nord" in page and "Lagerweg 5" in page
    site = DeliverySite.objects.get(customer=customer)
    assert site.is_default and site.organization == org


def test_a_bad_site_is_refused_at_the_field(admin_client, org):
    customer = CustomerFactory(organization=org)
    response = admin_client.post(
        reverse("customers:delivery_site_add", args=[customer.pk]), {**SITE, "postal_code": "2045"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["postal_code"]
    assert not DeliverySite.objects.exists()


def test_it_edits_a_site_and_sets_the_default(admin_client, org, admin_user):
    customer = CustomerFactory(organization=org)
    first = _site(customer, admin_user)
    second = _site(customer, admin_user, city="Bremen", postal_code="28195")
    response = admin_client.post(
        reverse("customers:delivery_site_edit", args=[customer.pk, second.pk]),
        {**SITE, "city": "Bremerhaven", "postal_code": "27568", "country": "DE"},
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.city == "Bremerhaven"
    assert (
        admin_client.get(
            reverse("customers:delivery_site_default", args=[customer.pk, second.pk])
        ).status_code
        == 405
    )
    admin_client.post(reverse("customers:delivery_site_default", args=[customer.pk, second.pk]))
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.is_default and not first.is_default


def test_a_site_is_only_reached_through_its_customer(admin_client, org, admin_user):
    customer = CustomerFactory(organization=org)
    other = CustomerFactory(organization=org)
    site = _site(customer, admin_user)
    url = reverse("customers:delivery_site_edit", args=[other.pk, site.pk])
    assert admin_client.get(url).status_code == 404
    assert (
        admin_client.post(reverse("customers:delivery_site_default", args=[other.pk, site.pk])).status_code
        == 404
    )


def test_outsiders_cannot_reach_sites(org, admin_user, outsider, client_for):
    customer = CustomerFactory(organization=org)
    site = _site(customer, admin_user)
    client = client_for(outsider)
    assert client.get(reverse("customers:delivery_site_edit", args=[customer.pk, site.pk])).status_code == 404
    assert client.post(reverse("customers:delivery_site_add", args=[customer.pk]), SITE).status_code == 404
    assert DeliverySite.objects.count() == 1
