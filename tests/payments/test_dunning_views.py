"""The dunning pages: who may see and do what, and the wall between organizations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.models import Document, DocumentKind
from payments import dunning_services as services
from payments.models import DunningLevel, DunningRun, DunningStop, InvoiceDispute
from tests.conftest import login
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_invoice


def _overdue(org, payer, gross="119.00"):
    return issued_invoice(org, payer, gross, issue_date=timezone.localdate() - dt.timedelta(days=40))


@pytest.fixture
def payer(org):
    return CustomerFactory(organization=org, name="Bäckerei Schulz GmbH")


@pytest.fixture
def foreign(other_org, outsider):
    """Another organization's overdue invoice, dispute, stop and run."""
    stranger = CustomerFactory(organization=other_org, name="Fremdfirma AG")
    invoice = _overdue(other_org, stranger)
    dispute = services.dispute_open(
        organization=other_org, invoice=invoice, note="x", since=timezone.localdate(), user=outsider
    )
    stop = services.dunning_stop_add(
        organization=other_org,
        customer=stranger,
        note="x",
        since=timezone.localdate(),
        until=None,
        user=outsider,
    )
    run = DunningRun.objects.create(organization=other_org, date=timezone.localdate())
    return {"invoice": invoice, "dispute": dispute, "stop": stop, "run": run, "payer": stranger}


def test_it_shows_the_proposal_to_every_member(org, payer, readonly_user):
    invoice = _overdue(org, payer)
    response = login(readonly_user).get(reverse("payments:dunning"))
    assert response.status_code == 200
    body = response.content.decode()
    assert invoice.number in body and "Zahlungserinnerung" in body
    assert "Mahnwesen" in body  # the sidebar entry


def test_billing_approves_the_run_and_gets_the_letters(org, payer, billing_user):
    _overdue(org, payer)
    response = login(billing_user).post(reverse("payments:dunning_approve"), {"payers": [payer.pk]})
    run = DunningRun.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:dunning_run_detail", args=[run.pk])
    page = login(billing_user).get(response["Location"]).content.decode()
    letter = Document.objects.get(kind=DocumentKind.DUNNING_LETTER)
    assert letter.number in page
    listing = login(billing_user).get(reverse("documents:dunning_letters")).content.decode()
    assert letter.number in listing


@pytest.mark.parametrize("role", ["readonly_user", "sales_user", "support_user"])
def test_only_admin_and_billing_may_approve_a_run(org, payer, role, request):
    _overdue(org, payer)
    user = request.getfixturevalue(role)
    response = login(user).post(reverse("payments:dunning_approve"), {"payers": [payer.pk]})
    assert response.status_code == 403
    assert not Document.objects.filter(kind=DocumentKind.DUNNING_LETTER).exists()


def test_a_payer_not_in_the_proposal_is_refused_with_a_message(org, payer, billing_user, other_org):
    _overdue(org, payer)
    stranger = CustomerFactory(organization=other_org)
    _overdue(other_org, stranger)
    response = login(billing_user).post(
        reverse("payments:dunning_approve"), {"payers": [stranger.pk]}, follow=True
    )
    assert response.status_code == 200
    assert not Document.objects.filter(kind=DocumentKind.DUNNING_LETTER).exists()
    assert "Vorschlag" in response.content.decode()


def test_the_levels_page_is_for_admins(org, admin_user, billing_user):
    assert login(billing_user).get(reverse("payments:dunning_levels")).status_code == 403
    client = login(admin_user)
    assert client.get(reverse("payments:dunning_levels")).status_code == 200
    data = {}
    for level in DunningLevel.objects.filter(organization=org):
        p = f"l{level.position}-"
        data.update(
            {
                p + "enabled": "on",
                p + "days": str(level.days),
                p + "fee": "3,50" if level.position == 2 else str(level.fee).replace(".", ","),
                p + "payment_days": str(level.payment_days),
                p + "text_de": level.text_de,
                p + "text_en": level.text_en,
            }
        )
    response = client.post(reverse("payments:dunning_levels"), data)
    assert response.status_code == 302
    assert DunningLevel.objects.get(organization=org, position=2).fee == Decimal("3.50")
    data["l1-text_de"] = "Bitte zahlen Sie {betrag}"
    response = client.post(reverse("payments:dunning_levels"), data)
    assert response.status_code == 200
    assert "{betrag}" in response.content.decode()


