"""Customers' and contacts' phone numbers, websites, postal codes and bank details are
checked like every other identifier, stored in one form and shown formatted."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from customers.models import Contact, Customer

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("customers:create")


def _errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


def test_it_stores_the_customers_phone_in_e164_and_the_website_with_https(admin_client):
    response = admin_client.post(
        CREATE, {"name": "Telefon GmbH", "phone": "030 1234567", "website": "www.telefon.example"}
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.phone == "+49301234567"
    assert customer.website == "https://www.telefon.example"


def test_it_reads_a_number_without_country_code_as_dialled_in_the_customers_country(admin_client):
    response = admin_client.post(
        CREATE, {"name": "Wiener Büro GmbH", "country": "AT", "postal_code": "1010", "phone": "01 5123456"}
    )
    assert response.status_code == 302
    assert Customer.objects.get().phone == "+4315123456"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("phone", "1234", "keine gültige Telefonnummer für Deutschland"),
        ("website", "javascript:alert(document.cookie)", "http:// oder https://"),
        ("website", "data:text/html,hallo", "http:// oder https://"),
    ],
)
def test_it_refuses_bad_contact_data_at_the_field_and_saves_nothing(admin_client, field, value, expected):
    response = admin_client.post(CREATE, {"name": "Falsch GmbH", field: value})
    assert response.status_code == 200
    assert any(expected in e for e in _errors(response, field)), _errors(response, field)
    assert not Customer.objects.exists()


def test_an_old_unparsable_number_is_flagged_when_the_customer_is_next_edited(admin_client, org):
    customer = CustomerFactory(organization=org, phone="Zentrale fragen")
    response = admin_client.post(
        reverse("customers:edit", args=[customer.pk]), {"name": customer.name, "phone": customer.phone}
    )
    assert response.status_code == 200
    assert _errors(response, "phone")


def test_a_bic_of_another_bank_is_refused_naming_the_ibans_bic(admin_client, org):
    customer = CustomerFactory(organization=org)
    response = admin_client.post(
        reverse("customers:payment", args=[customer.pk]),
        {"payment_method": "bank_transfer", "iban": "DE89 3704 0044 0532 0130 00", "bic": "HASPDEHHXXX"},
    )
    assert response.status_code == 200
    errors = _errors(response, "bic")
    assert any("gehört nicht zur Bank dieser IBAN" in e and "COBADEFFXXX" in e for e in errors), errors
    customer.refresh_from_db()
    assert customer.iban == ""


def test_an_empty_bic_is_filled_in_from_the_iban(admin_client, org):
    customer = CustomerFactory(organization=org)
    response = admin_client.post(
        reverse("customers:payment", args=[customer.pk]),
        {"payment_method": "bank_transfer", "iban": "DE89 3704 0044 0532 0130 00", "bic": ""},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.iban, customer.bic) == ("DE89370400440532013000", "COBADEFFXXX")


def test_a_contacts_numbers_are_read_in_the_customers_country(admin_client, org):
    customer = CustomerFactory(organization=org, country="AT", postal_code="1010")
    response = admin_client.post(
        reverse("customers:contact_add", args=[customer.pk]),
        {"last_name": "Huber", "phone": "01 5123456", "mobile": "+49 171 1234567", "is_active": "on"},
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.phone, contact.mobile) == ("+4315123456", "+491711234567")


def test_a_contacts_bad_mobile_number_is_refused_at_the_field(admin_client, org):
    customer = CustomerFactory(organization=org)
    response = admin_client.post(
        reverse("customers:contact_add", args=[customer.pk]),
        {"last_name": "Huber", "phone": "030 1234567", "mobile": "0171", "is_active": "on"},
    )
    assert response.status_code == 200
    assert _errors(response, "mobile") and not _errors(response, "phone")
    assert not Contact.objects.exists()


def test_pages_show_numbers_formatted_and_websites_as_safe_links(admin_client, org):
    customer = CustomerFactory(organization=org, phone="+49301234567", website="www.muster.example")
    ContactFactory(customer=customer, phone="+4315123456", mobile="+491711234567")
    html = admin_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert '<a href="tel:+49301234567">030 1234567</a>' in html
    assert "+43 1 5123456" in html and "0171 1234567" in html
    assert 'href="https://www.muster.example"' in html
    listing = admin_client.get(reverse("customers:list")).content.decode()
    assert "030 1234567" in listing


def test_a_stored_script_website_is_not_rendered_as_a_link(admin_client, org):
    customer = CustomerFactory(organization=org, website="javascript:alert(1)")
    html = admin_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html


def test_the_csv_export_shows_numbers_formatted(admin_client, org):
    CustomerFactory(organization=org, name="Berlin GmbH", phone="+49301234567")
    CustomerFactory(organization=org, name="Wien GmbH", phone="+4315123456")
    text = admin_client.get(reverse("customers:list"), {"export": "csv"}).content.decode("utf-8-sig")
    assert ";030 1234567;" in text
    # International numbers start with "+", which the export guards against formula injection.
    assert ";'+43 1 5123456;" in text


def test_the_migration_converts_stored_numbers_and_keeps_what_does_not_parse(org):
    vienna = CustomerFactory(organization=org, country="AT", phone="01 5123456")
    odd = CustomerFactory(organization=org, phone="Zentrale fragen")
    contact = ContactFactory(customer=vienna, phone="", mobile="0664 1234567")
    importlib.import_module("customers.migrations.0007_phones_in_e164").forwards(apps, None)
    vienna.refresh_from_db()
    odd.refresh_from_db()
    contact.refresh_from_db()
    assert vienna.phone == "+4315123456"
    assert odd.phone == "Zentrale fragen"
    assert (contact.phone, contact.mobile) == ("", "+436641234567")


def test_the_search_finds_an_e164_number_typed_as_dialled(admin_client, org):
    CustomerFactory(organization=org, name="Treffer GmbH", phone="+49301234567")
    CustomerFactory(organization=org, name="Andere GmbH", phone="+4940555010")
    for term in ("030 1234567", "030/123 45", "+49 30 1234567"):
        html = admin_client.get(reverse("customers:list"), {"q": term}).content.decode()
        assert "Treffer GmbH" in html and "Andere GmbH" not in html, term


def test_phone_fields_open_the_dial_pad(admin_client, org):
    customer = CustomerFactory(organization=org)
    html = admin_client.get(reverse("customers:contact_add", args=[customer.pk])).content.decode()
    assert 'type="tel" name="mobile"' in html
