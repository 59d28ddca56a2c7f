"""The portal status of each contact on the customer page's contacts card (registered in
PortalConfig.ready: the customers app cannot import the portal)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from customers.models import Customer
from organizations.access import can
from organizations.panels import Panel, panel_register

from .models import PortalAccount

# The page name the customers views ask for (`page_panels(CONTACTS_PAGE, request, customer)`).
CONTACTS_PAGE = "customer.contacts"


def contact_status(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    accounts = PortalAccount.objects.filter(contact__customer=customer).select_related("user")
    return {
        "accounts": {account.contact_id: account for account in accounts},
        "can_invite": can(request, "customers.change"),
    }


def register() -> None:
    panel_register(
        CONTACTS_PAGE,
        Panel("portal", "portal/staff/_contact_status.html", contact_status, slot="contact_status"),
    )
