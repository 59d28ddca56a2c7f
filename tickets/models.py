"""Support tickets: opened by a customer's contact in the portal or by staff (a phone call),
answered by staff, measured against the response time the customer's service package
guarantees.

Statuses (the rules live in tickets/services.py):
- new: nobody of the staff has answered yet;
- open: being worked on (a staff reply to a new ticket, or a customer reply, makes it open);
- waiting: waiting for the customer (set by staff with a reply); the clocks keep running;
- resolved: staff consider it solved; a customer reply reopens it;
- closed: final for the customer (closed by the customer, or by staff); the portal asks
  for a new ticket instead of a reply. Staff may reopen it.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import TenantModel, user_reference

from . import engine


class TicketStatus(models.TextChoices):
    NEW = "new", _("new")
    OPEN = "open", _("open")
    WAITING = "waiting", _("waiting for customer")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


# Statuses in which the ticket still needs staff work (the queue's default view).
ACTIVE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)


class TicketPriority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    URGENT = "urgent", _("urgent")


class TicketChannel(models.TextChoices):
    PORTAL = "portal", _("customer portal")
    PHONE = "phone", _("phone")
    EMAIL = "email", _("e-mail")
    OTHER = "other", _("other")


class Ticket(TenantModel):
    """One support case of one customer. Folder and equipment are optional and always of
    the same customer (checked in `clean`). The guarantee is copied onto the ticket when
    it is opened, so a later contract change does not move a running ticket's due times."""

    number = models.CharField(_("ticket number"), max_length=30)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    folder = models.ForeignKey(
        "folders.Folder",
        verbose_name=_("folder"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    equipment = models.ForeignKey(
        "folders.Equipment",
        verbose_name=_("equipment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    status = models.CharField(
        _("status"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    channel = models.CharField(_("channel"), max_length=10, choices=TicketChannel.choices)
    assignee = user_reference(_("assignee"))
    created_by = user_reference(_("created by"))

    # The guarantee taken from the service package when the ticket was opened.
    sla_source = models.CharField(_("guarantee from"), max_length=200, blank=True)
    response_hours = models.PositiveSmallIntegerField(
        _("guaranteed first response (hours)"), null=True, blank=True
    )
    resolution_hours = models.PositiveSmallIntegerField(
        _("guaranteed resolution (hours)"), null=True, blank=True
    )
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    # Measured: the first public staff reply, and the (last) move to resolved.
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    updated_at = models.DateTimeField(_("last activity"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ticket_unique_number"),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "response_due_at"], name="ticket_org_status_resp"),
            models.Index(fields=["organization", "customer"], name="ticket_org_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def clean(self):
        errors = {}
        if self.folder_id and self.customer_id and self.folder.customer_id != self.customer_id:
            errors["folder"] = _("This folder belongs to another customer.")
        if self.equipment_id and self.customer_id:
            if self.equipment.line.folder.customer_id != self.customer_id:
                errors["equipment"] = _("This equipment belongs to another customer.")
            elif self.folder_id and self.equipment.line.folder_id != self.folder_id:
                errors["equipment"] = _("This equipment is not part of the chosen folder.")
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            errors["contact"] = _("This contact belongs to another customer.")
        if errors:
            raise ValidationError(errors)

    # --- response times -------------------------------------------------------------

    def response_state(self, now: dt.datetime | None = None) -> str:
        return engine.window_state(
            opened_at=self.created_at,
            due=self.response_due_at,
            done_at=self.first_response_at,
            now=now or timezone.now(),
        )

    def resolution_state(self, now: dt.datetime | None = None) -> str:
        done = self.resolved_at or self.closed_at
        return engine.window_state(
            opened_at=self.created_at, due=self.resolution_due_at, done_at=done, now=now or timezone.now()
        )

    def alert_state(self, now: dt.datetime | None = None) -> str:
        """What the queue and the dashboard flag: the worse of the windows still running
        (a breach that already happened on a finished window is history, not an alarm)."""
        if self.status not in ACTIVE_STATUSES:
            return engine.NONE
        now = now or timezone.now()
        states = []
        if self.first_response_at is None:
            states.append(self.response_state(now))
        states.append(self.resolution_state(now))
        return engine.worst(*states)

    @property
    def is_final_for_portal(self) -> bool:
        return self.status == TicketStatus.CLOSED


class TicketMessage(TenantModel):
    """One reply in a ticket's thread: by staff (`author_user`) or by the customer's contact
    (`author_contact`). Internal notes are staff-only and never reach the portal or an
    e-mail."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_user = user_reference(_("staff author"))
    author_contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_internal=False) | models.Q(author_contact__isnull=True),
                name="ticketmessage_internal_by_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} #{self.pk}"

    @property
    def by_customer(self) -> bool:
        return self.author_user_id is None


def attachment_path(instance: TicketAttachment, filename: str) -> str:
    """A random name under the organization's folder: the original name (which the user
    chose, and may say anything) is kept in a column and never reaches the file system."""
    import uuid

    return f"tickets/{instance.organization_id}/{uuid.uuid4().hex}"


class TicketAttachment(TenantModel):
    """A file sent with a ticket or one of its messages. Stored through Django's storage
    under MEDIA_ROOT, which no URL serves: downloads go through views that check access.
    The content type is the one sniffed from the bytes when it was uploaded."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        TicketMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_internal(self) -> bool:
        return self.message is not None and self.message.is_internal
