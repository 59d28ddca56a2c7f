"""Customers whose tax treatment needs review are pointed out: a badge, a filter on the
customer list and a warning that links to it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_customer_list_warns_about_customers_to_review_and_filters_them(admin_client, org, other_org):
    CustomerFactory(organization=org, name="Alt-Kunde GmbH", tax_treatment="needs_review")
    CustomerFactory(organization=org, name="Normal GmbH")
    CustomerFactory(organization=other_org, name="Fremd GmbH", tax_treatment="needs_review")
    page = admin_client.get(reverse("customers:list")).content.decode()
    assert "1 Kunde hat keinen gesetzlichen Grund für Rechnungen ohne Umsatzsteuer" in page
    assert "?kind=&amp;tax_treatment=needs_review" in page
    response = admin_client.get(reverse("customers:list"), {"kind": "", "tax_treatment": "needs_review"})
    names = [c.name for c in response.context["table"].data]
    assert names == ["Alt-Kunde GmbH"]
    assert "Steuerliche Behandlung prüfen" in response.content.decode()  # the badge


def test_the_list_has_no_warning_when_every_treatment_is_known(admin_client, org):
    CustomerFactory(organization=org, tax_treatment="exempt", tax_exemption="4_14")
    page = admin_client.get(reverse("customers:list")).content.decode()
    assert 'id="tax-review-alert"' not in page


def test_the_customer_page_shows_the_treatment_and_its_provision(admin_client, org):
    exempt = CustomerFactory(organization=org, tax_treatment="exempt", tax_exemption="4_14")
    page = admin_client.get(reverse("customers:detail", args=[exempt.pk])).content.decode()
    assert "Inland, steuerfrei (§ 4 UStG)" in page and "§ 4 Nr. 14 UStG – Heilbehandlung" in page
    review = CustomerFactory(organization=org, tax_treatment="needs_review")
    page = admin_client.get(reverse("customers:detail", args=[review.pk])).content.decode()
    assert "Keine Rechnung, bis die steuerliche Behandlung gewählt ist." in page


def test_the_form_marks_the_provision_to_show_only_for_exempt_customers(admin_client, org):
    customer = CustomerFactory(organization=org)
    page = admin_client.get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert 'data-tax-treatment=""' in page
    assert 'data-show-if-tax-treatment="exempt"' in page
    assert "Prüfung nötig" not in page  # nobody chooses "needs review"
