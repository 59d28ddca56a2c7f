"""Buttons follow the rules the services enforce: what cannot act is hidden (when nothing
will ever make it possible) or disabled with the service's own reason as its tooltip."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from documents import services
from documents.models import Document, DocumentKind
from financing.models import Financing
from tests.documents.factories import deliver

pytestmark = pytest.mark.django_db


def _keys(response) -> dict[str, dict]:
    return {a["key"]: a for a in response.context["actions"]}


def _titles(body: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'title="([^"]*)"', body)]


def test_it_shows_no_cancel_or_correction_on_a_cancelled_invoice(invoice, admin_user, admin_client):
    services.invoice_cancel(invoice=invoice, user=admin_user, reason="Falscher Empfänger")
    response = admin_client.get(reverse("documents:detail", args=[invoice.pk]))
    body = response.content.decode()
    assert "cancel" not in _keys(response) and "credit" not in _keys(response)
    assert reverse("documents:cancel", args=[invoice.pk]) not in body
    assert reverse("documents:credit_note_create", args=[invoice.pk]) not in body
    assert "</i> Stornieren" not in body and "</i> Rechnungskorrektur" not in body


def test_it_disables_cancel_after_a_correction_with_the_services_reason(invoice, admin_user, admin_client):
    services.credit_note_partial(
        invoice=invoice, user=admin_user, reason="Kulanz", amount=Decimal("10.00"), tax_rate=Decimal("19.00")
    )
    invoice.refresh_from_db()
    refusal = services.invoice_cancellable(invoice)
    assert refusal is not None and refusal.code == "partially_credited"
    response = admin_client.get(reverse("documents:detail", args=[invoice.pk]))
    actions = _keys(response)
    assert not actions["cancel"]["enabled"] and actions["cancel"]["reason"] == refusal.messages[0]
    assert refusal.messages[0] in _titles(response.content.decode())
    assert actions["credit"]["enabled"]
    with pytest.raises(Exception) as exc:
        services.invoice_cancel(invoice=invoice, user=admin_user, reason="x")
    assert exc.value.messages == refusal.messages


def test_it_says_the_role_is_why_sales_staff_may_not_cancel_an_open_invoice(invoice, sales_user, client_for):
    actions = _keys(client_for(sales_user).get(reverse("documents:detail", args=[invoice.pk])))
    assert not actions["cancel"]["enabled"] and actions["cancel"]["reason"] == "Ihre Rolle erlaubt das nicht."


def _folder_page(client, folder) -> str:
    return client.get(reverse("folders:detail", args=[folder.pk])).content.decode()


def test_it_disables_invoice_one_off_now_while_the_financing_is_not_approved(
    financed_folder, billing_user, client_for
):
    deliver(financed_folder)
    Financing.objects.filter(folder=financed_folder).update(approval_status="submitted")
    financed_folder.refresh_from_db()
    refusal = services.invoice_oneoff_refusal(financed_folder)
    assert refusal is not None and refusal.code == "financing_not_approved"
    body = _folder_page(client_for(billing_user), financed_folder)
    assert reverse("documents:invoice_oneoff", args=[financed_folder.pk]) not in body
    assert refusal.messages[0] in _titles(body)


def test_it_offers_invoice_one_off_now_to_the_end_customer_once_the_financing_is_rejected(
    financed_folder, billing_user, client_for
):
    deliver(financed_folder)
    Financing.objects.filter(folder=financed_folder).update(approval_status="rejected")
    financed_folder.refresh_from_db()
    assert services.invoice_oneoff_refusal(financed_folder) is None
    body = _folder_page(client_for(billing_user), financed_folder)
    assert reverse("documents:invoice_oneoff", args=[financed_folder.pk]) in body
    invoice = services.invoice_oneoff_now(folder=financed_folder, user=billing_user)
    assert invoice.payer == financed_folder.customer and not invoice.third_party


def test_it_disables_invoice_one_off_now_while_the_hardware_awaits_delivery(
    financed_folder, billing_user, client_for
):
    refusal = services.invoice_oneoff_refusal(financed_folder)
    assert refusal is not None and refusal.code == "awaiting_delivery"
    body = _folder_page(client_for(billing_user), financed_folder)
    assert reverse("documents:invoice_oneoff", args=[financed_folder.pk]) not in body
    assert refusal.messages[0] in _titles(body)


def test_it_offers_invoice_one_off_now_when_the_service_would_act(financed_folder, billing_user, client_for):
    deliver(financed_folder)
    assert services.invoice_oneoff_refusal(financed_folder) is None
    body = _folder_page(client_for(billing_user), financed_folder)
    assert reverse("documents:invoice_oneoff", args=[financed_folder.pk]) in body
    services.invoice_oneoff_now(folder=financed_folder, user=billing_user)
    refusal = services.invoice_oneoff_refusal(financed_folder)
    assert refusal is not None and refusal.code == "nothing_to_invoice"
    assert Document.objects.filter(kind=DocumentKind.INVOICE, folder=financed_folder).count() == 1


def _payer_note(body: str) -> str:
    match = re.search(r'id="payer-note">(.*?)</p>', body, re.S)
    assert match, "the folder page shows who pays"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_it_says_who_is_invoiced_by_the_financings_status(financed_folder, admin_client):
    customer = financed_folder.customer.name
    note = _payer_note(_folder_page(admin_client, financed_folder))
    assert note.startswith("Drittzahler: Einmalige Positionen werden GRENKE Leasing AG in Rechnung gestellt")
    assert note.endswith(f"wiederkehrende {customer}.")
    Financing.objects.filter(folder=financed_folder).update(approval_status="submitted")
    note = _payer_note(_folder_page(admin_client, financed_folder))
    assert "sobald die Finanzierung genehmigt ist" in note
    Financing.objects.filter(folder=financed_folder).update(approval_status="rejected")
    body = _folder_page(admin_client, financed_folder)
    note = _payer_note(body)
    assert note.startswith("GRENKE Leasing AG hat die Finanzierung abgelehnt")
    assert "werden GRENKE Leasing AG in Rechnung gestellt" not in body
    assert f"werden {customer} als Direktverkauf in Rechnung gestellt" in note
    assert "niemandem" not in body


def test_it_disables_send_without_a_recipient_and_hides_it_once_cancelled(invoice, admin_user, admin_client):
    customer = invoice.payer
    customer.contacts.update(email="")
    type(customer).objects.filter(pk=customer.pk).update(invoice_email="", email="")
    invoice.payer.refresh_from_db()
    refusal = services.document_sendable(invoice)
    assert refusal is not None and refusal.code == "no_recipient"
    response = admin_client.get(reverse("documents:detail", args=[invoice.pk]))
    send = _keys(response)["send"]
    assert not send["enabled"] and send["reason"] == refusal.messages[0]
    assert reverse("documents:send", args=[invoice.pk]) not in response.content.decode()
    services.invoice_cancel(invoice=invoice, user=admin_user, reason="Falscher Empfänger")
    response = admin_client.get(reverse("documents:detail", args=[invoice.pk]))
    assert "send" not in _keys(response)
