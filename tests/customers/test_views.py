from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Action, Contact, ContactFunction, Customer, CustomerKind, Note
from organizations.audit import history_for

from .factories import (
    ActionFactory,
    ContactFactory,
    ContactFunctionFactory,
    CustomerFactory,
    NoteFactory,
    ProspectFactory,
)

LIST = reverse("customers:list")
PROSPECTS = reverse("customers:prospects")


def _names(response) -> list[str]:
    return [row.record.name for row in response.context["table"].paginated_rows]


# --- Lists -----------------------------------------------------------------------------


class TestLists:
    def test_customers_list_shows_customers_and_financiers_but_not_prospects(self, admin_client, org):
        CustomerFactory(organization=org, name="Alpha GmbH")
        CustomerFactory(organization=org, name="Hanse Leasing AG", is_financier=True)
        ProspectFactory(organization=org, name="Interessent KG")
        response = admin_client.get(LIST)
        assert response.status_code == 200
        assert _names(response) == ["Alpha GmbH", "Hanse Leasing AG"]
        assert response.context["count"] == 2
        html = response.content.decode()
        assert "Kunde anlegen" in html
        assert 'class="badge badge-financier"' in html

    def test_prospects_list_shows_only_prospects_with_badge_and_button(self, admin_client, org):
        CustomerFactory(organization=org, name="Alpha GmbH")
        ProspectFactory(organization=org, name="Interessent KG")
        response = admin_client.get(PROSPECTS)
        assert _names(response) == ["Interessent KG"]
        html = response.content.decode()
        assert "Interessent anlegen" in html
        assert "badge-prospect" in html
        assert "Interessenten" in html

    def test_kind_filter_can_show_every_kind(self, admin_client, org):
        CustomerFactory(organization=org, name="Alpha GmbH")
        ProspectFactory(organization=org, name="Beta KG")
        assert _names(admin_client.get(LIST, {"kind": ""})) == ["Alpha GmbH", "Beta KG"]
        assert _names(admin_client.get(LIST, {"kind": "prospect"})) == ["Beta KG"]

    @pytest.mark.parametrize(
        ("term", "expected"),
        [
            ("alpha", ["Alpha Bürotechnik GmbH"]),
            ("K07001", ["Beta Druck GmbH"]),
            ("leipzig", ["Beta Druck GmbH"]),
            ("buchhaltung@alpha", ["Alpha Bürotechnik GmbH"]),
            ("Sommer", ["Beta Druck GmbH"]),  # a contact's name
            ("nichts", []),
        ],
    )
    def test_one_box_searches_name_number_city_email_and_contacts(self, admin_client, org, term, expected):
        CustomerFactory(
            organization=org, name="Alpha Bürotechnik GmbH", number="K07000", email="buchhaltung@alpha.de"
        )
        beta = CustomerFactory(organization=org, name="Beta Druck GmbH", number="K07001", city="Leipzig")
        ContactFactory(customer=beta, last_name="Sommer")
        assert _names(admin_client.get(LIST, {"q": term})) == expected

    def test_field_filters_combine(self, admin_client, org):
        CustomerFactory(organization=org, name="A", city="Köln", is_financier=True)
        CustomerFactory(organization=org, name="B", city="Köln")
        CustomerFactory(organization=org, name="C", city="Bonn", is_financier=True, email="x@leasing.de")
        assert _names(admin_client.get(LIST, {"city": "köln"})) == ["A", "B"]
        assert _names(admin_client.get(LIST, {"financier": "yes"})) == ["A", "C"]
        assert _names(admin_client.get(LIST, {"financier": "no", "city": "Köln"})) == ["B"]
        assert _names(admin_client.get(LIST, {"email": "leasing"})) == ["C"]

    def test_columns_sort(self, admin_client, org):
        CustomerFactory(organization=org, name="Zeta", number="K00001")
        CustomerFactory(organization=org, name="Alpha", number="K00002")
        assert _names(admin_client.get(LIST, {"sort": "number"})) == ["Zeta", "Alpha"]
        assert _names(admin_client.get(LIST, {"sort": "-name"})) == ["Zeta", "Alpha"]

    def test_it_paginates(self, admin_client, org):
        for i in range(30):
            CustomerFactory(organization=org, name=f"Firma {i:02}")
        first = admin_client.get(LIST)
        assert len(_names(first)) == 25
        assert first.context["count"] == 30
        assert _names(admin_client.get(LIST, {"page": 2})) == [f"Firma {i:02}" for i in range(25, 30)]

    def test_empty_states_say_what_to_do(self, admin_client, org):
        html = admin_client.get(LIST).content.decode()
        assert "Noch keine Kunden." in html
        CustomerFactory(organization=org)
        html = admin_client.get(LIST, {"q": "gibt es nicht"}).content.decode()
        assert "Keine Treffer für diese Filter." in html
        assert "Filter zurücksetzen" in html

    def test_csv_export_contains_the_filtered_list(self, admin_client, org):
        CustomerFactory(organization=org, name="Köln GmbH", city="Köln")
        CustomerFactory(organization=org, name="Bonn GmbH", city="Bonn")
        CustomerFactory(organization=org, name="=HYPERLINK(1)", city="Köln")
        response = admin_client.get(LIST, {"city": "Köln", "export": "csv"})
        assert response["Content-Type"].startswith("text/csv")
        text = response.content.decode("utf-8-sig")
        lines = text.strip().splitlines()
        assert lines[0].startswith("Kundennummer;Art;Firma")
        assert len(lines) == 3
        assert "Köln GmbH" in text and "Bonn GmbH" not in text
        assert "'=HYPERLINK(1)" in text  # no formula injection


