"""Phone numbers, websites and the BIC are checked by one rule each, wherever they are entered."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import translation

from organizations.models import Organization
from organizations.validators import (
    bic_for_iban,
    format_phone,
    normalize_phone,
    normalize_website,
    phone_to_e164,
    website_href,
)

from .test_organization import _settings_data


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("030 1234567", "DE", "+49301234567"),
        ("(030) 123 456", "DE", "+4930123456"),
        ("+49 30 1234567-0", "DE", "+493012345670"),
        ("0171/1234567", "", "+491711234567"),
        ("01 5123456", "AT", "+4315123456"),
        ("+1 650 253 0000", "DE", "+16502530000"),
    ],
)
def test_it_stores_phone_numbers_in_e164_read_in_the_records_country(typed, country, stored):
    assert normalize_phone(typed, country) == stored


@pytest.mark.parametrize("typed", ["1234", "030", "Telefon", "+49 30 1", "+999 123456"])
def test_it_refuses_what_is_not_a_valid_number_in_german(typed):
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        normalize_phone(typed, "DE")
    assert "keine gültige Telefonnummer" in " ".join(exc.value.messages)


def test_it_refuses_a_separate_extension_instead_of_dropping_it():
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        normalize_phone("030 1234567 ext. 12", "DE")
    assert "Durchwahl" in " ".join(exc.value.messages)


def test_the_conversion_of_stored_numbers_leaves_what_does_not_parse_as_it_was():
    assert phone_to_e164("030 1234567", "DE") == "+49301234567"
    assert phone_to_e164("01 5123456", "AT") == "+4315123456"
    assert phone_to_e164("bitte Zentrale anrufen", "DE") == "bitte Zentrale anrufen"
    assert phone_to_e164("1234", "DE") == "1234"


def test_it_shows_home_numbers_nationally_and_foreign_numbers_internationally():
    assert format_phone("+49301234567", "DE") == "030 1234567"
    assert format_phone("+4315123456", "DE") == "+43 1 5123456"
    assert format_phone("+4315123456", "AT") == "01 5123456"
    assert format_phone("030 alt", "DE") == "030 alt"
    assert format_phone("", "DE") == ""


def test_the_phone_filter_formats_for_the_organizations_country():
    template = Template("{% load ui %}{{ number|phone:country }}|{{ other|phone }}")
    text = template.render(Context({"number": "+49301234567", "country": "DE", "other": "+4315123456"}))
    assert text == "030 1234567|+43 1 5123456"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("www.example.de", "https://www.example.de"),
        ("  example.de/kontakt ", "https://example.de/kontakt"),
        ("HTTP://www.example.de", "http://www.example.de"),
        ("https://www.example.de:8443/a?b=c", "https://www.example.de:8443/a?b=c"),
        ("www.example.de:8080", "https://www.example.de:8080"),
    ],
)
def test_it_stores_websites_as_http_or_https_addresses(typed, stored):
    assert normalize_website(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "ftp://example.de", "mailto:a@b.de"],
)
def test_it_refuses_websites_with_other_schemes(typed):
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        normalize_website(typed)
    assert "http:// oder https://" in " ".join(exc.value.messages)
    assert website_href(typed) == ""


def test_it_refuses_what_is_no_web_address():
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        normalize_website("kein web")
    assert "keine gültige Webadresse" in " ".join(exc.value.messages)


def test_the_website_href_filter_makes_old_bare_addresses_links_and_drops_scripts():
    template = Template("{% load ui %}[{{ a|website_href }}][{{ b|website_href }}]")
    text = template.render(Context({"a": "www.example.de", "b": "javascript:alert(1)"}))
    assert text == "[https://www.example.de][]"


def test_it_fills_in_the_bic_of_the_ibans_bank():
    assert bic_for_iban("DE89 3704 0044 0532 0130 00", "") == "COBADEFFXXX"


def test_it_accepts_the_ibans_bic_with_or_without_branch_code():
    assert bic_for_iban("DE89370400440532013000", "cobadeff xxx") == "COBADEFFXXX"
    assert bic_for_iban("DE89370400440532013000", "COBADEFF") == "COBADEFF"


def test_it_refuses_a_bic_of_another_bank_and_names_the_right_one():
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        bic_for_iban("DE89370400440532013000", "HASPDEHHXXX")
    message = " ".join(exc.value.messages)
    assert "HASPDEHHXXX" in message and "COBADEFFXXX" in message and "Commerzbank" in message


def test_it_leaves_the_bic_alone_when_the_bank_is_unknown():
    # A valid IBAN whose bank code is in no registry schwifty ships.
    assert bic_for_iban("DE40123456780000123456", "BYLADEM1001") == "BYLADEM1001"
    assert bic_for_iban("DE40123456780000123456", "") == ""
    assert bic_for_iban("not an iban", "BYLADEM1001") == "BYLADEM1001"


@pytest.mark.django_db
def test_the_settings_store_the_phone_in_e164_and_the_website_with_https(org, admin_client):
    response = admin_client.post(
        "/organization/settings/", _settings_data(org, phone="030 1234567-0", website="www.example.de")
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.phone == "+493012345670"
    assert org.website == "https://www.example.de"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12", "keine gültige Telefonnummer"),
        ("website", "javascript:alert(1)", "http:// oder https://"),
        ("bic", "HASPDEHHXXX", "gehört nicht zur Bank dieser IBAN"),
        ("postal_code", "1234", "genau fünf Ziffern"),
    ],
)
def test_the_settings_refuse_bad_contact_data_at_the_field(org, admin_client, field, value, message):
    response = admin_client.post(
        "/organization/settings/", _settings_data(org, **{field: value, "city": "Neu"})
    )
    assert response.status_code == 200
    assert any(message in str(e) for e in response.context["form"].errors[field])
    org.refresh_from_db()
    assert org.city == "Berlin"


@pytest.mark.django_db
def test_the_settings_fill_in_an_empty_bic(org, admin_client):
    assert admin_client.post("/organization/settings/", _settings_data(org, bic="")).status_code == 302
    org.refresh_from_db()
    assert org.bic == "COBADEFFXXX"


@pytest.mark.django_db
def test_the_migration_converts_the_stored_phone_and_keeps_what_does_not_parse(org, other_org):
    Organization.objects.filter(pk=org.pk).update(phone="030 1234567")
    Organization.objects.filter(pk=other_org.pk).update(phone="Zentrale", country="DE")
    importlib.import_module("organizations.migrations.0006_phone_in_e164").forwards(apps, None)
    org.refresh_from_db()
    other_org.refresh_from_db()
    assert org.phone == "+49301234567"
    assert other_org.phone == "Zentrale"
