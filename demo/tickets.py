"""Demo support tickets: every status, a thread with an internal note, one ticket about to
breach its first-response time and one in breach.

Called by `seed_demo` as ``seed(organization, rng=..., users=...)`` after the folders.
Idempotent: each ticket is kept under a demo key; the response times of the demo service
packages are set once (and only where nobody set them). Authors on the customer side are
the customers' contacts (rows of customers.Contact), so the tickets need no portal account.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from catalog.models import ServicePackage
from customers.models import Contact
from demo.records import DemoRecords
from folders.models import Equipment, FolderStatus, RecurringLine
from tickets import services
from tickets.models import Ticket, TicketChannel, TicketPriority, TicketStatus
from tickets.selectors import guarantee_for

# package code: (first response hours, resolution hours)
PACKAGE_TIMES = {
    "WART-MFP-PREMIUM": (4, 24),
    "WART-MFP-BASIS": (8, 48),
    "SERVICE-TK": (4, 24),
    "CARE-SERVER": (4, 24),
    "CARE-USV": (24, 72),
}

H = dt.timedelta(hours=1)


def seed(organization, *, rng: random.Random, users: dict) -> None:
    with scope(organization=organization), transaction.atomic():
        _seed(organization, users=users)


def _package_times(organization, demo: DemoRecords) -> None:
    if not demo.once("tickets:package-times"):
        return
    for code, (response, resolution) in PACKAGE_TIMES.items():
        ServicePackage.objects.filter(
            organization=organization, code=code, response_hours__isnull=True
        ).update(response_hours=response, resolution_hours=resolution)


def _supported_customers(organization) -> list:
    """Customers with an active folder that carries a service package with response times,
    with that folder: the ones whose tickets have due times."""
    lines = (
        RecurringLine.objects.filter(
            organization=organization,
            folder__status=FolderStatus.ACTIVE,
            service_package__response_hours__isnull=False,
        )
        .select_related("folder__customer")
        .order_by("folder__customer__name", "folder__number")
    )
    seen, found = set(), []
    for line in lines:
        customer = line.folder.customer
        if customer.pk not in seen:
            seen.add(customer.pk)
            found.append((customer, line.folder))
    return found


def _seed(organization, *, users: dict) -> None:
    demo = DemoRecords(organization, "tickets")
    _package_times(organization, demo)
    supported = _supported_customers(organization)
    if not supported:
        return
    support = users.get("support") or users.get("admin")
    admin = users.get("admin") or support
    now = timezone.now()

    def pick(index: int):
        customer, folder = supported[index % len(supported)]
        contact = (
            Contact.objects.filter(customer=customer, is_active=True).exclude(email="").order_by("pk").first()
        )
        equipment = Equipment.objects.filter(line__folder=folder).order_by("pk").first()
        return customer, folder, contact, equipment

    def make(key: str, index: int, opened_hours_ago: float, subject: str, description: str, **options):
        """One ticket opened `opened_hours_ago`, then `steps` of (hours after opening, kind,
        text, status) with kind staff / note / customer / close / resolve."""
        if not demo.to_make(
            f"tickets:{key}", adopt=Ticket.objects.filter(organization=organization, subject=subject)
        ):
            return
        customer, folder, contact, equipment = pick(index)
        if options.get("at_risk"):
            # Less than a quarter of the first-response window left, whatever its length.
            hours = guarantee_for(customer=customer, folder=folder).response_hours or 4
            opened_hours_ago = hours * 0.8
        opened = now - opened_hours_ago * H
        by_staff = options.get("phone", False)
        ticket = services.ticket_open(
            organization=organization,
            customer=customer,
            contact=contact,
            folder=folder,
            equipment=equipment if options.get("with_equipment") else None,
            subject=subject,
            description=description,
            priority=options.get("priority", TicketPriority.NORMAL),
            channel=TicketChannel.PHONE if by_staff else TicketChannel.PORTAL,
            assignee=options.get("assignee"),
            user=support if by_staff else None,
            now=opened,
        )
        for after, kind, text, status in options.get("steps", []):
            at = opened + after * H
            if kind == "customer":
                if contact is None:
                    continue
                services.ticket_reply(ticket=ticket, body=text, contact=contact, now=at)
            elif kind == "close":
                if contact is not None:
                    services.ticket_close(ticket=ticket, contact=contact)
            else:
                services.ticket_reply(
                    ticket=ticket, body=text, user=support, internal=kind == "note", status=status, now=at
                )
        demo.remember(f"tickets:{key}", ticket)

    make(
        "at-risk",
        0,
        0,
        "Drucker zeigt Fehler SC 542 – Fixiereinheit",
        "Seit heute Morgen bricht jeder Druckauftrag mit SC 542 ab. Bitte dringend um Rückruf.",
        priority=TicketPriority.HIGH,
        with_equipment=True,
        at_risk=True,
    )
    make(
        "breached",
        1,
        30,
        "Telefonanlage: Amtsleitung fällt sporadisch aus",
        "Mehrmals täglich bricht bei externen Gesprächen die Verbindung ab. Interne Gespräche laufen.",
        priority=TicketPriority.URGENT,
    )
    make(
        "open-thread",
        2,
        6,
        "Scan-to-Mail funktioniert nicht mehr",
        "Nach der Passwortänderung unseres Mailkontos kommen keine Scans mehr an.",
        assignee=support,
        steps=[
            (1, "staff", "Vielen Dank für Ihre Meldung. Wir haben das SMTP-Konto im Gerät geprüft.", None),
            (1.2, "note", "Kunde hat das Postfach auf OAuth umgestellt - Gerät braucht App-Passwort.", None),
            (2, "customer", "Danke! Wo finde ich das App-Passwort?", None),
        ],
    )
    make(
        "waiting",
        3,
        20,
        "Tonerbestellung kommt nicht an",
        "Der automatische Tonerauftrag für das Gerät im 2. OG wurde nicht ausgelöst.",
        assignee=support,
        steps=[
            (
                2,
                "staff",
                "Können Sie uns bitte die Seriennummer des Geräts im 2. OG nennen? "
                "Sie steht auf dem Aufkleber an der Rückseite.",
                TicketStatus.WAITING,
            ),
        ],
    )
    make(
        "resolved",
        0,
        50,
        "Papierstau im Einzug",
        "Beim Scannen über den Einzug gibt es ständig Papierstau.",
        assignee=admin,
        steps=[
            (3, "staff", "Unser Techniker kommt morgen zwischen 9 und 12 Uhr.", TicketStatus.OPEN),
            (
                22,
                "staff",
                "Die Einzugsrollen wurden getauscht. Bitte geben Sie uns Bescheid, falls es erneut auftritt.",
                TicketStatus.RESOLVED,
            ),
        ],
    )
    make(
        "closed",
        1,
        120,
        "Neue Nebenstelle einrichten",
        "Bitte richten Sie für unsere neue Kollegin die Nebenstelle 24 ein.",
        steps=[
            (
                2,
                "staff",
                "Die Nebenstelle 24 ist eingerichtet, das Telefon ist vorkonfiguriert.",
                TicketStatus.RESOLVED,
            ),
            (5, "customer", "Funktioniert, vielen Dank!", None),
            (6, "close", "", None),
        ],
    )
    make(
        "phone",
        2,
        1,
        "Rückruf: Server meldet Festplattenwarnung",
        "Kunde rief an: Die Überwachung meldet eine vorausgesagte Störung an Platte 2 im RAID.",
        phone=True,
        priority=TicketPriority.HIGH,
        assignee=support,
    )
