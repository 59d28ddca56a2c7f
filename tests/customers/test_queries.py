"""Lists run a constant number of queries, whatever the page size or the data behind a row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers import selectors
from customers.models import Customer

from .factories import ActionFactory, ContactFactory, CustomerFactory, ProspectFactory

pytestmark = pytest.mark.slow


def _queries(client, url, params=None) -> int:
    client.get(url, params or {})  # warm up: the first request also stores the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx)


def _fill(org, admin_user, n):
    for i in range(n):
        customer = CustomerFactory(organization=org, owner=admin_user)
        ContactFactory(customer=customer)
        ActionFactory(customer=customer, due_on=dt.date(2026, 1, 1) + dt.timedelta(days=i % 28))
        prospect = ProspectFactory(organization=org, owner=admin_user)
        ActionFactory(customer=prospect, due_on=dt.date(2026, 1, 1) + dt.timedelta(days=i % 28))


def test_customer_list_query_count_does_not_grow_with_rows(admin_client, org, admin_user):
    url = reverse("customers:list")
    _fill(org, admin_user, 2)
    few = _queries(admin_client, url, {"q": "Muster"})
    _fill(org, admin_user, 23)
    many = _queries(admin_client, url, {"q": "Muster"})
    assert many == few
    # A search costs one query more than a plain page (the contacts it matches are
    # looked up first, see customers.selectors.ids_or_subquery) - for both lists alike.
    assert _queries(admin_client, reverse("customers:prospects"), {"q": "Muster"}) == few
    assert _queries(admin_client, reverse("customers:prospects")) == few - 1


def test_calendar_query_count_does_not_grow_with_actions(admin_client, org, admin_user):
    url = reverse("customers:actions")
    _fill(org, admin_user, 2)
    counts = [
        _queries(admin_client, url, {"month": "2026-01"}),
        _queries(admin_client, url, {"view": "list"}),
    ]
    _fill(org, admin_user, 20)
    assert [
        _queries(admin_client, url, {"month": "2026-01"}),
        _queries(admin_client, url, {"view": "list"}),
    ] == counts


def test_detail_query_count_does_not_grow_with_children(admin_client, org, admin_user):
    customer = CustomerFactory(organization=org)
    url = reverse("customers:detail", args=[customer.pk])
    ContactFactory(customer=customer)
    ActionFactory(customer=customer, assignee=admin_user)
    few = _queries(admin_client, url)
    for _ in range(10):
        ContactFactory(customer=customer)
        ActionFactory(customer=customer, assignee=admin_user)
    assert _queries(admin_client, url) == few


def test_customer_list_query_count_does_not_depend_on_the_page_size(admin_client, org, admin_user):
    _fill(org, admin_user, 30)
    url = reverse("customers:list")
    small = _queries(admin_client, url, {"per_page": 5})
    large = _queries(admin_client, url, {"per_page": 100})
    assert small == large
    assert large <= 10  # session, user, membership, count, page rows - not one per row


CUSTOMER_SORTS = ["number", "name", "city", "email", "payment_method", "owner", "open_actions"]


def _list_cases() -> list[dict]:
    return [
        {},
        {"kind": ""},
        {"financier": "yes"},
        {"city": "Düsseldorf"},
        {"email": "musterfirma"},
        {"payment_method": "bank_transfer"},
        {"q": "Muster"},
        {"q": "Kontakt"},  # contact names
        *({"sort": column} for column in CUSTOMER_SORTS),
        *({"sort": f"-{column}"} for column in CUSTOMER_SORTS),
    ]


def test_customer_list_filters_and_sorts_cost_the_same_queries_whatever_the_rows(
    admin_client, org, admin_user
):
    url = reverse("customers:list")
    _fill(org, admin_user, 3)
    few = [_queries(admin_client, url, {**params, "per_page": 5}) for params in _list_cases()]
    _fill(org, admin_user, 30)
    many = [_queries(admin_client, url, {**params, "per_page": 50}) for params in _list_cases()]
    assert many == few


@pytest.mark.parametrize("sort", [None, *CUSTOMER_SORTS, *(f"-{column}" for column in CUSTOMER_SORTS)])
def test_customer_list_pages_show_every_customer_once_in_every_order(admin_client, org, admin_user, sort):
    _fill(org, admin_user, 12)
    ids = []
    page = 1
    while True:
        params = {"per_page": 5, "page": page, **({"sort": sort} if sort else {})}
        table = admin_client.get(reverse("customers:list"), params).context["table"]
        ids += [row.record.pk for row in table.page.object_list]
        if not table.page.has_next():
            break
        page += 1
    assert len(ids) == len(set(ids)) == Customer.objects.filter(kind="customer").count() == 12


def test_customer_list_counts_open_and_overdue_actions_per_row(admin_client, org):
    today = timezone.localdate()
    busy = CustomerFactory(organization=org, name="Busy GmbH")
    ActionFactory(customer=busy, due_on=today - dt.timedelta(days=2))  # overdue
    ActionFactory(customer=busy, due_on=today + dt.timedelta(days=2))
    ActionFactory(customer=busy, due_on=today - dt.timedelta(days=9), done_at=timezone.now())  # done
    CustomerFactory(organization=org, name="Idle GmbH")
    table = admin_client.get(reverse("customers:list"), {"sort": "-open_actions"}).context["table"]
    rows = [(row.record.name, row.record.open_actions, row.record.overdue_actions) for row in table.page]
    assert rows == [("Busy GmbH", 2, 1), ("Idle GmbH", 0, 0)]


@pytest.mark.parametrize("few_contact_matches", [True, False])
def test_customer_search_finds_customers_through_their_contacts(
    admin_client, org, monkeypatch, few_contact_matches
):
    if not few_contact_matches:  # the matched contacts are passed as a subquery
        monkeypatch.setattr(selectors, "IDS_IN_QUERY_LIMIT", 0)
    beta = CustomerFactory(organization=org, name="Beta Druck GmbH")
    ContactFactory(customer=beta, last_name="Sommer", email="sommer@beta.example")
    ContactFactory(customer=beta, last_name="Winter")
    CustomerFactory(organization=org, name="Sommerfeld AG")
    table = admin_client.get(reverse("customers:list"), {"q": "sommer"}).context["table"]
    assert sorted(row.record.name for row in table.page) == ["Beta Druck GmbH", "Sommerfeld AG"]
    assert table.paginator.count == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only")
def test_postgresql_has_trigram_indexes_for_the_customer_and_contact_search():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname IN ('customer_search_trgm', 'contact_search_trgm')"
        )
        assert {name for (name,) in cursor.fetchall()} == {"customer_search_trgm", "contact_search_trgm"}
