"""A folder picks one of its customer's delivery sites instead of retyping the address."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers import services as customer_services
from folders import services
from folders.models import Folder
from tests.customers.factories import CustomerFactory
from tests.folders.factories import FolderFactory

pytestmark = pytest.mark.django_db


def _site(customer, **data):
    values = {"name": customer.name, "street": "Lagerweg 5", "postal_code": "20457", "city": "Hamburg"}
    return customer_services.delivery_site_create(customer=customer, user=None, data={**values, **data})


def _folder_post(**extra):
    data = {
        "name": "Kopierer Lager",
        "start_date": "2026-12-01",
        "minimum_term_months": "0",
        "notice_period_months": "0",
        "delivery_country": "DE",
    }
    data.update(extra)
    return data


def test_a_new_folder_starts_with_the_customers_default_site(org, admin_client):
    customer = CustomerFactory(organization=org, city="Düsseldorf")
    _site(customer, city="Bremen", postal_code="28195")
    default = _site(customer, label="Lager Hamburg")
    customer_services.delivery_site_set_default(site=default, user=None)
    url = reverse("folders:create", args=[customer.pk])
    form = admin_client.get(url).context["form"]
    assert form.initial["delivery_site"] == default.pk
    assert form.initial["delivery_city"] == "Hamburg"


def test_the_service_links_the_default_site_when_no_address_is_given(org, admin_user):
    customer = CustomerFactory(organization=org, city="Düsseldorf")
    site = _site(customer)
    folder = services.folder_create(
        organization=org, customer=customer, user=admin_user, data={"name": "Zweiter Deal"}
    )
    assert folder.delivery_site == site
    assert (folder.delivery_street, folder.delivery_city) == ("Lagerweg 5", "Hamburg")


def test_choosing_a_site_fills_the_folder_address(org, admin_client):
    customer = CustomerFactory(organization=org)
    _site(customer)
    other = _site(customer, label="Filiale", street="Marktplatz 1", postal_code="28195", city="Bremen")
    response = admin_client.post(
        reverse("folders:create", args=[customer.pk]),
        _folder_post(
            delivery_site=other.pk,
            delivery_name=customer.name,
            delivery_street="Lagerweg 5",
            delivery_postal_code="20457",
            delivery_city="Hamburg",
        ),
    )
    assert response.status_code == 302
    folder = Folder.objects.get()
    assert folder.delivery_site == other
    assert (folder.delivery_street, folder.delivery_postal_code, folder.delivery_city) == (
        "Marktplatz 1",
        "28195",
        "Bremen",
    )


def test_changing_the_site_on_edit_takes_its_address(org, admin_user):
    folder = FolderFactory(organization=org)
    site = _site(folder.customer, street="Hafenstraße 3", postal_code="28217", city="Bremen")
    services.folder_update(folder=folder, user=admin_user, data={"delivery_site": site})
    folder.refresh_from_db()
    assert folder.delivery_site == site and folder.delivery_street == "Hafenstraße 3"


def test_editing_a_site_leaves_the_folders_copy_alone(org, admin_user):
    folder = FolderFactory(organization=org)
    site = _site(folder.customer)
    services.folder_update(folder=folder, user=admin_user, data={"delivery_site": site})
    customer_services.delivery_site_update(site=site, user=admin_user, data={"street": "Neuer Weg 1"})
    folder.refresh_from_db()
    assert folder.delivery_street == "Lagerweg 5"


def test_a_site_of_another_customer_is_not_offered_nor_accepted(org, admin_client, admin_user):
    folder = FolderFactory(organization=org)
    foreign = _site(CustomerFactory(organization=org))
    form = admin_client.get(reverse("folders:edit", args=[folder.pk])).context["form"]
    assert foreign not in form.fields["delivery_site"].queryset
    with pytest.raises(ValidationError) as exc:
        services.folder_update(folder=folder, user=admin_user, data={"delivery_site": foreign})
    assert "delivery_site" in exc.value.message_dict
    folder.refresh_from_db()
    assert folder.delivery_site is None


def test_the_folder_page_names_the_site_it_came_from(org, admin_client, admin_user):
    folder = FolderFactory(organization=org)
    site = _site(folder.customer, label="Lager Nord")
    services.folder_update(folder=folder, user=admin_user, data={"delivery_site": site})
    page = admin_client.get(reverse("folders:detail", args=[folder.pk])).content.decode()
    assert "Lieferadresse „Lager Nord“ des Kunden" in page
