"""Reads shared by the queue, the ticket pages, the portal and the dashboard."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from folders.models import Equipment, Folder, FolderStatus, RecurringLine

from . import engine
from .models import ACTIVE_STATUSES, Ticket, TicketMessage


def guarantee_for(*, customer, folder=None, on: dt.date | None = None) -> engine.Guarantee:
    """The response times a ticket of `customer` is measured against: from the service
    packages of the folder's recurring lines running on `on`, or - no folder chosen - of
    every active folder of the customer; with several packages the strictest wins."""
    on = on or timezone.localdate()
    lines = RecurringLine.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=on),
        service_package__isnull=False,
        start_date__lte=on,
    ).filter(
        Q(service_package__response_hours__isnull=False) | Q(service_package__resolution_hours__isnull=False)
    )
    if folder is not None:
        lines = lines.filter(folder=folder)
    else:
        lines = lines.filter(folder__customer=customer, folder__status=FolderStatus.ACTIVE)
    packages = {
        line.service_package_id: line.service_package for line in lines.select_related("service_package")
    }
    return engine.strictest(
        engine.Guarantee(response_hours=p.response_hours, resolution_hours=p.resolution_hours, source=p.name)
        for p in sorted(packages.values(), key=lambda p: p.pk)
    )


def customer_folders(customer) -> QuerySet[Folder]:
    return Folder.objects.filter(customer=customer).exclude(status=FolderStatus.DRAFT).order_by("number")


def customer_equipment(customer) -> QuerySet[Equipment]:
    return (
        Equipment.objects.filter(line__folder__customer=customer)
        .exclude(line__folder__status=FolderStatus.DRAFT)
        .select_related("line__folder")
        .order_by("line__folder__number", "line_id", "piece")
    )


def ticket_queue() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("customer", "contact", "assignee", "folder")


def tickets_of_customer(customer) -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer=customer).select_related("contact")


def overdue_q(now: dt.datetime) -> Q:
    """Active tickets whose first response or resolution due time has passed."""
    return Q(status__in=ACTIVE_STATUSES) & (
        Q(first_response_at__isnull=True, response_due_at__lt=now) | Q(resolution_due_at__lt=now)
    )


def tickets_needing_attention(*, now: dt.datetime | None = None, limit: int = 10) -> list[Ticket]:
    """Active tickets in breach or about to breach, the most urgent first (breaches, then
    the nearest due time). The candidates are those with a due time within the widest
    at-risk window; the exact state is the engine's."""
    now = now or timezone.now()
    candidates = (
        ticket_queue()
        .filter(status__in=ACTIVE_STATUSES)
        .filter(
            Q(first_response_at__isnull=True, response_due_at__isnull=False)
            | Q(resolution_due_at__isnull=False)
        )
    )
    flagged = []
    for ticket in candidates.order_by("response_due_at", "resolution_due_at", "id")[:500]:
        state = ticket.alert_state(now)
        if state in (engine.AT_RISK, engine.BREACHED):
            ticket.alert = state
            flagged.append(ticket)
    flagged.sort(key=lambda t: (t.alert != engine.BREACHED, next_due(t) or now))
    return flagged[:limit] if limit else flagged


def next_due(ticket: Ticket) -> dt.datetime | None:
    """The due time that matters next: the first response until it happened, then the
    resolution."""
    if ticket.first_response_at is None and ticket.response_due_at is not None:
        return ticket.response_due_at
    return ticket.resolution_due_at


def public_messages(ticket: Ticket) -> QuerySet[TicketMessage]:
    return (
        ticket.messages.filter(is_internal=False)
        .select_related("author_user", "author_contact")
        .prefetch_related("attachments")
    )


def all_messages(ticket: Ticket) -> QuerySet[TicketMessage]:
    return ticket.messages.select_related("author_user", "author_contact").prefetch_related("attachments")
