"""Every write to tickets: opening, replies, internal notes, assignment, status changes.

Status rules (one place):
- a public staff reply to a "new" ticket makes it "open" and, being the first, is the
  measured first response; the reply may also set "waiting for customer" or "resolved";
- an internal note changes no status, measures nothing and e-mails nobody outside;
- a customer reply on "waiting" or "resolved" reopens the ticket ("open");
- the customer may close a ticket; "closed" is final for the portal (a reply there is
  refused with a hint to open a new ticket), staff may reopen it;
- "resolved" stamps `resolved_at` (the measured resolution); reopening clears it, so the
  resolution measured is the last one.

Status changes and assignments leave an audit entry. E-mails go out from a Celery task
after the transaction committed: to the contact on a public staff reply, to the assignee
(or the organization's address) on a customer reply and on a ticket opened in the portal.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.audit import audit_log
from organizations.models import Membership, Organization
from organizations.numbering import format_number, sequence_lock

from . import engine
from .attachments import CheckedFile
from .models import (
    Ticket,
    TicketAttachment,
    TicketChannel,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from .selectors import guarantee_for

User = get_user_model()

NUMBER_KIND = "ticket"
NUMBER_PATTERN = "T-{year}-{counter:05}"
# Statuses staff may set by hand (with a reply or on their own).
STAFF_STATUSES = {s.value for s in TicketStatus}


def _number_next(organization: Organization) -> str:
    today = timezone.localdate()
    seq = sequence_lock(organization=organization, kind=NUMBER_KIND, on=today, pattern=NUMBER_PATTERN)
    seq.last_number += 1
    seq.save(update_fields=["last_number"])
    return format_number(NUMBER_PATTERN, year=today.year, counter=seq.last_number)


def _store_files(ticket: Ticket, message: TicketMessage | None, files: list[CheckedFile]) -> None:
    """Store checked files and their rows. Call inside the transaction: if it rolls back,
    the files written so far are removed again (see `_files_removed_on_failure`)."""
    for checked in files:
        attachment = TicketAttachment(
            organization=ticket.organization,
            ticket=ticket,
            message=message,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
        )
        attachment.file.save(checked.name, ContentFile(checked.data), save=False)
        _written.get().append(attachment.file)
        attachment.save()


_written: ContextVar[list] = ContextVar("ticket_files_written")


@contextmanager
def _files_removed_on_failure():
    """A failed write leaves no file behind that no row points to."""
    token = _written.set([])
    try:
        yield
    except BaseException:
        for stored in _written.get():
            stored.storage.delete(stored.name)
        raise
    finally:
        _written.reset(token)


def _name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _status_change(ticket: Ticket, new: str, *, user=None, contact=None, now=None) -> None:
    """Apply a status change with its time stamps and audit entry (no save)."""
    old = ticket.status
    if new == old:
        return
    now = now or timezone.now()
    ticket.status = new
    if new == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif new == TicketStatus.CLOSED:
        ticket.closed_at = now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None
    audit_log(
        organization=ticket.organization,
        user=user,
        action="tickets.ticket.status",
        obj=ticket,
        data={
            "changes": {"status": [old, new]},
            **({"by_contact": str(contact)} if contact is not None else {}),
        },
    )


def _notify(kind: str, ticket: Ticket, message: TicketMessage | None = None) -> None:
    from .tasks import send_ticket_mail

    organization_id, ticket_id = ticket.organization_id, ticket.pk
    message_id = message.pk if message is not None else None
    transaction.on_commit(lambda: send_ticket_mail.delay(kind, ticket_id, message_id, organization_id))


def _check_member(organization: Organization, user) -> None:
    if user is not None and not Membership.objects.filter(organization=organization, user=user).exists():
        raise ValidationError({"assignee": _("This user is not a member of the organization.")})


def ticket_open(
    *,
    organization: Organization,
    customer,
    subject: str,
    description: str,
    contact=None,
    folder=None,
    equipment=None,
    priority: str = TicketPriority.NORMAL,
    channel: str = TicketChannel.PORTAL,
    assignee=None,
    files: list[CheckedFile] | None = None,
    user=None,
    now=None,
) -> Ticket:
    """Open a ticket for `customer`, by its contact in the portal (`user` None) or by staff
    (`user`, e.g. after a phone call). Due times come from the guarantee of the folder's
    service package (no folder: the strictest of the customer's active folders)."""
    now = now or timezone.now()
    if equipment is not None and folder is None:
        folder = equipment.line.folder
    guarantee = guarantee_for(customer=customer, folder=folder, on=timezone.localdate(now))
    ticket = Ticket(
        organization=organization,
        customer=customer,
        contact=contact,
        folder=folder,
        equipment=equipment,
        subject=(subject or "").strip(),
        description=(description or "").strip(),
        priority=priority,
        channel=channel,
        assignee=assignee,
        created_by=user,
        sla_source=guarantee.source,
        response_hours=guarantee.response_hours,
        resolution_hours=guarantee.resolution_hours,
        response_due_at=engine.due_at(now, guarantee.response_hours),
        resolution_due_at=engine.due_at(now, guarantee.resolution_hours),
        created_at=now,
        number="-",
    )
    ticket.full_clean(exclude=["number"])
    _check_member(organization, assignee)
    with _files_removed_on_failure(), transaction.atomic():
        ticket.number = _number_next(organization)
        ticket.save()
        _store_files(ticket, None, files or [])
        audit_log(
            organization=organization,
            user=user,
            action="tickets.ticket.opened",
            obj=ticket,
            data={
                "channel": channel,
                "customer": str(customer),
                **({"contact": str(contact)} if contact is not None else {}),
                **({"assignee": _name(assignee)} if assignee is not None else {}),
            },
        )
        if user is None:
            _notify("opened", ticket)
    return ticket


def ticket_reply(
    *,
    ticket: Ticket,
    body: str,
    user=None,
    contact=None,
    internal: bool = False,
    status: str | None = None,
    files: list[CheckedFile] | None = None,
    now=None,
) -> TicketMessage:
    """Add a message: by staff (`user`; `internal` for a note only staff see; `status` to
    set one with the reply) or by the customer's contact (`contact`)."""
    now = now or timezone.now()
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Please write a message.")})
    if (user is None) == (contact is None):
        raise ValueError("a reply has exactly one author: a staff user or a contact")
    if contact is not None:
        if internal or status:
            raise ValueError("a contact writes public replies only and sets no status")
        if ticket.status == TicketStatus.CLOSED:
            raise ValidationError(
                _("This ticket is closed. Please open a new ticket if you need further help.")
            )
        if contact.customer_id != ticket.customer_id:
            raise ValueError("the contact is not of the ticket's customer")
    if status is not None and status not in STAFF_STATUSES:
        raise ValidationError({"status": _("Unknown status.")})
    if internal and status:
        raise ValidationError({"status": _("An internal note does not change the status.")})

    with _files_removed_on_failure(), transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        message = TicketMessage.objects.create(
            organization=locked.organization,
            ticket=locked,
            author_user=user,
            author_contact=contact,
            body=body,
            is_internal=internal,
            created_at=now,
        )
        _store_files(locked, message, files or [])
        fields = ["updated_at"]
        if user is not None and not internal:
            if locked.first_response_at is None:
                locked.first_response_at = now
                fields.append("first_response_at")
            new_status = status or (TicketStatus.OPEN if locked.status == TicketStatus.NEW else locked.status)
            _status_change(locked, new_status, user=user, now=now)
            _notify("staff_reply", locked, message)
        elif contact is not None:
            if locked.status in (TicketStatus.WAITING, TicketStatus.RESOLVED):
                _status_change(locked, TicketStatus.OPEN, contact=contact, now=now)
            _notify("customer_reply", locked, message)
        fields += ["status", "resolved_at", "closed_at"]
        locked.save(update_fields=fields)
    ticket.refresh_from_db()
    return message


def ticket_status_set(*, ticket: Ticket, status: str, user) -> Ticket:
    """Staff set a status without writing a reply (e.g. "resolved" after an on-site fix)."""
    if status not in STAFF_STATUSES:
        raise ValidationError({"status": _("Unknown status.")})
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        _status_change(locked, status, user=user)
        locked.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
    ticket.refresh_from_db()
    return ticket


def ticket_close(*, ticket: Ticket, contact) -> Ticket:
    """The customer closes the ticket (the problem is gone or no longer matters)."""
    if ticket.status == TicketStatus.CLOSED:
        raise ValidationError(_("This ticket is already closed."))
    if contact.customer_id != ticket.customer_id:
        raise ValueError("the contact is not of the ticket's customer")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        _status_change(locked, TicketStatus.CLOSED, contact=contact)
        locked.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
    ticket.refresh_from_db()
    return ticket


def _field_set(*, ticket: Ticket, field: str, value, user, action: str, shown=lambda value: value) -> Ticket:
    """Change one field of the ticket under its lock, with an audit entry of old and new
    (``shown`` turns a value into what the history prints)."""
    if value == getattr(ticket, field):
        return ticket
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        old = getattr(locked, field)
        setattr(locked, field, value)
        locked.save(update_fields=[field, "updated_at"])
        audit_log(
            organization=locked.organization,
            user=user,
            action=action,
            obj=locked,
            data={"changes": {field: [shown(old), shown(value)]}},
        )
    ticket.refresh_from_db()
    return ticket


def ticket_priority_set(*, ticket: Ticket, priority: str, user) -> Ticket:
    """Staff weigh a ticket (portal tickets arrive as "normal")."""
    if priority not in TicketPriority.values:
        raise ValidationError({"priority": _("Unknown priority.")})
    return _field_set(
        ticket=ticket, field="priority", value=priority, user=user, action="tickets.ticket.priority"
    )


def ticket_assign(*, ticket: Ticket, assignee, user) -> Ticket:
    """Give the ticket to a member of the organization (None: nobody)."""
    _check_member(ticket.organization, assignee)
    return _field_set(
        ticket=ticket,
        field="assignee",
        value=assignee,
        user=user,
        action="tickets.ticket.assigned",
        shown=_name,
    )
