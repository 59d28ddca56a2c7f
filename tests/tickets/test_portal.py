"""The portal's ticket pages: a contact sees, opens, answers and closes only its own
customer's tickets; everybody else gets a 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.customers.factories import ContactFactory, CustomerFactory
from tests.portal.conftest import portal_account, portal_client
from tickets import services
from tickets.models import Ticket, TicketAttachment, TicketStatus

from .factories import PDF, open_ticket, supported_folder

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, folder, portal_contact):
    ticket = open_ticket(customer, contact=portal_contact, folder=folder, subject="Scanner streikt")
    services.ticket_reply(ticket=ticket, body="Foto", contact=portal_contact, files=[], now=None)
    return ticket


@pytest.fixture
def attachment(ticket, portal):
    portal.post(
        reverse("portal:ticket_reply", args=[ticket.pk]),
        {"body": "Protokoll", "attachments": [SimpleUploadedFile("log.pdf", PDF)]},
    )
    return TicketAttachment.objects.get()


def _client_of(contact):
    return portal_client(portal_account(contact).user)


@pytest.fixture
def neighbour(org):
    """A portal contact of another customer of the same organization."""
    customer = CustomerFactory(organization=org, name="Nachbar GmbH")
    return _client_of(ContactFactory(customer=customer, has_portal_access=True, email="n@nachbar.de"))


@pytest.fixture
def stranger(other_org):
    """A portal contact of a customer of another organization."""
    customer = CustomerFactory(organization=other_org, name="Fremd AG")
    return _client_of(ContactFactory(customer=customer, has_portal_access=True, email="f@fremd.de"))


def test_the_list_shows_only_the_customers_own_tickets(portal, ticket, org):
    other = open_ticket(CustomerFactory(organization=org), subject="Fremdes Ticket")
    html = portal.get(reverse("portal:tickets")).content.decode()
    assert "Scanner streikt" in html
    assert other.subject not in html


def test_a_contact_opens_a_ticket_with_its_own_folder(portal, customer, folder, portal_contact, org):
    foreign_folder = supported_folder(CustomerFactory(organization=org))
    page = portal.get(reverse("portal:ticket_new")).content.decode()
    assert folder.number in page and foreign_folder.number not in page

    refused = portal.post(
        reverse("portal:ticket_new"), {"subject": "x", "description": "y", "folder": foreign_folder.pk}
    )
    assert refused.status_code == 200 and not Ticket.objects.exists()

    response = portal.post(
        reverse("portal:ticket_new"),
        {"subject": "Drucker offline", "description": "Seit heute früh.", "folder": folder.pk},
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("portal:ticket", args=[ticket.pk])
    assert (ticket.customer, ticket.contact, ticket.folder, ticket.channel) == (
        customer,
        portal_contact,
        folder,
        "portal",
    )
    assert ticket.response_due_at is not None


def test_a_contact_replies_and_closes_and_then_is_asked_for_a_new_ticket(portal, ticket, support_user):
    services.ticket_reply(ticket=ticket, body="Erledigt?", user=support_user, status=TicketStatus.WAITING)
    portal.post(reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "Leider nein."})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN

    portal.post(reverse("portal:ticket_close", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    page = portal.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert "eröffnen Sie bitte ein neues Ticket" in page
    assert reverse("portal:ticket_reply", args=[ticket.pk]) not in page

    count = ticket.messages.count()
    response = portal.post(reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "Noch was"})
    assert response.status_code == 400
    assert "neues Ticket" in response.content.decode()
    assert ticket.messages.count() == count


@pytest.mark.parametrize("who", ["neighbour", "stranger"])
def test_other_contacts_get_404_on_every_ticket_page(who, request, ticket, attachment):
    client = request.getfixturevalue(who)
    assert client.get(reverse("portal:ticket", args=[ticket.pk])).status_code == 404
    assert client.post(reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "Hallo"}).status_code == 404
    assert client.post(reverse("portal:ticket_close", args=[ticket.pk])).status_code == 404
    assert client.get(reverse("portal:ticket_attachment", args=[ticket.pk, attachment.pk])).status_code == 404
    assert "Scanner streikt" not in client.get(reverse("portal:tickets")).content.decode()
    ticket.refresh_from_db()
    assert ticket.status != TicketStatus.CLOSED
    assert not ticket.messages.filter(body="Hallo").exists()


def test_staff_logins_do_not_open_the_portal_ticket_pages(client_for, admin_user, ticket):
    response = client_for(admin_user).get(reverse("portal:ticket", args=[ticket.pk]))
    assert response.status_code == 302
    assert reverse("portal:login") in response["Location"]
