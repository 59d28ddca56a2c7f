"""Demo portal accounts with a known password: one dedicated contact at the customer with
the most invoices, one at the financier with the most invoices, and the portal contacts
the customers seed made for a few more customers (their invitations are in the outbox).

    portal@<org slug>-kunde.example    / demo-portal-2026   (a customer)
    portal@<org slug>-leasing.example  / demo-portal-2026   (a financier)
"""

from __future__ import annotations

import random

from django.db import transaction
from django.db.models import Count, Q
from django_scopes import scope

from customers import services as customer_services
from customers.models import Contact, Customer, CustomerKind
from demo.records import DemoRecords
from portal import services as portal_services
from portal.models import PortalAccount

PASSWORD = "demo-portal-2026"
MORE_CUSTOMERS = 3


def seed(organization, *, rng: random.Random, users: dict) -> None:
    with scope(organization=organization), transaction.atomic():
        _seed(organization, users=users)


def _with_invoices(**filters):
    return (
        Customer.objects.filter(kind=CustomerKind.CUSTOMER, **filters)
        .annotate(invoices=Count("paid_documents", filter=~Q(paid_documents__status="draft")))
        .order_by("-invoices", "pk")
    )


def _ready(contact: Contact) -> None:
    """A known password and an accepted invitation, as if the contact had set it."""
    account = PortalAccount.objects.select_related("user").filter(contact=contact).first()
    if account is None:
        return
    account.user.set_password(PASSWORD)
    account.user.save(update_fields=["password"])
    portal_services.portal_account_activate(account=account)


def _seed(organization, *, users: dict) -> None:
    demo = DemoRecords(organization, "portal")
    actor = users.get("admin")
    wanted = [
        ("kunde", _with_invoices(is_financier=False).first(), ("Paula", "Portal")),
        ("leasing", _with_invoices(is_financier=True).first(), ("Lars", "Leasing")),
    ]
    for label, customer, (first, last) in wanted:
        key = f"portal:contact:{label}"
        email = f"portal@{organization.slug}-{label}.example"
        if customer is None or not demo.to_make(
            key, adopt=Contact.objects.filter(customer=customer, email=email)
        ):
            continue
        contact = customer_services.contact_create(
            customer=customer,
            user=actor,
            data={
                "first_name": first,
                "last_name": last,
                "email": email,
                "is_invoice_recipient": True,
                "has_portal_access": True,
            },
        )
        _ready(contact)
        demo.remember(key, contact)
    if demo.once("portal:more"):
        more = Contact.objects.filter(
            has_portal_access=True, is_active=True, customer__kind=CustomerKind.CUSTOMER
        ).order_by("customer_id", "pk")[:MORE_CUSTOMERS]
        for contact in more:
            _ready(contact)
