from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from organizations.tables import TABLE_ATTRS
from organizations.timezones import local_datetime

from . import engine
from .badges import due_cell, priority_badge, status_badge
from .models import ACTIVE_STATUSES, Ticket
from .selectors import next_due


def _row_class(record) -> str:
    # Tickets about to breach or in breach stand out in the queue.
    return {engine.BREACHED: "table-danger", engine.AT_RISK: "table-warning"}.get(record.alert_state(), "")


class TicketTable(tables.Table):
    number = tables.Column(verbose_name=_("No."), attrs={"td": {"class": "text-nowrap"}})
    subject = tables.Column(verbose_name=_("Subject"))
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__name", "pk"))
    status = tables.Column(verbose_name=_("Status"))
    priority = tables.Column(verbose_name=_("Priority"))
    assignee = tables.Column(verbose_name=_("Assignee"), order_by=("assignee__username", "pk"))
    due = tables.Column(
        verbose_name=_("Due"),
        empty_values=(),
        order_by=("response_due_at", "resolution_due_at"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    updated_at = tables.Column(verbose_name=_("Last activity"), attrs={"td": {"class": "text-nowrap"}})

    class Meta:
        model = Ticket
        fields = ["number", "subject", "customer", "status", "priority", "assignee", "due", "updated_at"]
        attrs = TABLE_ATTRS
        row_attrs = {"class": _row_class}
        order_by = ("-created_at",)

    def render_number(self, record):
        return format_html('<a href="{}">{}</a>', reverse("tickets:detail", args=[record.pk]), record.number)

    def render_subject(self, record):
        return format_html(
            '<a class="text-decoration-none" href="{}">{}</a>',
            reverse("tickets:detail", args=[record.pk]),
            record.subject,
        )

    def render_customer(self, record):
        return format_html(
            '<a class="text-decoration-none" href="{}">{}</a>',
            reverse("customers:detail", args=[record.customer_id]),
            record.customer.name,
        )

    def render_status(self, record):
        return status_badge(record)

    def render_priority(self, record):
        return priority_badge(record)

    def render_assignee(self, record):
        return record.assignee.get_full_name() or record.assignee.username

    def render_due(self, record):
        if record.status not in ACTIVE_STATUSES:
            return "—"
        return due_cell(next_due(record), record.alert_state())

    def render_updated_at(self, value):
        return local_datetime(value)
