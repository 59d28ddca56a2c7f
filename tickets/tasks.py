"""Celery tasks of the tickets app: thin wrappers that re-enter the tenant scope.

They run after the transaction that wrote the reply committed (services schedule them with
`transaction.on_commit`). A mail server that does not answer is retried with backoff; a
ticket or message gone meanwhile sends nothing.
"""

from __future__ import annotations

from celery import shared_task
from django_scopes import scope

from organizations.models import Organization
from organizations.timezones import organization_time


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_ticket_mail(kind: str, ticket_id: int, message_id: int | None, organization_id: int) -> int:
    """Send the e-mail of one ticket event; returns the number of mails sent (0 or 1)."""
    from .mail import ticket_mail
    from .models import Ticket, TicketMessage

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization), organization_time(organization):
        ticket = (
            Ticket.objects.select_related("customer", "contact", "assignee", "organization")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None:
            return 0
        message = TicketMessage.objects.filter(pk=message_id, ticket=ticket).first() if message_id else None
        mail = ticket_mail(kind, ticket, message)
        return mail.send() if mail is not None else 0
