"""Products and service packages for those who may not change the catalog: the lists link
to read-only pages that answer 200, editors keep their edit link."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.catalog.factories import EntitlementFactory, ProductFactory, ServicePackageFactory


@pytest.fixture
def catalog(org):
    package = ServicePackageFactory(organization=org, name="Wartung Gold", code="GOLD")
    EntitlementFactory(organization=org, package=package)
    product = ProductFactory(organization=org, name="Kopierer X9", sku="KX9", service_package=package)
    return product, package


def _links(html: str, prefix: str) -> set[str]:
    return {href for href in re.findall(r'href="([^"]+)"', html) if href.startswith(prefix)}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["billing", "support", "readonly"])
def test_it_links_products_and_packages_to_read_only_pages_for_non_editors(
    role, catalog, client_for, request
):
    product, package = catalog
    client = client_for(request.getfixturevalue(f"{role}_user"))
    for list_url, detail_url, edit_url, name in (
        ("catalog:products", "catalog:product_detail", "catalog:product_edit", product.name),
        ("catalog:packages", "catalog:package_detail", "catalog:package_edit", package.name),
    ):
        obj = product if list_url == "catalog:products" else package
        html = client.get(reverse(list_url)).content.decode()
        assert reverse(detail_url, args=[obj.pk]) in _links(html, "/")
        assert reverse(edit_url, args=[obj.pk]) not in _links(html, "/")
        page = client.get(reverse(detail_url, args=[obj.pk]))
        assert page.status_code == 200
        text = page.content.decode()
        assert name in text
        assert reverse(edit_url, args=[obj.pk]) not in _links(text, "/")


@pytest.mark.django_db
def test_it_keeps_the_edit_link_for_editors_and_offers_it_on_the_read_only_page(
    catalog, sales_user, client_for
):
    product, package = catalog
    client = client_for(sales_user)
    html = client.get(reverse("catalog:products")).content.decode()
    assert reverse("catalog:product_edit", args=[product.pk]) in html
    page = client.get(reverse("catalog:product_detail", args=[product.pk])).content.decode()
    assert reverse("catalog:product_edit", args=[product.pk]) in page
    page = client.get(reverse("catalog:package_detail", args=[package.pk])).content.decode()
    assert reverse("catalog:package_edit", args=[package.pk]) in page
    assert reverse("catalog:product_detail", args=[product.pk]) in page


@pytest.mark.django_db
def test_it_hides_another_organizations_product(catalog, outsider, client_for):
    product, package = catalog
    client = client_for(outsider)
    assert client.get(reverse("catalog:product_detail", args=[product.pk])).status_code == 404
    assert client.get(reverse("catalog:package_detail", args=[package.pk])).status_code == 404
