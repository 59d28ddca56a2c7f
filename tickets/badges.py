"""How a ticket's status, priority and response-time state look, in one place for the
queue, the ticket page, the portal and the dashboard."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from organizations.timezones import local_datetime

from . import engine
from .models import TicketPriority, TicketStatus

STATUS_CLASSES = {
    TicketStatus.NEW: "text-bg-primary",
    TicketStatus.OPEN: "text-bg-info",
    TicketStatus.WAITING: "text-bg-warning",
    TicketStatus.RESOLVED: "text-bg-success",
    TicketStatus.CLOSED: "text-bg-secondary",
}
PRIORITY_CLASSES = {
    TicketPriority.LOW: "text-bg-light border",
    TicketPriority.NORMAL: "text-bg-light border",
    TicketPriority.HIGH: "text-bg-warning",
    TicketPriority.URGENT: "text-bg-danger",
}
SLA_LABELS = {
    engine.AT_RISK: (_("about to breach"), "text-bg-warning", "bi-hourglass-split"),
    engine.BREACHED: (_("overdue"), "text-bg-danger", "bi-exclamation-octagon"),
    engine.MET: (_("met"), "text-bg-success", "bi-check2"),
}


def status_badge(ticket) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>', STATUS_CLASSES.get(ticket.status, ""), ticket.get_status_display()
    )


def priority_badge(ticket) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>',
        PRIORITY_CLASSES.get(ticket.priority, ""),
        ticket.get_priority_display(),
    )


def sla_badge(state: str) -> SafeString:
    if state not in SLA_LABELS:
        return mark_safe("")
    label, css, icon = SLA_LABELS[state]
    return format_html(
        '<span class="badge {}"><i class="bi {}" aria-hidden="true"></i> {}</span>', css, icon, label
    )


def due_cell(due, state: str) -> SafeString:
    if due is None:
        return mark_safe('<span class="text-body-secondary">—</span>')
    return format_html('<span class="text-nowrap">{}</span> {}', local_datetime(due), sla_badge(state))