# --- Create / edit / detail ------------------------------------------------------------


def test_it_creates_a_customer_with_a_number_and_says_so(admin_client, org):
    response = admin_client.post(
        reverse("customers:create"), {"kind": "customer", "name": "Neu GmbH"}, follow=True
    )
    customer = Customer.objects.get()
    assert customer.number == "K00001" and customer.organization == org
    assert response.redirect_chain[-1][0] == reverse("customers:detail", args=[customer.pk])
    assert "Kunde „Neu GmbH“ (K00001) angelegt." in response.content.decode()


def test_it_creates_a_prospect_from_the_prospects_page(admin_client):
    response = admin_client.get(reverse("customers:prospect_create"))
    assert response.context["form"]["kind"].value() == CustomerKind.PROSPECT
    admin_client.post(reverse("customers:prospect_create"), {"name": "Vielleicht GmbH"})
    assert Customer.objects.get().kind == CustomerKind.PROSPECT


def test_it_warns_about_gaps_after_saving_without_blocking(admin_client):
    response = admin_client.post(reverse("customers:create"), {"name": "Ohne Mail GmbH"}, follow=True)
    assert Customer.objects.count() == 1
    assert "weder eine Rechnungs-E-Mail noch einen aktiven Kontakt" in response.content.decode()


def test_it_edits_a_customer_and_records_the_change(admin_client, org):
    customer = CustomerFactory(organization=org, name="Alt GmbH", city="Bremen")
    response = admin_client.get(reverse("customers:edit", args=[customer.pk]))
    assert response.status_code == 200
    assert "kind" not in response.context["form"].fields  # kind only changes by conversion
    response = admin_client.post(
        reverse("customers:edit", args=[customer.pk]),
        {"name": "Neu GmbH", "city": "Hamburg", "postal_code": "20095"},
        follow=True,
    )
    customer.refresh_from_db()
    assert customer.name == "Neu GmbH" and customer.city == "Hamburg"
    assert "Änderungen an „Neu GmbH“ gespeichert." in response.content.decode()
    changes = history_for(customer).first().data["changes"]
    assert changes["name"] == ["Alt GmbH", "Neu GmbH"]
    assert changes["city"] == ["Bremen", "Hamburg"]


