"""The global search narrows folder hits by third-party payer, like the folder list."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.customers.factories import CustomerFactory
from tests.financing.factories import FinancingFactory
from tests.folders.factories import FolderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def folders(org):
    customer = CustomerFactory(organization=org, name="Kanzlei Hoffmann")
    financed = FolderFactory(organization=org, customer=customer, name="Kopierer Leasing")
    FinancingFactory(folder=financed, financier__name="Hanse Leasing AG")
    direct = FolderFactory(organization=org, customer=customer, name="Kopierer Wartung")
    return financed, direct


def _folder_hits(client, **params) -> set[str]:
    page = client.get(reverse("reports:search"), params).content.decode()
    return set(re.findall(r'href="/folders/\d+/"[^>]*>([^<]+)</a>', page))


def test_it_shows_financed_and_direct_folders_without_the_filter(admin_client, folders):
    assert _folder_hits(admin_client, q="Kopierer") == {"Kopierer Leasing", "Kopierer Wartung"}


def test_it_narrows_folder_hits_to_financed_folders(admin_client, folders):
    assert _folder_hits(admin_client, q="Kopierer", third_party="1") == {"Kopierer Leasing"}


def test_it_narrows_folder_hits_to_folders_without_a_third_party_payer(admin_client, folders):
    assert _folder_hits(admin_client, q="Kopierer", third_party="0") == {"Kopierer Wartung"}


def test_it_ignores_an_unknown_filter_value(admin_client, folders):
    assert _folder_hits(admin_client, q="Kopierer", third_party="x") == {
        "Kopierer Leasing",
        "Kopierer Wartung",
    }


def test_the_toggle_submits_the_query_of_the_search_box_with_the_filter(admin_client, folders):
    page = admin_client.get(reverse("reports:search"), {"q": "Kopierer", "third_party": "1"}).content.decode()
    # The search box keeps the query; the toggle's buttons submit it with their filter value.
    box = re.search(r'<form class="topbar-search" id="global-search-form"[^>]*>.*?</form>', page, re.S).group(
        0
    )
    assert 'name="q"' in box and 'value="Kopierer"' in box
    toggle = page.split('id="third-party-filter"')[1].split("</div>")[0]
    buttons = re.findall(
        r'<button type="submit" form="global-search-form" name="third_party" value="(\d?)"[^>]*aria-pressed="(\w+)"',
        toggle,
    )
    assert buttons == [("", "false"), ("1", "true"), ("0", "false")]


def test_an_empty_filtered_result_offers_the_search_without_the_filter(admin_client, org):
    FolderFactory(organization=org, name="Telefonie Zentrale")
    page = admin_client.get(
        reverse("reports:search"), {"q": "Telefonie", "third_party": "1"}
    ).content.decode()
    assert "Nichts gefunden" in page
    empty = page.split("empty-state")[1]
    assert 'form="global-search-form" name="third_party" value=""' in empty
    assert "Wieder alle Ordner durchsuchen" in empty


def test_the_filter_shows_nothing_of_another_organization(client_for, outsider, folders):
    assert _folder_hits(client_for(outsider), q="Kopierer", third_party="1") == set()
    assert _folder_hits(client_for(outsider), q="Kopierer", third_party="0") == set()


def test_it_finds_a_folder_by_its_financiers_contract_reference(admin_client, org):
    folder = FolderFactory(organization=org, name="Drucker Filiale Süd")
    FinancingFactory(folder=folder, financier__name="Hanse Leasing AG", contract_reference="HL-2026-08815")
    FolderFactory(organization=org, name="Drucker Filiale Nord")
    assert _folder_hits(admin_client, q="HL-2026-08815") == {"Drucker Filiale Süd"}
    assert _folder_hits(admin_client, q="2026-0881") == {"Drucker Filiale Süd"}
    page = admin_client.get(reverse("reports:search"), {"q": "HL-2026-08815"}).content.decode()
    assert "Hanse Leasing AG (HL-2026-08815)" in page


def test_a_contract_reference_finds_nothing_of_another_organization(client_for, outsider, org):
    FinancingFactory(folder=FolderFactory(organization=org), contract_reference="HL-2026-08815")
    assert _folder_hits(client_for(outsider), q="HL-2026-08815") == set()


def test_it_shows_a_prospect_without_a_number(admin_client, org):
    from tests.customers.factories import ProspectFactory

    ProspectFactory(organization=org, name="Interessent Kiel GmbH", city="Kiel")
    html = admin_client.get(reverse("reports:search"), {"q": "Interessent"}).content.decode()
    assert "Interessent Kiel GmbH" in html
    assert '<div class="small text-body-secondary">Kiel</div>' in html
