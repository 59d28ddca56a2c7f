"""The outbox pages as the three fixed people see them: the owner (admin), a colleague
whose role may not send, and an outsider from the other organization."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.test import override_settings
from pypdf import PdfReader

from customers.models import DeliveryMethod
from documents import services
from documents.models import Dispatch, DispatchMailTemplate, DispatchStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(direct_folder, admin_user, run_on_commit):
    from tests.documents.factories import deliver

    deliver(direct_folder)
    return run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)


@pytest.fixture
def failed(invoice, admin_user, run_on_commit):
    with override_settings(EMAIL_BACKEND="tests.documents.test_dispatch.SmtpDown"):
        row = run_on_commit(services.document_dispatch, document=invoice, user=admin_user)
    row.refresh_from_db()
    assert row.status == DispatchStatus.FAILED
    return row


def test_it_lists_the_failed_mail_with_its_reason_and_sends_it_again(
    failed, admin_user, client_for, django_capture_on_commit_callbacks
):
    client = client_for(admin_user)
    page = client.get("/documents/outbox/").content.decode()
    assert failed.document.number in page and "Connection refused" in page
    detail = client.get(f"/documents/{failed.document_id}/").content.decode()
    assert f"/documents/outbox/{failed.pk}/send-again/" in detail
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/documents/outbox/{failed.pk}/send-again/", {"next": f"/documents/{failed.document_id}/"}
        )
    assert response.status_code == 302 and response["Location"] == f"/documents/{failed.document_id}/"
    failed.refresh_from_db()
    assert failed.status == DispatchStatus.SENT and len(mail.outbox) == 1
    client.get(f"/documents/{failed.document_id}/")  # shows the message
    assert failed.document.number not in client.get("/documents/outbox/").content.decode()


def test_an_outsider_and_a_role_without_invoicing_cannot_send_again(
    failed, outsider, readonly_user, client_for
):
    assert client_for(outsider).post(f"/documents/outbox/{failed.pk}/send-again/").status_code == 404
    assert failed.document.number not in client_for(outsider).get("/documents/outbox/").content.decode()
    assert client_for(readonly_user).post(f"/documents/outbox/{failed.pk}/send-again/").status_code == 403
    failed.refresh_from_db()
    assert failed.status == DispatchStatus.FAILED and mail.outbox == []


def test_the_print_page_gives_one_pdf_and_empties_the_list(invoice, admin_user, client_for, run_on_commit):
    customer = invoice.payer
    customer.delivery_method = DeliveryMethod.POST
    customer.save()
    client = client_for(admin_user)
    response = client.post(f"/documents/{invoice.pk}/send/")
    assert response.status_code == 302
    [row] = Dispatch.objects.filter(document=invoice)
    assert row.channel == "post" and row.status == "queued"
    assert invoice.number in client.get("/documents/outbox/print/").content.decode()
    response = client.post("/documents/outbox/print/pdf/", {"dispatch": [str(row.pk), "x", "99999999999999"]})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) >= 1
    row.refresh_from_db()
    assert row.status == "sent"
    again = client.post("/documents/outbox/print/pdf/", {"dispatch": [str(row.pk)]})
    assert again.status_code == 302


def test_the_templates_page_saves_and_refuses_unknown_placeholders(admin_user, billing_user, org, client_for):
    client = client_for(admin_user)
    assert client.get("/documents/mail-templates/").status_code == 200
    refused = client.post("/documents/mail-templates/save/", {"email_de_subject": "Rechnung {nummer}"})
    assert refused.status_code == 200 and "{nummer}" in refused.content.decode()
    assert not DispatchMailTemplate.objects.exists()
    saved = client.post(
        "/documents/mail-templates/save/",
        {"email_de_subject": "{document} {number}", "notify_en_body": "See {link}"},
    )
    assert saved.status_code == 302
    template = DispatchMailTemplate.objects.get(organization=org, channel="email", language="de")
    assert template.subject == "{document} {number}"
    assert client_for(billing_user).post("/documents/mail-templates/save/", {}).status_code == 403
