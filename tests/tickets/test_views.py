"""The back office: the queue and its filters, the ticket page, replies, notes, assignment,
status, staff-opened tickets, roles and the tenant wall."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.customers.factories import ContactFactory, CustomerFactory
from tickets import services
from tickets.models import Ticket, TicketMessage, TicketStatus

from .factories import open_ticket, supported_folder

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@pytest.fixture
def ticket(customer, folder, portal_contact):
    return open_ticket(customer, contact=portal_contact, folder=folder, subject="Kopierer zieht schief ein")


def _numbers(response) -> list[str]:
    return [t.number for t in response.context["table"].data]


def test_the_queue_shows_active_tickets_and_flags_breaches(client_for, support_user, customer, folder):
    fine = open_ticket(customer, folder=folder, subject="Alles im Rahmen")
    late = open_ticket(customer, folder=folder, subject="Schon zu spät", now=timezone.now() - 5 * H)
    done = open_ticket(customer, folder=folder, subject="Erledigt")
    services.ticket_status_set(ticket=done, status=TicketStatus.CLOSED, user=support_user)

    response = client_for(support_user).get(reverse("tickets:list"))
    assert response.status_code == 200
    assert set(_numbers(response)) == {fine.number, late.number}
    html = response.content.decode()
    assert "table-danger" in html
    assert "überfällig" in html
    assert response.context["attention"] == [late]


def test_the_queue_filters_by_status_priority_assignee_customer_and_overdue(
    client_for, org, support_user, admin_user, customer, folder
):
    other = CustomerFactory(organization=org, name="Zweite Kundin AG")
    a = open_ticket(customer, folder=folder, priority="urgent", assignee=support_user)
    b = open_ticket(other, priority="low")
    c = open_ticket(customer, folder=folder, now=timezone.now() - 5 * H)
    services.ticket_status_set(ticket=b, status=TicketStatus.WAITING, user=admin_user)
    client = client_for(support_user)
    url = reverse("tickets:list")

    assert _numbers(client.get(url, {"status": "waiting"})) == [b.number]
    assert _numbers(client.get(url, {"priority": "urgent"})) == [a.number]
    assert _numbers(client.get(url, {"assignee": "me"})) == [a.number]
    assert _numbers(client.get(url, {"assignee": str(support_user.pk)})) == [a.number]
    assert set(_numbers(client.get(url, {"assignee": "none"}))) == {b.number, c.number}
    assert _numbers(client.get(url, {"customer": other.pk})) == [b.number]
    assert _numbers(client.get(url, {"overdue": "yes"})) == [c.number]
    # Nonsense in the URL is ignored, never a 500.
    assert client.get(url, {"assignee": "x' OR 1=1", "customer": "abc", "status": "zzz"}).status_code == 200


def test_the_ticket_page_shows_the_customers_folders_equipment_and_warranty(
    client_for, readonly_user, ticket, folder
):
    from tests.folders.factories import add_oneoff, add_pieces

    line = add_oneoff(folder, quantity="1", is_equipment=True, description="Kopierer MX-3")
    line.equipment.update(serial_number="SN-4711", warranty_end=dt.date(2099, 1, 31))
    del add_pieces
    response = client_for(readonly_user).get(reverse("tickets:detail", args=[ticket.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert folder.number in html
    assert "SN-4711" in html
    assert "Garantie bis 31.01.2099" in html
    # Read-only staff see the ticket, not the forms that change it.
    assert reverse("tickets:reply", args=[ticket.pk]) not in html


def test_a_reply_emails_the_contact_and_a_note_stays_internal(
    client_for, support_user, ticket, portal, portal_contact, django_capture_on_commit_callbacks
):
    client = client_for(support_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": "Geheime Notiz zum Kunden", "internal": "on"}
        )
    assert response.status_code == 302
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Wir kommen morgen vorbei."})
    assert [m.to for m in mail.outbox] == [[portal_contact.email]]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.first_response_at is not None

    staff_page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Geheime Notiz zum Kunden" in staff_page
    portal_page = portal.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert "Wir kommen morgen vorbei." in portal_page
    assert "Geheime Notiz" not in portal_page


def test_a_reply_can_set_waiting_for_the_customer(client_for, support_user, ticket):
    client_for(support_user).post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "Bitte Seriennummer senden.", "status": "waiting"},
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING


def test_an_empty_reply_is_refused_with_a_message(client_for, support_user, ticket):
    response = client_for(support_user).post(reverse("tickets:reply", args=[ticket.pk]), {"body": "  "})
    assert response.status_code == 400
    assert "Pflichtfeld" in response.content.decode() or "Bitte" in response.content.decode()
    assert not TicketMessage.objects.exists()


def test_staff_assign_and_set_the_status(client_for, admin_user, support_user, ticket):
    client = client_for(admin_user)
    client.post(reverse("tickets:assign", args=[ticket.pk]), {"assignee": support_user.pk})
    client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "resolved"})
    ticket.refresh_from_db()
    assert ticket.assignee == support_user
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_at is not None
    response = client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "bogus"}, follow=True)
    assert "gültigen Status" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED


def test_assigning_a_user_of_another_organization_is_refused(client_for, admin_user, outsider, ticket):
    response = client_for(admin_user).post(
        reverse("tickets:assign", args=[ticket.pk]), {"assignee": outsider.pk}, follow=True
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_staff_open_a_ticket_for_a_customer_after_a_phone_call(client_for, support_user, customer, folder):
    contact = ContactFactory(customer=customer, email="anrufer@example.de")
    client = client_for(support_user)
    page = client.get(reverse("tickets:create"), {"customer": customer.pk})
    assert page.status_code == 200
    assert folder.number in page.content.decode()
    response = client.post(
        reverse("tickets:create"),
        {
            "customer": customer.pk,
            "contact": contact.pk,
            "channel": "phone",
            "priority": "high",
            "assignee": support_user.pk,
            "subject": "Telefon: Fax geht nicht",
            "description": "Kunde rief um 9 Uhr an.",
            "folder": folder.pk,
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert (ticket.channel, ticket.priority, ticket.contact, ticket.created_by) == (
        "phone",
        "high",
        contact,
        support_user,
    )
    assert ticket.response_hours == 4


def test_staff_cannot_choose_another_customers_folder(client_for, org, support_user, customer):
    foreign = supported_folder(CustomerFactory(organization=org))
    response = client_for(support_user).post(
        reverse("tickets:create"),
        {
            "customer": customer.pk,
            "channel": "phone",
            "priority": "normal",
            "subject": "x",
            "description": "y",
            "folder": foreign.pk,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["folder"]
    assert not Ticket.objects.exists()


def test_read_only_staff_cannot_write(client_for, readonly_user, ticket, customer):
    client = client_for(readonly_user)
    assert client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "x"}).status_code == 403
    assert client.post(reverse("tickets:assign", args=[ticket.pk]), {"assignee": ""}).status_code == 403
    assert client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "closed"}).status_code == 403
    assert client.get(reverse("tickets:create"), {"customer": customer.pk}).status_code == 403
    assert not TicketMessage.objects.exists()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_staff_of_another_organization_get_404(client_for, outsider, ticket):
    client = client_for(outsider)
    assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 404
    assert client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "x"}).status_code == 404
    assert client.post(reverse("tickets:assign", args=[ticket.pk]), {"assignee": ""}).status_code == 404
    assert client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "closed"}).status_code == 404
    assert client.get(reverse("tickets:list")).context["table"].paginator.count == 0


def test_the_dashboard_lists_tickets_in_breach_and_about_to_breach(
    client_for, billing_user, customer, folder
):
    late = open_ticket(customer, folder=folder, subject="Längst überfällig", now=timezone.now() - 5 * H)
    close = open_ticket(customer, folder=folder, subject="Bald fällig", now=timezone.now() - 2.5 * H)
    open_ticket(customer, folder=folder, subject="Gerade erst gekommen")
    response = client_for(billing_user).get(reverse("dashboard"))
    assert response.context["ticket_alerts"] == [late, close]
    html = response.content.decode()
    assert 'id="ticket-alerts"' in html
    assert "Längst überfällig" in html and "Bald fällig" in html
    assert "Gerade erst gekommen" not in html


def test_the_dashboard_has_no_ticket_card_when_nothing_is_at_risk(client_for, billing_user, customer, folder):
    open_ticket(customer, folder=folder)
    assert 'id="ticket-alerts"' not in client_for(billing_user).get(reverse("dashboard")).content.decode()


def test_the_service_package_form_stores_the_response_times(client_for, admin_user, org):
    from catalog.models import ServicePackage
    from tests.catalog.factories import standard_rate

    response = client_for(admin_user).post(
        reverse("catalog:package_create"),
        {
            "name": "Hotline 4h",
            "code": "HOT-4",
            "price": "19,00",
            "cycle": "1",
            "tax_rate": standard_rate(org).pk,
            "is_active": "on",
            "response_hours": "4",
            "resolution_hours": "24",
            "ent-TOTAL_FORMS": "0",
            "ent-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    package = ServicePackage.objects.get(code="HOT-4")
    assert (package.response_hours, package.resolution_hours) == (4, 24)
    detail = client_for(admin_user).get(reverse("catalog:package_detail", args=[package.pk])).content.decode()
    assert "4 Stunden" in detail and "24 Stunden" in detail


@pytest.mark.parametrize("role", ["admin", "billing", "sales", "support"])
def test_every_role_but_read_only_may_work_tickets(role, request, client_for, ticket):
    from organizations.roles import role_has

    assert role_has(role, "tickets.change")
    assert not role_has("readonly", "tickets.change")
    client = client_for(request.getfixturevalue(f"{role}_user"))
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": f"Antwort von {role}"})
    assert response.status_code == 302
    assert ticket.messages.filter(body=f"Antwort von {role}").exists()


def test_staff_weigh_a_portal_ticket_and_the_change_is_audited(client_for, support_user, ticket):
    from organizations.models import AuditEntry

    client = client_for(support_user)
    client.post(reverse("tickets:priority", args=[ticket.pk]), {"priority": "urgent"})
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    entry = AuditEntry.objects.get(action="tickets.ticket.priority")
    assert entry.data["changes"]["priority"] == ["normal", "urgent"]
    client.post(reverse("tickets:priority", args=[ticket.pk]), {"priority": "whatever"})
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
