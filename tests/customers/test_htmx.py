"""Partial updates on the customer screens: htmx gets the row or the table that changed,
a browser without JavaScript still gets the redirect or the whole page, and the role and
tenant checks answer htmx exactly as they answer a plain request."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Action, Contact

from .factories import ActionFactory, ContactFactory, CustomerFactory, ProspectFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = reverse("customers:list")
PROSPECTS = reverse("customers:prospects")


def _done(action: Action) -> str:
    return reverse("customers:action_done", args=[action.pk])


def _reopen(action: Action) -> str:
    return reverse("customers:action_reopen", args=[action.pk])


def _toggle(contact: Contact) -> str:
    return reverse("customers:contact_toggle", args=[contact.customer_id, contact.pk])


def _assert_fragment(html: str) -> None:
    """No layout around it: no document, no sidebar, no page header."""
    assert "<html" not in html
    assert 'id="sidebar"' not in html
    assert "page-header" not in html


def _oob(html: str, element_id: str) -> str:
    """The out-of-band element with this id (its opening tag and content)."""
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*hx-swap-oob="true"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no out-of-band #{element_id}"
    return match.group(0)


def _hidden(html: str, element_id: str) -> bool:
    """Whether the out-of-band element itself (not something inside it) is hidden."""
    opening = re.search(rf'<\w+[^>]*id="{element_id}"[^>]*>', _oob(html, element_id)).group(0)
    return "d-none" in re.search(r'class="([^"]*)"', opening).group(1).split()


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, name="Alpha Bürotechnik GmbH")


@pytest.fixture
def action(customer, admin_user):
    return ActionFactory(customer=customer, description="Rückruf wegen Kopierer", assignee=admin_user)


# --- Actions on the customer page ------------------------------------------------------


class TestActionRow:
    def test_it_answers_done_with_the_row_the_counts_and_the_message(self, admin_client, customer, action):
        later = ActionFactory(
            customer=customer, description="Vertrag nachfassen", due_on=action.due_on + dt.timedelta(days=7)
        )
        response = admin_client.post(_done(action), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        _assert_fragment(html)
        assert html.lstrip().startswith("<tr")
        assert html.count("<tr") == 1
        assert "<s>Rückruf wegen Kopierer</s>" in html
        assert f'id="action-{action.pk}-toggle"' in html and "Wieder öffnen" in html
        assert f'hx-post="{_reopen(action)}"' in html
        # The tab's badge and "at a glance" now count one open action, the later one next.
        assert "1</span>" in _oob(html, "tab-actions-count")
        assert "Vertrag nachfassen" in _oob(html, "at-a-glance")
        # The message comes with the row, in the messages partial ...
        assert 'id="messages"' in html and "Aktion für Alpha Bürotechnik GmbH als erledigt markiert." in html
        action.refresh_from_db()
        assert action.is_done
        later.refresh_from_db()
        assert not later.is_done
        # ... and so is not shown a second time on the next page.
        page = admin_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
        assert "als erledigt markiert" not in page

    def test_it_answers_reopen_with_the_open_row(self, admin_client, customer, action, admin_user):
        action.done_at = timezone.now()
        action.save()
        response = admin_client.post(_reopen(action), **HTMX)
        html = response.content.decode()
        _assert_fragment(html)
        assert "<s>" not in html and "Rückruf wegen Kopierer" in html
        assert f'hx-post="{_done(action)}"' in html and "Erledigt" in html
        assert reverse("customers:action_edit", args=[action.pk]) in html
        assert "1</span>" in _oob(html, "tab-actions-count")
        assert "Rückruf wegen Kopierer" in _oob(html, "at-a-glance")
        assert "wieder geöffnet" in html
        action.refresh_from_db()
        assert not action.is_done

    def test_the_last_open_action_done_empties_the_badge(self, admin_client, action):
        html = admin_client.post(_done(action), **HTMX).content.decode()
        assert "badge" not in _oob(html, "tab-actions-count")

    def test_without_htmx_done_and_reopen_still_redirect(self, admin_client, customer, action):
        response = admin_client.post(_done(action))
        assert response.status_code == 302
        assert response["Location"] == reverse("customers:detail", args=[customer.pk]) + "?tab=actions"
        page = admin_client.get(response["Location"]).content.decode()
        assert "<html" in page and "als erledigt markiert" in page
        response = admin_client.post(_reopen(action))
        assert response.status_code == 302
        action.refresh_from_db()
        assert not action.is_done

    def test_the_customer_page_posts_its_rows_through_htmx_and_plain_forms(
        self, admin_client, customer, action
    ):
        contact = ContactFactory(customer=customer)
        html = admin_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
        for url in (_done(action), _toggle(contact)):
            form = re.search(rf'<form method="post" action="{url}"[^>]*>', html)
            assert form, url
            assert f'hx-post="{url}"' in form.group(0)
            assert 'hx-target="closest tr"' in form.group(0)
            assert 'hx-select-oob="#messages"' in form.group(0)
        assert 'id="tab-actions-count"' in html and 'id="at-a-glance"' in html


# --- Actions in the calendar's list ----------------------------------------------------


class TestOpenActionsList:
    LIST_URL = reverse("customers:actions") + "?view=list"

    def test_it_answers_with_the_table_row_and_the_count_of_the_filtered_list(
        self, admin_client, customer, action, admin_user, sales_user
    ):
        ActionFactory(customer=customer, assignee=admin_user, description="Zweite")
        ActionFactory(customer=customer, assignee=sales_user, description="Fremde")
        next_url = f"{self.LIST_URL}&assignee={admin_user.pk}"
        response = admin_client.post(
            _done(action), {"row": "list", "assignee": admin_user.pk, "next": next_url}, **HTMX
        )
        html = response.content.decode()
        _assert_fragment(html)
        assert html.lstrip().startswith("<tr") and html.count("<tr") == 1
        # Cell for cell as the list's table renders them.
        for column in ("due_on", "customer", "description", "assignee", "buttons"):
            assert f'data-col="{column}"' in html
        assert 'class="table-light"' in html and "Wieder öffnen" in html
        assert f'hx-post="{_reopen(action)}"' in html
        # The row's fallback leads back to the list, not to the address it was posted to.
        assert f'name="next" value="{next_url.replace("&", "&amp;")}"' in html
        assert f'name="assignee" value="{admin_user.pk}"' in html
        # Open actions of this assignee: two before, one now (the other assignee's not counted).
        assert ">1</span>" in _oob(html, "open-action-count")
        assert "als erledigt markiert" in html
        action.refresh_from_db()
        assert action.is_done

        reopened = admin_client.post(_reopen(action), {"row": "list", "next": self.LIST_URL}, **HTMX)
        html = reopened.content.decode()
        assert "table-light" not in html and f'hx-post="{_done(action)}"' in html
        assert ">3</span>" in _oob(html, "open-action-count")  # no assignee: everyone's

    def test_a_foreign_next_url_is_not_put_into_the_row(self, admin_client, action):
        html = admin_client.post(
            _done(action), {"row": "list", "next": "https://evil.example/"}, **HTMX
        ).content.decode()
        assert "evil.example" not in html
        assert f'value="{self.LIST_URL}"' in html

    def test_the_list_page_posts_its_rows_through_htmx(self, admin_client, action):
        html = admin_client.get(self.LIST_URL).content.decode()
        assert f'hx-post="{_done(action)}"' in html
        assert 'name="row" value="list"' in html
        assert 'id="open-action-count"' in html

    def test_without_htmx_the_list_gets_its_redirect(self, admin_client, action):
        response = admin_client.post(_done(action), {"row": "list", "next": self.LIST_URL})
        assert response.status_code == 302 and response["Location"] == self.LIST_URL


# --- Contacts --------------------------------------------------------------------------


class TestContactRow:
    def test_it_answers_deactivate_and_activate_with_the_row(self, admin_client, customer):
        contact = ContactFactory(
            customer=customer, first_name="Jana", last_name="Krüger", email="jk@example.de"
        )
        ContactFactory(customer=customer)
        response = admin_client.post(_toggle(contact), **HTMX)
        html = response.content.decode()
        _assert_fragment(html)
        assert html.lstrip().startswith("<tr") and html.count("<tr") == 1
        assert "Jana Krüger" in html and "inaktiv" in html and "Aktivieren" in html
        assert f'id="contact-{contact.pk}-toggle"' in html
        assert re.search(r"Aktive Kontakte</dt><dd>1</dd>", _oob(html, "at-a-glance"))
        assert "Kontakt Jana Krüger deaktiviert." in html
        contact.refresh_from_db()
        assert not contact.is_active

        html = admin_client.post(_toggle(contact), **HTMX).content.decode()
        assert "inaktiv" not in html and "Deaktivieren" in html
        assert re.search(r"Aktive Kontakte</dt><dd>2</dd>", _oob(html, "at-a-glance"))
        contact.refresh_from_db()
        assert contact.is_active

    def test_a_stored_value_the_rules_refuse_is_named_instead_of_a_500(self, admin_client, customer):
        contact = ContactFactory(
            customer=customer, first_name="Jana", last_name="Krüger", email="jk@example.de"
        )
        Contact.objects.filter(pk=contact.pk).update(email="jana krüger at example")  # e.g. imported
        response = admin_client.post(_toggle(contact), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Kontakt Jana Krüger wurde nicht geändert" in html and "E-Mail-Adresse" in html
        assert "Deaktivieren" in html and "inaktiv" not in html
        contact.refresh_from_db()
        assert contact.is_active
        response = admin_client.post(_toggle(contact))
        assert response.status_code == 302
        contact.refresh_from_db()
        assert contact.is_active

    def test_without_htmx_it_still_redirects(self, admin_client, customer):
        contact = ContactFactory(customer=customer)
        response = admin_client.post(_toggle(contact))
        assert response.status_code == 302
        assert response["Location"] == reverse("customers:detail", args=[customer.pk]) + "?tab=contacts"


# --- Roles and the tenant wall ---------------------------------------------------------


class TestAccess:
    def test_read_only_staff_get_403_and_nothing_changes(self, client_for, readonly_user, customer, action):
        contact = ContactFactory(customer=customer)
        client = client_for(readonly_user)
        assert client.post(_done(action), **HTMX).status_code == 403
        assert client.post(_done(action), {"row": "list"}, **HTMX).status_code == 403
        assert client.post(_toggle(contact), **HTMX).status_code == 403
        action.done_at = timezone.now()
        action.save()
        assert client.post(_reopen(action), **HTMX).status_code == 403
        action.refresh_from_db()
        contact.refresh_from_db()
        assert action.is_done and contact.is_active

    def test_support_may_close_actions_but_not_switch_contacts(
        self, client_for, support_user, customer, action
    ):
        contact = ContactFactory(customer=customer)
        client = client_for(support_user)
        assert client.post(_done(action), **HTMX).status_code == 200
        assert client.post(_toggle(contact), **HTMX).status_code == 403
        contact.refresh_from_db()
        assert contact.is_active

    def test_the_outsider_gets_404_and_nothing_changes(self, client_for, outsider, customer, action):
        contact = ContactFactory(customer=customer)
        client = client_for(outsider)
        assert client.post(_done(action), **HTMX).status_code == 404
        assert client.post(_done(action), {"row": "list"}, **HTMX).status_code == 404
        assert client.post(_reopen(action), **HTMX).status_code == 404
        assert client.post(_toggle(contact), **HTMX).status_code == 404
        action.refresh_from_db()
        contact.refresh_from_db()
        assert not action.is_done and contact.is_active

    def test_the_outsiders_filtered_list_shows_none_of_ours(self, client_for, outsider, customer):
        html = client_for(outsider).get(LIST, {"q": "Alpha"}, **HTMX).content.decode()
        assert "Alpha Bürotechnik" not in html
        assert ">0</span>" in _oob(html, "list-count")

    def test_the_list_fragment_needs_a_login(self, client, customer):
        response = client.get(LIST, {"q": "Alpha"}, **HTMX)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- The customer and prospect lists ---------------------------------------------------


class TestListFilters:
    @pytest.fixture
    def customers(self, org):
        CustomerFactory(organization=org, name="Alpha Bürotechnik GmbH", city="Hamburg")
        CustomerFactory(organization=org, name="Beta Druck GmbH", city="Leipzig")
        ProspectFactory(organization=org, name="Gamma Interessent KG", city="Hamburg")

    def test_it_answers_the_filter_bar_with_the_table_only(self, admin_client, customers):
        response = admin_client.get(
            LIST, {"q": "alpha", "kind": "customer", "city": "", "payment_method": ""}, **HTMX
        )
        assert response.status_code == 200
        html = response.content.decode()
        _assert_fragment(html)
        assert "filter-bar" not in html and "<form" not in html
        assert "Alpha Bürotechnik GmbH" in html and "Beta Druck GmbH" not in html
        assert ">1</span>" in _oob(html, "list-count")
        export = _oob(html, "list-export")
        assert "q=alpha" in export and "export=csv" in export and not _hidden(html, "list-export")
        assert not _hidden(html, "list-reset")
        assert "HX-Request" in response["Vary"]

    def test_the_kind_the_list_sends_by_default_is_no_filter(self, admin_client, customers):
        html = admin_client.get(LIST, {"q": "", "kind": "customer"}, **HTMX).content.decode()
        assert "Alpha Bürotechnik GmbH" in html and "Beta Druck GmbH" in html
        assert _hidden(html, "list-reset")
        html = admin_client.get(LIST, {"q": "", "kind": ""}, **HTMX).content.decode()
        assert "Gamma Interessent KG" in html
        assert not _hidden(html, "list-reset")

    def test_nothing_found_gives_the_empty_state_and_hides_the_export(self, admin_client, customers):
        html = admin_client.get(LIST, {"q": "nichts"}, **HTMX).content.decode()
        assert "Keine Treffer für diese Filter." in html
        assert ">0</span>" in _oob(html, "list-count")
        assert _hidden(html, "list-export")

    def test_the_prospects_list_answers_with_prospects_only(self, admin_client, customers):
        html = admin_client.get(PROSPECTS, {"city": "hamburg"}, **HTMX).content.decode()
        _assert_fragment(html)
        assert "Gamma Interessent KG" in html and "Alpha Bürotechnik GmbH" not in html

    def test_sort_and_page_links_in_the_fragment_keep_the_filters(self, admin_client, org):
        for n in range(30):
            CustomerFactory(organization=org, name=f"Hanse {n:02} GmbH", city="Bremen")
        CustomerFactory(organization=org, name="Elbe GmbH", city="Hamburg")
        html = admin_client.get(LIST, {"city": "bremen"}, **HTMX).content.decode()
        assert ">30</span>" in _oob(html, "list-count")
        assert re.search(r'href="\?[^"]*city=bremen[^"]*page=2"', html)
        assert re.search(r'href="\?[^"]*city=bremen[^"]*sort=', html)
        # A sort link followed (a plain page load) keeps the sort for the next filtering.
        page = admin_client.get(LIST, {"city": "bremen", "sort": "-name"}).content.decode()
        assert '<input type="hidden" name="sort" value="-name">' in page

    def test_without_htmx_the_list_is_the_whole_page_with_the_filter_bar(self, admin_client, customers):
        response = admin_client.get(LIST, {"q": "alpha"})
        html = response.content.decode()
        assert "<html" in html and 'id="sidebar"' in html
        assert f'hx-get="{LIST}"' in html and 'hx-target="#list-results"' in html
        assert 'hx-push-url="true"' in html
        assert "input changed delay:300ms" in html and "change target:select" in html
        assert '<div id="list-results">' in html
        assert "Alpha Bürotechnik GmbH" in html and "Beta Druck GmbH" not in html
        assert "HX-Request" in response["Vary"]

    def test_a_history_restore_gets_the_whole_page(self, admin_client, customers):
        html = admin_client.get(
            LIST, {"q": "alpha"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
        ).content.decode()
        assert "<html" in html and "filter-bar" in html

    def test_a_boosted_navigation_gets_the_whole_page(self, admin_client, customers):
        html = admin_client.get(LIST, HTTP_HX_BOOSTED="true", **HTMX).content.decode()
        assert "<html" in html and "filter-bar" in html

    def test_the_csv_export_is_unchanged_by_htmx(self, admin_client, customers):
        response = admin_client.get(LIST, {"q": "alpha", "export": "csv"}, **HTMX)
        assert response["Content-Type"].startswith("text/csv")
        assert "Alpha Bürotechnik GmbH" in response.content.decode("utf-8-sig")
