"""Tickets for the tests: opened through the service, like the views do."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.catalog.factories import ServicePackageFactory
from tests.folders.factories import FolderFactory, RecurringLineFactory
from tickets import services
from tickets.models import TicketChannel

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 100


def supported_folder(customer, *, response_hours=4, resolution_hours=24, name=None, status="active"):
    """An active folder of `customer` with a recurring line selling a service package that
    promises these times."""
    package = ServicePackageFactory(
        organization=customer.organization,
        response_hours=response_hours,
        resolution_hours=resolution_hours,
        **({"name": name} if name else {}),
    )
    folder = FolderFactory(organization=customer.organization, customer=customer, status=status)
    RecurringLineFactory(
        organization=customer.organization,
        folder=folder,
        service_package=package,
        description=package.name,
        start_date=dt.date(2020, 1, 1),
    )
    return folder


def open_ticket(customer, *, contact=None, folder=None, user=None, now=None, **extra):
    return services.ticket_open(
        organization=customer.organization,
        customer=customer,
        contact=contact,
        folder=folder,
        subject=extra.pop("subject", "Drucker druckt nicht"),
        description=extra.pop("description", "Seit heute Morgen kommt nur ein leeres Blatt."),
        channel=TicketChannel.PHONE if user else TicketChannel.PORTAL,
        user=user,
        now=now or timezone.now(),
        **extra,
    )
