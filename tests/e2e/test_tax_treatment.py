"""In a real browser: the § 4 UStG provision is asked only for a VAT-exempt customer."""

from __future__ import annotations

import pytest

from customers.models import Customer
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_provision_appears_only_with_the_exempt_treatment(page, org, admin_user):
    customer = Customer.objects.create(organization=org, number="K09002", name="Praxis Dr. Roth", city="Kiel")
    login(page, "admin")
    page.goto(f"{page.base_url}/customers/{customer.pk}/edit/")
    exemption = page.locator("[name=tax_exemption]")
    assert not exemption.is_visible()
    page.select_option("[name=tax_treatment]", "exempt")
    assert exemption.is_visible()
    page.select_option("[name=tax_exemption]", "4_14")
    page.click("#content form button[type=submit].btn-primary")
    page.wait_for_load_state("networkidle")
    customer.refresh_from_db()
    assert (customer.tax_treatment, customer.tax_exemption) == ("exempt", "4_14")
