"""Attachments: checked by content, limited in size, stored under a random name, and
downloaded only through views that check access, with the sniffed type."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets.models import Ticket, TicketAttachment, TicketMessage

from .factories import EXE, PDF, PNG, open_ticket

pytestmark = pytest.mark.django_db


def _stored_files() -> list[str]:
    root = os.path.join(settings.MEDIA_ROOT, "tickets")
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


@pytest.fixture
def ticket(customer, folder, portal_contact):
    return open_ticket(customer, contact=portal_contact, folder=folder)


def test_a_pdf_is_stored_under_a_random_name_and_downloaded_with_its_type(
    client_for, support_user, ticket, portal
):
    response = client_for(support_user).post(
        reverse("tickets:reply", args=[ticket.pk]),
        {
            "body": "Anbei das Protokoll.",
            "attachments": [SimpleUploadedFile("../../Protokoll März.pdf", PDF)],
        },
    )
    assert response.status_code == 302
    attachment = TicketAttachment.objects.get()
    assert attachment.original_name == "Protokoll März.pdf"
    assert attachment.content_type == "application/pdf"
    assert "Protokoll" not in attachment.file.name and attachment.file.name.startswith("tickets/")

    for client, name in (
        (client_for(support_user), "tickets:attachment"),
        (portal, "portal:ticket_attachment"),
    ):
        download = client.get(reverse(name, args=[ticket.pk, attachment.pk]))
        assert download.status_code == 200
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"].startswith("attachment;")
        assert "Protokoll" in download["Content-Disposition"]
        assert b"".join(download.streaming_content) == PDF


def test_a_png_and_plain_text_are_accepted_in_the_portal(portal, ticket):
    csv = "Zähler;Stand\n4711;1234\n".encode("cp1252")
    response = portal.post(
        reverse("portal:ticket_reply", args=[ticket.pk]),
        {
            "body": "Foto und Zählerstände anbei",
            "attachments": [SimpleUploadedFile("foto.jpg", PNG), SimpleUploadedFile("stand.csv", csv)],
        },
    )
    assert response.status_code == 302
    # The type comes from the content, not from the ".jpg" the name claims.
    assert sorted(TicketAttachment.objects.values_list("content_type", flat=True)) == [
        "image/png",
        "text/plain",
    ]


def test_a_disallowed_type_is_refused_by_content_and_nothing_is_saved(portal, ticket):
    before = _stored_files()
    response = portal.post(
        reverse("portal:ticket_reply", args=[ticket.pk]),
        {"body": "Hier die Rechnung", "attachments": [SimpleUploadedFile("rechnung.pdf", EXE)]},
    )
    assert response.status_code == 400
    assert "rechnung.pdf“ hat keinen Dateityp, den wir annehmen" in response.content.decode()
    assert not TicketMessage.objects.exists() and not TicketAttachment.objects.exists()
    assert _stored_files() == before


def test_an_oversize_file_is_refused_with_a_message_and_nothing_is_saved(portal, ticket, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1000
    before = _stored_files()
    big = PDF + b"0" * 2000
    response = portal.post(
        reverse("portal:ticket_reply", args=[ticket.pk]),
        {
            "body": "Großes PDF",
            "attachments": [SimpleUploadedFile("gross.pdf", big), SimpleUploadedFile("ok.pdf", PDF)],
        },
    )
    assert response.status_code == 400
    assert "„gross.pdf“ ist zu groß" in response.content.decode()
    assert not TicketMessage.objects.exists() and not TicketAttachment.objects.exists()
    assert _stored_files() == before


def test_a_new_portal_ticket_with_a_bad_file_is_not_opened(portal):
    response = portal.post(
        reverse("portal:ticket_new"),
        {"subject": "Test", "description": "Test", "attachments": [SimpleUploadedFile("x.exe", EXE)]},
    )
    assert response.status_code == 200
    assert "keinen Dateityp" in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_portal_never_hands_out_an_internal_notes_file(client_for, support_user, ticket, portal):
    client_for(support_user).post(
        reverse("tickets:reply", args=[ticket.pk]),
        {
            "body": "Intern: Kalkulation",
            "internal": "on",
            "attachments": [SimpleUploadedFile("kalk.pdf", PDF)],
        },
    )
    attachment = TicketAttachment.objects.get()
    assert portal.get(reverse("portal:ticket_attachment", args=[ticket.pk, attachment.pk])).status_code == 404
    assert "kalk.pdf" not in portal.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert (
        client_for(support_user)
        .get(reverse("tickets:attachment", args=[ticket.pk, attachment.pk]))
        .status_code
        == 200
    )


def test_stored_files_are_not_reachable_by_a_media_url(client_for, support_user, ticket):
    client_for(support_user).post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "x", "attachments": [SimpleUploadedFile("a.pdf", PDF)]},
    )
    attachment = TicketAttachment.objects.get()
    assert (
        client_for(support_user)
        .get("/" + settings.MEDIA_URL.strip("/") + "/" + attachment.file.name)
        .status_code
        == 404
    )
