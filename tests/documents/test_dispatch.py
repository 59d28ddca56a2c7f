"""The outbox: every way an issued document goes to its payer is a row (document, channel,
recipients, tries, result). Mails are sent by the worker at most once; a failing mail
backend leaves the row failed with its reason, listed and sent again by hand; post is
printed as one PDF; Chorus Pro rows wait for the export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.message import AnymailRecipientStatus
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from lxml import etree
from pypdf import PdfReader

from customers.models import DeliveryMethod
from documents import selectors, services
from documents.dispatch_mail import portal_document_url
from documents.models import Dispatch, DispatchChannel, DispatchStatus, DocumentStatus
from documents.tasks import dispatch_backoff, send_dispatch
from organizations.models import AuditEntry
from tests.documents.factories import CHORUS_SIRET, FolderFactory, deliver, oneoff

pytestmark = pytest.mark.django_db

LEITWEG_ID = "04011000-1234512345-06"


class SmtpDown(BaseEmailBackend):
    """A mail backend whose server does not answer."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("[Errno 111] Connection refused")


class EspRefusesEveryone(AnymailTestBackend):
    """An e-mail service (through django-anymail) that accepts the call and rejects all."""

    def post_to_esp(self, payload, message):
        message.anymail_test_response = {
            "recipient_status": {
                email: AnymailRecipientStatus(message_id=None, status="rejected")
                for email in payload.recipient_emails
            }
        }
        return super().post_to_esp(payload, message)


def _invoice(folder, user, run_on_commit, **customer_fields):
    customer = folder.customer
    for name, value in customer_fields.items():
        setattr(customer, name, value)
    customer.save()
    deliver(folder)
    return run_on_commit(services.invoice_oneoff_now, folder=folder, user=user)


def _send(run_on_commit, document, user):
    """Press "send" on the document page; the worker's task runs after commit."""
    return run_on_commit(services.document_dispatch, document=document, user=user)


# --- e-mail with attachment ---------------------------------------------------------------------