def test_detail_shows_header_badges_notes_sections_and_history(admin_client, org, admin_user):
    prospect = ProspectFactory(organization=org, name="Kanzlei Weber", number="K00042")
    NoteFactory(customer=prospect, text="CFO immer in Kopie setzen.", author=admin_user)
    ContactFactory(customer=prospect, last_name="Weber")
    ActionFactory(customer=prospect, description="Angebot nachfassen")
    admin_client.post(
        reverse("customers:edit", args=[prospect.pk]), {"name": "Kanzlei Weber", "city": "Kiel"}
    )
    response = admin_client.get(reverse("customers:detail", args=[prospect.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Kanzlei Weber" in html and "K00042" in html
    assert "badge-prospect" in html
    assert "In Kunden umwandeln" in html
    for label in (
        "Stammdaten",
        "Kaufmännisch",
        "Kontakte",
        "Ordner",
        "Dokumente",
        "Notizen",
        "Aktionen",
        "Verlauf",
    ):
        assert f">{label}" in html, label
    # A prospect is not billed yet: no payment tab, no billing settings.
    assert 'id="tab-payment-btn"' not in html and "Rechnungsversand" not in html
    assert html.index("CFO immer in Kopie setzen.") < html.index('id="customer-tabs"')  # notes on top
    assert "note-card" in html
    assert "Noch keine Ordner" in html  # the folders app's extension point
    assert "<strong>Ort</strong>: Düsseldorf → Kiel" in html  # history with old → new


def test_detail_opens_the_requested_tab_and_ignores_unknown_ones(admin_client, org):
    customer = CustomerFactory(organization=org)
    url = reverse("customers:detail", args=[customer.pk])
    assert admin_client.get(url, {"tab": "contacts"}).context["active_tab"] == "contacts"
    assert admin_client.get(url, {"tab": "<script>"}).context["active_tab"] == "master"


def test_convert_changes_the_kind_in_place(admin_client, org):
    prospect = ProspectFactory(organization=org, name="Weber GmbH")
    contact = ContactFactory(customer=prospect)
    response = admin_client.post(reverse("customers:convert", args=[prospect.pk]), follow=True)
    prospect.refresh_from_db()
    assert prospect.kind == CustomerKind.CUSTOMER and prospect.converted_at
    assert Customer.objects.count() == 1
    assert contact in prospect.contacts.all()
    assert "Interessent Weber GmbH wurde in Kunde K00001 umgewandelt" in response.content.decode()
    # A second click is harmless.
    response = admin_client.post(reverse("customers:convert", args=[prospect.pk]), follow=True)
    assert "ist bereits Kunde" in response.content.decode()


def test_convert_is_post_only(admin_client, org):
    prospect = ProspectFactory(organization=org)
    assert admin_client.get(reverse("customers:convert", args=[prospect.pk])).status_code == 405
    prospect.refresh_from_db()
    assert prospect.is_prospect


def test_payment_page_saves_payment_data(client_for, billing_user, org):
    customer = CustomerFactory(organization=org)
    response = client_for(billing_user).post(
        reverse("customers:payment", args=[customer.pk]),
        {
            "payment_method": "direct_debit",
            "iban": "DE89 3704 0044 0532 0130 00",
            "mandate_reference": "M-7",
            "mandate_signed_on": "2026-02-01",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.iban == "DE89370400440532013000"
    assert customer.mandate_signed_on == dt.date(2026, 2, 1)


# --- Contacts --------------------------------------------------------------------------


def test_contacts_are_added_edited_and_deactivated(admin_client, org):
    customer = CustomerFactory(organization=org)
    function = ContactFunctionFactory(organization=org, name="Buchhaltung")
    response = admin_client.post(
        reverse("customers:contact_add", args=[customer.pk]),
        {
            "salutation": "ms",
            "first_name": "Petra",
            "last_name": "Lange",
            "function": function.pk,
            "email": "p.lange@example.de",
            "is_active": "on",
            "is_invoice_recipient": "on",
        },
        follow=True,
    )
    contact = Contact.objects.get()
    assert contact.customer == customer and contact.function == function and contact.is_invoice_recipient
    assert "Kontakt Petra Lange zu" in response.content.decode()
    assert response.context["active_tab"] == "contacts"

    admin_client.post(
        reverse("customers:contact_edit", args=[customer.pk, contact.pk]),
        {"first_name": "Petra", "last_name": "Lange-Berg", "email": "p.lange@example.de", "is_active": "on"},
    )
    contact.refresh_from_db()
    assert contact.last_name == "Lange-Berg"

    admin_client.post(reverse("customers:contact_toggle", args=[customer.pk, contact.pk]))
    contact.refresh_from_db()
    assert not contact.is_active
    admin_client.post(reverse("customers:contact_toggle", args=[customer.pk, contact.pk]))
    contact.refresh_from_db()
    assert contact.is_active


def test_a_contact_of_another_customer_is_not_found_under_this_one(admin_client, org):
    customer = CustomerFactory(organization=org)
    other = ContactFactory(customer=CustomerFactory(organization=org))
    assert (
        admin_client.get(reverse("customers:contact_edit", args=[customer.pk, other.pk])).status_code == 404
    )


def test_only_active_contacts_are_offered_and_receive_invoices(org):
    from customers.selectors import active_contacts, invoice_recipient_emails

    customer = CustomerFactory(organization=org, invoice_email="")
    active = ContactFactory(customer=customer, is_invoice_recipient=True, email="a@example.de")
    ContactFactory(customer=customer, is_invoice_recipient=True, is_active=False, email="b@example.de")
    assert list(active_contacts(customer=customer)) == [active]
    assert invoice_recipient_emails(customer=customer) == ["a@example.de"]


# --- Notes -----------------------------------------------------------------------------


def test_notes_are_added_and_own_notes_deleted(client_for, support_user, org):
    customer = CustomerFactory(organization=org)
    client = client_for(support_user)
    response = client.post(
        reverse("customers:note_add", args=[customer.pk]), {"text": "Nur vormittags."}, follow=True
    )
    note = Note.objects.get()
    assert note.author == support_user
    assert "Notiz zu" in response.content.decode()
    client.post(reverse("customers:note_delete", args=[customer.pk, note.pk]))
    assert not Note.objects.exists()


def test_an_empty_note_is_refused(admin_client, org):
    customer = CustomerFactory(organization=org)
    response = admin_client.post(reverse("customers:note_add", args=[customer.pk]), {"text": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["text"]
    assert not Note.objects.exists()


def test_others_notes_can_only_be_deleted_by_an_admin(client_for, sales_user, admin_user, support_user, org):
    customer = CustomerFactory(organization=org)
    note = NoteFactory(customer=customer, author=support_user)
    url = reverse("customers:note_delete", args=[customer.pk, note.pk])
    assert client_for(sales_user).post(url).status_code == 403
    assert Note.objects.exists()
    assert client_for(admin_user).post(url).status_code == 302
    assert not Note.objects.exists()


# --- Actions ---------------------------------------------------------------------------


def test_actions_are_added_edited_done_and_reopened(admin_client, admin_user, sales_user, org):
    customer = CustomerFactory(organization=org)
    due = timezone.localdate() + dt.timedelta(days=5)
    response = admin_client.post(
        reverse("customers:action_add", args=[customer.pk]),
        {"due_on": due.isoformat(), "assignee": sales_user.pk, "description": "Rückruf"},
        follow=True,
    )
    action = Action.objects.get()
    assert (action.due_on, action.assignee, action.created_by) == (due, sales_user, admin_user)
    with translation.override("de"):
        assert f"fällig am {due:%d.%m.%Y}" in response.content.decode()

    admin_client.post(
        reverse("customers:action_edit", args=[action.pk]),
        {"due_on": due.isoformat(), "assignee": "", "description": "Rückruf am Vormittag"},
    )
    action.refresh_from_db()
    assert action.description == "Rückruf am Vormittag" and action.assignee is None

    next_url = reverse("customers:actions") + "?view=list"
    response = admin_client.post(reverse("customers:action_done", args=[action.pk]), {"next": next_url})
    assert response["Location"] == next_url
    action.refresh_from_db()
    assert action.is_done
    admin_client.post(reverse("customers:action_reopen", args=[action.pk]))
    action.refresh_from_db()
    assert not action.is_done


def test_done_ignores_a_foreign_next_url(admin_client, org):
    action = ActionFactory(customer=CustomerFactory(organization=org))
    response = admin_client.post(
        reverse("customers:action_done", args=[action.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"].startswith(reverse("customers:detail", args=[action.customer_id]))


def test_a_new_action_cannot_be_due_in_the_past_but_an_old_one_keeps_its_date(admin_client, org):
    customer = CustomerFactory(organization=org)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with translation.override("de"):
        response = admin_client.post(
            reverse("customers:action_add", args=[customer.pk]),
            {"due_on": yesterday.isoformat(), "description": "Zu spät"},
        )
    assert "Vergangenheit" in str(response.context["form"].errors["due_on"])
    assert not Action.objects.exists()
    old = ActionFactory(customer=customer, due_on=yesterday)
    response = admin_client.post(
        reverse("customers:action_edit", args=[old.pk]),
        {"due_on": yesterday.isoformat(), "description": "Neu"},
    )
    assert response.status_code == 302


def test_overdue_actions_stand_out(admin_client, org):
    customer = CustomerFactory(organization=org)
    ActionFactory(
        customer=customer, due_on=timezone.localdate() - dt.timedelta(days=2), description="Überfällig X"
    )
    html = admin_client.get(
        reverse("customers:detail", args=[customer.pk]), {"tab": "actions"}
    ).content.decode()
    assert 'class="overdue"' in html and "überfällig" in html
    html = admin_client.get(reverse("customers:actions"), {"view": "list"}).content.decode()
    assert 'class="overdue' in html


# --- Contact functions -----------------------------------------------------------------


def test_admins_manage_contact_functions(admin_client, org):
    url = reverse("customers:functions")
    admin_client.post(reverse("customers:function_defaults"))  # a bare POST does nothing
    assert ContactFunction.objects.count() == 0
    admin_client.post(reverse("customers:function_defaults"), {"confirm": "1"})
    assert ContactFunction.objects.count() == 4
    admin_client.post(reverse("customers:function_add"), {"name": "Datenschutz"})
    function = ContactFunction.objects.get(name="Datenschutz")
    response = admin_client.post(reverse("customers:function_add"), {"name": "datenschutz"})
    assert "gibt es bereits" in str(response.context["form"].errors["name"])
    admin_client.post(
        reverse("customers:function_edit", args=[function.pk]), {"name": "Datenschutzbeauftragter"}
    )
    function.refresh_from_db()
    assert function.name == "Datenschutzbeauftragter"
    admin_client.post(reverse("customers:function_delete", args=[function.pk]))
    assert not ContactFunction.objects.filter(pk=function.pk).exists()
    assert "Technik" in admin_client.get(url).content.decode()


def test_it_leaves_payment_and_billing_out_of_a_prospects_form(admin_client, org):
    prospect = ProspectFactory(organization=org, name="Weber GmbH")
    form = admin_client.get(reverse("customers:edit", args=[prospect.pk])).context["form"]
    assert not {"iban", "payment_method", "payment_terms_days", "delivery_method", "invoice_email"} & set(
        form.fields
    )
    form = admin_client.get(reverse("customers:prospect_create")).context["form"]
    assert "iban" not in form.fields and "payment_terms_days" not in form.fields
    response = admin_client.get(reverse("customers:payment", args=[prospect.pk]), follow=True)
    assert "nach der Umwandlung" in response.content.decode()
    response = admin_client.post(
        reverse("customers:prospect_create"), {"name": "Neu Interessent GmbH"}, follow=True
    )
    created = Customer.objects.get(name="Neu Interessent GmbH")
    assert created.is_prospect and created.number == ""
    assert "Interessent „Neu Interessent GmbH“ angelegt." in response.content.decode()
