"""The customer list fits a 1440 px screen: nothing scrolls sideways, nothing is cut off."""

from __future__ import annotations

import pytest

from customers.models import PaymentMethod
from tests.customers.factories import ActionFactory, CustomerFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

LONG_NAMES = [
    ("Hahn Veranstaltungstechnik GmbH", "info@hahn-veranstaltungstechnik.de"),
    ("Berger Getränkehandel GmbH & Co. KG", "buchhaltung@berger-getraenkehandel.de"),
    ("Alpenblick Bürosysteme GmbH", "office@alpenblick-buerosysteme.at"),
]


def test_it_fits_the_customer_list_into_1440_px(page, org, admin_user):
    for name, email in LONG_NAMES:
        customer = CustomerFactory(
            organization=org,
            name=name,
            email=email,
            phone="+49 597 4860684",
            city="Mönchengladbach",
            payment_method=PaymentMethod.DIRECT_DEBIT,
            owner=admin_user,
        )
        ActionFactory(customer=customer, assignee=admin_user)
    login(page, "admin")
    page.goto(f"{page.base_url}/customers/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    # Every cell shows all of its text: no ellipsis, no scrolling inside the table.
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.table-card, .table-card td, .table-card td a')]
              .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent.trim())"""
    )
    assert cut == []
    # Company names break between words, never inside one.
    words = page.evaluate(
        """() => [...document.querySelectorAll('td[data-col="name"] a')].map(a => {
              const range = document.createRange(); range.selectNodeContents(a);
              return [a.textContent, range.getClientRects().length, a.textContent.split(' ').length];
           })"""
    )
    assert all(lines <= n_words for _, lines, n_words in words), words
    for name, email in LONG_NAMES:
        assert page.get_by_text(name).is_visible()
        assert page.locator(f'a[href="mailto:{email}"]').inner_text().replace("\n", "") == email
