"""What the financier needs reaches the financier: the delivery note as proof of delivery,
on its own (a button on the delivery note page) and with the financier's invoice."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from documents import services
from documents.models import DispatchChannel, DispatchStatus
from documents.selectors import document_history
from organizations.models import AuditEntry
from organizations.system_texts import render_text

pytestmark = pytest.mark.django_db


def _deliver(folder, user, run_on_commit):
    pieces = [p.pk for line in folder.oneoff_lines.all() for p in line.equipment.all()]
    return run_on_commit(services.delivery_note_issue, folder=folder, user=user, equipment_ids=pieces)


def test_it_sends_the_delivery_note_to_the_financier_as_proof_of_delivery(
    financed_folder, admin_user, run_on_commit
):
    note = _deliver(financed_folder, admin_user, run_on_commit)
    to = run_on_commit(services.delivery_note_send_to_financier, document=note, user=admin_user)
    assert to == ["rechnungen@grenke.example"]
    [message] = mail.outbox
    assert message.to == ["rechnungen@grenke.example"]
    assert message.subject.startswith(f"Liefernachweis: Lieferschein {note.number}")
    assert "Sehr geehrte Damen und Herren" in message.body  # not the end customer's contact
    assert "GR-2026-4711" in message.body and financed_folder.customer.name in message.body
    [(name, content, mime)] = message.attachments
    assert name == f"{note.number}.pdf" and content.startswith(b"%PDF")
    [row] = [r for r in document_history(note) if r["entry"].action == "delivery_note.sent_to_financier"]
    assert str(row["title"]) == "Lieferschein an den Finanzierer gesendet"
    assert "GRENKE Leasing AG" in render_text(row["entry"].data["message"])
    # Like every mail of a document, it went through the outbox, once.
    [outbox] = note.dispatches.all()
    assert (outbox.channel, outbox.status, outbox.recipients) == (
        DispatchChannel.FINANCIER,
        DispatchStatus.SENT,
        ["rechnungen@grenke.example"],
    )


def test_a_failed_proof_of_delivery_is_sent_again_to_the_financiers_current_address(
    financed_folder, admin_user, run_on_commit, admin_client, django_capture_on_commit_callbacks
):
    note = _deliver(financed_folder, admin_user, run_on_commit)
    with override_settings(EMAIL_BACKEND="tests.documents.test_dispatch.SmtpDown"):
        run_on_commit(services.delivery_note_send_to_financier, document=note, user=admin_user)
    [row] = note.dispatches.all()
    assert row.status == DispatchStatus.FAILED and "Connection refused" in row.result
    assert not mail.outbox
    financier = financed_folder.financing.financier
    financier.invoice_email = "leasing-backoffice@grenke.example"
    financier.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("documents:dispatch_send_again", args=[row.pk]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.tries) == (DispatchStatus.SENT, 2)
    [message] = mail.outbox
    assert message.to == ["leasing-backoffice@grenke.example"]
    assert message.subject.startswith(f"Liefernachweis: Lieferschein {note.number}")


def test_it_refuses_a_delivery_note_of_an_unfinanced_folder(direct_folder, admin_user, run_on_commit):
    note = _deliver(direct_folder, admin_user, run_on_commit)
    with pytest.raises(ValidationError) as exc:
        run_on_commit(services.delivery_note_send_to_financier, document=note, user=admin_user)
    assert exc.value.code == "not_financed"
    assert not mail.outbox
    assert not AuditEntry.objects.filter(action="delivery_note.sent_to_financier").exists()


def test_it_refuses_a_financier_without_an_invoice_address(financed_folder, admin_user, run_on_commit):
    financier = financed_folder.financing.financier
    financier.invoice_email = ""
    financier.email = ""
    financier.save()
    note = _deliver(financed_folder, admin_user, run_on_commit)
    with pytest.raises(ValidationError) as exc:
        run_on_commit(services.delivery_note_send_to_financier, document=note, user=admin_user)
    assert exc.value.code == "no_recipient" and "GRENKE Leasing AG" in exc.value.messages[0]
    assert not mail.outbox


def test_the_financiers_invoice_mail_carries_the_folders_delivery_notes(
    financed_folder, admin_user, run_on_commit
):
    note = _deliver(financed_folder, admin_user, run_on_commit)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    run_on_commit(services.document_send, document=invoice, user=admin_user)
    [message] = mail.outbox
    assert [name for name, _c, _m in message.attachments] == [f"{invoice.number}.pdf", f"{note.number}.pdf"]
    assert f"Als Liefernachweis liegen die Lieferscheine {note.number} bei." in message.body
    sent = AuditEntry.objects.get(action="invoice.sent", data__document_id=invoice.pk)
    assert note.number in render_text(sent.data["message"])


def test_an_end_customers_invoice_mail_carries_only_the_invoice(direct_folder, admin_user, run_on_commit):
    _deliver(direct_folder, admin_user, run_on_commit)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    run_on_commit(services.document_send, document=invoice, user=admin_user)
    [message] = mail.outbox
    assert [name for name, _c, _m in message.attachments] == [f"{invoice.number}.pdf"]
    assert "Liefernachweis" not in message.body


def test_the_delivery_note_page_offers_sending_it_to_the_financier(
    financed_folder, admin_user, admin_client, run_on_commit, django_capture_on_commit_callbacks
):
    note = _deliver(financed_folder, admin_user, run_on_commit)
    page = admin_client.get(reverse("documents:detail", args=[note.pk])).content.decode()
    url = reverse("documents:send_to_financier", args=[note.pk])
    assert url in page and "An Finanzierer senden" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, follow=True)
    assert "als Liefernachweis" in response.content.decode()
    assert len(mail.outbox) == 1
    assert admin_client.get(url).status_code == 405  # POST only


def test_an_unfinanced_delivery_note_page_has_no_financier_button(
    direct_folder, admin_user, admin_client, run_on_commit
):
    note = _deliver(direct_folder, admin_user, run_on_commit)
    page = admin_client.get(reverse("documents:detail", args=[note.pk])).content.decode()
    assert reverse("documents:send_to_financier", args=[note.pk]) not in page


def test_outsiders_and_read_only_staff_cannot_send_it(
    financed_folder, admin_user, outsider, readonly_user, client_for, run_on_commit
):
    note = _deliver(financed_folder, admin_user, run_on_commit)
    url = reverse("documents:send_to_financier", args=[note.pk])
    assert client_for(outsider).post(url).status_code == 404
    assert client_for(readonly_user).post(url).status_code == 403
    assert not mail.outbox
