from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog import services
from catalog.models import Product, ServicePackage, TaxRate
from organizations.models import AuditEntry
from tests.catalog.factories import ProductFactory, ServicePackageFactory, TaxRateFactory, standard_rate

pytestmark = pytest.mark.django_db


def _product_post(rate, **extra):
    data = {
        "sku": "MFP-3554CI",
        "name": "Kyocera TASKalfa 3554ci",
        "description": "",
        "kind": "one_off",
        "unit": "piece",
        "unit_price": "6.490,00",
        "cycle": "",
        "setup_fee": "0",
        "tax_rate": rate.pk,
        "is_equipment": "on",
        "model_number": "TASKalfa 3554ci",
        "warranty_months": "24",
        "service_package": "",
        "is_active": "on",
    }
    data.update(extra)
    return data


def test_one_default_tax_rate_per_organization(org, admin_user):
    first = services.tax_rate_create(
        organization=org, user=admin_user, data={"name": "19 %", "rate": Decimal("19"), "is_default": True}
    )
    second = services.tax_rate_create(
        organization=org, user=admin_user, data={"name": "7 %", "rate": Decimal("7"), "is_default": True}
    )
    first.refresh_from_db()
    assert not first.is_default
    assert second.is_default
    assert AuditEntry.objects.filter(action="tax_rate.created").count() == 2


def test_a_used_tax_rate_cannot_be_deleted(org, admin_user):
    product = ProductFactory(organization=org)
    with pytest.raises(ValidationError) as exc:
        services.tax_rate_delete(tax_rate=product.tax_rate, user=admin_user)
    assert "deaktivieren" in exc.value.messages[0]
    assert TaxRate.objects.filter(pk=product.tax_rate_id).exists()


def test_a_recurring_product_needs_a_cycle(org, admin_user):
    with pytest.raises(ValidationError):
        services.product_create(
            organization=org,
            user=admin_user,
            data={
                "sku": "X",
                "name": "X",
                "kind": "recurring",
                "unit_price": Decimal("1"),
                "tax_rate": standard_rate(org),
            },
        )


def test_package_entitlements_are_replaced_and_audited(org, admin_user):
    package = services.service_package_create(
        organization=org,
        user=admin_user,
        data={
            "name": "Wartung",
            "code": "W1",
            "price": Decimal("29"),
            "cycle": 1,
            "tax_rate": standard_rate(org),
        },
        entitlements=[{"kind": "labour", "coverage": "included", "response_hours": 8, "scope": "per_device"}],
    )
    services.service_package_update(
        package=package,
        user=admin_user,
        data={},
        entitlements=[
            {
                "kind": "spare_parts",
                "coverage": "discounted",
                "discount_percent": Decimal("20"),
                "scope": "per_device",
            }
        ],
    )
    assert [e.kind for e in package.entitlements.all()] == ["spare_parts"]
    assert "entitlements" in AuditEntry.objects.get(action="service_package.changed").data["changes"]


def test_the_product_list_filters_and_searches(org, admin_client):
    ProductFactory(organization=org, name="Kyocera TASKalfa 3554ci", sku="MFP-1")
    ProductFactory(organization=org, name="Installation", sku="INST", is_equipment=False, model_number="")
    ProductFactory(organization=org, name="Alt", sku="OLD", is_active=False, model_number="")

    def names(**params):
        response = admin_client.get(reverse("catalog:products"), params)
        assert response.status_code == 200
        return {row.record.name for row in response.context["table"].page.object_list}

    assert names(q="taskalfa") == {"Kyocera TASKalfa 3554ci"}
    assert names(is_equipment="0") == {"Installation"}
    assert names(is_active="0") == {"Alt"}
    assert names(kind="recurring") == set()


