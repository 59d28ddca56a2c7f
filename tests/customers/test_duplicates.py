"""One record per real company: a second record of the same company needs a reason."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers import services
from customers.models import Customer
from customers.selectors import customer_duplicates, normalized_name
from organizations.audit import history_for

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("customers:create")
IBAN = "DE89370400440532013000"


def test_it_compares_names_without_case_punctuation_or_legal_form():
    assert normalized_name("Brandt Bürotechnik GmbH") == normalized_name("BRANDT BÜROTECHNIK")
    assert normalized_name("Müller & Co. KG") == normalized_name("Müller KG")
    assert normalized_name("Brandt GmbH") != normalized_name("Brandt Bürotechnik GmbH")


def test_it_finds_records_by_vat_id_iban_or_name_and_postal_code(org, other_org):
    by_vat = CustomerFactory(organization=org, name="Eins GmbH", vat_id="DE136695976")
    by_iban = CustomerFactory(organization=org, name="Zwei GmbH", iban=IBAN)
    by_name = CustomerFactory(organization=org, name="Brandt Bürotechnik GmbH", postal_code="40212")
    CustomerFactory(organization=org, name="Brandt Bürotechnik GmbH", postal_code="20095")
    CustomerFactory(organization=other_org, name="Brandt Bürotechnik GmbH", postal_code="40212")
    found = customer_duplicates(
        organization=org, name="brandt bürotechnik", postal_code="40212", vat_id="DE136695976", iban=IBAN
    )
    assert {d.customer for d in found} == {by_vat, by_iban, by_name}


def test_the_service_refuses_a_second_record_without_a_reason(org, admin_user):
    CustomerFactory(organization=org, name="Brandt GmbH", vat_id="DE136695976")
    with pytest.raises(ValidationError) as exc:
        services.customer_create(
            organization=org, user=admin_user, data={"name": "Brandt Leasing", "vat_id": "DE136695976"}
        )
    assert "duplicate_reason" in exc.value.message_dict
    assert Customer.objects.filter(organization=org).count() == 1


def test_the_create_page_shows_the_existing_record_and_creates_nothing(admin_client, org):
    existing = CustomerFactory(organization=org, name="Brandt Bürotechnik GmbH", postal_code="40212")
    response = admin_client.post(
        CREATE, {"kind": "customer", "name": "Brandt Bürotechnik", "postal_code": "40212"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mögliche Dublette" in page
    assert reverse("customers:detail", args=[existing.pk]) in page
    assert "Trotzdem anlegen" in page
    assert "ist möglicherweise dieselbe Firma" in page
    assert Customer.objects.filter(organization=org).count() == 1


def test_it_creates_anyway_with_a_reason_and_records_it(admin_client, org):
    existing = CustomerFactory(organization=org, name="Brandt Bürotechnik GmbH", postal_code="40212")
    response = admin_client.post(
        CREATE,
        {
            "kind": "customer",
            "name": "Brandt Bürotechnik",
            "postal_code": "40212",
            "duplicate_reason": "Schwesterfirma mit eigener Buchhaltung",
        },
    )
    assert response.status_code == 302
    created = Customer.objects.exclude(pk=existing.pk).get()
    entry = history_for(created).filter(action="customer.duplicate_confirmed").get()
    assert entry.data["duplicates"] == [existing.number]
    assert "Schwesterfirma" in entry.data["message"]
    detail = admin_client.get(reverse("customers:detail", args=[created.pk]) + "?tab=history")
    assert "Trotz möglicher Dublette gespeichert" in detail.content.decode()


def test_editing_into_a_duplicate_asks_for_a_reason(admin_client, org):
    CustomerFactory(organization=org, name="Eins GmbH", vat_id="DE136695976")
    customer = CustomerFactory(organization=org, name="Zwei GmbH")
    response = admin_client.post(
        reverse("customers:edit", args=[customer.pk]),
        {"name": "Zwei GmbH", "vat_id": "DE 136 695 976", "vat_liable": "on"},
    )
    assert response.status_code == 200
    assert "Trotzdem speichern" in response.content.decode()
    customer.refresh_from_db()
    assert customer.vat_id == ""


def test_other_edits_of_a_known_duplicate_do_not_ask_again(org, admin_user):
    CustomerFactory(organization=org, name="Eins GmbH", vat_id="DE136695976")
    twin = CustomerFactory(organization=org, name="Zwei GmbH", vat_id="DE136695976")
    services.customer_update(customer=twin, user=admin_user, data={"city": "Hamburg"})
    twin.refresh_from_db()
    assert twin.city == "Hamburg"


def test_the_data_quality_page_lists_shared_vat_ids(admin_client, org, other_org):
    first = CustomerFactory(organization=org, name="Eins GmbH", vat_id="DE136695976")
    second = CustomerFactory(organization=org, name="Zwei GmbH", vat_id="DE136695976")
    CustomerFactory(organization=org, name="Drei GmbH", vat_id="DE811569869")
    CustomerFactory(organization=other_org, name="Fremd GmbH", vat_id="DE811569869")
    response = admin_client.get(reverse("customers:data_quality"))
    assert response.status_code == 200
    groups = response.context["shared_vat_ids"]
    assert [(g["vat_id"], g["customers"]) for g in groups] == [("DE136695976", [first, second])]
    assert "Fremd GmbH" not in response.content.decode()