def test_billing_marks_an_invoice_disputed_from_its_dunning_page(org, payer, billing_user):
    invoice = _overdue(org, payer)
    client = login(billing_user)
    url = reverse("payments:invoice_dunning", args=[invoice.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        reverse("payments:dispute_open", args=[invoice.pk]),
        {"note": "Gerät defekt geliefert", "since": timezone.localdate().strftime("%d.%m.%Y")},
    )
    assert response.status_code == 302
    dispute = InvoiceDispute.objects.get(invoice=invoice)
    assert dispute.resolved_on is None
    client.post(reverse("payments:dispute_resolve", args=[dispute.pk]))
    dispute.refresh_from_db()
    assert dispute.resolved_on == timezone.localdate()


def test_the_invoice_page_links_to_its_dunning(org, payer, billing_user):
    invoice = _overdue(org, payer)
    page = login(billing_user).get(reverse("documents:detail", args=[invoice.pk])).content.decode()
    assert reverse("payments:invoice_dunning", args=[invoice.pk]) in page


def test_a_dunning_stop_is_added_and_lifted(org, payer, billing_user):
    client = login(billing_user)
    today = timezone.localdate().strftime("%d.%m.%Y")
    response = client.post(
        reverse("payments:dunning_stop_add"), {"customer": payer.pk, "note": "Ratenzahlung", "since": today}
    )
    assert response.status_code == 302
    stop = DunningStop.objects.get(customer=payer)
    client.post(reverse("payments:dunning_stop_lift", args=[stop.pk]))
    stop.refresh_from_db()
    assert stop.lifted_on == timezone.localdate()


def test_a_stop_for_another_organizations_customer_is_refused(org, billing_user, foreign):
    today = timezone.localdate().strftime("%d.%m.%Y")
    response = login(billing_user).post(
        reverse("payments:dunning_stop_add"), {"customer": foreign["payer"].pk, "note": "x", "since": today}
    )
    assert response.status_code == 200
    assert DunningStop.objects.filter(organization=org).count() == 0


def test_another_organizations_dunning_records_are_404(org, billing_user, foreign):
    client = login(billing_user)
    assert client.get(reverse("payments:invoice_dunning", args=[foreign["invoice"].pk])).status_code == 404
    assert client.get(reverse("payments:dunning_run_detail", args=[foreign["run"].pk])).status_code == 404
    assert client.post(reverse("payments:dispute_resolve", args=[foreign["dispute"].pk])).status_code == 404
    assert client.post(reverse("payments:dunning_stop_lift", args=[foreign["stop"].pk])).status_code == 404
    page = client.get(reverse("payments:dunning")).content.decode()
    assert foreign["invoice"].number not in page and "Fremdfirma" not in page
    foreign["dispute"].refresh_from_db()
    assert foreign["dispute"].resolved_on is None


def test_another_organizations_letter_is_404(org, payer, billing_user, outsider, other_org):
    _overdue(org, payer)
    [letter] = services.dunning_run_approve(
        organization=org, user=billing_user, payer_ids=[payer.pk], today=timezone.localdate()
    ).letters
    client = login(outsider)
    assert client.get(reverse("documents:detail", args=[letter.document.pk])).status_code == 404
    assert client.get(reverse("documents:pdf", args=[letter.document.pk])).status_code == 404
    assert letter.document.number not in client.get(reverse("documents:dunning_letters")).content.decode()


def test_the_letter_has_its_own_document_page(org, payer, billing_user, readonly_user):
    _overdue(org, payer)
    [letter] = services.dunning_run_approve(
        organization=org, user=billing_user, payer_ids=[payer.pk], today=timezone.localdate()
    ).letters
    page = login(readonly_user).get(reverse("documents:detail", args=[letter.document.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert letter.document.number in body and "Mahnung" in body


def test_the_letters_page_lists_open_items_not_goods(org, payer, billing_user, readonly_user):
    from documents.dunning import DunnedItem, dunning_letter_issue

    invoice = _overdue(org, payer, "238.00")
    letter = dunning_letter_issue(
        organization=org,
        payer=payer,
        level=2,
        items=[
            DunnedItem(
                text=invoice.number,
                open=Decimal("200.00"),
                date=invoice.issue_date,
                due_date=invoice.due_date,
            ),
            DunnedItem(text="Mahngebühr MA-2026-00001", open=Decimal("2.50"), date=invoice.due_date),
        ],
        fee=Decimal("5.00"),
        body="Bitte zahlen Sie.",
        deadline=timezone.localdate() + dt.timedelta(days=10),
        user=billing_user,
    )
    page = login(readonly_user).get(reverse("documents:detail", args=[letter.pk]))
    body = page.content.decode()
    [items] = [p for p in body.split('<div class="card mb-3">') if 'card-title">Offene Posten' in p]
    assert f'href="{reverse("documents:detail", args=[invoice.pk])}">{invoice.number}</a>' in items
    assert f"{invoice.due_date:%d.%m.%Y}" in items and "200,00" in items
    assert "Mahngebühr MA-2026-00001" in items and "2,50" in items and "5,00" in items
    assert "207,50" in items  # the total
    for column in ("Einzelpreis", "Menge", "USt.", "Netto"):
        assert f">{column}<" not in items, column


def test_the_customer_page_shows_and_adds_its_dunning_stop(org, payer, billing_user, readonly_user):
    client = login(billing_user)
    page = client.get(reverse("customers:detail", args=[payer.pk]) + "?tab=payment").content.decode()
    stops_url = f"{reverse('payments:dunning_stops')}?customer={payer.pk}#stop-form"
    assert stops_url.replace("&", "&amp;") in page or stops_url in page
    form_page = client.get(stops_url.split("#")[0])
    assert form_page.context["form"]["customer"].value() == payer.pk
    assert 'name="back" value="customer"' in form_page.content.decode()
    response = client.post(
        reverse("payments:dunning_stop_add"),
        {
            "customer": payer.pk,
            "note": "Ratenzahlung vereinbart",
            "since": timezone.localdate().isoformat(),
            "back": "customer",
        },
    )
    assert response["Location"] == reverse("customers:detail", args=[payer.pk]) + "?tab=payment"
    stop = DunningStop.objects.get(customer=payer)
    page = client.get(response["Location"]).content.decode()
    assert "Ratenzahlung vereinbart" in page
    assert reverse("payments:dunning_stop_lift", args=[stop.pk]) in page
    reader = login(readonly_user).get(response["Location"]).content.decode()
    assert (
        "Ratenzahlung vereinbart" in reader
        and reverse("payments:dunning_stop_lift", args=[stop.pk]) not in reader
    )
    response = client.post(reverse("payments:dunning_stop_lift", args=[stop.pk]), {"back": "customer"})
    assert response["Location"] == reverse("customers:detail", args=[payer.pk]) + "?tab=payment"
    stop.refresh_from_db()
    assert stop.lifted_on == timezone.localdate()
    assert "Ratenzahlung vereinbart" not in client.get(response["Location"]).content.decode()


def test_the_customer_page_lists_its_mandates(org, billing_user):
    from tests.payments.sepa_helpers import dd_payer

    payer, mandate = dd_payer(org, reference="M-PANEL-1")
    page = login(billing_user).get(reverse("customers:detail", args=[payer.pk])).content.decode()
    assert reverse("payments:mandate_detail", args=[mandate.pk]) in page and "M-PANEL-1" in page
    assert reverse("payments:mandate_new", args=[payer.pk]) in page
