"""The e-mails a ticket sends: to the contact when staff reply, to the assignee (or the
organization's address) when the customer writes. Each links to the ticket's page (the
portal page for the contact, the back-office page for staff); replying to the mail itself
is not read by anything, which the text says."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Ticket, TicketMessage

KINDS = ("opened", "staff_reply", "customer_reply")


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _recipients_staff(ticket: Ticket) -> list[str]:
    if ticket.assignee is not None and ticket.assignee.email:
        return [ticket.assignee.email]
    return [ticket.organization.email] if ticket.organization.email else []


def ticket_mail(kind: str, ticket: Ticket, message: TicketMessage | None) -> EmailMessage | None:
    """The message for one event, or None when there is nobody to write to (or the event
    must not reach anybody outside, as an internal note)."""
    organization = ticket.organization
    if kind == "staff_reply":
        if message is None or message.is_internal or ticket.contact is None or not ticket.contact.email:
            return None
        recipients = [ticket.contact.email]
        language = ticket.customer.language or settings.LANGUAGE_CODE
        link = absolute(reverse("portal:ticket", args=[ticket.pk]))
        with translation.override(language):
            subject = _("[%(number)s] New reply to your support ticket: %(subject)s") % {
                "number": ticket.number,
                "subject": ticket.subject,
            }
            body = _(
                "Hello,\n\nthere is a new reply to your support ticket %(number)s (%(subject)s):\n\n"
                "%(message)s\n\nStatus: %(status)s\n\n"
                "Please answer in our customer portal (replies to this e-mail are not read):\n%(link)s\n\n"
                "Kind regards\n%(organization)s\n"
            ) % {
                "number": ticket.number,
                "subject": ticket.subject,
                "message": message.body,
                "status": ticket.get_status_display(),
                "link": link,
                "organization": organization.name,
            }
    elif kind in ("opened", "customer_reply"):
        recipients = _recipients_staff(ticket)
        if not recipients:
            return None
        link = absolute(reverse("tickets:detail", args=[ticket.pk]))
        with translation.override(settings.LANGUAGE_CODE):
            if kind == "opened":
                subject = _("[%(number)s] New support ticket from %(customer)s: %(subject)s")
                text = ticket.description
            else:
                if message is None:
                    return None
                subject = _("[%(number)s] The customer replied (%(customer)s): %(subject)s")
                text = message.body
            subject = subject % {
                "number": ticket.number,
                "customer": ticket.customer.name,
                "subject": ticket.subject,
            }
            body = _("%(who)s wrote:\n\n%(text)s\n\nOpen the ticket:\n%(link)s\n") % {
                "who": str(ticket.contact or ticket.customer.name),
                "text": text,
                "link": link,
            }
    else:
        raise ValueError(f"unknown ticket mail {kind!r}")
    # Subjects are one line whatever the customer typed.
    subject = " ".join(subject.split())
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[organization.email] if organization.email else None,
    )
