"""In a real browser: the customer list narrows while the clerk types, and an action is
marked done on the customer page, both without loading the page again."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import Action, Customer, CustomerKind
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_list_narrows_while_typing_and_an_action_is_done_in_place(page, org, admin_user):
    for number, name, city in (
        ("K09001", "Hafenkontor Meyer KG", "Bremen"),
        ("K09002", "Elbe Druckzentrum GmbH", "Hamburg"),
        ("K09003", "Alster Bürotechnik GmbH", "Hamburg"),
    ):
        Customer.objects.create(organization=org, number=number, name=name, city=city)
    Customer.objects.create(
        organization=org, number="K09004", kind=CustomerKind.PROSPECT, name="Weser Logistik KG", city="Bremen"
    )
    hafen = Customer.objects.get(organization=org, number="K09001")
    action = Action.objects.create(
        organization=org,
        customer=hafen,
        due_on=dt.date.today() + dt.timedelta(days=2),
        description="Rückruf wegen Kopierer-Angebot",
    )
    login(page, "admin")
    base = page.base_url

    page.goto(f"{base}/customers/")
    rows = page.locator("#list-results tbody tr")
    assert rows.count() == 3
    # Survives only if the page is not loaded again.
    page.evaluate("window.sameDocument = true")

    page.locator("#filter-q").press_sequentially("hafen", delay=30)
    page.wait_for_function("document.querySelectorAll('#list-results tbody tr').length === 1")
    assert "Hafenkontor Meyer KG" in rows.first.inner_text()
    assert page.locator("[data-testid=list-count]").inner_text() == "1"
    assert page.evaluate("window.sameDocument") is True
    assert "q=hafen" in page.url  # the address keeps the filter (reload, share, back)

    # The other fields filter as well: a select at once, a text field as typed.
    page.fill("#filter-q", "")
    page.wait_for_function("document.querySelectorAll('#list-results tbody tr').length === 3")
    page.select_option("#filter-kind", "prospect")
    page.wait_for_function("document.querySelectorAll('#list-results tbody tr').length === 1")
    assert "Weser Logistik KG" in rows.first.inner_text()
    page.select_option("#filter-kind", "customer")
    page.fill("#filter-city", "hamburg")
    page.wait_for_function("document.querySelectorAll('#list-results tbody tr').length === 2")
    assert page.evaluate("window.sameDocument") is True

    # On the customer page, "done" swaps the row and shows the message.
    page.goto(f"{base}/customers/{hafen.pk}/?tab=actions")
    page.evaluate("window.sameDocument = true")
    assert page.locator("#tab-actions-count").inner_text().strip() == "1"
    page.locator(f"#action-{action.pk}-toggle").click()
    page.locator(f"#action-{action.pk}-toggle", has_text="Wieder öffnen").wait_for()
    assert "als erledigt markiert" in page.locator("#messages").inner_text()
    assert page.locator("#tab-actions-count").inner_text().strip() == ""
    assert page.evaluate("window.sameDocument") is True
    action.refresh_from_db()
    assert action.is_done
