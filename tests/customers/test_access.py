"""Roles, the tenant wall and bad input: nobody sees or changes what they may not, and
nothing a logged-in user sends produces a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Action, Contact, Customer, Note

from .factories import (
    ActionFactory,
    ContactFactory,
    ContactFunctionFactory,
    CustomerFactory,
    NoteFactory,
    ProspectFactory,
)


@pytest.fixture
def world(org, admin_user):
    """One of everything in `org`."""
    prospect = ProspectFactory(organization=org, name="Interessent GmbH", iban="")
    return {
        "customer": prospect,
        "contact": ContactFactory(customer=prospect),
        "note": NoteFactory(customer=prospect, author=admin_user),
        "action": ActionFactory(customer=prospect),
        "function": ContactFunctionFactory(organization=org, name="Technik"),
    }


def _urls(w) -> dict[str, list[str]]:
    c, k, n, a, f = w["customer"].pk, w["contact"].pk, w["note"].pk, w["action"].pk, w["function"].pk
    return {
        "read": [reverse("customers:detail", args=[c])],
        "customers.change": [
            reverse("customers:edit", args=[c]),
            reverse("customers:convert", args=[c]),
            reverse("customers:contact_add", args=[c]),
            reverse("customers:contact_edit", args=[c, k]),
            reverse("customers:contact_toggle", args=[c, k]),
        ],
        "customers.payment": [reverse("customers:payment", args=[c])],
        "notes.change": [
            reverse("customers:note_add", args=[c]),
            reverse("customers:note_delete", args=[c, n]),
            reverse("customers:action_add", args=[c]),
            reverse("customers:action_edit", args=[a]),
            reverse("customers:action_done", args=[a]),
            reverse("customers:action_reopen", args=[a]),
        ],
        "config.manage": [
            reverse("customers:function_edit", args=[f]),
            reverse("customers:function_delete", args=[f]),
        ],
    }


def _snapshot():
    return [
        list(Customer.objects.values()),
        list(Contact.objects.values()),
        list(Note.objects.values()),
        list(Action.objects.values()),
    ]


VALID_POST = {
    "name": "Geändert GmbH",
    "last_name": "Geändert",
    "text": "Neue Notiz",
    "description": "Neu",
    "due_on": "2099-01-01",
    "payment_method": "bank_transfer",
    "iban": "DE89370400440532013000",
}


class TestTenantWall:
    def test_outsider_gets_404_on_every_url_with_an_object_of_org(self, client_for, outsider, world):
        client = client_for(outsider)
        before = _snapshot()
        post_only = {"convert", "toggle", "done", "reopen", "delete"}
        for kind, urls in _urls(world).items():
            for url in urls:
                # POST-only URLs answer a GET with 405 for everybody, before any lookup.
                expected_get = 405 if url.rstrip("/").rsplit("/", 1)[-1] in post_only else 404
                assert client.get(url).status_code == expected_get, url
                if kind != "read":  # read views answer only GET/HEAD
                    assert client.post(url, VALID_POST).status_code == 404, url
        assert _snapshot() == before

    def test_outsider_lists_show_nothing_of_org(self, client_for, outsider, world):
        client = client_for(outsider)
        assert client.get(reverse("customers:prospects")).context["count"] == 0
        assert client.get(reverse("customers:list"), {"kind": ""}).context["count"] == 0
        response = client.get(reverse("customers:actions"), {"view": "list"})
        assert response.context["count"] == 0
        assert "Interessent GmbH" not in client.get(reverse("customers:actions")).content.decode()
        assert "Technik</td>" not in client.get(reverse("customers:functions")).content.decode()
        csv = client.get(reverse("customers:prospects"), {"export": "csv"}).content.decode("utf-8-sig")
        assert "Interessent GmbH" not in csv

    def test_assignee_choices_are_members_of_the_active_organization_only(
        self, admin_client, admin_user, outsider, world
    ):
        url = reverse("customers:action_add", args=[world["customer"].pk])
        choices = list(admin_client.get(url).context["form"].fields["assignee"].queryset)
        assert admin_user in choices and outsider not in choices
        response = admin_client.post(
            url, {"due_on": "2099-01-01", "description": "X", "assignee": outsider.pk}
        )
        assert response.status_code == 200
        assert "assignee" in response.context["form"].errors
        assert Action.objects.count() == 1
        # The account manager choice as well.
        form = admin_client.get(reverse("customers:edit", args=[world["customer"].pk])).context["form"]
        assert outsider not in form.fields["owner"].queryset

    def test_function_choices_are_the_active_organizations_only(self, admin_client, other_org, world):
        foreign = ContactFunctionFactory(organization=other_org, name="Fremdfunktion")
        url = reverse("customers:contact_add", args=[world["customer"].pk])
        response = admin_client.get(url)
        assert list(response.context["form"].fields["function"].queryset) == [world["function"]]
        assert "Fremdfunktion" not in response.content.decode()
        response = admin_client.post(url, {"last_name": "X", "function": foreign.pk, "is_active": "on"})
        assert "function" in response.context["form"].errors
        assert Contact.objects.count() == 1

    def test_calendar_filter_by_a_foreign_user_is_ignored(self, admin_client, outsider, world):
        response = admin_client.get(reverse("customers:actions"), {"assignee": outsider.pk})
        assert response.status_code == 200
        assert response.context["assignee"] is None


class TestRoles:
    def test_readonly_gets_403_on_every_write(self, client_for, readonly_user, world):
        client = client_for(readonly_user)
        before = _snapshot()
        urls = _urls(world)
        writes = (
            urls["customers.change"]
            + urls["customers.payment"]
            + urls["notes.change"]
            + urls["config.manage"]
        )
        writes += [
            reverse("customers:create"),
            reverse("customers:prospect_create"),
            reverse("customers:function_add"),
            reverse("customers:function_defaults"),
        ]
        for url in writes:
            assert client.post(url, VALID_POST).status_code == 403, url
        assert _snapshot() == before
        assert client.get(urls["read"][0]).status_code == 200
        assert client.get(reverse("customers:list")).status_code == 200

    def test_readonly_sees_disabled_buttons_with_a_reason(self, client_for, readonly_user, world):
        html = (
            client_for(readonly_user)
            .get(reverse("customers:detail", args=[world["customer"].pk]))
            .content.decode()
        )
        assert "Ihre Rolle erlaubt das nicht." in html
        assert reverse("customers:edit", args=[world["customer"].pk]) not in html

    def test_support_may_add_notes_and_actions_but_not_edit_the_customer(
        self, client_for, support_user, world
    ):
        client = client_for(support_user)
        c = world["customer"].pk
        assert client.post(reverse("customers:note_add", args=[c]), {"text": "Hallo"}).status_code == 302
        assert (
            client.post(
                reverse("customers:action_add", args=[c]), {"due_on": "2099-01-01", "description": "Anrufen"}
            ).status_code
            == 302
        )
        assert client.post(reverse("customers:action_done", args=[world["action"].pk])).status_code == 302
        assert client.post(reverse("customers:edit", args=[c]), VALID_POST).status_code == 403
        assert client.post(reverse("customers:convert", args=[c])).status_code == 403
        assert client.post(reverse("customers:contact_add", args=[c]), VALID_POST).status_code == 403
        assert client.get(reverse("customers:create")).status_code == 403
        world["customer"].refresh_from_db()
        assert world["customer"].name == "Interessent GmbH" and world["customer"].is_prospect

    def test_sales_edits_the_customer_but_not_payment_data(self, client_for, sales_user, world):
        client = client_for(sales_user)
        c = world["customer"].pk
        assert client.get(reverse("customers:payment", args=[c])).status_code == 403
        assert client.post(reverse("customers:payment", args=[c]), VALID_POST).status_code == 403
        form = client.get(reverse("customers:edit", args=[c])).context["form"]
        assert "iban" not in form.fields and "payment_method" not in form.fields
        response = client.post(
            reverse("customers:edit", args=[c]),
            {"name": "Vertrieb GmbH", "iban": "DE89370400440532013000", "payment_method": "direct_debit"},
        )
        assert response.status_code == 302
        customer = Customer.objects.get(pk=c)
        assert customer.name == "Vertrieb GmbH"
        assert customer.iban == "" and customer.payment_method == "bank_transfer"
        # Creating with payment data: the payment fields are not part of the form either.
        client.post(reverse("customers:create"), {"name": "Neu GmbH", "iban": "DE89370400440532013000"})
        assert Customer.objects.get(name="Neu GmbH").iban == ""

    def test_billing_edits_payment_data(self, client_for, billing_user, world):
        client = client_for(billing_user)
        customer = CustomerFactory(organization=world["customer"].organization)
        form = client.get(reverse("customers:edit", args=[customer.pk])).context["form"]
        assert "iban" in form.fields

    def test_only_admins_manage_contact_functions(self, client_for, sales_user, billing_user, world):
        for user in (sales_user, billing_user):
            client = client_for(user)
            assert client.get(reverse("customers:functions")).status_code == 200  # readable
            assert client.post(reverse("customers:function_add"), {"name": "X"}).status_code == 403
            assert (
                client.get(reverse("customers:function_edit", args=[world["function"].pk])).status_code == 403
            )

    def test_anonymous_users_are_sent_to_the_login(self, client, world):
        response = client.get(reverse("customers:detail", args=[world["customer"].pk]))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


class TestBadInput:
    @pytest.mark.parametrize(
        "params",
        [
            {"page": "abc"},
            {"page": "99999"},
            {"page": "-1"},
            {"sort": "bogus"},
            {"sort": "-;drop table"},
            {"kind": "bogus"},
            {"financier": "maybe"},
            {"payment_method": "cash"},
            {"q": "%' OR 1=1 --"},
            {"q": "x" * 5000},
            {"per_page": "abc"},
            {"export": "pdf"},
        ],
    )
    def test_lists_survive_malformed_query_parameters(self, admin_client, world, params):
        assert admin_client.get(reverse("customers:list"), params).status_code == 200
        assert admin_client.get(reverse("customers:prospects"), params).status_code == 200

    @pytest.mark.parametrize(
        "params",
        [
            {"month": "2026-13"},
            {"month": "2026-00"},
            {"month": "abcd-ef"},
            {"month": "99999-01"},
            {"view": "week", "week": "xx"},
            {"view": "week", "week": "2026-W60"},
            {"view": "week", "week": "2026-W00"},
            {"view": "zzz"},
            {"view": "list", "page": "abc", "sort": "nope"},
            {"assignee": "abc"},
            {"assignee": "999999"},
            {"open": "definitely"},
        ],
    )
    def test_the_calendar_survives_malformed_query_parameters(self, admin_client, world, params):
        assert admin_client.get(reverse("customers:actions"), params).status_code == 200

    def test_unknown_ids_are_404(self, admin_client, world):
        for name, args in [
            ("customers:detail", [999999]),
            ("customers:edit", [999999]),
            ("customers:contact_edit", [world["customer"].pk, 999999]),
            ("customers:action_edit", [999999]),
            ("customers:function_edit", [999999]),
        ]:
            assert admin_client.get(reverse(name, args=args)).status_code == 404
        assert admin_client.get("/customers/abc/").status_code == 404

    def test_missing_post_fields_are_form_errors(self, admin_client, world):
        c = world["customer"].pk
        for url in [
            reverse("customers:create"),
            reverse("customers:edit", args=[c]),
            reverse("customers:contact_add", args=[c]),
            reverse("customers:note_add", args=[c]),
            reverse("customers:action_add", args=[c]),
            reverse("customers:action_edit", args=[world["action"].pk]),
            reverse("customers:function_add"),
        ]:
            response = admin_client.post(url, {})
            assert response.status_code == 200, url
            assert response.context["form"].errors, url

    def test_garbage_values_are_form_errors(self, admin_client, world):
        c = world["customer"].pk
        response = admin_client.post(
            reverse("customers:action_add", args=[c]),
            {"due_on": "31.02.2026", "description": "x", "assignee": "abc"},
        )
        assert {"due_on", "assignee"} <= set(response.context["form"].errors)
        customer = CustomerFactory(organization=world["customer"].organization)
        response = admin_client.post(
            reverse("customers:edit", args=[customer.pk]),
            {"name": "X", "payment_terms_days": "-5", "mandate_signed_on": "gestern", "language": "fr"},
        )
        assert {"payment_terms_days", "mandate_signed_on", "language"} <= set(response.context["form"].errors)


def test_detail_and_lists_render_when_people_are_missing(admin_client, org):
    """Deleted users (SET_NULL) must not break any page."""
    customer = CustomerFactory(organization=org, owner=None)
    NoteFactory(customer=customer, author=None)
    ActionFactory(customer=customer, assignee=None, due_on=timezone.localdate() + dt.timedelta(days=1))
    assert admin_client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert admin_client.get(reverse("customers:list")).status_code == 200
    assert admin_client.get(reverse("customers:actions"), {"view": "week"}).status_code == 200
    assert admin_client.get(reverse("customers:actions"), {"view": "list"}).status_code == 200