def test_it_e_mails_the_zugferd_pdf_once_and_records_the_row(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    row = _send(run_on_commit, invoice, admin_user)
    row.refresh_from_db()
    invoice.refresh_from_db()
    assert (row.channel, row.status, row.attempt, row.tries) == ("email", "sent", 1, 1)
    assert row.recipients == ["keller@example.de"] and row.key == f"doc{invoice.pk}-email-1"
    assert invoice.status == DocumentStatus.SENT and invoice.sent_at
    [message] = mail.outbox
    assert message.to == ["keller@example.de"]
    assert message.extra_headers["Message-ID"].startswith(f"<{row.key}.")
    [(name, content, mime)] = message.attachments
    assert mime == "application/pdf" and name == f"{invoice.number}.pdf"
    # The stored ZUGFeRD PDF, with its factur-x.xml.
    assert "factur-x.xml" in PdfReader(io.BytesIO(content)).attachments
    assert AuditEntry.objects.filter(action="invoice.sent", data__document_id=invoice.pk).count() == 1


def test_a_task_delivered_again_after_the_send_sends_nothing(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    row = _send(run_on_commit, invoice, admin_user)
    # The broker hands the same message over again (acks_late), or a retry fires late.
    assert send_dispatch.apply(args=[row.pk, row.organization_id]).get() == "sent"
    assert services.dispatch_deliver(dispatch_id=row.pk) == "sent"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.tries == 1


def test_a_row_being_sent_is_not_sent_by_a_second_worker(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    row = services.dispatch_queue(
        document=invoice, channel=DispatchChannel.EMAIL, recipients=["keller@example.de"], user=admin_user
    )
    Dispatch.objects.filter(pk=row.pk).update(status=DispatchStatus.SENDING)
    assert services.dispatch_deliver(dispatch_id=row.pk) == "sending"
    assert mail.outbox == []


def test_sending_again_by_hand_is_a_new_attempt(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    first = _send(run_on_commit, invoice, admin_user)
    second = _send(run_on_commit, invoice, admin_user)
    assert (first.attempt, second.attempt) == (1, 2) and first.key != second.key
    assert len(mail.outbox) == 2


def test_an_xrechnung_payer_gets_the_xml_instead_of_the_pdf(org, admin_user, run_on_commit):
    org.email, org.phone = "rechnung@nordtek.example", "+49301234567"
    org.save()
    folder = FolderFactory(organization=org)
    oneoff(folder, quantity="1", unit_price="640.00")
    invoice = _invoice(
        folder,
        admin_user,
        run_on_commit,
        einvoice_format="xrechnung_cii",
        buyer_reference=LEITWEG_ID,
        invoice_email="eingang@behoerde.example",
    )
    _send(run_on_commit, invoice, admin_user)
    [message] = mail.outbox
    [(name, content, mime)] = message.attachments
    assert name.endswith(".xml") and mime == "application/xml"
    root = etree.fromstring(content)
    assert root.tag.endswith("CrossIndustryInvoice")
    assert invoice.number.encode() in content and LEITWEG_ID.encode() in content


# --- failures ---------------------------------------------------------------------------------


def test_a_failing_mail_server_leaves_the_row_failed_listed_and_sendable_again(
    direct_folder, admin_user, run_on_commit
):
    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    with override_settings(EMAIL_BACKEND="tests.documents.test_dispatch.SmtpDown"):
        row = _send(run_on_commit, invoice, admin_user)
    row.refresh_from_db()
    invoice.refresh_from_db()
    assert row.status == DispatchStatus.FAILED and row.tries == 1
    assert "ConnectionRefusedError" in row.result and "Connection refused" in row.result
    assert invoice.status == DocumentStatus.ISSUED and invoice.sent_at is None
    assert list(selectors.dispatches_needing_attention()) == [row]
    assert services.dispatch_retry_refusal(row) is None
    assert AuditEntry.objects.filter(action="invoice.dispatch_failed", data__document_id=invoice.pk).exists()

    run_on_commit(services.dispatch_retry, dispatch=row, user=admin_user, recipients=["neu@example.de"])
    row.refresh_from_db()
    assert (row.status, row.tries, row.attempt, row.result) == ("sent", 2, 1, "")
    [message] = mail.outbox
    assert message.to == ["neu@example.de"]
    assert list(selectors.dispatches_needing_attention()) == []
    with pytest.raises(ValidationError) as exc:
        services.dispatch_retry(dispatch=row, user=admin_user, recipients=["neu@example.de"])
    assert exc.value.code == "sent"


def test_through_an_e_mail_service_the_row_keeps_its_message_id(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    with override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend"):
        row = _send(run_on_commit, invoice, admin_user)
    row.refresh_from_db()
    [message] = mail.outbox
    assert (
        row.status == DispatchStatus.SENT and row.result == f"Message-ID {message.anymail_status.message_id}"
    )
    assert message.anymail_test_params["to"][0].addr_spec in row.recipients


def test_an_e_mail_service_refusing_every_recipient_fails_the_row(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    with override_settings(EMAIL_BACKEND="tests.documents.test_dispatch.EspRefusesEveryone"):
        row = _send(run_on_commit, invoice, admin_user)
    row.refresh_from_db()
    assert row.status == DispatchStatus.FAILED and "AnymailRecipientsRefused" in row.result
    assert services.dispatch_retry_refusal(row) is None


def test_a_row_whose_worker_was_lost_is_listed_as_interrupted_not_resent(
    direct_folder, admin_user, run_on_commit
):
    from django.utils import timezone

    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    row = services.dispatch_queue(
        document=invoice, channel=DispatchChannel.EMAIL, recipients=["keller@example.de"], user=admin_user
    )
    Dispatch.objects.filter(pk=row.pk).update(
        status=DispatchStatus.SENDING, tried_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert list(selectors.dispatches_needing_attention()) == []
    assert services.dispatch_retry_refusal(Dispatch.objects.get(pk=row.pk)).code == "sending"
    Dispatch.objects.filter(pk=row.pk).update(tried_at=timezone.now() - dt.timedelta(minutes=20))
    assert list(selectors.dispatches_needing_attention()) == [row]
    assert services.dispatch_retry_refusal(Dispatch.objects.get(pk=row.pk)) is None


def test_the_worker_retries_with_exponential_backoff():
    assert [dispatch_backoff(n) for n in range(5)] == [60, 120, 240, 480, 960]
    assert send_dispatch.max_retries == 5


def test_a_payer_without_address_is_refused_by_hand(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(direct_folder, admin_user, run_on_commit, email="")
    direct_folder.customer.contacts.update(is_invoice_recipient=False)
    with pytest.raises(ValidationError) as exc:
        services.document_dispatch(document=invoice, user=admin_user)
    assert exc.value.code == "no_recipient"
    assert not Dispatch.objects.exists()


# --- notification, post, Chorus Pro ------------------------------------------------------------------


def test_a_notification_links_to_the_portal_without_attachment(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(
        direct_folder, admin_user, run_on_commit, delivery_method=DeliveryMethod.EMAIL_NOTIFICATION
    )
    row = _send(run_on_commit, invoice, admin_user)
    assert row.channel == DispatchChannel.NOTIFY
    [message] = mail.outbox
    assert message.attachments == []
    link = portal_document_url(invoice.pk)
    assert link.endswith(f"/portal/documents/{invoice.pk}/") and link in message.body
    assert invoice.number in message.subject and "119" not in message.subject


def test_post_is_printed_as_one_pdf_and_then_counts_as_sent(org, admin_user, run_on_commit):
    documents = []
    for _n in range(2):
        folder = FolderFactory(organization=org)
        oneoff(folder, quantity="1", unit_price="100.00")
        documents.append(_invoice(folder, admin_user, run_on_commit, delivery_method=DeliveryMethod.POST))
    rows = [_send(run_on_commit, document, admin_user) for document in documents]
    assert {row.channel for row in rows} == {"post"} and mail.outbox == []
    with pytest.raises(ValidationError) as exc:
        services.document_dispatch(document=documents[0], user=admin_user)
    assert exc.value.code == "pending"
    assert list(selectors.dispatches_waiting(DispatchChannel.POST)) == rows

    data, count = services.post_print(organization=org, user=admin_user, dispatch_ids=[r.pk for r in rows])
    pages = sum(len(PdfReader(document.pdf.open("rb")).pages) for document in documents)
    assert count == 2 and len(PdfReader(io.BytesIO(data)).pages) == pages
    assert all(Dispatch.objects.get(pk=r.pk).status == "sent" for r in rows)
    assert {d.status for d in type(documents[0]).objects.filter(pk__in=[d.pk for d in documents])} == {"sent"}
    with pytest.raises(ValidationError):
        services.post_print(organization=org, user=admin_user, dispatch_ids=[r.pk for r in rows])


def test_chorus_rows_wait_until_the_export_marks_them(direct_folder, admin_user, run_on_commit):
    invoice = _invoice(
        direct_folder,
        admin_user,
        run_on_commit,
        delivery_method=DeliveryMethod.CHORUS_PRO,
        siret=CHORUS_SIRET,
    )
    row = _send(run_on_commit, invoice, admin_user)
    assert (row.channel, row.status) == ("chorus", "queued") and mail.outbox == []
    assert services.mark_dispatched([invoice], "chorus", result="chorus-2026-12.tar.gz") == 1
    assert services.mark_dispatched([invoice], "chorus") == 0
    row.refresh_from_db()
    invoice.refresh_from_db()
    assert (row.status, row.result) == ("sent", "chorus-2026-12.tar.gz")
    assert invoice.status == DocumentStatus.SENT


# --- templates --------------------------------------------------------------------------------


def test_the_organizations_template_fills_its_placeholders(org, direct_folder, admin_user, run_on_commit):
    services.dispatch_mail_templates_update(
        organization=org,
        user=admin_user,
        texts={
            ("email", "de"): (
                "{document} {number} für {customer}",
                "Betrag {amount}, fällig am {due_date}.{collection_date}",
            )
        },
    )
    invoice = _invoice(direct_folder, admin_user, run_on_commit)
    _send(run_on_commit, invoice, admin_user)
    [message] = mail.outbox
    assert message.subject == f"Rechnung {invoice.number} für {invoice.recipient_name}"
    due = invoice.due_date.strftime("%d.%m.%Y")
    assert message.body == f"Betrag {str(invoice.total_gross).replace('.', ',')} €, fällig am {due}."


def test_a_template_with_an_unknown_placeholder_or_a_notice_without_link_is_refused(org, admin_user):
    with pytest.raises(ValidationError) as exc:
        services.dispatch_mail_templates_update(
            organization=org,
            user=admin_user,
            texts={("email", "en"): ("{invoice_no}", ""), ("notify", "de"): ("", "Bitte im Portal ansehen.")},
        )
    text = " ".join(exc.value.messages)
    assert "{invoice_no}" in text and "{link}" in text
    assert not type(services.dispatch_mail_templates(org)[("email", "en")]).objects.exists()


# --- the billing run -------------------------------------------------------------------------------


def test_the_run_lists_a_payer_without_address_instead_of_billing_it(org):
    from billing.models import BillingRunFailure
    from tests.billing.helpers import bill, invoices
    from tests.documents.factories import recurring

    nov = dt.date(2026, 11, 1)
    payer = FolderFactory(organization=org).customer
    payer.email, payer.invoice_email = "", ""
    payer.save()
    recurring(payer.folders.get(), start=nov)
    run = bill(org, nov)
    assert invoices(org, run) == []
    failure = BillingRunFailure.objects.get(run=run)
    assert failure.payer == payer and "Kontakt als Rechnungsempfänger" in failure.message