def test_it_creates_and_edits_a_product(org, admin_client):
    rate = standard_rate(org)
    response = admin_client.post(reverse("catalog:product_create"), _product_post(rate))
    assert response.status_code == 302
    product = Product.objects.get()
    assert product.unit_price == Decimal("6490.00")
    response = admin_client.post(
        reverse("catalog:product_edit", args=[product.pk]), _product_post(rate, name="Neu")
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "Neu"
    assert AuditEntry.objects.get(action="product.changed").data["changes"]["name"] == [
        "Kyocera TASKalfa 3554ci",
        "Neu",
    ]
    page = admin_client.get(reverse("catalog:product_edit", args=[product.pk])).content.decode()
    assert "Name:</span> Kyocera TASKalfa 3554ci → Neu" in page
    assert "name:</span>" not in page


def test_product_form_errors_are_german_and_nothing_is_saved(org, admin_client):
    rate = standard_rate(org)
    ProductFactory(organization=org, sku="MFP-3554CI")
    response = admin_client.post(
        reverse("catalog:product_create"), _product_post(rate, unit_price="-1", kind="recurring", cycle="")
    )
    content = response.content.decode()
    assert "existiert bereits" in content
    assert "Abrechnungszyklus" in content
    assert Product.objects.count() == 1
    assert admin_client.post(reverse("catalog:product_create"), {}).status_code == 200


def test_another_organizations_tax_rate_is_refused(org, other_org, admin_client):
    foreign = standard_rate(other_org)
    response = admin_client.post(reverse("catalog:product_create"), _product_post(foreign))
    assert response.status_code == 200
    assert not Product.objects.exists()


def test_the_package_form_saves_entitlements(org, admin_client):
    data = _package_post(standard_rate(org))
    data.update({"ent-TOTAL_FORMS": "2", "ent-1-kind": ""})  # and an empty extra row
    response = admin_client.post(reverse("catalog:package_create"), data)
    assert response.status_code == 200  # discounted without a percentage
    assert not ServicePackage.objects.exists()
    data["ent-0-discount_percent"] = "30"
    data["ent-0-response_hours"] = "4"
    data["ent-0-service_partner"] = "Unify Service GmbH"
    response = admin_client.post(reverse("catalog:package_create"), data)
    assert response.status_code == 302
    entitlement = ServicePackage.objects.get().entitlements.get()
    assert (entitlement.discount_percent, entitlement.response_hours) == (Decimal("30"), 4)


def test_tax_rates_are_admin_only(org, sales_user, client_for, admin_client):
    rate = TaxRateFactory(organization=org)
    client = client_for(sales_user)
    assert client.get(reverse("catalog:tax_rates")).status_code == 403
    assert client.post(reverse("catalog:tax_rate_create"), {"name": "x", "rate": "5"}).status_code == 403
    assert admin_client.get(reverse("catalog:tax_rates")).status_code == 200
    assert (
        admin_client.post(
            reverse("catalog:tax_rate_create"), {"name": "5 %", "rate": "5", "is_active": "on"}
        ).status_code
        == 302
    )
    assert (
        admin_client.post(reverse("catalog:tax_rate_create"), {"name": "Zu hoch", "rate": "120"}).status_code
        == 200
    )
    assert admin_client.get(reverse("catalog:tax_rate_edit", args=[rate.pk])).status_code == 200


def test_outsiders_get_404_and_readonly_403(org, outsider, readonly_user, client_for):
    product = ProductFactory(organization=org)
    package = ServicePackageFactory(organization=org)
    rate = product.tax_rate
    outsider_client = client_for(outsider)
    for url in (
        reverse("catalog:product_edit", args=[product.pk]),
        reverse("catalog:product_delete", args=[product.pk]),
        reverse("catalog:package_edit", args=[package.pk]),
        reverse("catalog:package_delete", args=[package.pk]),
        reverse("catalog:tax_rate_edit", args=[rate.pk]),
        reverse("catalog:tax_rate_delete", args=[rate.pk]),
    ):
        assert outsider_client.post(url, {}).status_code == 404, url
    assert product.name not in outsider_client.get(reverse("catalog:products")).content.decode()
    assert package.name not in outsider_client.get(reverse("catalog:packages")).content.decode()
    readonly = client_for(readonly_user)
    assert readonly.get(reverse("catalog:products")).status_code == 200
    for url in (
        reverse("catalog:product_create"),
        reverse("catalog:product_edit", args=[product.pk]),
        reverse("catalog:product_delete", args=[product.pk]),
        reverse("catalog:package_create"),
        reverse("catalog:package_edit", args=[package.pk]),
        reverse("catalog:package_delete", args=[package.pk]),
    ):
        assert readonly.post(url, {}).status_code == 403, url
    assert Product.objects.filter(pk=product.pk).exists()


def test_deleting_a_product_in_use_shows_a_message(org, admin_client):
    from tests.folders.factories import FolderFactory, add_oneoff

    product = ProductFactory(organization=org)
    add_oneoff(FolderFactory(organization=org), product=product)
    response = admin_client.post(reverse("catalog:product_delete", args=[product.pk]), follow=True)
    assert "deaktivieren" in response.content.decode()
    assert Product.objects.filter(pk=product.pk).exists()
    unused = ProductFactory(organization=org)
    assert admin_client.post(reverse("catalog:product_delete", args=[unused.pk])).status_code == 302
    assert not Product.objects.filter(pk=unused.pk).exists()


def test_malformed_list_parameters(admin_client):
    for params in (
        {"page": "x"},
        {"per_page": "0"},
        {"per_page": "100000"},
        {"sort": "bogus"},
        {"kind": "x"},
    ):
        assert admin_client.get(reverse("catalog:products"), params).status_code == 200
        assert admin_client.get(reverse("catalog:packages"), params).status_code == 200


def test_malformed_catalog_forms_never_500(org, admin_client):
    garbage = {
        "sku": "x" * 300,
        "unit_price": "abc",
        "tax_rate": "999999",
        "kind": "nope",
        "cycle": "7",
        "rate": "1e999",
        "price": "--1",
    }
    for url in (
        reverse("catalog:product_create"),
        reverse("catalog:package_create"),
        reverse("catalog:tax_rate_create"),
    ):
        assert admin_client.post(url, garbage).status_code == 200, url
        assert admin_client.post(url, {}).status_code == 200, url
    assert not Product.objects.exists()
    assert not ServicePackage.objects.exists()
    assert admin_client.get("/catalog/products/abc/").status_code == 404
    assert admin_client.get(reverse("catalog:product_edit", args=[424242])).status_code == 404


def _package_post(rate, **entitlement):
    data = {
        "name": "Wartung Premium",
        "code": "WP",
        "description": "",
        "price": "49,00",
        "cycle": "1",
        "tax_rate": rate.pk,
        "is_active": "on",
        "ent-TOTAL_FORMS": "1",
        "ent-INITIAL_FORMS": "0",
        "ent-0-kind": "labour",
        "ent-0-coverage": "discounted",
        "ent-0-discount_percent": "",
        "ent-0-scope": "per_device",
    }
    data.update({f"ent-0-{k}": v for k, v in entitlement.items()})
    return data


def test_it_shows_the_missing_cycle_of_a_recurring_product_once(org, admin_client):
    response = admin_client.post(
        reverse("catalog:product_create"), _product_post(standard_rate(org), kind="recurring", cycle="")
    )
    assert response.status_code == 200
    assert (
        response.content.decode().count("Ein wiederkehrendes Produkt braucht einen Abrechnungszyklus.") == 1
    )
    assert not Product.objects.exists()


def test_it_shows_the_missing_discount_of_a_discounted_entitlement_once(org, admin_client):
    response = admin_client.post(reverse("catalog:package_create"), _package_post(standard_rate(org)))
    assert response.status_code == 200
    assert response.content.decode().count("Eine rabattierte Leistung braucht einen Rabattsatz.") == 1
    assert response.content.decode().count("Ein Rabatt kann höchstens 100 % betragen.") == 0
    response = admin_client.post(
        reverse("catalog:package_create"), _package_post(standard_rate(org), discount_percent="120")
    )
    assert response.content.decode().count("Ein Rabatt kann höchstens 100 % betragen.") == 1
    assert not ServicePackage.objects.exists()


def test_it_refuses_a_setup_fee_on_a_one_off_product(org, admin_client):
    rate = standard_rate(org)
    response = admin_client.post(reverse("catalog:product_create"), _product_post(rate, setup_fee="49,00"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["setup_fee"]
    assert response.content.decode().count("Ein einmaliges Produkt hat keine Einrichtungsgebühr") == 1
    assert not Product.objects.exists()
    with pytest.raises(ValidationError) as exc:
        services.product_create(
            organization=org,
            user=None,
            data={
                "sku": "X",
                "name": "X",
                "unit_price": Decimal("1"),
                "setup_fee": Decimal("9"),
                "tax_rate": rate,
            },
        )
    assert list(exc.value.error_dict) == ["setup_fee"]
    # A recurring product keeps its setup fee (charged with the first period).
    response = admin_client.post(
        reverse("catalog:product_create"),
        _product_post(rate, kind="recurring", cycle="1", setup_fee="49,00", is_equipment=""),
    )
    assert response.status_code == 302
    assert Product.objects.get().setup_fee == Decimal("49.00")


@pytest.mark.parametrize("coverage", ["included", "billable"])
def test_it_refuses_a_discount_on_an_entitlement_that_is_not_discounted(org, admin_client, coverage):
    response = admin_client.post(
        reverse("catalog:package_create"),
        _package_post(standard_rate(org), coverage=coverage, discount_percent="20"),
    )
    assert response.status_code == 200
    form = response.context["formset"].forms[0]
    assert list(form.errors) == ["discount_percent"]
    assert response.content.decode().count("Nur eine rabattierte Leistung hat einen Rabatt") == 1
    assert not ServicePackage.objects.exists()
    response = admin_client.post(
        reverse("catalog:package_create"),
        _package_post(standard_rate(org), coverage=coverage, discount_percent=""),
    )
    assert response.status_code == 302
    assert ServicePackage.objects.get().entitlements.get().discount_percent is None
