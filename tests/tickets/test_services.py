"""Opening, replies, status rules, measured times, audit entries and e-mails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from organizations.models import AuditEntry
from tests.customers.factories import ContactFactory, CustomerFactory
from tickets import engine, services
from tickets.models import Ticket, TicketStatus

from .factories import open_ticket, supported_folder

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the services schedule after commit (the e-mails)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_it_takes_the_due_times_from_the_folders_service_package(customer, folder, portal_contact):
    now = timezone.now()
    ticket = open_ticket(customer, contact=portal_contact, folder=folder, now=now)
    assert (ticket.response_hours, ticket.resolution_hours) == (4, 24)
    assert ticket.response_due_at == now + 4 * H
    assert ticket.resolution_due_at == now + 24 * H
    assert ticket.number.startswith("T-")
    assert ticket.status == TicketStatus.NEW


def test_without_a_folder_it_takes_the_strictest_of_the_customers_active_folders(customer):
    supported_folder(customer, response_hours=8, resolution_hours=48)
    supported_folder(customer, response_hours=2, resolution_hours=72, name="Hotline Premium")
    supported_folder(customer, response_hours=1, resolution_hours=1, status="terminated")
    ticket = open_ticket(customer)
    assert (ticket.response_hours, ticket.resolution_hours) == (2, 48)
    assert ticket.sla_source == "Hotline Premium"


def test_a_customer_without_a_package_gets_no_due_times(org):
    ticket = open_ticket(CustomerFactory(organization=org))
    assert ticket.response_due_at is None and ticket.resolution_due_at is None
    assert ticket.alert_state() == engine.NONE


def test_it_refuses_a_folder_of_another_customer(customer, org):
    other_folder = supported_folder(CustomerFactory(organization=org))
    with pytest.raises(ValidationError):
        open_ticket(customer, folder=other_folder)
    assert not Ticket.objects.exists()


def test_the_first_public_staff_reply_is_the_first_response_and_opens_the_ticket(
    customer, folder, portal_contact, support_user
):
    ticket = open_ticket(customer, contact=portal_contact, folder=folder)
    services.ticket_reply(ticket=ticket, body="Interne Info", user=support_user, internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None and ticket.status == TicketStatus.NEW

    first = timezone.now()
    services.ticket_reply(ticket=ticket, body="Wir kümmern uns.", user=support_user, now=first)
    services.ticket_reply(ticket=ticket, body="Noch etwas.", user=support_user, now=first + H)
    ticket.refresh_from_db()
    assert ticket.first_response_at == first
    assert ticket.status == TicketStatus.OPEN
    assert ticket.response_state() == engine.MET


def test_a_late_first_response_stays_a_breach(customer, folder, support_user):
    opened = timezone.now() - 6 * H
    ticket = open_ticket(customer, folder=folder, now=opened)
    assert ticket.alert_state() == engine.BREACHED
    services.ticket_reply(ticket=ticket, body="Entschuldigung.", user=support_user)
    ticket.refresh_from_db()
    assert ticket.response_state() == engine.BREACHED
    # The resolution (24 h) still runs in time, so the queue no longer flags it.
    assert ticket.alert_state() == engine.OK


def test_a_ticket_close_to_its_due_time_is_about_to_breach(customer, folder):
    ticket = open_ticket(customer, folder=folder, now=timezone.now() - 2.5 * H)
    assert ticket.alert_state() == engine.AT_RISK


def test_staff_can_ask_the_customer_and_a_customer_reply_reopens(
    customer, folder, portal_contact, support_user
):
    ticket = open_ticket(customer, contact=portal_contact, folder=folder)
    services.ticket_reply(ticket=ticket, body="Seriennummer?", user=support_user, status=TicketStatus.WAITING)
    assert ticket.status == TicketStatus.WAITING
    services.ticket_reply(ticket=ticket, body="SN 12345", contact=portal_contact)
    assert ticket.status == TicketStatus.OPEN


def test_resolution_is_measured_and_a_customer_reply_reopens_a_resolved_ticket(
    customer, folder, portal_contact, support_user
):
    ticket = open_ticket(customer, contact=portal_contact, folder=folder)
    services.ticket_reply(ticket=ticket, body="Erledigt.", user=support_user, status=TicketStatus.RESOLVED)
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_at is not None
    assert ticket.resolution_state() == engine.MET
    services.ticket_reply(ticket=ticket, body="Leider wieder kaputt.", contact=portal_contact)
    assert ticket.status == TicketStatus.OPEN and ticket.resolved_at is None


def test_the_customer_closes_and_can_no_longer_reply(customer, folder, portal_contact):
    ticket = open_ticket(customer, contact=portal_contact, folder=folder)
    services.ticket_close(ticket=ticket, contact=portal_contact)
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    with pytest.raises(ValidationError, match="neues Ticket"):
        services.ticket_reply(ticket=ticket, body="Noch eine Frage", contact=portal_contact)
    assert ticket.messages.count() == 0


def test_status_changes_and_assignments_are_audited(customer, folder, support_user, admin_user):
    ticket = open_ticket(customer, folder=folder, user=admin_user)
    services.ticket_assign(ticket=ticket, assignee=support_user, user=admin_user)
    services.ticket_status_set(ticket=ticket, status=TicketStatus.RESOLVED, user=support_user)
    actions = list(
        AuditEntry.objects.filter(object_type="tickets.ticket", object_id=ticket.pk)
        .order_by("id")
        .values_list("action", "data")
    )
    assert [a for a, _ in actions] == [
        "tickets.ticket.opened",
        "tickets.ticket.assigned",
        "tickets.ticket.status",
    ]
    assert actions[1][1]["changes"]["assignee"] == ["", support_user.get_full_name()]
    assert actions[2][1]["changes"]["status"] == ["new", "resolved"]


def test_it_refuses_an_assignee_outside_the_organization(customer, folder, outsider, admin_user):
    ticket = open_ticket(customer, folder=folder)
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=ticket, assignee=outsider, user=admin_user)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_a_staff_reply_emails_the_contact_with_the_portal_link(
    customer, folder, portal_contact, support_user, committed
):
    ticket = open_ticket(customer, contact=portal_contact, folder=folder)
    mail.outbox.clear()
    with committed():
        services.ticket_reply(ticket=ticket, body="Der Techniker kommt morgen.", user=support_user)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [portal_contact.email]
    assert ticket.number in message.subject
    assert "Der Techniker kommt morgen." in message.body
    assert f"/portal/tickets/{ticket.pk}/" in message.body


def test_an_internal_note_emails_nobody(customer, folder, portal_contact, support_user, committed):
    ticket = open_ticket(customer, contact=portal_contact, folder=folder)
    mail.outbox.clear()
    with committed() as callbacks:
        services.ticket_reply(ticket=ticket, body="Nur intern", user=support_user, internal=True)
    assert callbacks == []
    assert mail.outbox == []


def test_a_portal_ticket_and_a_customer_reply_email_the_assignee_or_the_organization(
    org, customer, folder, portal_contact, support_user, committed
):
    org.email = "service@nordtek.example"
    org.save()
    mail.outbox.clear()
    with committed():
        ticket = open_ticket(customer, contact=portal_contact, folder=folder)
    assert [m.to for m in mail.outbox] == [["service@nordtek.example"]]
    assert f"/tickets/{ticket.pk}/" in mail.outbox[0].body

    support_user.email = "stefan@nordtek.example"
    support_user.save()
    services.ticket_assign(ticket=ticket, assignee=support_user, user=support_user)
    mail.outbox.clear()
    with committed():
        services.ticket_reply(ticket=ticket, body="Gibt es Neuigkeiten?", contact=portal_contact)
    assert [m.to for m in mail.outbox] == [["stefan@nordtek.example"]]
    assert "Gibt es Neuigkeiten?" in mail.outbox[0].body


def test_a_ticket_staff_open_by_phone_emails_nobody(
    org, customer, folder, portal_contact, support_user, committed
):
    org.email = "service@nordtek.example"
    org.save()
    mail.outbox.clear()
    with committed():
        open_ticket(customer, contact=portal_contact, folder=folder, user=support_user)
    assert mail.outbox == []


def test_a_contact_of_another_customer_cannot_reply(org, customer, folder, portal_contact):
    ticket = open_ticket(customer, contact=portal_contact, folder=folder)
    stranger = ContactFactory(customer=CustomerFactory(organization=org))
    with pytest.raises(ValueError):
        services.ticket_reply(ticket=ticket, body="Hallo", contact=stranger)
