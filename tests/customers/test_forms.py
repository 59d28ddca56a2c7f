"""Bad input is refused at the field, in German, and nothing is saved."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from customers.forms import ContactForm, CustomerForm
from customers.models import Contact, Customer, CustomerKind, PaymentMethod
from organizations.audit import history_for

from .factories import ContactFunctionFactory, CustomerFactory

CREATE = reverse("customers:create")


def _errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


def _posted_in_german(client, url, data):
    """Post a form in German that must come back with its errors (200, no redirect)."""
    with translation.override("de"):
        response = client.post(url, data)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("iban", "DE89370400440532013001", "keine gültige IBAN"),
        ("bic", "COBAXX", "keine gültige BIC"),
        ("vat_id", "DE136695977", "keine gültige USt-IdNr."),
        ("email", "kein-at-zeichen", "gültige E-Mail-Adresse"),
        ("invoice_email", "rechnung@", "gültige E-Mail-Adresse"),
        ("postal_code", "1234", "genau fünf Ziffern"),
        ("postal_code", "4O212", "genau fünf Ziffern"),
    ],
)
def test_it_rejects_bad_values_in_german_at_the_field_and_saves_nothing(admin_client, field, value, expected):
    response = _posted_in_german(
        admin_client, CREATE, {"kind": "customer", "name": "Falsch GmbH", field: value}
    )
    assert any(expected in e for e in _errors(response, field)), _errors(response, field)
    assert "Bitte korrigieren Sie die markierten Felder" in response.content.decode()
    assert not Customer.objects.exists()


def test_a_bad_value_on_edit_changes_nothing(admin_client, org):
    customer = CustomerFactory(organization=org, name="Bleibt GmbH", iban="")
    response = admin_client.post(
        reverse("customers:edit", args=[customer.pk]), {"name": "Anders GmbH", "iban": "DE00123"}
    )
    assert response.status_code == 200
    assert _errors(response, "iban")
    customer.refresh_from_db()
    assert customer.name == "Bleibt GmbH"
    assert not history_for(customer).exists()
    # The page header still shows the stored name, not the refused input.
    assert "Anders GmbH</h1>" not in response.content.decode()


def test_a_foreign_postal_code_is_not_checked_as_german(admin_client):
    response = admin_client.post(CREATE, {"name": "Wiener Büro GmbH", "country": "AT", "postal_code": "1010"})
    assert response.status_code == 302
    assert Customer.objects.get().postal_code == "1010"


def test_it_requires_only_the_company_name(admin_client):
    response = admin_client.post(CREATE, {"name": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name"}
    assert "Dieses Feld ist zwingend erforderlich." in _errors(response, "name")
    response = admin_client.post(CREATE, {"name": "Minimal GmbH"})
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.kind == CustomerKind.CUSTOMER
    assert customer.country == "DE" and customer.language == "de"


def test_only_name_and_kind_are_starred(org):
    form = CustomerForm(organization=org, creating=True)
    assert {name for name, field in form.fields.items() if field.required} == {"kind", "name"}


def test_it_normalises_iban_bic_and_vat_id(admin_client):
    response = admin_client.post(
        CREATE,
        {
            "name": "Normal GmbH",
            "iban": "de89 3704 0044 0532 0130 00",
            "bic": "cobadeff xxx",
            "vat_id": "de 136.695.976",
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.iban == "DE89370400440532013000"
    assert customer.bic == "COBADEFFXXX"
    assert customer.vat_id == "DE136695976"
    assert customer.account_holder == "Normal GmbH"


def test_it_fills_the_bic_from_a_german_iban(admin_client):
    admin_client.post(CREATE, {"name": "Bic GmbH", "iban": "DE89370400440532013000"})
    assert Customer.objects.get().bic.startswith("COBADE")


def test_direct_debit_without_mandate_is_refused_at_the_fields(admin_client):
    response = _posted_in_german(
        admin_client,
        CREATE,
        {"name": "Lastschrift GmbH", "payment_method": "direct_debit", "iban": "DE89370400440532013000"},
    )
    assert "Mandatsreferenz" in " ".join(_errors(response, "mandate_reference"))
    assert _errors(response, "mandate_signed_on")
    assert not Customer.objects.exists()


COMPLETE_DIRECT_DEBIT = {
    "name": "Lastschrift GmbH",
    "payment_method": "direct_debit",
    "iban": "DE89370400440532013000",
    "mandate_reference": "M-1",
    "mandate_signed_on": "2026-01-02",
}


def test_direct_debit_needs_the_organizations_creditor_id(admin_client, org):
    org.creditor_id = ""
    org.save()
    response = admin_client.post(CREATE, COMPLETE_DIRECT_DEBIT)
    assert response.status_code == 200
    assert "Gläubiger-ID" in " ".join(_errors(response, "payment_method"))


def test_a_complete_direct_debit_is_saved(admin_client):
    response = admin_client.post(CREATE, COMPLETE_DIRECT_DEBIT)
    assert response.status_code == 302
    assert Customer.objects.get().payment_method == PaymentMethod.DIRECT_DEBIT


def test_reverse_charge_without_vat_id_is_refused_in_german(admin_client):
    response = _posted_in_german(
        admin_client, CREATE, {"name": "Amsterdam BV", "country": "NL", "tax_treatment": "eu_reverse_charge"}
    )
    assert "USt-IdNr." in " ".join(_errors(response, "vat_id"))


def test_an_unknown_choice_is_a_form_error_not_a_crash(admin_client):
    response = admin_client.post(
        CREATE, {"name": "X", "payment_method": "cash", "country": "ZZ", "owner": "abc"}
    )
    assert response.status_code == 200
    assert {"payment_method", "country", "owner"} <= set(response.context["form"].errors)


def test_contact_form_asks_for_an_email_for_portal_users(admin_client, org):
    customer = CustomerFactory(organization=org)
    response = _posted_in_german(
        admin_client,
        reverse("customers:contact_add", args=[customer.pk]),
        {"last_name": "Portal", "has_portal_access": "on", "is_active": "on"},
    )
    assert "E-Mail-Adresse" in " ".join(_errors(response, "email"))
    assert not Contact.objects.exists()


def test_contact_form_rejects_a_bad_email(admin_client, org):
    customer = CustomerFactory(organization=org)
    response = admin_client.post(
        reverse("customers:contact_add", args=[customer.pk]), {"last_name": "Mail", "email": "nope"}
    )
    assert _errors(response, "email")
    assert not Contact.objects.exists()


def test_contact_form_offers_only_the_organizations_functions(org, other_org):
    own = ContactFunctionFactory(organization=org, name="Technik")
    ContactFunctionFactory(organization=other_org, name="Fremde Funktion")
    form = ContactForm(organization=org)
    assert list(form.fields["function"].queryset) == [own]


def test_it_keeps_german_vat_when_the_tax_treatment_is_left_empty(admin_client, org):
    # The old "VAT liable" checkbox was unticked by any form that left it out, which made
    # an ordinary customer "VAT exempt" without a legal reason.
    customer = CustomerFactory(organization=org)
    url = reverse("customers:edit", args=[customer.pk])
    admin_client.post(url, {"name": customer.name})
    customer.refresh_from_db()
    assert (customer.tax_treatment, customer.tax_exemption) == ("domestic", "")
    admin_client.post(
        url, {"name": customer.name, "tax_treatment": "non_eu", "country": "CH", "postal_code": "8001"}
    )
    customer.refresh_from_db()
    assert (customer.tax_treatment, customer.tax_exemption) == ("non_eu", "")


def test_it_asks_for_the_provision_of_a_vat_exempt_customer_at_the_field(admin_client, org):
    customer = CustomerFactory(organization=org)
    url = reverse("customers:edit", args=[customer.pk])
    response = admin_client.post(url, {"name": customer.name, "tax_treatment": "exempt"})
    assert response.status_code == 200
    assert "Wählen Sie die Vorschrift des § 4 UStG" in str(response.context["form"].errors["tax_exemption"])
    customer.refresh_from_db()
    assert customer.tax_treatment == "domestic"
    admin_client.post(url, {"name": customer.name, "tax_treatment": "exempt", "tax_exemption": "4_14"})
    customer.refresh_from_db()
    assert (customer.tax_treatment, customer.tax_exemption) == ("exempt", "4_14")
    # Another treatment drops the provision, which only an exempt customer prints.
    admin_client.post(url, {"name": customer.name, "tax_treatment": "domestic", "tax_exemption": "4_14"})
    customer.refresh_from_db()
    assert (customer.tax_treatment, customer.tax_exemption) == ("domestic", "")


def test_it_offers_needs_review_only_to_a_customer_that_still_has_it(org):
    assert "needs_review" not in dict(CustomerForm(organization=org).fields["tax_treatment"].choices)
    customer = CustomerFactory(organization=org, tax_treatment="needs_review")
    form = CustomerForm(instance=customer, organization=org)
    assert "needs_review" in dict(form.fields["tax_treatment"].choices)
    assert form.fields["tax_exemption"].widget.attrs["data-show-if-tax-treatment"] == "exempt"


def test_xrechnung_needs_a_valid_leitweg_id_and_says_so_in_german(admin_client):
    response = _posted_in_german(
        admin_client,
        CREATE,
        {"name": "Stadt Musterhausen", "einvoice_format": "xrechnung_cii", "buyer_reference": "991-0"},
    )
    assert "Leitweg-ID" in " ".join(_errors(response, "buyer_reference"))
    assert not Customer.objects.exists()
    response = admin_client.post(
        CREATE,
        {
            "name": "Stadt Musterhausen",
            "einvoice_format": "xrechnung_cii",
            "buyer_reference": " 04011000-1234512345-06 ",
            "siret": "732 829 320 00074",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    customer = Customer.objects.get()
    assert (customer.einvoice_format, customer.buyer_reference) == ("xrechnung_cii", "04011000-1234512345-06")
    assert customer.siret == "73282932000074"


def test_pdf_only_needs_the_date_of_consent(admin_client):
    response = admin_client.post(CREATE, {"name": "Papier GmbH", "einvoice_format": "pdf_only"})
    assert response.status_code == 200
    assert "einvoice_consent_on" in response.context["form"].errors
