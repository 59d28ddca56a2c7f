"""VAT IDs are checked by the customer's country; reverse charge needs the customer's own."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from customers.models import Customer, TaxTreatment
from organizations.validators import validate_vat_id, validate_vat_id_for_country

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("customers:create")


def _vat_errors(customer) -> str:
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        customer.full_clean()
    return " ".join(exc.value.message_dict.get("vat_id", []))


def _reverse_charge(org, country: str, vat_id: str) -> Customer:
    return CustomerFactory.build(
        organization=org,
        tax_treatment=TaxTreatment.EU_REVERSE_CHARGE,
        country=country,
        postal_code="1010",
        vat_id=vat_id,
    )


def test_reverse_charge_refuses_a_german_vat_id(org):
    errors = _vat_errors(_reverse_charge(org, "AT", "DE136695976"))
    assert "deutschen USt-IdNr. ist kein EU-Reverse-Charge" in errors
    assert "Österreich" in errors


def test_reverse_charge_refuses_a_vat_id_of_another_country(org):
    errors = _vat_errors(_reverse_charge(org, "FR", "ATU13585627"))
    assert "aus dem Land des Kunden" in errors
    assert "mit FR" in errors


def test_greek_customers_need_the_el_prefix(org):
    _reverse_charge(org, "GR", "EL094259216").full_clean()
    errors = _vat_errors(_reverse_charge(org, "GR", "GR094259216"))
    assert "mit EL" in errors


def test_reverse_charge_accepts_the_customers_own_vat_id(org):
    for country, vat_id in [("AT", "ATU13585627"), ("FR", "FR40303265045"), ("NL", "NL004495445B01")]:
        _reverse_charge(org, country, vat_id).full_clean()


def test_a_domestic_customer_keeps_a_german_vat_id(org):
    CustomerFactory.build(organization=org, vat_id="DE136695976").full_clean()
    assert "keine gültige USt-IdNr. (z. B. DE136695976)" in _vat_errors(
        CustomerFactory.build(organization=org, vat_id="DE136695977")
    )


@pytest.mark.parametrize(
    ("country", "vat_id"),
    [("CH", "CHE116281710MWST"), ("GB", "GB980780684"), ("NO", "NO995525828MVA"), ("US", "123456789")],
)
def test_customers_outside_the_eu_keep_their_own_vat_numbers(org, country, vat_id):
    CustomerFactory.build(
        organization=org, tax_treatment=TaxTreatment.NON_EU, country=country, vat_id=vat_id
    ).full_clean()


@pytest.mark.parametrize(
    ("country", "vat_id"), [("CH", "CHE116281711MWST"), ("GB", "GB980780685"), ("US", "ABCDEF"), ("US", "1!")]
)
def test_customers_outside_the_eu_are_checked_by_their_countrys_rules(org, country, vat_id):
    customer = CustomerFactory.build(
        organization=org, tax_treatment=TaxTreatment.NON_EU, country=country, vat_id=vat_id
    )
    assert "Umsatzsteuernummer für" in _vat_errors(customer)


def test_a_swiss_customer_is_saved_through_the_form(admin_client):
    response = admin_client.post(
        CREATE,
        {
            "name": "Zürcher Druck AG",
            "country": "CH",
            "postal_code": "8001",
            "tax_treatment": "non_eu",
            "vat_id": "CHE-116.281.710 MWST",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.get().vat_id == "CHE116281710MWST"


def test_the_form_refuses_reverse_charge_with_a_german_vat_id(admin_client):
    with translation.override("de"):
        response = admin_client.post(
            CREATE,
            {
                "name": "Wien GmbH",
                "country": "AT",
                "tax_treatment": "eu_reverse_charge",
                "vat_id": "DE136695976",
            },
        )
    assert response.status_code == 200
    assert "deutschen USt-IdNr." in " ".join(response.context["form"].errors["vat_id"])
    assert not Customer.objects.exists()


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_example_in_the_message_is_itself_valid(language):
    with translation.override(language), pytest.raises(ValidationError) as exc:
        validate_vat_id("DE1")
    with translation.override(language):
        example = re.search(r"DE\d{9}", exc.value.messages[0]).group()
    validate_vat_id(example)
    validate_vat_id_for_country(example, "DE")
