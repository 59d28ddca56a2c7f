from __future__ import annotations

import random

import pytest

from demo import catalog as catalog_demo
from demo import customers as customers_demo
from demo import folders as folders_demo
from demo import tickets as tickets_demo
from tickets import engine
from tickets.models import Ticket, TicketMessage, TicketStatus

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _seed(org, users):
    for module in (customers_demo, catalog_demo, folders_demo, tickets_demo):
        module.seed(org, rng=random.Random(42), users=users)


def test_the_demo_has_tickets_in_every_status_with_a_note_a_risk_and_a_breach(
    org, admin_user, sales_user, billing_user, support_user
):
    users = {"admin": admin_user, "sales": sales_user, "billing": billing_user, "support": support_user}
    _seed(org, users)
    counts = (Ticket.objects.count(), TicketMessage.objects.count())
    _seed(org, users)
    assert (Ticket.objects.count(), TicketMessage.objects.count()) == counts

    tickets = list(Ticket.objects.filter(organization=org))
    assert {t.status for t in tickets} == set(TicketStatus.values)
    assert TicketMessage.objects.filter(is_internal=True).exists()
    assert TicketMessage.objects.filter(author_contact__isnull=False).exists()
    alerts = {t.alert_state() for t in tickets}
    assert {engine.AT_RISK, engine.BREACHED} <= alerts
    assert all(t.response_hours for t in tickets)
    # Customer-side authors are contacts of the ticket's customer.
    for message in TicketMessage.objects.filter(author_contact__isnull=False).select_related("ticket"):
        assert message.author_contact.customer_id == message.ticket.customer_id
