"""The folder page and the customer page run the same number of queries whatever a folder
holds: the page's own data and every panel of the apps built on it (financing, documents,
folders; organizations.panels) are read in a fixed number of queries, so a query per line,
piece, version, document or history entry fails here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents import services
from documents.selectors import undelivered_equipment
from folders.models import RecurringLineChange
from organizations.panels import panels_for
from tests.documents.factories import FolderFactory, contact, finance, financier, oneoff, recurring

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# What one page may cost at most: session, user, membership and organization, the page's
# own reads and a few per panel. The equality of the counts below is the real test; the
# ceiling makes a new query visible here when someone adds one.
FOLDER_PAGE_MAX_QUERIES = 25
CUSTOMER_PAGE_MAX_QUERIES = 25

_serials = count(1)


def _queries(client, url: str) -> int:
    client.get(url)  # the first request also stores the session's active organization
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx)


def _max_queries(client, url: str, limit: int, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


def _deal(folder, user) -> None:
    """One round of a deal on `folder`: equipment with serials, an installation, a service
    with a later price, a quote, a delivery note and the invoice of the delivered hardware."""
    serials = tuple(f"SN-{next(_serials):06}" for _ in range(2))
    oneoff(folder, quantity="2", serials=serials)
    oneoff(folder, description="Installation", quantity="1.5", unit_price="95.00", equipment=False)
    line = recurring(folder)
    RecurringLineChange.objects.create(
        organization=folder.organization,
        line=line,
        effective_from=line.start_date + dt.timedelta(days=31),
        quantity=Decimal("2"),
        unit_price=Decimal("79.00"),
        previous_quantity=line.quantity,
        previous_unit_price=line.unit_price,
        created_by=user,
    )
    quote = services.quote_create(folder=folder, user=user)
    services.quote_issue(quote=quote, user=user)
    pieces = list(undelivered_equipment(folder).values_list("pk", flat=True))
    services.delivery_note_issue(folder=folder, user=user, equipment_ids=pieces)
    services.invoice_oneoff_now(folder=folder, user=user)


@pytest.fixture
def leasing(org):
    return financier(org, name="Hanse Leasing AG")


@pytest.fixture
def financed_folder(org, leasing, admin_user):
    folder = FolderFactory(organization=org, name="Kopierer Zentrale")
    contact(folder.customer)
    finance(folder, leasing)
    _deal(folder, admin_user)
    return folder


def test_the_folder_and_customer_pages_have_their_panels():
    assert [panel.name for panel in panels_for("folder.detail")] == [
        "documents",
        "financing",
        "financing_rejected",
    ]
    assert [panel.name for panel in panels_for("customer.detail")] == ["documents", "folders", "payments"]


def test_the_folder_page_runs_a_constant_number_of_queries(
    financed_folder, admin_client, admin_user, django_assert_max_num_queries
):
    url = reverse("folders:detail", args=[financed_folder.pk])
    few = _queries(admin_client, url)
    for _ in range(3):
        _deal(financed_folder, admin_user)
    body = admin_client.get(url).content.decode()
    assert body.count('class="equipment-row"') == 4 and "Hanse Leasing AG" in body
    assert _queries(admin_client, url) == few
    _max_queries(admin_client, url, FOLDER_PAGE_MAX_QUERIES, django_assert_max_num_queries)


def test_a_folder_page_with_a_rejected_financing_runs_as_many_queries(
    financed_folder, admin_client, admin_user
):
    url = reverse("folders:detail", args=[financed_folder.pk])
    approved = _queries(admin_client, url)
    financed_folder.financing.approval_status = "rejected"
    financed_folder.financing.save(update_fields=["approval_status"])
    body = admin_client.get(url).content.decode()
    assert "alert-warning" in body and "Hanse Leasing AG" in body
    assert _queries(admin_client, url) == approved


def test_the_customer_page_runs_a_constant_number_of_queries(
    org, financed_folder, leasing, admin_client, admin_user, django_assert_max_num_queries
):
    customer = financed_folder.customer
    own = FolderFactory(organization=org, customer=customer, name="Telefonanlage")
    _deal(own, admin_user)
    customer_url = reverse("customers:detail", args=[customer.pk])
    financier_url = reverse("customers:detail", args=[leasing.pk])
    few = (_queries(admin_client, customer_url), _queries(admin_client, financier_url))
    for name in ("Serverraum", "Empfang", "Lager"):
        folder = FolderFactory(organization=org, customer=customer, name=name)
        finance(folder, leasing, reference=f"HL-{name}")
        _deal(folder, admin_user)
        _deal(FolderFactory(organization=org, customer=customer, name=f"{name} direkt"), admin_user)
    body = admin_client.get(financier_url).content.decode()
    assert body.count("Kopierer Zentrale") >= 2 and "Serverraum" in body  # financed folders and documents
    assert (_queries(admin_client, customer_url), _queries(admin_client, financier_url)) == few
    _max_queries(admin_client, customer_url, CUSTOMER_PAGE_MAX_QUERIES, django_assert_max_num_queries)
    _max_queries(admin_client, financier_url, CUSTOMER_PAGE_MAX_QUERIES, django_assert_max_num_queries)
