"""The folder list: the same number of queries for every filter, search and sort whatever
the page size, pages that neither repeat nor lose folders, and the search and filter
rewrites that let the database use its indexes (the bench_lists command times them)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers import selectors as customer_selectors
from folders.models import Folder, FolderStatus
from tests.customers.factories import CustomerFactory
from tests.financing.factories import FinancierFactory, FinancingFactory
from tests.folders.factories import FolderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SORTABLE = ["number", "name", "customer", "status", "financier", "start_date", "contract_end", "owner"]
STATUSES = [FolderStatus.ACTIVE, FolderStatus.DRAFT, FolderStatus.SUSPENDED, FolderStatus.TERMINATED]


def _fill(org, owner, count, financier):
    """`count` folders of a few customers (two with the same name), every third financed,
    every fourth with an owner, some on hold or ending soon."""
    today = timezone.localdate()
    customers = [
        CustomerFactory(organization=org, name="Muster AG"),
        CustomerFactory(organization=org, name="Muster AG"),
        CustomerFactory(organization=org, name="Alpha GmbH"),
        CustomerFactory(organization=org, name="Zeta KG"),
    ]
    for i in range(count):
        folder = FolderFactory(
            organization=org,
            customer=customers[i % len(customers)],
            name=f"Ordner {i % 7}",
            status=STATUSES[i % len(STATUSES)],
            start_date=dt.date(2025, 1, 1) + dt.timedelta(days=i % 5),
            contract_end=today + dt.timedelta(days=(i * 37) % 400) if i % 6 else None,
            billing_hold=i % 5 == 0,
            billing_hold_reason="Reklamation" if i % 5 == 0 else "",
            owner=owner if i % 4 == 0 else None,
        )
        if i % 3 == 0:
            FinancingFactory(folder=folder, financier=financier)


def _queries(client, params) -> int:
    url = reverse("folders:list")
    client.get(url, params)  # the first request stores the active organization in the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx)


def _pages(client, params, per_page=5) -> list[int]:
    """The folder ids of every page, in page order."""
    ids = []
    page = 1
    while True:
        response = client.get(reverse("folders:list"), {**params, "per_page": per_page, "page": page})
        table = response.context["table"]
        ids += [row.record.pk for row in table.page.object_list]
        if not table.page.has_next():
            return ids
        page += 1


def _cases(financier) -> list[dict]:
    return [
        {},
        {"status": "active"},
        {"third_party": "1"},
        {"third_party": "0"},
        {"financier": financier.pk},
        {"hold": "1"},
        {"hold": "0"},
        {"ending": "90"},
        {"q": "Muster"},
        {"q": "Ordner 3"},
        *({"sort": column} for column in SORTABLE),
        *({"sort": f"-{column}"} for column in SORTABLE),
        {"status": "active", "sort": "customer", "q": "Muster"},
    ]


def test_it_runs_the_same_queries_for_every_filter_and_sort_whatever_the_rows_and_page_size(
    org, admin_client, admin_user
):
    financier = FinancierFactory(organization=org, name="GRENKE Leasing AG")
    _fill(org, admin_user, 8, financier)
    few = [_queries(admin_client, {**params, "per_page": 5}) for params in _cases(financier)]
    _fill(org, admin_user, 40, financier)
    many = [_queries(admin_client, {**params, "per_page": 40}) for params in _cases(financier)]
    assert many == few
    # session, user, memberships, count, page ids, page rows, financier choices (+ the
    # customers a search matches)
    assert max(many) <= 9


@pytest.mark.parametrize("sort", [None, *SORTABLE, *(f"-{column}" for column in SORTABLE)])
def test_its_pages_list_every_folder_once_in_every_order(org, admin_client, admin_user, sort):
    financier = FinancierFactory(organization=org)
    _fill(org, admin_user, 23, financier)
    ids = _pages(admin_client, {"sort": sort} if sort else {})
    assert len(ids) == len(set(ids)) == Folder.objects.count() == 23


def test_sorting_by_customer_orders_by_name_then_customer_then_number(org, admin_client, admin_user):
    financier = FinancierFactory(organization=org)
    _fill(org, admin_user, 17, financier)
    folders = list(Folder.objects.select_related("customer"))
    expected = [f.pk for f in sorted(folders, key=lambda f: (f.customer.name, f.customer_id, f.number))]
    assert _pages(admin_client, {"sort": "customer"}) == expected
    assert _pages(admin_client, {"sort": "-customer"}) == expected[::-1]


def test_the_default_order_is_the_newest_number_first(org, admin_client, admin_user):
    financier = FinancierFactory(organization=org)
    _fill(org, admin_user, 12, financier)
    expected = list(Folder.objects.order_by("-number").values_list("pk", flat=True))
    assert _pages(admin_client, {}) == expected


def test_the_count_is_that_of_the_filtered_folders_in_every_order(org, admin_client, admin_user):
    financier = FinancierFactory(organization=org)
    _fill(org, admin_user, 15, financier)
    for sort in ["customer", "-financier", "owner"]:
        response = admin_client.get(reverse("folders:list"), {"status": "active", "sort": sort})
        assert response.context["table"].paginator.count == Folder.objects.filter(status="active").count()


def test_a_page_shows_what_it_joins_without_extra_queries(org, admin_client, admin_user):
    financier = FinancierFactory(organization=org, name="GRENKE Leasing AG")
    folder = FolderFactory(organization=org, name="Kopierer Zentrale", owner=admin_user)
    FinancingFactory(folder=folder, financier=financier)
    content = admin_client.get(reverse("folders:list"), {"sort": "customer"}).content.decode()
    assert "Kopierer Zentrale" in content
    assert folder.customer.name in content
    assert "GRENKE Leasing AG" in content
    assert "Drittzahler" in content


# --- search ------------------------------------------------------------------------------


@pytest.fixture
def searchable(org):
    hamburg = CustomerFactory(organization=org, name="Hafenlogistik Hamburg GmbH", number="K77001")
    berlin = CustomerFactory(organization=org, name="Spree Druck GmbH", number="K77002")
    return {
        "by_number": FolderFactory(organization=org, customer=berlin, number="O0012345", name="Empfang"),
        "by_name": FolderFactory(organization=org, customer=berlin, number="O0020000", name="Kopierer Lager"),
        "by_customer": FolderFactory(organization=org, customer=hamburg, number="O0030000", name="Zentrale"),
    }


def _found(client, term) -> set[str]:
    response = client.get(reverse("folders:list"), {"q": term})
    return {row.record.number for row in response.context["table"].page.object_list}


@pytest.mark.parametrize("few_customer_matches", [True, False])
def test_the_search_finds_number_name_customer_name_and_customer_number(
    searchable, admin_client, monkeypatch, few_customer_matches
):
    if not few_customer_matches:  # the matched customers are passed as a subquery
        monkeypatch.setattr(customer_selectors, "IDS_IN_QUERY_LIMIT", 0)
    assert _found(admin_client, "12345") == {"O0012345"}
    assert _found(admin_client, "kopierer") == {"O0020000"}
    assert _found(admin_client, "hafenlogistik") == {"O0030000"}
    assert _found(admin_client, "k77002") == {"O0012345", "O0020000"}  # customer number: exact
    assert _found(admin_client, "K7700") == set()
    assert _found(admin_client, "GmbH") == {"O0012345", "O0020000", "O0030000"}
    assert _found(admin_client, "nichts") == set()


def test_the_search_does_not_find_folders_of_other_organizations(org, other_org, admin_client):
    foreign = CustomerFactory(organization=other_org, name="Fremdfirma GmbH")
    FolderFactory(organization=other_org, customer=foreign, name="Fremdordner")
    assert _found(admin_client, "Fremd") == set()


def test_ids_or_subquery_passes_few_matches_as_values_and_many_as_a_subquery(org):
    CustomerFactory.create_batch(3, organization=org)
    customers = customer_selectors.Customer.objects.all()
    assert sorted(customer_selectors.ids_or_subquery(customers, limit=3)) == sorted(c.pk for c in customers)
    subquery = customer_selectors.ids_or_subquery(customers, limit=2)
    assert sorted(row["pk"] for row in subquery) == sorted(c.pk for c in customers)


# --- filters -----------------------------------------------------------------------------


def _names(client, **params) -> set[str]:
    response = client.get(reverse("folders:list"), params)
    return {row.record.name for row in response.context["table"].page.object_list}


def test_the_billing_hold_filter_treats_an_expired_hold_as_none(org, admin_client):
    today = timezone.localdate()
    FolderFactory(organization=org, name="Frei")
    FolderFactory(organization=org, name="Gesperrt", billing_hold=True, billing_hold_reason="x")
    FolderFactory(
        organization=org,
        name="Bis morgen",
        billing_hold=True,
        billing_hold_reason="x",
        billing_hold_until=today + dt.timedelta(days=1),
    )
    FolderFactory(
        organization=org,
        name="Bis heute",
        billing_hold=True,
        billing_hold_reason="x",
        billing_hold_until=today,
    )
    FolderFactory(
        organization=org,
        name="Abgelaufen",
        billing_hold=True,
        billing_hold_reason="x",
        billing_hold_until=today - dt.timedelta(days=1),
    )
    assert _names(admin_client, hold="1") == {"Gesperrt", "Bis morgen", "Bis heute"}
    assert _names(admin_client, hold="0") == {"Frei", "Abgelaufen"}


def test_the_third_party_filter_splits_financed_and_unfinanced_folders(org, admin_client):
    FinancingFactory(folder=FolderFactory(organization=org, name="Finanziert"))
    FolderFactory(organization=org, name="Selbstzahler")
    assert _names(admin_client, third_party="1") == {"Finanziert"}
    assert _names(admin_client, third_party="0") == {"Selbstzahler"}


def test_the_date_columns_show_short_german_dates_and_a_dash_when_empty(org, admin_client):
    FolderFactory(organization=org, start_date=dt.date(2026, 3, 9), contract_end=None)
    content = admin_client.get(reverse("folders:list")).content.decode()
    assert "09.03.2026" in content
    assert "—" in content


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only")
def test_postgresql_has_the_trigram_index_for_the_search():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'folder_search_trgm'")
        (definition,) = cursor.fetchone()
    assert "gin_trgm_ops" in definition
